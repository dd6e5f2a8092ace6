// The Probot app's handlers at the HTTP edge: real Probot, deliveries through `probot.receive`
// with payloads from @octokit/webhooks-examples (adapted by field), GitHub mocked with nock (the
// network is closed, so an unexpected API call fails the test), and a real cluster on loopback.
// Every interceptor must be used. The app's key is generated here, per run.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import nock from "nock";
import { Probot, ProbotOctokit } from "probot";
import { createQuorumGateApp } from "../../src/app/index.ts";
import { readAppConfig } from "../../src/app/config.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { readStickyToken, STICKY_MARKER } from "../../src/gate/index.ts";
import { decodeRecords } from "../../src/hsm/token-record.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { passwordOf, setUpQuorumCluster, type QuorumCluster } from "../helpers/quorum-cluster.ts";

const API = "https://api.github.com";
const APP_ID = 4242;
const SLUG = "quorum-gate-test";
const BOT = `${SLUG}[bot]`;
const WEBHOOK_SECRET = `test-${process.pid}-${Date.now()}`;
const REPO = "/repos/Codertocat/Hello-World";

type Payload = Record<string, unknown> & { action: string };
interface Example {
  readonly name: string;
  readonly examples: Payload[];
}
const EXAMPLES = createRequire(import.meta.url)("@octokit/webhooks-examples") as Example[];

/** A deep copy of the first example of `event` with `action`, so tests can change fields freely. */
function example(event: string, action: string, pick = 0): Payload {
  const found = EXAMPLES.find((e) => e.name === event)?.examples.filter((p) => p.action === action)[pick];
  assert.ok(found !== undefined, `no ${event}.${action} example`);
  return structuredClone(found);
}

/** Each test uses its own installation, so Probot's token cache never hides the token request. */
function tokenFor(installation: number): void {
  nock(API)
    .post(`/app/installations/${installation}/access_tokens`)
    .reply(201, { token: `ghs_test${installation}`, expires_at: new Date(Date.now() + 3600_000).toISOString() });
}

const fileBody = (text: string, path: string) => ({
  type: "file",
  encoding: "base64",
  content: Buffer.from(text).toString("base64"),
  size: Buffer.byteLength(text),
  sha: "1".repeat(40),
  name: path.split("/").pop(),
  path,
});

/**
 * GitHub refusing the one-query read of the pull request (src/github/snapshot-port.ts), as a
 * GitHub Enterprise Server whose schema lacks a field answers: the gate then reads over REST,
 * which these tests pin with GitHub's own payloads. The query itself is tested against the fake
 * GitHub (test/unit/fake-github-graphql.test.ts, test/e2e/app.test.ts).
 */
function graphqlRefused(installation: number): void {
  nock(API, { reqheaders: { authorization: `token ghs_test${installation}` } })
    .post("/graphql")
    .reply(200, { errors: [{ message: "Field 'file' doesn't exist on type 'Commit'" }] });
}

describe("the GitHub App's handlers", () => {
  let cluster: TestCluster;
  let clients: NodeClient[];
  let quorum: QuorumCluster;
  let probot: Probot;
  let unmatched: string[] = [];
  // nock reports every request it did not answer, the cluster's (allowed, on loopback) included.
  const onNoMatch = (req: { method: string; url: string }): void => {
    if (new URL(req.url).hostname !== "127.0.0.1") unmatched.push(`${req.method} ${req.url}`);
  };

  before(async () => {
    nock.disableNetConnect();
    // The cluster's nodes are real servers on loopback.
    nock.enableNetConnect((host) => host.startsWith("127.0.0.1"));
    nock.emitter.on("no match", onNoMatch);
    cluster = await startTestCluster({ nodes: 2 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    quorum = await setUpQuorumCluster(clients, { signers: ["officer1", "officer2"], members: ["gate"], m: 2 });

    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    probot = new Probot({
      appId: APP_ID,
      privateKey,
      secret: WEBHOOK_SECRET,
      logLevel: "fatal",
      Octokit: ProbotOctokit.defaults((options: object) => ({
        ...options,
        retry: { enabled: false },
        throttle: { enabled: false },
      })),
    });
    // Learned once at start-up, with the app's JWT.
    nock(API, { reqheaders: { authorization: /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i } })
      .get("/app")
      .reply(200, { id: APP_ID, slug: SLUG, name: "quorum-gate" });
    await probot.load(
      createQuorumGateApp({
        QG_CLUSTER_FILE: cluster.clusterFile,
        QG_GATE_USER: "gate",
        QG_GATE_PASSWORD: passwordOf("gate"),
        WEBHOOK_SECRET,
      }),
    );
    assert.deepEqual(nock.pendingMocks(), []);
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    const extra = unmatched;
    nock.cleanAll();
    unmatched = [];
    assert.deepEqual(pending, [], "every expected API call was made");
    assert.deepEqual(extra, [], "no unexpected API call was made");
  });
  after(async () => {
    nock.emitter.removeListener("no match", onNoMatch);
    nock.cleanAll();
    nock.enableNetConnect();
    for (const c of clients ?? []) c.close();
    await cluster?.stop();
  });

  test("the app's own comment events are ignored without a single API call", async () => {
    // The sticky comment's own edit, as GitHub delivers it back to the app.
    const payload = example("issue_comment", "edited");
    payload["issue"] = {
      ...(payload["issue"] as object),
      pull_request: { url: `https://api.github.com${REPO}/pulls/1` },
    };
    payload["sender"] = { login: BOT, type: "Bot", id: 1 };
    payload["comment"] = {
      ...(payload["comment"] as object),
      user: { login: BOT, type: "Bot", id: 1 },
      // The sticky comment quotes the commands it explains; only the own-event rule may drop it.
      body: `${STICKY_MARKER}\n## HSM quorum\n/quorum retry`,
    };
    payload["installation"] = { id: 11 };
    await probot.receive({ name: "issue_comment", id: "own-1", payload } as never);
    for (const [name, action] of [
      ["pull_request_review", "submitted"],
      ["pull_request_review_comment", "created"],
    ] as const) {
      const own = example(name, action);
      const holder = name === "pull_request_review" ? "review" : "comment";
      own[holder] = { ...(own[holder] as object), body: "/quorum withdraw" };
      own["sender"] = { login: BOT, type: "Bot", id: 1 };
      own["installation"] = { id: 11 };
      await probot.receive({ name, id: `own-${name}`, payload: own } as never);
    }
  });

  test("discussion costs no API call: a new comment, an edit, a deletion and a review without a /quorum command", async () => {
    const onPr = (p: Record<string, unknown>): Record<string, unknown> => ({
      ...p,
      issue: { ...(p["issue"] as object), number: 1, pull_request: { url: `https://api.github.com${REPO}/pulls/1` } },
      installation: { id: 11 },
    });
    const deliveries: [string, Record<string, unknown>][] = [
      ["issue_comment", onPr(example("issue_comment", "created"))],
      ["issue_comment", onPr({ ...example("issue_comment", "edited"), changes: { body: { from: "tpyo" } } })],
      ["issue_comment", onPr(example("issue_comment", "deleted"))],
      ["pull_request_review", { ...example("pull_request_review", "submitted"), installation: { id: 11 } }],
      [
        "pull_request_review_comment",
        { ...example("pull_request_review_comment", "created"), installation: { id: 11 } },
      ],
    ];
    for (const [name, payload] of deliveries) {
      const holder = (payload["comment"] ?? payload["review"]) as { body: unknown };
      assert.doesNotMatch(String(holder.body), /^\/quorum/m, `${name}: the example is discussion`);
      await probot.receive({ name, id: `talk-${name}-${String(payload["action"])}`, payload } as never);
    }
  });

  test("a re-run of another app's check run is ignored without a single API call", async () => {
    const payload = example("check_run", "rerequested");
    payload["installation"] = { id: 11 };
    assert.notEqual((payload["check_run"] as { name: string }).name, "quorum", "the example is another check");
    await probot.receive({ name: "check_run", id: "rerun-1", payload } as never);
  });

  test("a re-run of the gate's check on many pull requests evaluates the first five of this repository, each once", async () => {
    const payload = example("check_run", "rerequested");
    payload["installation"] = { id: 19 };
    const repository = payload["repository"] as { id: number };
    const run = payload["check_run"] as Record<string, unknown>;
    run["name"] = "quorum";
    const pr = (number: number, repoId = repository.id) => ({
      number,
      base: { ref: "main", sha: "a".repeat(40), repo: { id: repoId, name: "x", url: "https://api.github.com/x" } },
      head: {
        ref: `b${number}`,
        sha: "b".repeat(40),
        repo: { id: repoId, name: "x", url: "https://api.github.com/x" },
      },
      id: number,
      url: `https://api.github.com/x/pulls/${number}`,
    });
    // A fork's pull request (another repository id) and a repeated number are not evaluated again.
    run["pull_requests"] = [pr(1), pr(2), pr(2), pr(90, repository.id + 1), pr(3), pr(4), pr(5), pr(6), pr(7)];
    tokenFor(19);
    // Each is read and found closed without a merge: nothing more to do for it.
    const closed = example("pull_request", "closed")["pull_request"] as Record<string, unknown>;
    const full = (payload["repository"] as { full_name: string }).full_name;
    for (const n of [1, 2, 3, 4, 5]) {
      graphqlRefused(19);
      nock(API, { reqheaders: { authorization: "token ghs_test19" } })
        .get(`/repos/${full}/pulls/${n}`)
        .reply(200, { ...closed, number: n, state: "closed", merged: false, merged_at: null, merge_commit_sha: null })
        .get(`/repos/${full}/issues/${n}/comments`)
        .query(true)
        .reply(200, []);
    }
    await probot.receive({ name: "check_run", id: "rerun-many", payload } as never);
  });

  test("a comment on an issue that is not a pull request is ignored without a single API call", async () => {
    const payload = example("issue_comment", "created", 3);
    assert.equal(
      (payload["issue"] as Record<string, unknown>)["pull_request"],
      undefined,
      "the example is a plain issue",
    );
    payload["comment"] = { ...(payload["comment"] as object), body: "/quorum approve AAAA" };
    await probot.receive({ name: "issue_comment", id: "issue-1", payload } as never);
  });

  test("an opened pull request with a request file gets a sticky comment with a token, and a quorum check run", async () => {
    const payload = example("pull_request", "opened");
    payload["installation"] = { id: 12 };
    const pr = payload["pull_request"] as { number: number; head: { sha: string }; base: { sha: string } };
    const policy = `version: 1\ncluster: ${quorum.clusterId}\nofficers:\n  alice: officer1\n  bob: officer2\n`;
    const request = [
      `version: 1`,
      `cluster: ${quorum.clusterId}`,
      `operation:`,
      `  kind: createUser`,
      `  type: CU`,
      `  name: app7`,
      `  sealed_password: ${quorum.seal("app7-pass-1")}`,
      `reason: payments service`,
      "",
    ].join("\n");
    let sticky = "";
    let check: Record<string, unknown> = {};
    tokenFor(12);
    graphqlRefused(12);
    nock(API, { reqheaders: { authorization: "token ghs_test12" } })
      .get(`${REPO}/pulls/${pr.number}`)
      .reply(200, payload["pull_request"] as object)
      .get(`${REPO}/contents/.github%2Fquorum-gate.yml`)
      .query({ ref: pr.base.sha })
      .reply(200, fileBody(policy, ".github/quorum-gate.yml"))
      .get(`${REPO}/pulls/${pr.number}/files`)
      .query({ per_page: "100" })
      .reply(200, [{ filename: "hsm-requests/app7.yml", status: "added" }])
      .get(`${REPO}/contents/hsm-requests%2Fapp7.yml`)
      .query({ ref: pr.head.sha })
      .reply(200, fileBody(request, "hsm-requests/app7.yml"))
      // The first token and sticky comment are made under the pull request's claim (a git ref).
      .post(`${REPO}/git/refs`, { ref: `refs/quorum-gate/claims/pr-${pr.number}`, sha: pr.head.sha })
      .reply(201, { ref: `refs/quorum-gate/claims/pr-${pr.number}` })
      .delete(new RegExp(`^${REPO}/git/refs/quorum-gate(?:/|%2F)claims(?:/|%2F)pr-${pr.number}$`))
      .reply(204)
      .post(`${REPO}/issues/${pr.number}/comments`, (body: { body: string }) => {
        sticky = body.body;
        return true;
      })
      .reply(201, { id: 901 })
      .get(`${REPO}/commits/${pr.head.sha}/check-runs`)
      .query({ check_name: "quorum", app_id: String(APP_ID), per_page: "100" })
      .reply(200, { total_count: 0, check_runs: [] })
      .post(`${REPO}/check-runs`, (body: Record<string, unknown>) => {
        check = body;
        return true;
      })
      .reply(201, { id: 902 });
    // The lists the gate may read as often as it likes (nobody has commented yet); each must be read.
    const lists = nock(API).persist();
    for (const path of [`issues/${pr.number}/comments`, `pulls/${pr.number}/reviews`, `pulls/${pr.number}/comments`])
      lists.get(`${REPO}/${path}`).query({ per_page: "100" }).reply(200, []);

    await probot.receive({ name: "pull_request", id: "opened-1", payload } as never);

    assert.ok(sticky.startsWith(STICKY_MARKER), "the sticky comment carries the marker");
    const token = readStickyToken(sticky);
    assert.ok(token !== null, "the sticky comment carries the token");
    const records = decodeRecords(token);
    assert.ok(records.ok && records.records.length === 2, "one record per node");
    assert.doesNotMatch(sticky, /app7-pass-1/);
    assert.equal(check["name"], "quorum");
    assert.equal(check["head_sha"], pr.head.sha);
    assert.equal(check["status"], "in_progress");
    assert.match(String((check["output"] as { title: string }).title), /0 of 2/);
  });

  test("the app's own pull_request events still reach the gate (its evidence commit needs a check run)", async () => {
    const payload = example("pull_request", "closed");
    payload["installation"] = { id: 13 };
    payload["sender"] = { login: BOT, type: "Bot", id: 1 };
    const pr = payload["pull_request"] as { number: number; merged: boolean };
    assert.equal(pr.merged, false);
    tokenFor(13);
    graphqlRefused(13);
    // Closed without merge and without a token: the gate looks for its sticky comment, finds none.
    nock(API)
      .get(`${REPO}/pulls/${pr.number}`)
      .reply(200, pr)
      .get(`${REPO}/issues/${pr.number}/comments`)
      .query({ per_page: "100" })
      .reply(200, []);
    await probot.receive({ name: "pull_request", id: "closed-1", payload } as never);
  });

  test("an unexpected failure is logged and rethrown as a fixed message, with nothing of the original error", async () => {
    const payload = example("pull_request_review", "submitted", 1);
    payload["review"] = { ...(payload["review"] as object), body: "/quorum withdraw" };
    payload["installation"] = { id: 14 };
    tokenFor(14);
    // The first read of the pull request is the one GraphQL query.
    nock(API).post("/graphql").reply(500, { message: "boom with ghs_secretlooking" });
    await assert.rejects(
      probot.receive({ name: "pull_request_review", id: "review-1", payload } as never),
      (err: unknown) => {
        const errors = err instanceof AggregateError ? err.errors : [err];
        assert.deepEqual(
          errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))),
          ["[quorum-gate] unexpected_error (logged above)"],
        );
        return true;
      },
    );
  });
});

describe("the app's configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-app-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const clusterFile = join(dir, "cluster.json");
  writeFileSync(
    clusterFile,
    JSON.stringify({
      version: 1,
      clusterId: "cluster-test",
      nodes: [{ index: 0, host: "127.0.0.1", port: 1, hsmId: "hsm-abcdefghijk", nodeId: 1 }],
    }),
  );
  const base = { QG_CLUSTER_FILE: clusterFile, QG_GATE_USER: "gate", WEBHOOK_SECRET: "s3cret-for-tests" };

  test("names every missing variable at once", () => {
    const r = readAppConfig({});
    assert.ok(!r.ok);
    const text = r.errors.join("\n");
    for (const name of ["QG_CLUSTER_FILE", "QG_GATE_USER", "QG_GATE_PASSWORD", "WEBHOOK_SECRET"])
      assert.match(text, new RegExp(`^${name}`, "m"));
  });

  test("refuses Probot's default webhook secret and a cluster file that is not there", () => {
    const r = readAppConfig({
      ...base,
      QG_CLUSTER_FILE: join(dir, "nope.json"),
      WEBHOOK_SECRET: "development",
      QG_GATE_PASSWORD: "pw-1",
    });
    assert.ok(!r.ok);
    assert.match(r.errors.join("\n"), /WEBHOOK_SECRET.*"development"/);
    assert.match(r.errors.join("\n"), /QG_CLUSTER_FILE: no cluster file at .*nope\.json/);
  });

  test("reads the password from a file without its final newline, and never repeats a password", () => {
    const file = join(dir, "gate-password");
    writeFileSync(file, "gate-pw-from-file\n", { mode: 0o600 });
    const r = readAppConfig({ ...base, QG_GATE_PASSWORD_FILE: file });
    assert.ok(r.ok);
    assert.deepEqual(r.value.gate, { userName: "gate", password: "gate-pw-from-file" });

    const both = readAppConfig({ ...base, QG_GATE_PASSWORD: "inline-pw-123", QG_GATE_PASSWORD_FILE: file });
    assert.ok(!both.ok);
    assert.match(both.errors.join("\n"), /both set/);
    const missing = readAppConfig({ ...base, QG_GATE_USER: "", QG_GATE_PASSWORD: "inline-pw-123" });
    assert.ok(!missing.ok);
    assert.doesNotMatch(missing.errors.join("\n"), /inline-pw-123/);
    const unreadable = readAppConfig({ ...base, QG_GATE_PASSWORD_FILE: join(dir, "absent") });
    assert.ok(!unreadable.ok);
    assert.match(unreadable.errors.join("\n"), /QG_GATE_PASSWORD_FILE: cannot read .*absent \(ENOENT\)/);
  });

  test("reads the execution window's settings within their bounds, and names a bad one", () => {
    const r = readAppConfig({
      ...base,
      QG_GATE_PASSWORD: "pw-1",
      QG_WINDOW_SECONDS: "300",
      QG_WINDOW_POLL_SECONDS: "5",
    });
    assert.ok(r.ok);
    assert.deepEqual(r.value.window, { maxSeconds: 300, pollSeconds: 5 });
    const unset = readAppConfig({ ...base, QG_GATE_PASSWORD: "pw-1" });
    assert.ok(unset.ok);
    assert.deepEqual(unset.value.window, {});
    for (const [name, value] of [
      ["QG_WINDOW_SECONDS", "9"],
      ["QG_WINDOW_SECONDS", "ten"],
      ["QG_WINDOW_POLL_SECONDS", "61"],
      ["QG_WINDOW_POLL_SECONDS", "1.5"],
    ] as const) {
      const bad = readAppConfig({ ...base, QG_GATE_PASSWORD: "pw-1", [name]: value });
      assert.ok(!bad.ok, `${name}=${value}`);
      assert.match(
        bad.errors.join("\n"),
        new RegExp(`^${name} must be a whole number of seconds from \\d+ to \\d+$`, "m"),
      );
    }
  });

  test("QG_PASSWORD_KEY_FILE: the gate's password key for a real cluster, optional, refused by name and never quoted", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const keyFile = join(dir, "password-key.pem");
    writeFileSync(keyFile, pem);
    const r = readAppConfig({ ...base, QG_GATE_PASSWORD: "pw-1", QG_PASSWORD_KEY_FILE: keyFile });
    assert.ok(r.ok);
    assert.equal(
      r.value.gate.passwordKey?.export({ type: "pkcs8", format: "pem" }).toString(),
      pem,
      "the key the file holds",
    );
    const none = readAppConfig({ ...base, QG_GATE_PASSWORD: "pw-1" });
    assert.ok(none.ok && none.value.gate.passwordKey === undefined);
    const notKey = join(dir, "not-a-key.pem");
    writeFileSync(notKey, "secret-ish text that is no key\n");
    const bad = readAppConfig({ ...base, QG_GATE_PASSWORD: "pw-1", QG_PASSWORD_KEY_FILE: notKey });
    assert.ok(!bad.ok);
    assert.match(
      bad.errors.join("\n"),
      /^QG_PASSWORD_KEY_FILE: .*not-a-key\.pem is not an unencrypted private key in PEM$/m,
    );
    assert.doesNotMatch(bad.errors.join("\n"), /secret-ish/);
    const gone = readAppConfig({ ...base, QG_GATE_PASSWORD: "pw-1", QG_PASSWORD_KEY_FILE: join(dir, "absent.pem") });
    assert.ok(!gone.ok);
    assert.match(gone.errors.join("\n"), /QG_PASSWORD_KEY_FILE: cannot read .*absent\.pem \(ENOENT\)/);
  });

  test("the app refuses to load half-configured", async () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const probot = new Probot({ appId: APP_ID, privateKey, secret: "x", logLevel: "fatal" });
    await assert.rejects(
      probot.load(createQuorumGateApp({ ...base, QG_GATE_PASSWORD: "pw-not-echoed", QG_GATE_USER: " " })),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(err.message, /^\[quorum-gate\] configuration: QG_GATE_USER is not set/);
        assert.doesNotMatch(err.message, /pw-not-echoed/);
        return true;
      },
    );
  });
});
