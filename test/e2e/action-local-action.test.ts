// The Action's source run by GitHub's own debugging tool, @github/local-action, as a developer runs
// it on a laptop (`npx local-action run . src/action/main.ts .env`, docs/action.md): the tool
// loads src/action/main.ts, swaps in its own @actions/core and @actions/github, and calls the
// exported run(). This keeps main.ts importable without side effects and its run() complete:
// the step judges a real pull request on the fake GitHub against a real cluster.
//
// Two quirks of the tool shape the test: it ignores GITHUB_API_URL from the .env file (its
// Octokit stub reads it at import time, before the file is loaded), so the URL is exported in the
// process environment, as docs/action.md tells developers to; and it exits 0 even after
// setFailed, so the verdict is read from the log (outputs come as `::set-output` lines).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { inputVariable } from "../../src/action/inputs.ts";
import { STICKY_MARKER } from "../../src/gate/index.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";
import { startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { passwordOf } from "../helpers/quorum-cluster.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LOCAL_ACTION = join(ROOT, "node_modules", "@github", "local-action", "bin", "local-action.js");

describe("the Action's run(), driven by @github/local-action (fake GitHub, real cluster)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-local-action-"));
  let h: GateHarness;

  before(async () => {
    h = await startGateHarness({ officers: { alice: "officer1", bob: "officer2" } });
  });

  after(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("evaluates a request pull request: sticky comment and check on GitHub, outputs and failure in the log", async () => {
    const number = h.repo.openPullRequest({
      head: "req-local",
      author: "carol",
      title: "Create CU local1",
      files: { "hsm-requests/local1.yml": h.requestYaml("local1") },
    });
    const eventPath = join(dir, "event.json");
    writeFileSync(
      eventPath,
      JSON.stringify({
        action: "opened",
        number,
        pull_request: h.repo.pullRequestPayload(number),
        repository: h.repo.repositoryPayload(),
        sender: { login: "carol", id: 1005, type: "User" },
      }),
    );
    const token = h.gh.issueToken({ user: "github-actions[bot]", appId: 15368, appSlug: "github-actions" });
    const summaryPath = join(dir, "summary.md");
    writeFileSync(summaryPath, "");
    const dotenv = join(dir, ".env");
    writeFileSync(
      dotenv,
      [
        `GITHUB_EVENT_NAME=pull_request`,
        `GITHUB_EVENT_PATH=${eventPath}`,
        `GITHUB_REPOSITORY=acme/hsm`,
        `GITHUB_STEP_SUMMARY=${summaryPath}`,
        `${inputVariable("mode")}=evaluate`,
        `${inputVariable("github-token")}=${token}`,
        `${inputVariable("cluster-file")}=${h.cluster.clusterFile}`,
        `${inputVariable("gate-user")}=gate`,
        `${inputVariable("gate-password")}=${passwordOf("gate")}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const child = spawn(process.execPath, [LOCAL_ACTION, "run", ROOT, "src/action/main.ts", dotenv], {
      cwd: ROOT,
      env: {
        PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env["PATH"] ?? ""}`,
        HOME: dir,
        ...compileCacheEnv(),
        GITHUB_API_URL: h.gh.url,
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (c: Buffer) => (log += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (log += c.toString("utf8")));
    await new Promise((resolve) => child.on("close", resolve));

    assert.deepEqual(
      [...log.matchAll(/^::set-output name=outcome::(.*)$/gm)].map((m) => m[1]),
      ["evaluated"],
      `one run, from run() and not from the import: ${log.slice(-2000)}`,
    );
    assert.match(log, /::set-output name=missing::2/);
    assert.match(log, /quorum not met \(0 of 2 approvals, pending\)/);
    assert.ok(!log.includes(token), "the token stays out of the log");
    const res = await fetch(`${h.gh.url}/repos/acme/hsm/issues/${number}/comments`, {
      headers: { authorization: `token ${token}` },
    });
    const comments = (await res.json()) as { user: { login: string }; body: string }[];
    assert.deepEqual(
      comments.filter((c) => c.body.startsWith(STICKY_MARKER)).map((c) => c.user.login),
      ["github-actions[bot]"],
      "the sticky comment reached the fake GitHub",
    );
    assert.equal(h.repo.checkRuns(h.repo.branchSha("req-local") ?? "").filter((c) => c["name"] === "quorum").length, 1);
    assert.match(readFileSync(summaryPath, "utf8"), /pending \(0 of 2\)/);
  });
});
