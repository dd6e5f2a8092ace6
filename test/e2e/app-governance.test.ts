// The governance rules of docs/governance.md through the GitHub App as it runs in production
// (`probot run`, signed deliveries, fake GitHub API, real 3-node cluster, officers signing with
// the real openssl binary): the lock-out guard refuses before any token exists, an AND group is
// waited for, and a veto over the approval payload blocks a request that then cannot turn green.
// Cooling-off needs a clock the test controls; it is tested through the use case
// (test/contract/gate-rules.test.ts).
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
import { approvalPayloadOf, parseRequest, payloadExpiry, readStickyToken, renderApprovalPayload, renderPayloadComment, STICKY_MARKER } from "../../src/gate/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { startFakeGitHub, type Created, type FakeGitHub, type FakeRepo } from "../helpers/fake-github.ts";
import { testKey } from "../helpers/keys.ts";
import { opensslSign as signWithOpenssl } from "../helpers/openssl-sign.ts";
import { loginAll, must, setUpQuorumCluster, type QuorumCluster } from "../helpers/quorum-cluster.ts";

const PROBOT = fileURLToPath(new URL("../../node_modules/probot/bin/probot.js", import.meta.url));
const APP = fileURLToPath(new URL("../../src/app/index.ts", import.meta.url));
const EXIT_WITH_PARENT = fileURLToPath(new URL("../helpers/exit-with-parent.ts", import.meta.url));
const OFFICERS = { alice: "officer1", bob: "officer2", carol: "officer3" } as const;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

describe("the GitHub App, end to end: governance rules (probot run, fake GitHub, real cluster, openssl)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-app-gov-e2e-"));
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
    const policy = [`version: 1`, `cluster: ${quorum.clusterId}`, `officers:`, ...Object.entries(OFFICERS).map(([login, officer]) => `  ${login}: ${officer}`), `groups:`, `  platform: [carol]`, `operations:`, `  createUser:`, `    groups:`, `      platform: 1`, ""].join("\n");
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
  const opensslSign = (officer: string, token: Uint8Array): string => signWithOpenssl(dir, officer, token);

  it("the lock-out guard: deleting a signer is refused at once, with the numbers, and no token is issued", async () => {
    number = repo.openPullRequest({ head: "drop-officer3", author: "alice", title: "Delete CO officer3", files: { "hsm-requests/drop-officer3.yml": [`version: 1`, `cluster: ${quorum.clusterId}`, `operation:`, `  kind: deleteUser`, `  type: CO`, `  name: officer3`, `reason: leaves the team`, ""].join("\n") } });
    const opened = await deliver("pull_request", pullRequestEvent("opened", "alice"));
    assert.deepEqual(pick(opened.outcome, "outcome", "state"), ["evaluated", "rejected"]);
    const sticky = await stickyComment();
    assert.ok(sticky !== null);
    assert.equal(readStickyToken(sticky.body), null, "no token to sign");
    assert.match(sticky.body, /lockout\\_delete\\_officer: deleting this officer would leave 2 officers able to sign for service 3 \(now 3\), but M is 2 and the lock-out guard needs at least 3/);
    assert.equal(quorumCheck(repo.branchSha("drop-officer3") ?? "")?.["conclusion"], "failure");
    assert.deepEqual((await must(clients, "list-tokens", () => ({}))).map((r) => r.tokens.length), [0, 0, 0], "no token on any node");
  });

  it("an AND group is waited for, and a veto blocks for good", async () => {
    const path = "hsm-requests/app8.yml";
    number = repo.openPullRequest({ head: "req-app8", author: "alice", title: "Create CU app8", files: { [path]: [`version: 1`, `cluster: ${quorum.clusterId}`, `operation:`, `  kind: createUser`, `  type: CU`, `  name: app8`, `  sealed_password: ${quorum.seal("app8-pass-1")}`, `reason: ledger service`, ""].join("\n") } });
    await deliver("pull_request", pullRequestEvent("opened", "alice"));
    const sticky = await stickyComment();
    const token = sticky === null ? null : readStickyToken(sticky.body);
    assert.ok(token !== null);
    const a = repo.addComment(number, "alice", `/quorum approve ${opensslSign(OFFICERS.alice, token)}`);
    await deliver("issue_comment", commentEvent(a, "alice"));
    const b = repo.addComment(number, "bob", `/quorum approve ${opensslSign(OFFICERS.bob, token)}`);
    const two = await deliver("issue_comment", commentEvent(b, "bob"));
    assert.deepEqual(pick(two.outcome, "state", "approvals", "required"), ["pending", 2, 2], "M is met, the platform group is not");
    assert.match((await stickyComment())?.body ?? "", /\| `platform` \| 1 \| 0 \| 1 \|/);

    // carol vetoes: the reject payload of this request, signed with openssl.
    const request = parseRequest(repo.readBytes("req-app8", path) ?? Buffer.alloc(0));
    assert.ok(request.ok);
    const until = payloadExpiry(Date.now(), 3600);
    const payload = renderApprovalPayload(approvalPayloadOf({ verdict: "reject", request: request.request, requestDigest: request.digest, requestPath: path, repository: "acme/hsm", pullRequest: number, expiresAt: until }));
    const c = repo.addComment(number, "carol", renderPayloadComment("reject", until, Buffer.from(opensslSign(OFFICERS.carol, payload), "base64")));
    const vetoed = await deliver("issue_comment", commentEvent(c, "carol"));
    assert.deepEqual(pick(vetoed.outcome, "outcome", "state"), ["evaluated", "rejected"]);
    assert.match((await stickyComment())?.body ?? "", /`vetoed`: 1 officer rejected this request \(officer3\)/);
    assert.equal(quorumCheck(repo.branchSha("req-app8") ?? "")?.["conclusion"], "failure");

    // carol's approval would meet the group, but she vetoed: still rejected.
    const c2 = repo.addComment(number, "carol", `/quorum approve ${opensslSign(OFFICERS.carol, token)}`);
    const after = await deliver("issue_comment", commentEvent(c2, "carol"));
    assert.deepEqual(pick(after.outcome, "state"), ["rejected"]);
  });
});
