// The token file as the gate judges it: this request's token (bound, right service), alive or
// expired, or a file that no approval can be checked against.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { inspectToken, type TokenExpectation } from "../../src/gate/token.ts";
import { encodeRecord, type TokenRecord } from "../../src/hsm/token-record.ts";

const BINDING = "ab".repeat(32);
const T0 = 1_800_000_000;

function record(nodeId: number, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    service: 3,
    tokenId: nodeId + 4,
    keyHandle: 0n,
    nonce: "0f".repeat(16),
    userName: "gate",
    nodeId,
    createdAt: T0 + nodeId,
    binding: BINDING,
    ...overrides,
  };
}
const file = (...records: TokenRecord[]): Buffer => Buffer.concat(records.map(encodeRecord));
const expect = (now = T0 + 10): TokenExpectation => ({ binding: BINDING, service: 3, lifetimeSeconds: 600, now });

describe("token inspection", () => {
  it("summarises a good token: hash, records, expiry from the oldest record", () => {
    const bytes = file(record(1), record(2), record(3));
    const r = inspectToken(bytes, expect());
    assert.ok(r.ok);
    assert.equal(r.token.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.equal(r.token.base64, bytes.toString("base64"));
    assert.equal(r.token.bytes, 3 * 112);
    assert.deepEqual(
      r.token.records.map((x) => [x.nodeId, x.tokenId, x.service, x.userName, x.createdAt]),
      [
        [1, 5, 3, "gate", T0 + 1],
        [2, 6, 3, "gate", T0 + 2],
        [3, 7, 3, "gate", T0 + 3],
      ],
    );
    assert.equal(r.token.expiresAt, T0 + 1 + 600);
    assert.equal(r.token.expired, false);
  });

  it("is expired at the expiry second", () => {
    const r = inspectToken(file(record(1)), expect(T0 + 1 + 600));
    assert.ok(r.ok && r.token.expired);
  });

  const problems: { name: string; bytes: Uint8Array | null; problem: string }[] = [
    { name: "no token", bytes: null, problem: "no_token" },
    { name: "empty token", bytes: new Uint8Array(0), problem: "no_token" },
    { name: "trailing byte", bytes: Buffer.concat([file(record(1)), Buffer.from([0])]), problem: "bad_token_file" },
    { name: "garbage", bytes: Buffer.from("not a token file at all"), problem: "bad_token_file" },
    { name: "an unbound token", bytes: file(record(1, { binding: null })), problem: "token_binding_mismatch" },
    {
      name: "bound to another request",
      bytes: file(record(1), record(2, { binding: "cd".repeat(32) })),
      problem: "token_binding_mismatch",
    },
    { name: "another service", bytes: file(record(1, { service: 4 })), problem: "token_service_mismatch" },
  ];
  for (const c of problems) {
    it(`refuses: ${c.name}`, () => {
      const r = inspectToken(c.bytes, expect());
      assert.ok(!r.ok);
      assert.equal(r.problem, c.problem);
      assert.ok(r.message.length > 0);
    });
  }
});
