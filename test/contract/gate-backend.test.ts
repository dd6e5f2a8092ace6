// The policy's `backend` against the way the gate reaches the cluster (docs/real-cluster.md): a
// policy for the cloudhsm-cli ceremony served by the emulator's gateway is refused with
// `backend_mismatch`, open or merged, and nothing reaches the HSMs; the emulator policy still runs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { POLICY_FILE, startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { pinnedOfficerLines } from "../helpers/real-cluster.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";

const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2" };

describe("gate: the policy's backend and the cluster's", () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({ nodes: 2, officers: OFFICERS });
  });
  after(() => h?.stop());

  function realPolicy(): string {
    const officers = pinnedOfficerLines(OFFICERS);
    return [`version: 1`, `cluster: ${h.q.clusterId}`, `backend: cloudhsm-cli`, `officers:`, ...officers, ""].join(
      "\n",
    );
  }

  it("refuses a cloudhsm-cli policy on a gate that reaches the cluster through the emulator, and asks the HSMs for nothing", async () => {
    const repo = h.gh.createRepo("acme/real", {
      files: { [POLICY_FILE]: realPolicy(), "README.md": "real cluster\n" },
    });
    const number = repo.openPullRequest({
      head: "req-app1",
      author: "carol",
      files: { "hsm-requests/app1.yml": h.requestYaml("app1") },
    });
    const event = {
      repo: { owner: "acme", repo: "real" },
      number,
      trigger: { kind: "pull_request" as const, action: "opened" },
    };
    const tokensBefore = await h.all("list-tokens", {});
    const outcome = await handlePullRequest(h.deps, event);
    assert.equal(outcome.code, "invalid");
    assert.match(
      outcome.code === "invalid" ? outcome.message : "",
      /^backend_mismatch: the policy says cloudhsm-cli, the cluster is reached through emulator$/,
    );
    const head = repo.branchSha("req-app1") ?? "";
    const checks = repo.checkRuns(head).filter((c) => c["name"] === "quorum");
    assert.equal(checks.length, 1);
    assert.equal(checks[0]?.["conclusion"], "failure");
    assert.match(JSON.stringify(checks[0]?.["output"]), /backend_mismatch/);
    assert.deepEqual(await h.all("list-tokens", {}), tokensBefore, "no token was issued");

    repo.merge(number);
    const merged = await handlePullRequest(h.deps, { ...event, trigger: { kind: "pull_request", action: "closed" } });
    assert.match(
      merged.code === "invalid" ? merged.message : JSON.stringify(merged),
      /^backend_mismatch/,
      "a merge under the mismatch applies nothing",
    );
  });

  it("still evaluates an emulator policy as before", async () => {
    const number = h.repo.openPullRequest({
      head: "req-app2",
      author: "carol",
      files: { "hsm-requests/app2.yml": h.requestYaml("app2") },
    });
    const outcome = await handlePullRequest(h.deps, h.event(number, "pull_request", "opened"));
    assert.ok(outcome.code === "evaluated" && outcome.state === "pending", JSON.stringify(outcome));
  });
});
