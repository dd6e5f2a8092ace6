// The governance rules of docs/governance.md through the GitHub App as it runs in production
// (`probot run`, signed deliveries, fake GitHub API, real 3-node cluster, officers signing with
// the real openssl binary): the lock-out guard refuses before any token exists, an AND group is
// waited for, a veto over the approval payload blocks a request that then cannot turn green, and
// a group no one can satisfy fails the check at once, with no token issued. Cooling-off runs on the real clock in
// test/e2e/app-cooling-off.test.ts, and on an injected one in test/contract/gate-rules.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NodeClient } from "../../src/protocol/node-client.ts";
import {
  approvalPayloadOf,
  parseRequest,
  payloadExpiry,
  readStickyToken,
  renderApprovalPayload,
  renderPayloadComment,
} from "../../src/gate/index.ts";
import { pick, startAppE2E, type AppE2E, type Delivery } from "../helpers/app-e2e.ts";
import type { Created, FakeRepo } from "../helpers/fake-github.ts";
import { must, type QuorumCluster } from "../helpers/quorum-cluster.ts";

const OFFICERS = { alice: "officer1", bob: "officer2", carol: "officer3" } as const;

describe("the GitHub App, end to end: governance rules (probot run, fake GitHub, real cluster, openssl)", () => {
  let h: AppE2E;
  let repo: FakeRepo;
  let quorum: QuorumCluster;
  let clients: NodeClient[];
  let number = 0;

  before(async () => {
    h = await startAppE2E({
      officers: OFFICERS,
      policyTail: [
        `groups:`,
        `  platform: [carol]`,
        `operations:`,
        `  createUser:`,
        `    groups:`,
        `      platform: 1`,
      ],
      tmpPrefix: "qg-app-gov-e2e-",
    });
    ({ repo, quorum, clients } = h);
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
  const stickyComment = () => h.stickyComment(number);
  const quorumCheck = (sha: string) => h.quorumCheck(sha);
  const opensslSign = (officer: string, data: Uint8Array): string => h.sign(officer, data);

  it("the lock-out guard: deleting a signer is refused at once, with the numbers, and no token is issued", async () => {
    number = repo.openPullRequest({
      head: "drop-officer3",
      author: "alice",
      title: "Delete CO officer3",
      files: {
        "hsm-requests/drop-officer3.yml": [
          `version: 1`,
          `cluster: ${quorum.clusterId}`,
          `operation:`,
          `  kind: deleteUser`,
          `  type: CO`,
          `  name: officer3`,
          `reason: leaves the team`,
          "",
        ].join("\n"),
      },
    });
    const opened = await deliver("pull_request", pullRequestEvent("opened", "alice"));
    assert.deepEqual(pick(opened.outcome, "outcome", "state"), ["evaluated", "rejected"]);
    const sticky = await stickyComment();
    assert.ok(sticky !== null);
    assert.equal(readStickyToken(sticky.body), null, "no token to sign");
    assert.match(
      sticky.body,
      /lockout\\_delete\\_officer: deleting this officer would leave 2 officers able to sign for service 3 \(now 3\), but M is 2 and the lock-out guard needs at least 3/,
    );
    assert.equal(quorumCheck(repo.branchSha("drop-officer3") ?? "")?.["conclusion"], "failure");
    assert.deepEqual(
      (await must(clients, "list-tokens", () => ({}))).map((r) => r.tokens.length),
      [0, 0, 0],
      "no token on any node",
    );
  });

  it("an AND group is waited for, and a veto blocks for good", async () => {
    const path = "hsm-requests/app8.yml";
    number = repo.openPullRequest({
      head: "req-app8",
      author: "alice",
      title: "Create CU app8",
      files: {
        [path]: [
          `version: 1`,
          `cluster: ${quorum.clusterId}`,
          `operation:`,
          `  kind: createUser`,
          `  type: CU`,
          `  name: app8`,
          `  sealed_password: ${quorum.seal("app8-pass-1")}`,
          `reason: ledger service`,
          "",
        ].join("\n"),
      },
    });
    await deliver("pull_request", pullRequestEvent("opened", "alice"));
    const sticky = await stickyComment();
    const token = sticky === null ? null : readStickyToken(sticky.body);
    assert.ok(token !== null);
    const a = repo.addComment(number, "alice", `/quorum approve ${opensslSign(OFFICERS.alice, token)}`);
    await deliver("issue_comment", commentEvent(a, "alice"));
    const b = repo.addComment(number, "bob", `/quorum approve ${opensslSign(OFFICERS.bob, token)}`);
    const two = await deliver("issue_comment", commentEvent(b, "bob"));
    assert.deepEqual(
      pick(two.outcome, "state", "approvals", "required"),
      ["pending", 2, 2],
      "M is met, the platform group is not",
    );
    assert.match((await stickyComment())?.body ?? "", /\| `platform` \| 1 \| 0 \| 1 \|/);

    // carol vetoes: the reject payload of this request, signed with openssl.
    const request = parseRequest(repo.readBytes("req-app8", path) ?? Buffer.alloc(0));
    assert.ok(request.ok);
    const until = payloadExpiry(Date.now(), 3600);
    const payload = renderApprovalPayload(
      approvalPayloadOf({
        verdict: "reject",
        request: request.request,
        requestDigest: request.digest,
        requestPath: path,
        repository: "acme/hsm",
        pullRequest: number,
        expiresAt: until,
      }),
    );
    const c = repo.addComment(
      number,
      "carol",
      renderPayloadComment("reject", until, Buffer.from(opensslSign(OFFICERS.carol, payload), "base64")),
    );
    const vetoed = await deliver("issue_comment", commentEvent(c, "carol"));
    assert.deepEqual(pick(vetoed.outcome, "outcome", "state"), ["evaluated", "rejected"]);
    assert.match((await stickyComment())?.body ?? "", /`vetoed`: 1 officer rejected this request \(officer3\)/);
    assert.equal(quorumCheck(repo.branchSha("req-app8") ?? "")?.["conclusion"], "failure");

    // carol's approval would meet the group, but she vetoed: still rejected.
    const c2 = repo.addComment(number, "carol", `/quorum approve ${opensslSign(OFFICERS.carol, token)}`);
    const after = await deliver("issue_comment", commentEvent(c2, "carol"));
    assert.deepEqual(pick(after.outcome, "state"), ["rejected"]);
  });

  it("early refusal: a group that no one left can satisfy fails the check at once, before any approval", async () => {
    // carol is the platform group's only member and proposes the request herself; with
    // self-approval off (on the base branch, where policy is read) she cannot approve it, so the
    // group's one approval is out of reach from the start.
    const policy = repo.readBytes("main", ".github/quorum-gate.yml")?.toString("utf8") ?? "";
    assert.match(policy, /^officers:/m);
    repo.commit("main", { ".github/quorum-gate.yml": `${policy}allow_self_approval: false\n` });
    number = repo.openPullRequest({
      head: "req-app9",
      author: "carol",
      title: "Create CU app9",
      files: {
        "hsm-requests/app9.yml": [
          `version: 1`,
          `cluster: ${quorum.clusterId}`,
          `operation:`,
          `  kind: createUser`,
          `  type: CU`,
          `  name: app9`,
          `  sealed_password: ${quorum.seal("app9-pass-1")}`,
          `reason: reporting service`,
          "",
        ].join("\n"),
      },
    });
    const tokensBefore = (await must(clients, "list-tokens", () => ({}))).map((r) => r.tokens.length);
    const opened = await deliver("pull_request", pullRequestEvent("opened", "carol"));
    assert.deepEqual(pick(opened.outcome, "outcome", "state", "approvals"), ["evaluated", "rejected", 0]);
    const sticky = (await stickyComment())?.body ?? "";
    assert.match(
      sticky,
      /`quorum_unreachable`: group platform needs 1 approval, but only 0 of its officers can give one/,
    );
    assert.equal(readStickyToken(sticky), null, "no token to sign for a request that cannot be approved");
    assert.deepEqual(
      (await must(clients, "list-tokens", () => ({}))).map((r) => r.tokens.length),
      tokensBefore,
      "and none issued on the nodes",
    );
    assert.equal(quorumCheck(repo.branchSha("req-app9") ?? "")?.["conclusion"], "failure");
  });
});
