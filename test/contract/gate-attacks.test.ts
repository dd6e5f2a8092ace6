// Attacks on the gate that need the whole use case (fake GitHub + a real cluster): approvals that
// outlive the request they were given for, and a key revoked between approval and merge.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NodeClient } from "../../src/protocol/node-client.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { readStickyToken, renderApprovalComment, STICKY_MARKER } from "../../src/gate/index.ts";
import type { GateDeps } from "../../src/usecases/deps.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";
import type { FakeGitHub, FakeRepo } from "../helpers/fake-github.ts";
import { startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { testKey } from "../helpers/keys.ts";
import { approvals, concatRecords, loginAll, must } from "../helpers/quorum-cluster.ts";

const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3" };

describe("attacks on the gate's flow", () => {
  let h: GateHarness;
  let clients: readonly NodeClient[];
  let gh: FakeGitHub;
  let repo: FakeRepo;
  let deps: GateDeps;
  let request: (name: string) => string;
  let event: GateHarness["event"];

  before(async () => {
    h = await startGateHarness({ nodes: 2, officers: OFFICERS });
    ({ clients, gh, repo, deps, event } = h);
    request = (name) => h.requestYaml(name);
  });
  after(async () => {
    await h?.stop();
  });

  async function token(number: number): Promise<Uint8Array> {
    const sticky = await deps.github.findStickyComment(
      { owner: "acme", repo: "hsm" },
      number,
      STICKY_MARKER,
      gh.app.botLogin,
    );
    const t = sticky === null ? null : readStickyToken(sticky.body);
    assert.ok(t !== null, "the sticky comment carries a token");
    return t;
  }
  const approve = (number: number, login: string, t: Uint8Array) =>
    repo.addComment(number, login, renderApprovalComment(signMessage(t, testKey(OFFICERS[login] ?? "").privateKey)));

  it("voids approvals when the request file changes after them: new token, nothing counted", async () => {
    const number = repo.openPullRequest({
      head: "req-a",
      author: "carol",
      files: { "hsm-requests/a.yml": request("appa") },
    });
    await handlePullRequest(deps, event(number, "pull_request", "opened"));
    const first = await token(number);
    approve(number, "alice", first);
    approve(number, "bob", first);
    const approved = await handlePullRequest(deps, event(number));
    assert.ok(approved.code === "evaluated" && approved.state === "approved");

    repo.commit("req-a", {
      "hsm-requests/a.yml": request("appa_admin"),
      "hsm-requests/a.evidence/approval.txt": null,
      "hsm-requests/a.evidence/evidence.json": null,
      "hsm-requests/a.evidence/token.bin": null,
      "hsm-requests/a.evidence/officer1.sig": null,
      "hsm-requests/a.evidence/officer2.sig": null,
    });
    const after = await handlePullRequest(deps, event(number, "pull_request", "synchronize"));
    assert.ok(after.code === "evaluated" && after.state === "pending" && after.approvals === 0, JSON.stringify(after));
    const second = await token(number);
    assert.notDeepEqual(Buffer.from(second), Buffer.from(first), "the changed request got a token of its own");
  });

  it("does not replay when an approving officer's key was revoked before the merge", async () => {
    const number = repo.openPullRequest({
      head: "req-b",
      author: "carol",
      files: { "hsm-requests/b.yml": request("appb") },
    });
    await handlePullRequest(deps, event(number, "pull_request", "opened"));
    const t = await token(number);
    approve(number, "alice", t);
    approve(number, "bob", t);
    const approved = await handlePullRequest(deps, event(number));
    assert.ok(approved.code === "evaluated" && approved.state === "approved");

    // The officers remove officer2 (bob) from the cluster, under their own quorum.
    const s = await loginAll(clients, "CO", "officer1");
    const tokenData = concatRecords(await must(clients, "get-token", () => ({ service: 3, userName: "officer1" }), s));
    await must(
      clients,
      "approve-token",
      () => ({ tokenData: tokenData.toString("base64"), approvals: approvals(tokenData, ["officer1", "officer3"]) }),
      s,
    );
    await must(clients, "delete-user", () => ({ userType: "CO", userName: "officer2" }), s);

    repo.merge(number);
    const merged = await handlePullRequest(deps, event(number, "pull_request", "closed"));
    assert.equal(merged.code, "not_replayed", JSON.stringify(merged));
    for (const { users } of await must(clients, "list-users", () => ({})))
      assert.equal(
        users.some((u) => u.name === "appb"),
        false,
        "nothing was applied",
      );
  });
});
