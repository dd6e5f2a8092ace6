// Attacks on the gate that need the whole use case (fake GitHub + a real cluster): approvals that
// outlive the request they were given for, and a key revoked between approval and merge.
import assert from "node:assert/strict";
import { Octokit } from "@octokit/rest";
import { after, before, describe, it } from "node:test";
import { createClusterGateway, type ClusterGateway } from "../../src/cluster/gateway.ts";
import { createNodeClient, type NodeClient } from "../../src/cluster/node-client.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { readStickyToken, renderApprovalComment, STICKY_MARKER } from "../../src/gate/index.ts";
import { createGitHubPort } from "../../src/github/octokit-port.ts";
import type { GateDeps, PullRequestEvent } from "../../src/usecases/deps.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { startFakeGitHub, type FakeGitHub, type FakeRepo } from "../helpers/fake-github.ts";
import { testKey } from "../helpers/keys.ts";
import { approvals, concatRecords, loginAll, must, passwordOf, setUpQuorumCluster, type QuorumCluster } from "../helpers/quorum-cluster.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3" };

describe("attacks on the gate's flow", () => {
  let cluster: TestCluster;
  let clients: NodeClient[];
  let q: QuorumCluster;
  let gateway: ClusterGateway;
  let gh: FakeGitHub;
  let repo: FakeRepo;
  let deps: GateDeps;

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    q = await setUpQuorumCluster(clients, { signers: Object.values(OFFICERS), members: ["gate"], m: 2 });
    gh = await startFakeGitHub();
    const policy = [`version: 1`, `cluster: ${q.clusterId}`, `officers:`, ...Object.entries(OFFICERS).map(([login, officer]) => `  ${login}: ${officer}`), ""].join("\n");
    repo = gh.createRepo("acme/hsm", { files: { ".github/quorum-gate.yml": policy } });
    gateway = createClusterGateway(cluster.file, { userName: "gate", password: passwordOf("gate") });
    deps = {
      github: createGitHubPort(new Octokit({ baseUrl: gh.url, auth: gh.issueToken(), log: quiet })),
      cluster: gateway,
      now: () => Math.floor(Date.now() / 1000),
      botLogin: gh.app.botLogin,
      appId: gh.app.id,
      log: () => {},
    };
  });
  after(async () => {
    gateway?.close();
    for (const c of clients ?? []) c.close();
    await gh?.close();
    await cluster?.stop();
  });

  const request = (name: string): string =>
    [`version: 1`, `cluster: ${q.clusterId}`, `operation:`, `  kind: createUser`, `  type: CU`, `  name: ${name}`, `  sealed_password: ${q.seal(`${name}-pass-1`)}`, `reason: test`, ""].join("\n");
  const event = (number: number, kind: "pull_request" | "comment" = "comment", action = "created"): PullRequestEvent => ({ repo: { owner: "acme", repo: "hsm" }, number, trigger: { kind, action } });
  async function token(number: number): Promise<Uint8Array> {
    const sticky = await deps.github.findStickyComment({ owner: "acme", repo: "hsm" }, number, STICKY_MARKER, gh.app.botLogin);
    const t = sticky === null ? null : readStickyToken(sticky.body);
    assert.ok(t !== null, "the sticky comment carries a token");
    return t;
  }
  const approve = (number: number, login: string, t: Uint8Array) => repo.addComment(number, login, renderApprovalComment(signMessage(t, testKey(OFFICERS[login] ?? "").privateKey)));

  it("voids approvals when the request file changes after them: new token, nothing counted", async () => {
    const number = repo.openPullRequest({ head: "req-a", author: "carol", files: { "hsm-requests/a.yml": request("appa") } });
    await handlePullRequest(deps, event(number, "pull_request", "opened"));
    const first = await token(number);
    approve(number, "alice", first);
    approve(number, "bob", first);
    const approved = await handlePullRequest(deps, event(number));
    assert.ok(approved.code === "evaluated" && approved.state === "approved");

    repo.commit("req-a", { "hsm-requests/a.yml": request("appa_admin"), "hsm-requests/a.evidence/approval.txt": null, "hsm-requests/a.evidence/evidence.json": null, "hsm-requests/a.evidence/token.bin": null, "hsm-requests/a.evidence/officer1.sig": null, "hsm-requests/a.evidence/officer2.sig": null });
    const after = await handlePullRequest(deps, event(number, "pull_request", "synchronize"));
    assert.ok(after.code === "evaluated" && after.state === "pending" && after.approvals === 0, JSON.stringify(after));
    const second = await token(number);
    assert.notDeepEqual(Buffer.from(second), Buffer.from(first), "the changed request got a token of its own");
  });

  it("does not replay when an approving officer's key was revoked before the merge", async () => {
    const number = repo.openPullRequest({ head: "req-b", author: "carol", files: { "hsm-requests/b.yml": request("appb") } });
    await handlePullRequest(deps, event(number, "pull_request", "opened"));
    const t = await token(number);
    approve(number, "alice", t);
    approve(number, "bob", t);
    const approved = await handlePullRequest(deps, event(number));
    assert.ok(approved.code === "evaluated" && approved.state === "approved");

    // The officers remove officer2 (bob) from the cluster, under their own quorum.
    const s = await loginAll(clients, "CO", "officer1");
    const tokenData = concatRecords(await must(clients, "get-token", () => ({ service: 3, userName: "officer1" }), s));
    await must(clients, "approve-token", () => ({ tokenData: tokenData.toString("base64"), approvals: approvals(tokenData, ["officer1", "officer3"]) }), s);
    await must(clients, "delete-user", () => ({ userType: "CO", userName: "officer2" }), s);

    repo.merge(number);
    const merged = await handlePullRequest(deps, event(number, "pull_request", "closed"));
    assert.equal(merged.code, "not_replayed", JSON.stringify(merged));
    for (const { users } of await must(clients, "list-users", () => ({}))) assert.equal(users.some((u) => u.name === "appb"), false, "nothing was applied");
  });
});
