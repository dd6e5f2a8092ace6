// `npm run bundle`: builds the Action's dist/index.js from src/action/index.ts with esbuild. The
// output is committed (the runner runs it as is) and CI rebuilds it and fails on any difference,
// so it must be deterministic: no timestamps, no absolute paths, the same input giving the same bytes.
import { build } from "esbuild";

await build({
  entryPoints: ["src/action/index.ts"],
  outfile: "dist/index.js",
  bundle: true,
  platform: "node",
  target: "node24",
  format: "esm",
  // Some bundled dependencies are CommonJS and call require(); an ES module has none of its own.
  banner: {
    js: 'import { createRequire as __qgCreateRequire } from "node:module";\nconst require = __qgCreateRequire(import.meta.url);',
  },
  legalComments: "eof",
  logLevel: "warning",
});
