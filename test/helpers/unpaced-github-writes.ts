// Preloaded into every `probot run` child of test/helpers/app-e2e.ts (`node --import <this> ...`):
// Octokit's throttling plugin, as Probot configures it, spaces an installation's writes (and its
// GraphQL queries) 1 s apart, comment creations 3 s apart and searches 2 s apart, to stay clear of
// GitHub's secondary rate limits. Against the fake GitHub that pacing is only waiting: it was most
// of the 2-4 s a single delivery took. This sets those groups' `minTime` to 0 and changes nothing
// else: writes still go one at a time (`maxConcurrent: 1`), and rate-limit answers still reach the
// same handlers (test/e2e/app-rate-limit.test.ts), whose waits are then the gate's own, not the
// pacing's. The App's code is untouched; test/e2e/app-container.test.ts runs Probot without it.
import { createRequire } from "node:module";

interface GroupOptions {
  readonly id?: string;
  readonly minTime?: number;
  readonly [key: string]: unknown;
}
type GroupClass = new (options?: GroupOptions) => object;

// The same module instance as the plugin's `import BottleneckLight from "bottleneck/light.js"`.
const require = createRequire(import.meta.resolve("@octokit/plugin-throttling"));
const Bottleneck = require("bottleneck/light.js") as { Group: GroupClass };
const Group = Bottleneck.Group;
const PACED = new Set(["octokit-write", "octokit-notifications", "octokit-search"]);
Bottleneck.Group = class extends Group {
  constructor(options: GroupOptions = {}) {
    super(PACED.has(options.id ?? "") ? { ...options, minTime: 0 } : options);
  }
};
