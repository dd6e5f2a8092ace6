// The Action's `run()`: wires the runner's world (@actions/core for inputs' masking, outputs,
// summary and failure; @actions/github's Octokit, which talks to GITHUB_API_URL) into runAction.
// Nothing is decided here. It runs nothing on import, so tools that load an Action's source and
// call its `run()` (@github/local-action, see docs/action.md) can drive it; src/action/index.ts is
// the entry the bundle (dist/index.js) is built from, and all it does is call this.
import { readFileSync } from "node:fs";
import * as core from "@actions/core";
import { getOctokit } from "@actions/github";
import { gatewayOf } from "../cluster/gateway-of.ts";
import { runAction } from "./run.ts";

export async function run(): Promise<void> {
  await runAction({
    env: process.env,
    readFile: (path) => readFileSync(path, "utf8"),
    octokit: (token) => getOctokit(token),
    gateway: (file, credentials) => gatewayOf(file, credentials),
    now: () => Math.floor(Date.now() / 1000),
    setSecret: (value) => core.setSecret(value),
    setOutput: (name, value) => core.setOutput(name, value),
    writeSummary: async (markdown) => {
      // Outside a runner (a local try-out) there is no summary file; the log still has the verdict.
      if ((process.env["GITHUB_STEP_SUMMARY"] ?? "") === "") return core.info(markdown);
      await core.summary.addRaw(markdown, true).write();
    },
    info: (line) => core.info(line),
    fail: (message) => core.setFailed(message),
  });
}
