// The Action's entry point, bundled into dist/index.js (`npm run bundle`): wires the runner's
// world (@actions/core for inputs' masking, outputs, summary and failure; @actions/github's
// Octokit, which talks to GITHUB_API_URL) into runAction. Nothing is decided here.
import { readFileSync } from "node:fs";
import * as core from "@actions/core";
import { getOctokit } from "@actions/github";
import { createClusterGateway } from "../cluster/gateway.ts";
import { runAction } from "./run.ts";

await runAction({
  env: process.env,
  readFile: (path) => readFileSync(path, "utf8"),
  octokit: (token) => getOctokit(token),
  gateway: (file, credentials) => createClusterGateway(file, credentials),
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
