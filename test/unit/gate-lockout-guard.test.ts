// The lock-out guard on plain data: each refusal with its numbers and reason, and the operations
// it must let through (ones that do not lower the signers or raise M, and repairs).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkLockout, type GuardUser } from "../../src/gate/lockout-guard.ts";

const co = (name: string, hasQuorumKey = true, twoFactor?: boolean): GuardUser => ({
  name,
  type: "CO",
  hasQuorumKey,
  ...(twoFactor === undefined ? {} : { twoFactor }),
});
const THREE = [
  co("officer1"),
  co("officer2"),
  co("officer3"),
  co("admin", false),
  { name: "app", type: "CU", hasQuorumKey: false },
];

describe("lock-out guard", () => {
  it("refuses deleting a signer when M + 1 would not remain, with the numbers", () => {
    const r = checkLockout({
      users: THREE,
      mValues: { 3: 2, 4: 2 },
      operation: { kind: "deleteUser", userType: "CO", userName: "Officer2" },
    });
    assert.ok(!r.ok);
    assert.equal(r.reason, "lockout_delete_officer");
    assert.deepEqual([r.service, r.m, r.needed, r.signersBefore, r.signersAfter], [3, 2, 3, 3, 2]);
    assert.match(r.message, /leave 2 officers able to sign for service 3 \(now 3\), but M is 2 .* at least 3/);
  });

  it("lets a margin of 0 go down to exactly M, and no further", () => {
    assert.ok(
      checkLockout({
        users: THREE,
        mValues: { 3: 2, 4: 2 },
        margin: 0,
        operation: { kind: "deleteUser", userType: "CO", userName: "officer2" },
      }).ok,
    );
    const two = THREE.filter((u) => u.name !== "officer3");
    const r = checkLockout({
      users: two,
      mValues: { 3: 2, 4: 2 },
      margin: 0,
      operation: { kind: "deleteUser", userType: "CO", userName: "officer2" },
    });
    assert.ok(!r.ok && r.needed === 2 && r.signersAfter === 1);
  });

  it("lets through what does not lower the signers: a CU, a CO without a key, a create", () => {
    for (const operation of [
      { kind: "deleteUser", userType: "CU", userName: "app" },
      { kind: "deleteUser", userType: "CO", userName: "admin" },
      { kind: "deleteUser", userType: "CU", userName: "officer1" },
      { kind: "other" },
    ] as const) {
      assert.ok(checkLockout({ users: THREE, mValues: { 3: 2, 4: 2 }, operation }).ok, JSON.stringify(operation));
    }
  });

  it("does not guard services whose M is 1 (no quorum to lose)", () => {
    assert.ok(
      checkLockout({
        users: THREE,
        mValues: { 3: 1, 4: 1 },
        operation: { kind: "deleteUser", userType: "CO", userName: "officer1" },
      }).ok,
    );
  });

  it("a password change drops a 2FA officer's key (and an unknown one's), not a 1FA officer's or a re-enrolment", () => {
    const users = [co("officer1", true, true), co("officer2", true, false), co("officer3")];
    const m = { 3: 2, 4: 2 };
    const refused = checkLockout({
      users,
      mValues: m,
      operation: { kind: "changePswd", userType: "CO", userName: "officer1" },
    });
    assert.ok(!refused.ok && refused.reason === "lockout_drop_quorum_key" && refused.signersAfter === 2);
    assert.ok(
      !checkLockout({ users, mValues: m, operation: { kind: "changePswd", userType: "CO", userName: "officer3" } }).ok,
      "unknown 2FA errs towards refusing",
    );
    assert.ok(
      checkLockout({ users, mValues: m, operation: { kind: "changePswd", userType: "CO", userName: "officer2" } }).ok,
    );
    assert.ok(
      checkLockout({
        users,
        mValues: m,
        operation: { kind: "changePswd", userType: "CO", userName: "officer1", keepsQuorumKey: true },
      }).ok,
    );
  });

  it("refuses raising M above the signers minus the margin, on that service only", () => {
    const r = checkLockout({
      users: THREE,
      mValues: { 3: 2, 4: 2 },
      operation: { kind: "setMValue", service: 4, value: 3 },
    });
    assert.ok(
      !r.ok && r.reason === "lockout_raise_m" && r.service === 4 && r.m === 3 && r.needed === 4 && r.signersAfter === 3,
    );
    assert.ok(
      checkLockout({ users: THREE, mValues: { 3: 2, 4: 2 }, operation: { kind: "setMValue", service: 3, value: 2 } })
        .ok,
    );
    assert.ok(
      checkLockout({ users: THREE, mValues: { 3: 5, 4: 2 }, operation: { kind: "setMValue", service: 4, value: 2 } })
        .ok,
      "service 3 short already: not this operation's doing",
    );
  });

  it("never blocks a repair on a cluster already short of signers", () => {
    const one = [co("officer1")];
    assert.ok(
      checkLockout({ users: one, mValues: { 3: 2, 4: 2 }, operation: { kind: "setMValue", service: 3, value: 1 } }).ok,
    );
    assert.ok(checkLockout({ users: one, mValues: { 3: 2, 4: 2 }, operation: { kind: "other" } }).ok);
  });
});
