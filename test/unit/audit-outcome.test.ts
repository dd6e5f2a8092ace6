// The node's read-only `outcome` command: what `execute` recorded under an idempotency key, for
// the audit's replay column. It must never apply, consume or change anything.
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { sealSecret } from "../../src/crypto/seal.ts";
import { bindingDigest } from "../../src/hsm/binding.ts";
import { executeRequestHash } from "../../src/hsm/execute.ts";
import type { BindingContext, Operation } from "../../src/protocol/messages.ts";
import { loginAs, makeNode, type TestNode } from "../helpers/core.ts";
import { testKey } from "../helpers/keys.ts";

const CONTEXT: BindingContext = { repository: "acme/hsm", pullRequest: 3, requestDigest: "cd".repeat(32) };

function setUp(): {
  node: TestNode;
  gate: string;
  operation: Operation;
  tokenData: Buffer;
  body: () => ReturnType<typeof executeBody>;
} {
  const node = makeNode({ clusterId: "cluster-outcome" });
  const preco = loginAs(node, "PRECO", "admin", "password");
  node.must("change-password", { userType: "PRECO", userName: "admin", password: "admin-pass-1" }, preco);
  for (const name of ["gate", "officer1", "officer2"])
    node.must("create-user", { userType: "CO", userName: name, password: `${name}-pass` }, preco);
  for (const name of ["officer1", "officer2"]) {
    const s = loginAs(node, "CO", name, `${name}-pass`);
    const reg = Buffer.from("registration");
    node.must(
      "register-quorum-key",
      {
        userType: "CO",
        userName: name,
        registrationToken: reg.toString("base64"),
        signature: signMessage(reg, testKey(name).privateKey).toString("base64"),
        publicKeyPem: testKey(name).publicPem,
      },
      s,
    );
    node.must("logout", {}, s);
  }
  node.must("set-m-value", { service: 3, value: 2 }, preco);
  const sealing = createPublicKey(node.must("sealing-key", {}).publicKeyPem);
  const operation: Operation = {
    kind: "createUser",
    userType: "CU",
    userName: "app9",
    sealedPassword: sealSecret(sealing, "app9-secret").toString("base64"),
  };
  const gate = loginAs(node, "CO", "gate", "gate-pass");
  const { record } = node.must(
    "token-generate",
    { service: 3, binding: bindingDigest("cluster-outcome", operation, CONTEXT) },
    gate,
  );
  const tokenData = Buffer.from(record, "base64");
  return { node, gate, operation, tokenData, body: () => executeBody(operation, tokenData) };
}

function executeBody(operation: Operation, tokenData: Buffer) {
  const signatures = ["officer1", "officer2"].map((userName) => ({
    userName,
    signature: signMessage(tokenData, testKey(userName).privateKey).toString("base64"),
  }));
  return {
    idempotencyKey: "qg-outcome-1",
    operation,
    context: CONTEXT,
    approval: { tokenData: tokenData.toString("base64"), signatures },
  };
}

/** Everything a read must leave as it was: users, tokens, M values and the node's audit log. */
function snapshot(node: TestNode): string {
  return JSON.stringify({
    users: node.must("list-users", {}),
    tokens: node.must("list-tokens", {}),
    m: node.must("quorum-values", {}),
    audit: node.repo.listAudit(1000),
  });
}

describe("node op outcome", () => {
  it("an unknown key is not_recorded, needs no session, and asking changes nothing", () => {
    const { node } = setUp();
    const before = snapshot(node);
    assert.deepEqual(node.must("outcome", { idempotencyKey: "qg-never-used" }), { state: "not_recorded" });
    assert.equal(snapshot(node), before);
  });

  it("never applies: asking under the key of a pending operation leaves its token usable and the user uncreated", () => {
    const { node, gate, body } = setUp();
    const before = snapshot(node);
    for (let i = 0; i < 3; i++)
      assert.deepEqual(node.must("outcome", { idempotencyKey: body().idempotencyKey }), { state: "not_recorded" });
    assert.equal(snapshot(node), before, "no user, no consumed token, no audit row");
    const executed = node.must("execute", body(), gate);
    assert.equal(executed.replayed, false, "the token was still there to be used once");
  });

  it("after execute: the recorded approvers, user view and request hash, the same on every read", () => {
    const { node, gate, operation, tokenData, body } = setUp();
    const executed = node.must("execute", body(), gate);
    const before = snapshot(node);
    const first = node.must("outcome", { idempotencyKey: body().idempotencyKey });
    assert.ok(first.state === "recorded");
    assert.deepEqual(first.approvers, executed.approvers);
    assert.deepEqual(first.user, executed.user);
    assert.equal(
      first.requestHash,
      executeRequestHash(operation, CONTEXT, tokenData),
      "anyone holding the request and the token can recompute it",
    );
    assert.deepEqual(node.must("outcome", { idempotencyKey: body().idempotencyKey }), first);
    assert.equal(snapshot(node), before);
  });

  it("refuses a malformed key or an unknown field like every command", () => {
    const { node } = setUp();
    for (const body of [
      { idempotencyKey: "" },
      { idempotencyKey: "has space" },
      { idempotencyKey: "x".repeat(129) },
      {},
      { idempotencyKey: "ok", extra: 1 },
    ]) {
      const r = node.raw("outcome", body);
      assert.equal(r.ok ? "ok" : r.code, "RET_BAD_REQUEST", JSON.stringify(body));
    }
  });
});
