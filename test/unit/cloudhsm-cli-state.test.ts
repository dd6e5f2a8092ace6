// readOperationState (src/cluster/cloudhsm-cli-state.ts) on answers the CloudHSM CLI shell of the
// emulator does not give: a user on some HSMs only, a shape the gate does not know, a failed
// command. The ordinary cases run against the shell in test/e2e/execution-window.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CliOutcome, CloudhsmCliSession } from "../../src/cluster/cloudhsm-cli-driver.ts";
import { readOperationState } from "../../src/cluster/cloudhsm-cli-state.ts";

function answering(outcome: CliOutcome): CloudhsmCliSession {
  return { run: async () => outcome, alive: () => true, close: async () => {} };
}
const drop = { kind: "deleteUser", userType: "CU", userName: "App1" } as const;

describe("readOperationState", () => {
  it("says partial for a user some HSMs hold, and unknown for what it cannot read", async () => {
    const partial = answering({
      ok: true,
      data: { users: [{ username: "app1", role: "crypto-user", "cluster-coverage": "partial" }] },
    });
    assert.equal((await readOperationState(partial, drop)).state, "partial");
    for (const data of [null, { users: "x" }, { users: [{ username: "app1" }] }, { users: [null] }])
      assert.equal(
        (await readOperationState(answering({ ok: true, data }), drop)).state,
        "unknown",
        JSON.stringify(data),
      );
    const failed = await readOperationState(answering({ ok: false, reason: "session_closed", message: "gone" }), drop);
    assert.deepEqual(failed, { state: "unknown", message: "user list: session_closed: gone" });
    const values = await readOperationState(answering({ ok: true, data: { user: "2" } }), {
      kind: "setMValue",
      service: 3,
      value: 2,
    });
    assert.equal(values.state, "unknown");
  });
});
