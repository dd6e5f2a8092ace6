#!/usr/bin/env node
// Entry shim. The CLI is TypeScript run by Node 24's type stripping; this file is plain
// JavaScript so that an older `node` on PATH can still hand over to the Node 24 that the
// project pins (node_modules/node) instead of failing on the .ts import.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const major = Number(process.versions.node.split(".")[0]);
if (major >= 24) {
  await import("../src/cli/main.ts");
} else {
  const pinned = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(
      `quorum-gate needs Node.js 24 or later (this is ${process.version}); run 'npm ci' in the project to install the pinned Node 24.\n`,
    );
    process.exit(1);
  }
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}
