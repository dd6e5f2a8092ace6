// The GitHub App end to end on loopback, as it runs in production: `probot run ./src/app/index.ts`
// as a real server in a child process, configured only through its environment, against the fake
// GitHub API (app JWT, installation tokens, real commits) and a real 3-node cluster. Deliveries are
// signed as GitHub signs them (HMAC-SHA256 of the exact body); officers sign the token with the
// real openssl binary. The App key, the webhook secret and the officers' keys are made per run.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { NodeClient } from "../../src/protocol/node-client.ts";
import { readStickyToken } from "../../src/gate/index.ts";
import { countCalls } from "../helpers/api-calls.ts";
import { pick, startAppE2E, type AppE2E, type Delivery } from "../helpers/app-e2e.ts";
import type { Created, FakeGitHub, FakeRepo } from "../helpers/fake-github.ts";
import { must, type QuorumCluster } from "../helpers/quorum-cluster.ts";

const OFFICERS = { alice: "officer1", bob: "officer2" } as const;
const REQUEST_PATH = "hsm-requests/app7.yml";
const HEAD = "req-app7";

describe("the GitHub App, end to end (probot run, fake GitHub, real cluster, openssl)", () => {
  let h: AppE2E;
  let gh: FakeGitHub;
  let repo: FakeRepo;
  let quorum: QuorumCluster;
  let clients: NodeClient[];
  let appLog: string[];
  let appUrl: string;
  let webhookSecret: string;
  let gatePassword: string;
  let number = 0;

  before(async () => {
    h = await startAppE2E({ officers: OFFICERS, tmpPrefix: "qg-app-e2e-" });
    ({ gh, repo, quorum, clients, appLog, appUrl, webhookSecret, gatePassword } = h);
  });

  after(async () => {
    await h?.stop();
  });

  // The harness's probes under the names the tests use; `number` is the pull request at hand.
  const deliver = (
    event: string,
    payload: unknown,
    options?: { secret?: string; body?: string; id?: string },
  ): Promise<Delivery> => h.deliver(event, payload, options);
  const pullRequestEvent = (action: string, login: string) => h.pullRequestEvent(number, action, login);
  const commentEvent = (comment: Created, login: string) => h.commentEvent(number, comment, login);
  const reviewEvent = (review: Created, login: string) => h.reviewEvent(number, review, login);
  const sender = (login: string) => h.sender(login);
  const common = (login: string) => h.common(login);
  const stickyComment = () => h.stickyComment(number);
  const quorumCheck = (sha: string) => h.quorumCheck(sha);
  const usersNamed = (name: string) => h.usersNamed(name);
  const opensslSign = (officer: string, data: Uint8Array): string => h.sign(officer, data);

  let token: Uint8Array | null = null;
  let approvedHead = "";

  it("answers a delivery with a bad signature with 400 and does nothing", async () => {
    number = repo.openPullRequest({
      head: HEAD,
      author: "alice",
      title: "Create CU app7",
      files: {
        [REQUEST_PATH]: [
          `version: 1`,
          `cluster: ${quorum.clusterId}`,
          `operation:`,
          `  kind: createUser`,
          `  type: CU`,
          `  name: app7`,
          `  sealed_password: ${quorum.seal("app7-pass-1")}`,
          `reason: payments service (TICKET-1234)`,
          "",
        ].join("\n"),
      },
    });
    const calls = gh.calls.length;
    const forged = await deliver("pull_request", pullRequestEvent("opened", "alice"), { secret: "not-the-secret" });
    assert.equal(forged.status, 400);
    const unsigned = await fetch(`${appUrl}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": randomUUID(),
      },
      body: forged.body,
    });
    assert.equal(unsigned.status, 400);
    assert.equal(gh.calls.length, calls, "no GitHub API call");
    assert.equal(await stickyComment(), null);
    assert.deepEqual(
      (await must(clients, "list-tokens", () => ({}))).map((r) => r.tokens.length),
      [0, 0, 0],
      "no token issued",
    );
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
    gh.clearCalls();
    const first = await deliver("issue_comment", commentEvent(a, "alice"));
    assert.deepEqual(pick(first.outcome, "state", "approvals"), ["pending", 1]);
    // The budget (docs/performance.md): one GraphQL query for the pull request, one read of the
    // request file, then the writes (the sticky comment and the check run).
    const budget = countCalls(gh.calls);
    assert.ok(budget.readsBeforeFirstWrite <= 3, budget.list.join("\n"));
    assert.equal(quorumCheck(repo.branchSha(HEAD) ?? "")?.["status"], "in_progress");

    approvedHead = repo.branchSha(HEAD) ?? "";
    const b = repo.addReview(
      number,
      "bob",
      `Checked the request.\n\n/quorum approve ${opensslSign(OFFICERS.bob, token)}`,
    );
    const second = await deliver("pull_request_review", reviewEvent(b, "bob"));
    assert.deepEqual(pick(second.outcome, "outcome", "state", "approvals", "required", "evidence"), [
      "evaluated",
      "approved",
      2,
      2,
      "committed",
    ]);
    assert.equal(quorumCheck(approvedHead)?.["conclusion"], "success");
    assert.match(repo.readText(HEAD, "hsm-requests/app7.evidence/approval.txt") ?? "", /Number of Approvals = 2;/);
    assert.notEqual(repo.branchSha(HEAD), approvedHead, "the evidence commit moved the head");
  });

  it("the evidence commit comes back as the app's own synchronize, and its head gets a green check too", async () => {
    const head = repo.branchSha(HEAD) ?? "";
    const sync = await deliver("pull_request", pullRequestEvent("synchronize", gh.app.botLogin));
    assert.deepEqual(
      pick(sync.outcome, "state", "evidence"),
      ["approved", "present"],
      "nothing is committed again, so it settles",
    );
    assert.equal(repo.branchSha(HEAD), head);
    assert.equal(quorumCheck(head)?.["conclusion"], "success");

    // The app's own comment events are dropped before any work.
    const sticky = await stickyComment();
    assert.ok(sticky !== null);
    const calls = gh.calls.length;
    const ownEdit = {
      action: "edited",
      issue: commentEvent({ id: 0, payload: {} }, gh.app.botLogin).issue,
      // With a command line, so that the own-event rule, not the discussion rule, is what drops it.
      comment: { body: `${sticky.body}\n/quorum retry`, user: sender(gh.app.botLogin) },
      changes: {},
      ...common(gh.app.botLogin),
    };
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
    assert.deepEqual(pick(again.outcome, "outcome", "nodes"), [
      "replayed",
      "0:already_applied 1:already_applied 2:already_applied",
    ]);
    assert.deepEqual(await usersNamed("app7"), [1, 1, 1]);
  });

  it("never logs a secret, even at debug level", () => {
    const log = appLog.join("\n");
    const secrets = [
      ["webhook secret", webhookSecret],
      ["gate password", gatePassword],
      ["app private key", gh.app.privateKeyPem.split("\n")[1] ?? "-"],
      ["request password", "app7-pass-1"],
    ] as const;
    for (const [what, secret] of secrets) assert.ok(!log.includes(secret), `the log holds the ${what}`);
    assert.doesNotMatch(log, /ghs_[A-Za-z0-9]{36}/, "no installation token");
  });
});
