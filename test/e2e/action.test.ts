// The GitHub Action end to end, run the way the runner runs it: the committed bundle dist/index.js
// in a child process on Node 24, configured only through INPUT_* variables, reading the event from
// GITHUB_EVENT_PATH (payloads of @octokit/webhooks-examples, adapted by field), writing outputs and
// the job summary to GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, and talking to the fake GitHub API
// (GITHUB_API_URL) with a GITHUB_TOKEN-like token and to a real 3-node cluster. Officers sign with
// the openssl binary. Keys and the gate's password are made per run.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { inputVariable, type InputName } from "../../src/action/inputs.ts";
import { readStickyToken, STICKY_MARKER } from "../../src/gate/index.ts";
import { isWrite } from "../helpers/api-calls.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";
import type { Created } from "../helpers/fake-github.ts";
import { startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { testKey } from "../helpers/keys.ts";
import { opensslSign as signWithOpenssl } from "../helpers/openssl-sign.ts";
import { loginAll, must, passwordOf } from "../helpers/quorum-cluster.ts";

const DIST = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const OFFICERS = { alice: "officer1", bob: "officer2" } as const;
const ACTIONS_APP_ID = 15368;

type Payload = Record<string, unknown>;
const EXAMPLES = createRequire(import.meta.url)("@octokit/webhooks-examples") as {
  name: string;
  examples: Payload[];
}[];
function example(event: string, action?: string): Payload {
  const found = EXAMPLES.find((e) => e.name === event)?.examples.find(
    (p) => action === undefined || p["action"] === action,
  );
  assert.ok(found !== undefined, `no ${event}.${action ?? ""} example`);
  return structuredClone(found);
}

interface StepResult {
  readonly code: number | null;
  readonly log: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

/** `name<<delimiter` / value / `delimiter`, as @actions/core appends to GITHUB_OUTPUT. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([\w-]+)<<(.+)$/.exec(lines[i] ?? "");
    if (m === null) continue;
    const end = lines.indexOf(m[2] as string, i + 1);
    out[m[1] as string] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return out;
}

describe("the GitHub Action, end to end (bundled dist/index.js, fake GitHub, real cluster, openssl)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-action-e2e-"));
  const gatePassword = `gate-${randomBytes(9).toString("base64url")}`;
  let h: GateHarness;
  let workflowToken = "";
  let clusterJson = "";
  let runs = 0;

  before(async () => {
    h = await startGateHarness({ officers: OFFICERS });
    // The gate account gets a password of this run's own, so the log checks below mean something.
    const gate = await loginAll(h.clients, "CO", "gate", passwordOf("gate"));
    await must(
      h.clients,
      "change-password",
      () => ({ userType: "CO", userName: "gate", password: gatePassword }),
      gate,
    );
    await must(h.clients, "logout", () => ({}), gate);
    for (const name of Object.values(OFFICERS))
      writeFileSync(join(dir, `${name}.key`), testKey(name).privatePem, { mode: 0o600 });
    workflowToken = h.gh.issueToken({ user: "github-actions[bot]", appId: ACTIONS_APP_ID, appSlug: "github-actions" });
    clusterJson = readFileSync(h.cluster.clusterFile, "utf8");
  });

  after(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const secrets = (): Partial<Record<InputName, string>> => ({
    cluster: clusterJson,
    "gate-user": "gate",
    "gate-password": gatePassword,
  });

  /** One step, as the runner runs it. */
  async function step(
    eventName: string,
    payload: Payload,
    inputs: Partial<Record<InputName, string>>,
  ): Promise<StepResult> {
    const n = ++runs;
    const eventPath = join(dir, `event-${n}.json`);
    const outputPath = join(dir, `output-${n}`);
    const summaryPath = join(dir, `summary-${n}.md`);
    writeFileSync(eventPath, JSON.stringify(payload));
    writeFileSync(outputPath, "");
    writeFileSync(summaryPath, "");
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "",
      ...compileCacheEnv(),
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: "acme/hsm",
      GITHUB_API_URL: h.gh.url,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_OUTPUT: outputPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      // What the runner does with action.yml's defaults.
      [inputVariable("mode")]: "evaluate",
      [inputVariable("github-token")]: workflowToken,
    };
    for (const [name, value] of Object.entries(inputs)) env[inputVariable(name as InputName)] = value;
    const child = spawn(process.execPath, [DIST], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (c: Buffer) => (log += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (log += c.toString("utf8")));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const result = {
      code,
      log,
      outputs: parseOutputs(readFileSync(outputPath, "utf8")),
      summary: readFileSync(summaryPath, "utf8"),
    };
    // The password reaches the log only in the mask command, which the runner consumes and never shows.
    const leaks = [
      log.replace(`::add-mask::${gatePassword}`, ""),
      result.summary,
      JSON.stringify(result.outputs),
    ].filter((t) => t.includes(gatePassword));
    assert.deepEqual(leaks, [], "the gate's password appears nowhere but in ::add-mask::");
    assert.ok(
      !log.includes(workflowToken) && !result.summary.includes(workflowToken),
      "the workflow token appears nowhere",
    );
    return result;
  }

  // ---- events, from the examples, with this repository's objects in them ----
  const sender = (login: string): Payload => ({
    login,
    id: 1000 + login.length,
    type: login.endsWith("[bot]") ? "Bot" : "User",
  });
  const pullRequestEvent = (number: number, action: string, login = "carol"): Payload => ({
    ...example("pull_request", action === "closed" ? "closed" : "opened"),
    action,
    number,
    pull_request: h.repo.pullRequestPayload(number),
    repository: h.repo.repositoryPayload(),
    sender: sender(login),
  });
  const commentEvent = (number: number, comment: Created, login: string): Payload => {
    const base = example("issue_comment", "created");
    const pr = h.repo.pullRequestPayload(number);
    return {
      ...base,
      issue: {
        ...(base["issue"] as Payload),
        number,
        user: pr["user"],
        state: pr["state"],
        pull_request: { url: `${h.gh.url}/repos/acme/hsm/pulls/${number}` },
      },
      comment: comment.payload,
      repository: h.repo.repositoryPayload(),
      sender: sender(login),
    };
  };
  const pushEvent = (ref: string, after: string): Payload => {
    const base = example("push");
    const commit = ((base["commits"] as Payload[])[0] ?? {}) as Payload;
    return {
      ...base,
      ref,
      before: "0".repeat(40),
      after,
      created: false,
      deleted: false,
      commits: [{ ...commit, id: after }],
      head_commit: { ...commit, id: after },
      repository: h.repo.repositoryPayload(),
      sender: sender("maintainer"),
    };
  };

  // ---- what an observer sees ----
  async function sticky(number: number): Promise<{ author: string; body: string } | null> {
    const res = await fetch(`${h.gh.url}/repos/acme/hsm/issues/${number}/comments?per_page=100`, {
      headers: { authorization: `token ${workflowToken}` },
    });
    const comments = (await res.json()) as { user: { login: string }; body: string }[];
    const found = comments.find((c) => c.body.startsWith(STICKY_MARKER));
    return found === undefined ? null : { author: found.user.login, body: found.body };
  }
  const quorumChecks = (sha: string): Payload[] => h.repo.checkRuns(sha).filter((c) => c["name"] === "quorum");
  const opensslSign = (officer: string, token: Uint8Array): string => signWithOpenssl(dir, officer, token);
  async function usersNamed(name: string): Promise<number[]> {
    return (await h.all("list-users", {})).map((r) => r.users.filter((u) => u.name === name).length);
  }

  let number = 0;
  let token: Uint8Array | null = null;

  it("evaluate on pull_request.opened: the step fails while pending; sticky comment by github-actions[bot]; outputs say what is missing", async () => {
    number = h.repo.openPullRequest({
      head: "req-app7",
      author: "carol",
      title: "Create CU app7",
      files: { "hsm-requests/app7.yml": h.requestYaml("app7") },
    });
    const r = await step("pull_request", pullRequestEvent(number, "opened"), secrets());
    assert.equal(r.code, 1, r.log);
    assert.match(r.log, /::error::\[quorum-gate\] #\d+: quorum not met \(0 of 2 approvals, pending\)/);
    assert.deepEqual(
      [
        r.outputs["outcome"],
        r.outputs["approved"],
        r.outputs["approvals"],
        r.outputs["required"],
        r.outputs["missing"],
      ],
      ["evaluated", "false", "0", "2", "2"],
    );
    assert.match(r.outputs["request-digest"] ?? "", /^[0-9a-f]{64}$/);
    assert.match(r.summary, /pull request #\d+: pending \(0 of 2\)/);
    assert.match(r.summary, /createUser/);
    const comment = await sticky(number);
    assert.equal(comment?.author, "github-actions[bot]");
    token = readStickyToken(comment?.body ?? "");
    assert.ok(token !== null, "the sticky comment carries the token");
    const checks = quorumChecks(h.repo.branchSha("req-app7") ?? "");
    assert.deepEqual(
      checks.map((c) => [c["status"], (c["app"] as Payload | undefined)?.["id"]]),
      [["in_progress", ACTIONS_APP_ID]],
    );
  });

  it("attacks change nothing: an officer's signature posted by another user, and a signature by an unregistered key", async () => {
    assert.ok(token !== null);
    const stolen = h.repo.addComment(number, "mallory", `/quorum approve ${opensslSign(OFFICERS.alice, token)}`);
    writeFileSync(join(dir, "rogue.key"), testKey("rogue").privatePem, { mode: 0o600 });
    const rogue = h.repo.addComment(number, "bob", `/quorum approve ${opensslSign("rogue", token)}`);
    const r1 = await step("issue_comment", commentEvent(number, stolen, "mallory"), secrets());
    const r2 = await step("issue_comment", commentEvent(number, rogue, "bob"), secrets());
    for (const r of [r1, r2]) {
      assert.equal(r.code, 1);
      assert.deepEqual([r.outputs["approved"], r.outputs["approvals"]], ["false", "0"]);
    }
    assert.match(r2.summary, /\| mallory \| {2}\| rejected \| `unknown_officer` \|/);
    assert.match(r2.summary, /\| bob \| officer2 \| rejected \| `bad_signature` \|/);
  });

  it("two officers sign with openssl: the step passes, the evidence is committed, both heads carry a green quorum check", async () => {
    assert.ok(token !== null);
    h.repo.addComment(number, "alice", `/quorum approve ${opensslSign(OFFICERS.alice, token)}`);
    const headBefore = h.repo.branchSha("req-app7") ?? "";
    const b = h.repo.addReview(number, "bob", `Checked.\n\n/quorum approve ${opensslSign(OFFICERS.bob, token)}`);
    const r = await step("issue_comment", commentEvent(number, b, "bob"), secrets());
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(
      [r.outputs["outcome"], r.outputs["approved"], r.outputs["approvals"], r.outputs["missing"]],
      ["evaluated", "true", "2", "0"],
    );
    assert.match(r.summary, /approved \(2 of 2\)/);
    assert.match(r.summary, /Approved by officer1 \(alice\), officer2 \(bob\)\./);
    const headAfter = h.repo.branchSha("req-app7") ?? "";
    assert.notEqual(headAfter, headBefore, "the evidence commit moved the head");
    assert.ok(h.repo.readText(headAfter, "hsm-requests/app7.evidence/evidence.json") !== null);
    for (const sha of [headBefore, headAfter])
      assert.deepEqual(
        quorumChecks(sha).map((c) => c["conclusion"]),
        ["success"],
        sha,
      );
    assert.deepEqual(await usersNamed("app7"), [0, 0, 0], "evaluate never touches the users");
  });

  it("apply refuses pull request events, from a fork or not, before any API call or cluster contact", async () => {
    const fork = h.repo.forkPullRequest({
      forkOwner: "mallory",
      head: "evil",
      files: { "hsm-requests/evil.yml": h.requestYaml("evil") },
    });
    const calls = h.gh.calls.length;
    const tokens = (await h.all("list-tokens", {})).map((t) => t.tokens.length);
    for (const event of ["pull_request", "pull_request_target"]) {
      for (const n of [fork.number, number]) {
        const r = await step(event, pullRequestEvent(n, "closed", "mallory"), { ...secrets(), mode: "apply" });
        assert.equal(r.code, 1);
        assert.match(r.log, /apply_wrong_event: mode apply never runs on pull_request/);
      }
    }
    assert.equal(h.gh.calls.length, calls, "no GitHub API call");
    assert.deepEqual(
      (await h.all("list-tokens", {})).map((t) => t.tokens.length),
      tokens,
      "no token issued or used",
    );
    assert.deepEqual(await usersNamed("evil"), [0, 0, 0]);
  });

  it("evaluate on a fork's pull_request (no secrets there) says to use pull_request_target", async () => {
    const fork = h.repo.forkPullRequest({
      forkOwner: "mallory",
      head: "evil2",
      files: { "hsm-requests/evil2.yml": h.requestYaml("evil2") },
    });
    const r = await step("pull_request", pullRequestEvent(fork.number, "opened", "mallory"), {});
    assert.equal(r.code, 1);
    assert.match(r.log, /no_cluster: .*GitHub gives no secrets to pull_request runs from forks.*pull_request_target/);
  });

  it("apply on a push to another branch refuses; on the default branch after the merge it replays once on every node", async () => {
    const mergeSha = h.repo.merge(number);
    const elsewhere = await step("push", pushEvent("refs/heads/req-app7", mergeSha), { ...secrets(), mode: "apply" });
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.log, /apply_not_default_branch/);
    assert.deepEqual(await usersNamed("app7"), [0, 0, 0]);

    const r = await step("push", pushEvent("refs/heads/main", mergeSha), { ...secrets(), mode: "apply" });
    assert.equal(r.code, 0, r.log);
    assert.equal(r.outputs["outcome"], "replayed");
    assert.deepEqual(
      (JSON.parse(r.outputs["nodes"] ?? "[]") as { result: string }[]).map((n) => n.result),
      ["applied", "applied", "applied"],
    );
    assert.match(r.summary, /replayed on all 3 nodes/);
    assert.deepEqual(await usersNamed("app7"), [1, 1, 1]);

    // The same push again (a re-run of the workflow): nothing is applied twice.
    const again = await step("push", pushEvent("refs/heads/main", mergeSha), { ...secrets(), mode: "apply" });
    assert.equal(again.code, 0, again.log);
    assert.deepEqual(
      (JSON.parse(again.outputs["nodes"] ?? "[]") as { result: string }[]).map((n) => n.result),
      ["already_applied", "already_applied", "already_applied"],
    );
    assert.deepEqual(await usersNamed("app7"), [1, 1, 1]);
  });

  it("evaluate on the merged pull request's events never replays", async () => {
    const r = await step("pull_request", pullRequestEvent(number, "closed"), secrets());
    assert.equal(r.code, 0, r.log);
    assert.equal(r.outputs["outcome"], "ignored");
  });

  it("a push that merged nothing (a direct commit) passes and replays nothing", async () => {
    const sha = h.repo.commit("main", { "README.md": "HSM requests, edited\n" });
    const r = await step("push", pushEvent("refs/heads/main", sha), { ...secrets(), mode: "apply" });
    assert.equal(r.code, 0, r.log);
    assert.equal(r.outputs["outcome"], "skipped");
    assert.match(r.summary, /nothing to replay/);
  });

  it("a GitHub API failure fails the step with the request named, and nothing else of the error", async () => {
    // The first read is the one GraphQL query for the pull request.
    h.gh.failNext("POST", /^\/graphql$/, 502, { message: "Server Error" });
    const r = await step("pull_request", pullRequestEvent(number, "synchronize"), secrets());
    assert.equal(r.code, 1);
    assert.match(
      r.log,
      /::error::\[quorum-gate\] unexpected_error: .*POST \/graphql \(PullRequestSnapshot acme\/hsm#\d+\) failed: HTTP 502/,
    );
  });

  it("GitHub's rate limits: a short retry-after is waited out; a long one fails the step as rate_limited", async () => {
    const limited = {
      message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    };
    h.gh.failNext("POST", /^\/graphql$/, 429, limited, { "retry-after": "1" });
    const waited = await step("pull_request", pullRequestEvent(number, "synchronize"), secrets());
    assert.notEqual(waited.outputs["outcome"], "rate_limited", waited.log);
    assert.match(waited.log, /secondary rate limit: waiting 1 s before sending a GraphQL query again/);

    const writes = h.gh.calls.filter(isWrite).length;
    h.gh.failNext("POST", /^\/graphql$/, 403, limited, { "retry-after": "7200" });
    const r = await step("pull_request", pullRequestEvent(number, "synchronize"), secrets());
    assert.equal(r.code, 1);
    assert.equal(r.outputs["outcome"], "rate_limited");
    assert.match(
      r.log,
      /::error::\[quorum-gate\] rate_limited: GitHub's secondary rate limit refused a GraphQL query; it asks to wait 7200 s; re-run the job after that/,
    );
    assert.equal(h.gh.calls.filter(isWrite).length, writes, "no write after the refused read");
  });

  it("bad inputs fail with every problem named, before any API call", async () => {
    const calls = h.gh.calls.length;
    const r = await step("pull_request", pullRequestEvent(number, "opened"), {
      mode: "deploy",
      cluster: "{",
      "gate-user": "",
      "gate-password": gatePassword,
    });
    assert.equal(r.code, 1);
    assert.match(
      r.log,
      /inputs: mode: "deploy" is not one of evaluate, apply; cluster: the cluster input is not valid JSON; gate-user is empty/,
    );
    assert.equal(h.gh.calls.length, calls);
  });
});
