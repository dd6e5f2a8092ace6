// From a request to what the nodes run: the protocol operation the node's own parser accepts,
// the binding digest the node recomputes, and the approvals required per docs/tokens.md.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  describeOperation,
  requestBindingDigest,
  requiredApprovals,
  sealedPasswordFingerprint,
  serviceOf,
  toBindingContext,
  toOperation,
} from "../../src/gate/operation.ts";
import type { GateRequest, RequestOperation } from "../../src/gate/request.ts";
import { bindingDigest } from "../../src/hsm/binding.ts";
import { parseOperation } from "../../src/hsm/execute.ts";

const SEALED = Buffer.alloc(256, 1).toString("base64");
const DIGEST = `${"0".repeat(63)}1`;

const OPERATIONS: { op: RequestOperation; protocol: unknown; service: number; text: string }[] = [
  {
    op: { kind: "createUser", userType: "CU", userName: "app7", sealedPassword: SEALED },
    protocol: { kind: "createUser", userType: "CU", userName: "app7", sealedPassword: SEALED },
    service: 3,
    text: "createUser CU app7",
  },
  {
    op: { kind: "deleteUser", userType: "CO", userName: "officer3" },
    protocol: { kind: "deleteUser", userType: "CO", userName: "officer3" },
    service: 3,
    text: "deleteUser CO officer3",
  },
  {
    op: { kind: "changePswd", userType: "CU", userName: "app7", sealedPassword: SEALED },
    protocol: { kind: "changePassword", userType: "CU", userName: "app7", sealedPassword: SEALED },
    service: 3,
    text: "changePswd CU app7",
  },
  {
    op: { kind: "setMValue", service: 3, value: 2 },
    protocol: { kind: "setMValue", service: 3, value: 2 },
    service: 4,
    text: "setMValue 3 (USER_MGMT) to 2",
  },
];

describe("operation: request → protocol", () => {
  for (const c of OPERATIONS) {
    it(`${c.op.kind}: maps, and the node's parser accepts it unchanged`, () => {
      const op = toOperation(c.op);
      assert.deepEqual(op, c.protocol);
      assert.deepEqual(parseOperation(JSON.parse(JSON.stringify(op))), op);
      assert.equal(serviceOf(c.op), c.service);
      assert.equal(describeOperation(c.op), c.text);
    });
  }

  it("binds with the node's own digest function, over cluster, operation and context", () => {
    const request: GateRequest = {
      version: 1,
      cluster: "cluster-abc",
      operation: OPERATIONS[0]?.op ?? { kind: "setMValue", service: 3, value: 2 },
      reason: "r",
    };
    const ctx = toBindingContext("acme/hsm-ops", 12, DIGEST);
    assert.deepEqual(ctx, { repository: "acme/hsm-ops", pullRequest: 12, requestDigest: DIGEST });
    const digest = requestBindingDigest(request, ctx);
    assert.equal(digest, bindingDigest("cluster-abc", toOperation(request.operation), ctx));
    assert.match(digest, /^[0-9a-f]{64}$/);
    // Every input changes it.
    assert.notEqual(digest, requestBindingDigest({ ...request, cluster: "cluster-other" }, ctx));
    assert.notEqual(digest, requestBindingDigest(request, { ...ctx, pullRequest: 13 }));
    assert.notEqual(digest, requestBindingDigest(request, { ...ctx, repository: "acme/other" }));
    assert.notEqual(digest, requestBindingDigest(request, { ...ctx, requestDigest: "f".repeat(64) }));
    // The reason is not part of what the nodes check: it is bound through the request digest.
    assert.equal(digest, requestBindingDigest({ ...request, reason: "other" }, ctx));
  });

  it("shows a sealed password only as the SHA-256 of its ciphertext", () => {
    assert.equal(sealedPasswordFingerprint(SEALED), createHash("sha256").update(Buffer.alloc(256, 1)).digest("hex"));
  });
});

describe("operation: approvals required (docs/tokens.md)", () => {
  const userOp: RequestOperation = { kind: "deleteUser", userType: "CU", userName: "a" };
  const setM = (service: 3 | 4): RequestOperation => ({ kind: "setMValue", service, value: 3 });
  const table: { name: string; op: RequestOperation; user: number; quorum: number; expect: number }[] = [
    { name: "user management, M(3) = 2", op: userOp, user: 2, quorum: 1, expect: 2 },
    { name: "user management, quorum off: the gate still wants one", op: userOp, user: 1, quorum: 1, expect: 1 },
    { name: "user management, M(3) = 0", op: userOp, user: 0, quorum: 5, expect: 1 },
    { name: "setMValue 3 while M(3) is off", op: setM(3), user: 1, quorum: 4, expect: 1 },
    { name: "setMValue 3: max(M(3), M(4))", op: setM(3), user: 2, quorum: 3, expect: 3 },
    { name: "setMValue 3: M(3) larger", op: setM(3), user: 5, quorum: 2, expect: 5 },
    { name: "setMValue 4 while M(4) is off", op: setM(4), user: 5, quorum: 1, expect: 1 },
    { name: "setMValue 4", op: setM(4), user: 8, quorum: 2, expect: 2 },
  ];
  for (const c of table) {
    it(c.name, () => assert.equal(requiredApprovals(c.op, { user: c.user, quorum: c.quorum }), c.expect));
  }
});
