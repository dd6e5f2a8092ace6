// The entry dist/index.js is bundled from (`npm run bundle`): the runner executes the bundle, and
// the bundle runs the Action. The Action itself is `run()` in main.ts.
import { run } from "./main.ts";

await run();
