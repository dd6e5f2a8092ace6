// Property test: any body, for any command, gets a result (never an exception), and a failed
// command leaves users, tokens and M values exactly as they were.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { OP_NAMES, type OpName } from "../../src/protocol/messages.ts";
import { loginAs, makeNode, type TestNode } from "../helpers/core.ts";
import { testKey } from "../helpers/keys.ts";
import { prng } from "../helpers/prng.ts";

const FIELDS = [
  "userType",
  "userName",
  "password",
  "sealedPassword",
  "service",
  "value",
  "tokenData",
  "approvals",
  "signature",
  "challengeId",
  "registrationToken",
  "publicKeyPem",
  "binding",
  "timeoutSeconds",
  "scope",
  "generated",
  "idempotencyKey",
  "operation",
  "context",
  "approval",
  "twoFactor",
  "kind",
];

function randomValue(rnd: () => number, depth = 0): unknown {
  const pick = Math.floor(rnd() * 14);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return Math.floor(rnd() * 20) - 5;
    case 3:
      return rnd() * 1e12;
    case 4:
      return ["CO", "CU", "PCO", "PRECO", "AU", "co", ""][Math.floor(rnd() * 7)];
    case 5:
      return ["officer1", "admin", "app_user", "OFFICER1", "x".repeat(40), "bad name", "../etc"][Math.floor(rnd() * 7)];
    case 6:
      return Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256))).toString(
        "base64",
      );
    case 7:
      return "%%%not base64%%%";
    case 8:
      return "a".repeat(Math.floor(rnd() * 5000));
    case 9:
      return depth > 2 ? [] : Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
    case 10:
      return depth > 2 ? {} : randomBody(rnd, depth + 1);
    case 11:
      return "ab".repeat(32);
    case 12:
      return ["createUser", "deleteUser", "changePassword", "setMValue", "nope"][Math.floor(rnd() * 5)];
    default:
      return "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
  }
}

function randomBody(rnd: () => number, depth = 0): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const n = Math.floor(rnd() * 5);
  for (let i = 0; i < n; i += 1) body[FIELDS[Math.floor(rnd() * FIELDS.length)] ?? "x"] = randomValue(rnd, depth);
  return body;
}

function snapshot(node: TestNode): string {
  const users = node.must("list-users", {}).users.map(({ loginFailureCnt: _ignored, ...rest }) => rest);
  return JSON.stringify({ users, tokens: node.must("list-tokens", {}).tokens, m: node.must("quorum-values", {}) });
}

describe("the core under random input", () => {
  it("answers 4,000 random commands without throwing and changes nothing when it refuses", () => {
    const node = makeNode();
    const preco = loginAs(node, "PRECO", "admin", "password");
    node.must("change-password", { userType: "PRECO", userName: "admin", password: "admin-pass-1" }, preco);
    for (const name of ["officer1", "officer2"])
      node.must("create-user", { userType: "CO", userName: name, password: `${name}-pass` }, preco);
    const s = loginAs(node, "CO", "officer1", "officer1-pass");
    const reg = Buffer.from("reg");
    node.must(
      "register-quorum-key",
      {
        userType: "CO",
        userName: "officer1",
        registrationToken: reg.toString("base64"),
        signature: signMessage(reg, testKey("officer1").privateKey).toString("base64"),
        publicKeyPem: testKey("officer1").publicPem,
      },
      s,
    );
    node.must("get-token", { service: 3, userName: "officer1" }, s);

    const seed = 20261122;
    const rnd = prng(seed);
    let refused = 0;
    for (let i = 0; i < 4000; i += 1) {
      const op = OP_NAMES[Math.floor(rnd() * OP_NAMES.length)] as OpName;
      const body = rnd() < 0.05 ? randomValue(rnd) : randomBody(rnd);
      const before = snapshot(node);
      let result;
      try {
        result = node.raw(op, body, rnd() < 0.8 ? s : null);
      } catch (err) {
        assert.fail(`seed ${seed} step ${i}: ${op} threw ${String(err)} for ${JSON.stringify(body).slice(0, 200)}`);
      }
      if (!result.ok) {
        refused += 1;
        assert.match(result.code, /^RET_[A-Z0-9_]+$/);
        assert.equal(snapshot(node), before, `seed ${seed} step ${i}: refused ${op} changed state`);
      }
    }
    assert.ok(refused > 3000, `most random commands are refused (${refused})`);
  });
});
