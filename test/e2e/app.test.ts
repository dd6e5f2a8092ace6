// The GitHub App end to end on loopback, as it runs in production: `probot run ./src/app/index.ts`
// as a real server in a child process, configured only through its environment, against the fake
// GitHub API (app JWT, installation tokens, real commits) and a real 3-node cluster. Deliveries are
// signed as GitHub signs them (HMAC-SHA256 of the exact body); officers sign the token with the
// real openssl binary. The App key, the webhook secret and the officers' keys are made per run.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createNodeClient, type NodeClient } from "../../src/cluster/node-client.ts";
import { readStickyToken, STICKY_MARKER } from "../../src/gate/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { startFakeGitHub, type Created, type FakeGitHub, type FakeRepo } from "../helpers/fake-github.ts";
import { testKey } from "../helpers/keys.ts";
import { opensslSign as signWithOpenssl } from "../helpers/openssl-sign.ts";
import { loginAll, must, setUpQuorumCluster, type QuorumCluster } from "../helpers/quorum-cluster.ts";

const PROBOT = fileURLToPath(new URL("../../node_modules/probot/bin/probot.js", import.meta.url));
const APP = fileURLToPath(new URL("../../src/app/index.ts", import.meta.url));
const EXIT_WITH_PARENT = fileURLToPath(new URL("../helpers/exit-with-parent.ts", import.meta.url));
const OFFICERS = { alice: "officer1", bob: "officer2" } as const;
const REQUEST_PATH = "hsm-requests/app7.yml";
const HEAD = "req-app7";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

describe("the GitHub App, end to end (probot run, fake GitHub, real cluster, openssl)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-app-e2e-"));
  const webhookSecret = randomBytes(24).toString("hex");
  const gatePassword = `gate-${randomBytes(9).toString("base64url")}`;
  const appLog: string[] = [];
  let cluster: TestCluster;
  let clients: NodeClient[];
  let quorum: QuorumCluster;
  let gh: FakeGitHub;
  let repo: FakeRepo;
  let app: ChildProcess | undefined;
  let appUrl = "";
  let number = 0;
  let observer = "";

  before(async () => {
    cluster = await startTestCluster({ nodes: 3 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    // The gate's own officer account: a CO made like any other (before M is raised), with no 2FA
    // and no quorum key, so it can hold tokens and replay but never approve. It then sets its own
    // password, as an operator would on receiving the account.
    quorum = await setUpQuorumCluster(clients, { signers: Object.values(OFFICERS), members: ["gate"], m: 2 });
    const gate = await loginAll(clients, "CO", "gate");
    await must(clients, "change-password", () => ({ userType: "CO", userName: "gate", password: gatePassword }), gate);
    await must(clients, "logout", () => ({}), gate);
    for (const name of Object.values(OFFICERS)) writeFileSync(join(dir, `${name}.key`), testKey(name).privatePem, { mode: 0o600 });
    writeFileSync(join(dir, "gate-password"), `${gatePassword}\n`, { mode: 0o600 });

    gh = await startFakeGitHub();
    observer = gh.issueToken({ user: "observer", appId: null });
    const policy = [`version: 1`, `cluster: ${quorum.clusterId}`, `officers:`, ...Object.entries(OFFICERS).map(([login, officer]) => `  ${login}: ${officer}`), ""].join("\n");
    repo = gh.createRepo("acme/hsm", { files: { ".github/quorum-gate.yml": policy, "README.md": "HSM requests\n" } });

    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    const env = {
      PATH: process.env["PATH"] ?? "",
      NODE_ENV: "production",
      LOG_FORMAT: "json" as const,
      LOG_LEVEL: "debug" as const,
      HOST: "127.0.0.1",
      PORT: String(port),
      APP_ID: String(gh.app.id),
      PRIVATE_KEY: gh.app.privateKeyPem,
      WEBHOOK_SECRET: webhookSecret,
      GHE_HOST: gh.host,
      GHE_PROTOCOL: "http",
      QG_CLUSTER_FILE: cluster.clusterFile,
      QG_GATE_USER: "gate",
      QG_GATE_PASSWORD_FILE: join(dir, "gate-password"),
    };
    // cwd: an empty directory, so Probot finds no .env and no stray *.pem of ours.
    const child = spawn(process.execPath, ["--import", EXIT_WITH_PARENT, PROBOT, "run", APP], { cwd: dir, env, stdio: "pipe" });
    app = child;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        appLog.push(...lines.filter((l) => l !== ""));
      });
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.equal(child.exitCode, null, `the app exited:\n${appLog.join("\n")}`);
      const pong = await fetch(`${appUrl}/ping`).then((r) => r.text(), () => "");
      if (pong === "PONG") break;
      assert.ok(Date.now() < deadline, `the app did not start:\n${appLog.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  after(async () => {
    if (app !== undefined && app.exitCode === null) {
      const exited = new Promise((resolve) => app?.once("exit", resolve));
      app.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (app.exitCode === null && app.signalCode === null) app.kill("SIGKILL");
    }
    for (const c of clients ?? []) c.close();
    await gh?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // ---- what GitHub sends ----
  const sender = (login: string): Record<string, unknown> => ({ login, id: 1000 + login.length, type: login.endsWith("[bot]") ? "Bot" : "User" });
  const common = (login: string): Record<string, unknown> => ({ repository: repo.repositoryPayload(), sender: sender(login), installation: { id: gh.app.installationId } });
  const pullRequestEvent = (action: string, login: string) => ({ action, number, pull_request: repo.pullRequestPayload(number), ...common(login) });
  const commentEvent = (comment: Created, login: string) => {
    const pr = repo.pullRequestPayload(number);
    const issue = { number, title: pr["title"], state: pr["state"], user: pr["user"], pull_request: { url: `${gh.url}/repos/acme/hsm/pulls/${number}` } };
    return { action: "created", issue, comment: comment.payload, ...common(login) };
  };
  const reviewEvent = (review: Created, login: string) => ({ action: "submitted", review: review.payload, pull_request: repo.pullRequestPayload(number), ...common(login) });

  /**
   * POSTs a delivery as GitHub does (`body` and `id` replay an earlier one byte for byte), then
   * waits for the outcome the app logs for it: the response can overtake the log line.
   */
  async function deliver(event: string, payload: unknown, options: { secret?: string; body?: string; id?: string } = {}): Promise<{ status: number; body: string; id: string; outcome: Record<string, unknown> | null }> {
    const body = options.body ?? JSON.stringify(payload);
    const id = options.id ?? randomUUID();
    const signature = `sha256=${createHmac("sha256", options.secret ?? webhookSecret).update(body).digest("hex")}`;
    const mark = appLog.length;
    const res = await fetch(`${appUrl}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "GitHub-Hookshot/e2e", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": signature },
      body,
    });
    await res.text();
    if (res.status !== 200) return { status: res.status, body, id, outcome: null };
    const deadline = Date.now() + 10_000;
    for (;;) {
      const outcome = outcomesIn(appLog.slice(mark)).find((o) => o["id"] === id);
      if (outcome !== undefined) return { status: res.status, body, id, outcome };
      assert.ok(Date.now() < deadline, `no outcome logged for delivery ${id}:\n${appLog.slice(mark).join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const outcomesIn = (lines: readonly string[]): Record<string, unknown>[] => lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return typeof entry["outcome"] === "string" ? [entry] : [];
    } catch {
      return [];
    }
  });
  const pick = (o: Record<string, unknown> | null, ...keys: string[]): unknown[] => keys.map((k) => o?.[k]);

  // ---- what an observer sees on GitHub and on the cluster ----
  async function stickyComment(): Promise<{ author: string; body: string } | null> {
    const res = await fetch(`${gh.url}/repos/acme/hsm/issues/${number}/comments?per_page=100`, { headers: { authorization: `token ${observer}` } });
    const comments = (await res.json()) as { user: { login: string }; body: string }[];
    const found = comments.find((c) => c.body.startsWith(STICKY_MARKER));
    return found === undefined ? null : { author: found.user.login, body: found.body };
  }
  const quorumCheck = (sha: string): Record<string, unknown> | undefined => repo.checkRuns(sha).find((c) => c["name"] === "quorum");
  async function usersNamed(name: string): Promise<number[]> {
    return (await must(clients, "list-users", () => ({}))).map((r) => r.users.filter((u) => u.name === name).length);
  }
  const opensslSign = (officer: string, token: Uint8Array): string => signWithOpenssl(dir, officer, token);

  let token: Uint8Array | null = null;
  let approvedHead = "";

  it("answers a delivery with a bad signature with 400 and does nothing", async () => {
    number = repo.openPullRequest({ head: HEAD, author: "alice", title: "Create CU app7", files: { [REQUEST_PATH]: [`version: 1`, `cluster: ${quorum.clusterId}`, `operation:`, `  kind: createUser`, `  type: CU`, `  name: app7`, `  sealed_password: ${quorum.seal("app7-pass-1")}`, `reason: payments service (TICKET-1234)`, ""].join("\n") } });
    const calls = gh.calls.length;
    const forged = await deliver("pull_request", pullRequestEvent("opened", "alice"), { secret: "not-the-secret" });
    assert.equal(forged.status, 400);
    const unsigned = await fetch(`${appUrl}/api/github/webhooks`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "pull_request", "x-github-delivery": randomUUID() }, body: forged.body });
    assert.equal(unsigned.status, 400);
    assert.equal(gh.calls.length, calls, "no GitHub API call");
    assert.equal(await stickyComment(), null);
    assert.deepEqual((await must(clients, "list-tokens", () => ({}))).map((r) => r.tokens.length), [0, 0, 0], "no token issued");
  });

  it("opened: the app posts its sticky comment with the token and an in-progress quorum check", async () => {
    const opened = await deliver("pull_request", pullRequestEvent("opened", "alice"));
    assert.deepEqual(pick(opened.outcome, "outcome", "state", "approvals", "required"), ["evaluated", "pending", 0, 2]);
    const sticky = await stickyComment();
    assert.ok(sticky !== null);
    assert.equal(sticky.author, gh.app.botLogin, "written by the app");
    token = readStickyToken(sticky.body);
    assert.ok(token !== null, "the sticky comment carries the token");
    assert.doesNotMatch(sticky.body, /app7-pass-1/);
    assert.equal(quorumCheck(repo.branchSha(HEAD) ?? "")?.["status"], "in_progress");
  });

  it("two officers sign with openssl and post /quorum approve: pending at one, approved at two, evidence on the branch", async () => {
    assert.ok(token !== null);
    const a = repo.addComment(number, "alice", `/quorum approve ${opensslSign(OFFICERS.alice, token)}`);
    const first = await deliver("issue_comment", commentEvent(a, "alice"));
    assert.deepEqual(pick(first.outcome, "state", "approvals"), ["pending", 1]);
    assert.equal(quorumCheck(repo.branchSha(HEAD) ?? "")?.["status"], "in_progress");

    approvedHead = repo.branchSha(HEAD) ?? "";
    const b = repo.addReview(number, "bob", `Checked the request.\n\n/quorum approve ${opensslSign(OFFICERS.bob, token)}`);
    const second = await deliver("pull_request_review", reviewEvent(b, "bob"));
    assert.deepEqual(pick(second.outcome, "outcome", "state", "approvals", "required", "evidence"), ["evaluated", "approved", 2, 2, "committed"]);
    assert.equal(quorumCheck(approvedHead)?.["conclusion"], "success");
    assert.match(repo.readText(HEAD, "hsm-requests/app7.evidence/approval.txt") ?? "", /Number of Approvals = 2;/);
    assert.notEqual(repo.branchSha(HEAD), approvedHead, "the evidence commit moved the head");
  });

  it("the evidence commit comes back as the app's own synchronize, and its head gets a green check too", async () => {
    const head = repo.branchSha(HEAD) ?? "";
    const sync = await deliver("pull_request", pullRequestEvent("synchronize", gh.app.botLogin));
    assert.deepEqual(pick(sync.outcome, "state", "evidence"), ["approved", "present"], "nothing is committed again, so it settles");
    assert.equal(repo.branchSha(HEAD), head);
    assert.equal(quorumCheck(head)?.["conclusion"], "success");

    // The app's own comment events are dropped before any work.
    const sticky = await stickyComment();
    assert.ok(sticky !== null);
    const calls = gh.calls.length;
    const ownEdit = { action: "edited", issue: commentEvent({ id: 0, payload: {} }, gh.app.botLogin).issue, comment: { body: sticky.body, user: sender(gh.app.botLogin) }, changes: {}, ...common(gh.app.botLogin) };
    const own = await deliver("issue_comment", ownEdit);
    assert.equal(own.outcome?.["outcome"], "own_event");
    assert.equal(gh.calls.length, calls, "no API call for the app's own comment");
  });

  it("merged: the operation is applied on every node, and a redelivered closed webhook applies nothing twice", async () => {
    assert.deepEqual(await usersNamed("app7"), [0, 0, 0]);
    repo.merge(number);
    const closed = await deliver("pull_request", pullRequestEvent("closed", "maintainer"));
    assert.deepEqual(pick(closed.outcome, "outcome", "nodes"), ["replayed", "0:applied 1:applied 2:applied"]);
    assert.deepEqual(await usersNamed("app7"), [1, 1, 1]);

    const again = await deliver("pull_request", null, { body: closed.body, id: closed.id });
    assert.deepEqual(pick(again.outcome, "outcome", "nodes"), ["replayed", "0:already_applied 1:already_applied 2:already_applied"]);
    assert.deepEqual(await usersNamed("app7"), [1, 1, 1]);
  });

  it("never logs a secret, even at debug level", () => {
    const log = appLog.join("\n");
    const secrets = [["webhook secret", webhookSecret], ["gate password", gatePassword], ["app private key", gh.app.privateKeyPem.split("\n")[1] ?? "-"], ["request password", "app7-pass-1"]] as const;
    for (const [what, secret] of secrets) assert.ok(!log.includes(secret), `the log holds the ${what}`);
    assert.doesNotMatch(log, /ghs_[A-Za-z0-9]{36}/, "no installation token");
  });
});
