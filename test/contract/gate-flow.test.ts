// The gate's use case end to end, without Probot: the real GitHub port over @octokit/rest against
// the fake GitHub API, and a real 3-node cluster. What the App and the Action both run.
import assert from "node:assert/strict";
import { Octokit } from "@octokit/rest";
import { after, before, describe, it } from "node:test";
import type { ClusterGateway } from "../../src/cluster/gateway.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { readStickyToken, renderApprovalComment, STICKY_MARKER } from "../../src/gate/index.ts";
import type { GateDeps } from "../../src/usecases/deps.ts";
import { createGitHubPort } from "../../src/github/octokit-port.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";
import type { TestCluster } from "../helpers/cluster.ts";
import type { FakeGitHub, FakeRepo } from "../helpers/fake-github.ts";
import { startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { testKey } from "../helpers/keys.ts";

const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3" };

describe("the gate's pull-request flow (use case, fake GitHub, real cluster)", () => {
  let h: GateHarness;
  let cluster: TestCluster;
  let gateway: ClusterGateway;
  let gh: FakeGitHub;
  let repo: FakeRepo;
  let deps: GateDeps;
  let all: GateHarness["all"];
  let requestYaml: GateHarness["requestYaml"];
  let event: GateHarness["event"];

  before(async () => {
    h = await startGateHarness({ officers: OFFICERS });
    ({ cluster, gateway, gh, repo, deps, all, requestYaml, event } = h);
  });
  after(async () => {
    await h?.stop();
  });

  const sticky = (number: number): string => {
    const body = stickyBody(number);
    assert.ok(body !== null, "the app wrote its sticky comment");
    return body;
  };
  function stickyBody(number: number): string | null {
    const found = [...gh.calls]
      .reverse()
      .find(
        (c) =>
          (c.method === "POST" || c.method === "PATCH") &&
          c.path.includes("/comments") &&
          typeof (c.body as { body?: unknown } | null)?.body === "string" &&
          (c.body as { body: string }).body.startsWith(STICKY_MARKER) &&
          (c.method === "PATCH" || c.path.endsWith(`/issues/${number}/comments`)),
      );
    return found === undefined ? null : (found.body as { body: string }).body;
  }
  const quorumChecks = (sha: string): unknown[][] =>
    repo
      .checkRuns(sha)
      .filter((c) => c["name"] === "quorum")
      .map((c) => [c["status"], c["conclusion"]]);
  const approve = (number: number, login: string, token: Uint8Array, officer = OFFICERS[login] ?? "") =>
    repo.addComment(number, login, renderApprovalComment(signMessage(token, testKey(officer).privateKey)));

  it("asks for a token, counts distinct officers, commits evidence at M, and replays once on merge", async () => {
    const number = repo.openPullRequest({
      head: "req-app7",
      author: "alice",
      files: { "hsm-requests/app7.yml": requestYaml("app7", "app7-pass-1") },
    });
    const opened = await handlePullRequest(deps, event(number, "pull_request", "opened"));
    assert.equal(opened.code, "evaluated");
    assert.ok(opened.code === "evaluated" && opened.state === "pending" && opened.required === 2);
    const token = readStickyToken(sticky(number));
    assert.ok(token !== null, "the sticky comment carries the token");

    approve(number, "alice", token);
    approve(number, "alice", token); // the same officer again counts once
    const one = await handlePullRequest(deps, event(number));
    assert.ok(one.code === "evaluated" && one.state === "pending" && one.approvals === 1);

    approve(number, "bob", token);
    const approvedHead = repo.branchSha("req-app7") ?? "";
    const two = await handlePullRequest(deps, event(number));
    assert.ok(
      two.code === "evaluated" && two.state === "approved" && two.evidence === "committed",
      JSON.stringify(two),
    );
    assert.match(
      repo.readText("req-app7", "hsm-requests/app7.evidence/approval.txt") ?? "",
      /Number of Approvals = 2;/,
    );
    const evidenceHead = repo.branchSha("req-app7") ?? "";
    assert.deepEqual(repo.commitInfo(evidenceHead).parents, [approvedHead], "every evidence file in one commit");
    assert.deepEqual(quorumChecks(approvedHead), [["completed", "success"]]);
    // The App's own push comes back as a synchronize, which reports on the new head.
    const again = await handlePullRequest(deps, event(number, "pull_request", "synchronize"));
    assert.ok(
      again.code === "evaluated" && again.state === "approved" && again.evidence === "present",
      "the evidence commit does not invalidate the approvals",
    );
    assert.deepEqual(quorumChecks(evidenceHead), [["completed", "success"]]);
    assert.equal(repo.branchSha("req-app7"), evidenceHead, "nothing is committed again");

    repo.merge(number);
    const replay = await handlePullRequest(deps, event(number, "pull_request", "closed"));
    assert.ok(replay.code === "replayed", JSON.stringify(replay));
    assert.deepEqual(
      replay.nodes.map((n) => n.result),
      ["applied", "applied", "applied"],
    );
    const redelivered = await handlePullRequest(deps, event(number, "pull_request", "closed"));
    assert.ok(
      redelivered.code === "replayed" && redelivered.nodes.every((n) => n.result === "already_applied"),
      "a redelivery applies nothing twice",
    );
    for (const users of await all("list-users", {}))
      assert.equal(users.users.filter((u) => u.name === "app7").length, 1);
  });

  it("as the Action (GitHub Actions' app id): the evidence commit's head gets the same green check at once, since the gate's own push starts no workflow", async () => {
    const action: GateDeps = {
      ...deps,
      github: createGitHubPort(
        new Octokit({
          baseUrl: gh.url,
          auth: gh.issueToken({ user: "github-actions[bot]", appId: 15368, appSlug: "github-actions" }),
          log: { debug() {}, info() {}, warn() {}, error() {} },
        }),
      ),
      botLogin: "github-actions[bot]",
      appId: 15368,
      ownPushesNotify: false,
    };
    const number = repo.openPullRequest({
      head: "req-app13",
      author: "carol",
      files: { "hsm-requests/app13.yml": requestYaml("app13", "app13-pass-1") },
    });
    await handlePullRequest(action, event(number, "pull_request", "opened"));
    const token = readStickyToken(sticky(number));
    assert.ok(token !== null);
    approve(number, "alice", token);
    approve(number, "bob", token);
    const approvedHead = repo.branchSha("req-app13") ?? "";
    const approved = await handlePullRequest(action, event(number));
    assert.ok(
      approved.code === "evaluated" && approved.state === "approved" && approved.evidence === "committed",
      JSON.stringify(approved),
    );
    const evidenceHead = repo.branchSha("req-app13") ?? "";
    assert.deepEqual(repo.commitInfo(evidenceHead).parents, [approvedHead], "every evidence file in one commit");
    for (const sha of [approvedHead, evidenceHead])
      assert.deepEqual(quorumChecks(sha), [["completed", "success"]], `the quorum check on ${sha}`);
  });

  it("a node that failed the replay gets it on /quorum retry; the same retry delivered again does nothing", async () => {
    const number = repo.openPullRequest({
      head: "req-app12",
      author: "carol",
      files: { "hsm-requests/app12.yml": requestYaml("app12", "app12-pass-1") },
    });
    await handlePullRequest(deps, event(number, "pull_request", "opened"));
    const token = readStickyToken(sticky(number));
    assert.ok(token !== null);
    approve(number, "alice", token);
    approve(number, "bob", token);
    const approved = await handlePullRequest(deps, event(number));
    assert.ok(approved.code === "evaluated" && approved.state === "approved", JSON.stringify(approved));

    // Server 2 crashes after the gate has read the cluster and before the replay reaches it.
    let crash: number | null = 2;
    const crashing: GateDeps = {
      ...deps,
      cluster: {
        ...gateway,
        async execute(request, only) {
          if (crash !== null) await cluster.kill(crash);
          crash = null;
          return gateway.execute(request, only);
        },
      },
    };
    repo.merge(number);
    const first = await handlePullRequest(crashing, event(number, "pull_request", "closed"));
    assert.ok(first.code === "replayed", JSON.stringify(first));
    assert.deepEqual(
      first.nodes.map((n) => [n.index, n.ok]),
      [
        [0, true],
        [1, true],
        [2, false],
      ],
    );
    assert.deepEqual(
      first.nodes.slice(0, 2).map((n) => n.result),
      ["applied", "applied"],
    );
    assert.match(sticky(number), /Replay: applied on 2 of 3 nodes/);
    await cluster.restart(2);

    repo.addComment(number, "alice", "/quorum retry");
    const second = await handlePullRequest(deps, event(number));
    assert.ok(second.code === "replayed", JSON.stringify(second));
    assert.deepEqual(
      second.nodes.map((n) => n.result),
      ["already_applied", "already_applied", "applied"],
    );
    assert.match(sticky(number), /Replay: applied on 3 of 3 nodes/);
    for (const users of await all("list-users", {}))
      assert.equal(users.users.filter((u) => u.name === "app12").length, 1);

    const redelivered = await handlePullRequest(deps, event(number));
    assert.equal(redelivered.code, "ignored", "the retry was served already");
  });

  it("never counts a signature posted by someone else, by an unmapped login, or over another token", async () => {
    const a = repo.openPullRequest({
      head: "req-app8",
      author: "carol",
      files: { "hsm-requests/app8.yml": requestYaml("app8", "app8-pass-1") },
    });
    const b = repo.openPullRequest({
      head: "req-app9",
      author: "carol",
      files: { "hsm-requests/app9.yml": requestYaml("app9", "app9-pass-1") },
    });
    await handlePullRequest(deps, event(a, "pull_request", "opened"));
    await handlePullRequest(deps, event(b, "pull_request", "opened"));
    const tokenA = readStickyToken(sticky(a));
    const tokenB = readStickyToken(sticky(b));
    assert.ok(tokenA !== null && tokenB !== null);
    approve(a, "mallory", tokenA, "officer1"); // officer1's real signature, posted by another account
    approve(a, "bob", tokenB); // bob's signature, but over PR b's token
    repo.addComment(a, "dave", `${STICKY_MARKER}\n## HSM quorum: approved`); // a look-alike sticky comment
    const r = await handlePullRequest(deps, event(a));
    assert.ok(r.code === "evaluated" && r.state === "pending" && r.approvals === 0, JSON.stringify(r));
    const body = sticky(a);
    assert.match(body, /stale_token/);
    assert.match(body, /unknown_officer/);
  });

  it("refuses a pull request that changes anything but the request, and takes the token back when closed", async () => {
    const bad = repo.openPullRequest({
      head: "req-extra",
      author: "carol",
      files: { "hsm-requests/app10.yml": requestYaml("app10", "app10-pass-1"), "README.md": "changed\n" },
    });
    const r = await handlePullRequest(deps, event(bad, "pull_request", "opened"));
    assert.equal(r.code, "invalid");
    const policy = repo.openPullRequest({
      head: "policy-change",
      author: "carol",
      files: { ".github/quorum-gate.yml": "version: 1\n" },
    });
    assert.equal((await handlePullRequest(deps, event(policy, "pull_request", "opened"))).code, "invalid");

    const closing = repo.openPullRequest({
      head: "req-app11",
      author: "carol",
      files: { "hsm-requests/app11.yml": requestYaml("app11", "app11-pass-1") },
    });
    await handlePullRequest(deps, event(closing, "pull_request", "opened"));
    const before = (await all("list-tokens", {}))[0]?.tokens.length ?? 0;
    repo.closePullRequest(closing);
    const closed = await handlePullRequest(deps, event(closing, "pull_request", "closed"));
    assert.equal(closed.code, "token_deleted");
    assert.equal((await all("list-tokens", {}))[0]?.tokens.length, before - 1);
  });
});
