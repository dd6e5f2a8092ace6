import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { sealSecret } from "../../src/crypto/seal.ts";
import { bindingDigest } from "../../src/hsm/binding.ts";
import type { BindingContext, Operation } from "../../src/protocol/messages.ts";
import { loginAs, makeNode, type TestNode } from "../helpers/core.ts";
import { testKey } from "../helpers/keys.ts";

const CONTEXT: BindingContext = { repository: "acme/hsm-requests", pullRequest: 7, requestDigest: "ab".repeat(32) };

function gateNode(): { node: TestNode; gate: string; seal: (pw: string) => string } {
  const node = makeNode({ clusterId: "cluster-exec" });
  const preco = loginAs(node, "PRECO", "admin", "password");
  node.must("change-password", { userType: "PRECO", userName: "admin", password: "admin-pass-1" }, preco);
  for (const name of ["gate", "officer1", "officer2", "officer3"])
    node.must("create-user", { userType: "CO", userName: name, password: `${name}-pass` }, preco);
  for (const name of ["officer1", "officer2", "officer3"]) {
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
  const sealingPem = node.must("sealing-key", {}).publicKeyPem;
  return {
    node,
    gate: loginAs(node, "CO", "gate", "gate-pass"),
    seal: (pw) => sealSecret(createPublicKey(sealingPem), pw).toString("base64"),
  };
}

function boundToken(node: TestNode, gate: string, operation: Operation, context = CONTEXT): Buffer {
  const binding = bindingDigest("cluster-exec", operation, context);
  const { record } = node.must("token-generate", { service: operation.kind === "setMValue" ? 4 : 3, binding }, gate);
  return Buffer.from(record, "base64");
}

function signatures(tokenData: Buffer, signers: readonly string[]) {
  return signers.map((userName) => ({
    userName,
    signature: signMessage(tokenData, testKey(userName).privateKey).toString("base64"),
  }));
}

describe("execute", () => {
  it("applies an approved, bound operation once and answers a retry with the recorded outcome", () => {
    const { node, gate, seal } = gateNode();
    const operation: Operation = {
      kind: "createUser",
      userType: "CU",
      userName: "app7",
      sealedPassword: seal("app7-secret"),
    };
    const tokenData = boundToken(node, gate, operation);
    const body = {
      idempotencyKey: "tok-1",
      operation,
      context: CONTEXT,
      approval: {
        tokenData: tokenData.toString("base64"),
        signatures: signatures(tokenData, ["officer1", "officer2"]),
      },
    };
    const first = node.must("execute", body, gate);
    assert.equal(first.replayed, false);
    assert.deepEqual(first.approvers, ["officer1", "officer2"]);
    assert.equal(first.user?.name, "app7");
    const again = node.must("execute", body, gate);
    assert.equal(again.replayed, true);
    assert.equal(node.must("list-users", {}).users.filter((u) => u.name === "app7").length, 1);
    assert.ok(
      node.call("login", { userType: "CU", userName: "app7", password: "app7-secret" }).ok,
      "the sealed password was opened and set",
    );
    const reusedKey = node.call("execute", { ...body, operation: { ...operation, userName: "app8" } }, gate);
    assert.equal(reusedKey.ok ? "ok" : reusedKey.code, "RET_INVALID_INPUT");
    const newKey = node.call("execute", { ...body, idempotencyKey: "tok-2" }, gate);
    assert.equal(newKey.ok ? "ok" : newKey.code, "RET_TOKEN_NOT_FOUND", "the token was consumed");
  });

  it("refuses a bound token for any other operation or context", () => {
    const { node, gate, seal } = gateNode();
    const operation: Operation = { kind: "deleteUser", userType: "CO", userName: "officer3" };
    const tokenData = boundToken(node, gate, operation);
    const approval = {
      tokenData: tokenData.toString("base64"),
      signatures: signatures(tokenData, ["officer1", "officer2"]),
    };
    const attempts: unknown[] = [
      { idempotencyKey: "a", operation: { ...operation, userName: "officer2" }, context: CONTEXT, approval },
      { idempotencyKey: "b", operation, context: { ...CONTEXT, pullRequest: 8 }, approval },
      { idempotencyKey: "c", operation, approval },
      {
        idempotencyKey: "d",
        operation: { kind: "createUser", userType: "CO", userName: "officer9", sealedPassword: seal("officer9-pw") },
        context: CONTEXT,
        approval,
      },
    ];
    for (const attempt of attempts) {
      const r = node.raw("execute", attempt, gate);
      assert.equal(r.ok ? "ok" : r.code, "RET_TOKEN_BINDING_MISMATCH");
    }
    assert.ok(
      node.must("list-users", {}).users.some((u) => u.name === "officer3"),
      "nothing was deleted",
    );
    assert.equal(node.must("list-tokens", {}).tokens.length, 1, "the token is still there");
  });

  it("needs M distinct valid signatures, checked by the node itself", () => {
    const { node, gate, seal } = gateNode();
    const operation: Operation = {
      kind: "changePassword",
      userType: "CO",
      userName: "officer3",
      sealedPassword: seal("officer3-new"),
    };
    const tokenData = boundToken(node, gate, operation);
    const data = tokenData.toString("base64");
    const one = node.call(
      "execute",
      {
        idempotencyKey: "k1",
        operation,
        context: CONTEXT,
        approval: { tokenData: data, signatures: signatures(tokenData, ["officer1", "officer1"]) },
      },
      gate,
    );
    assert.equal(one.ok ? "ok" : one.code, "RET_MXN_AUTH_FAILED", "one officer twice is one approval");
    const forged = node.call(
      "execute",
      {
        idempotencyKey: "k2",
        operation,
        context: CONTEXT,
        approval: {
          tokenData: data,
          signatures: [
            ...signatures(tokenData, ["officer1"]),
            { userName: "officer2", signature: signatures(tokenData, ["officer3"])[0]?.signature ?? "" },
          ],
        },
      },
      gate,
    );
    assert.equal(forged.ok ? "ok" : forged.code, "RET_INVALID_SIGNATURE");
    node.must(
      "execute",
      {
        idempotencyKey: "k3",
        operation,
        context: CONTEXT,
        approval: { tokenData: data, signatures: signatures(tokenData, ["officer2", "officer3"]) },
      },
      gate,
    );
    assert.ok(node.call("login", { userType: "CO", userName: "officer3", password: "officer3-new" }).ok);
  });

  it("refuses expired persisted tokens, other users' tokens, and passwords not sealed to this cluster", () => {
    const { node, gate, seal } = gateNode();
    const operation: Operation = {
      kind: "createUser",
      userType: "CU",
      userName: "late",
      sealedPassword: seal("late-pass1"),
    };
    const tokenData = boundToken(node, gate, operation);
    const approval = {
      tokenData: tokenData.toString("base64"),
      signatures: signatures(tokenData, ["officer1", "officer2"]),
    };
    const other = loginAs(node, "CO", "officer1", "officer1-pass");
    const notOwner = node.call("execute", { idempotencyKey: "x1", operation, context: CONTEXT, approval }, other);
    assert.equal(notOwner.ok ? "ok" : notOwner.code, "RET_PERMISSION_DENIED");
    node.advance(601);
    const expired = node.call("execute", { idempotencyKey: "x2", operation, context: CONTEXT, approval }, gate);
    assert.equal(expired.ok ? "ok" : expired.code, "RET_TOKEN_EXPIRED");

    const foreign = {
      ...operation,
      userName: "foreign",
      sealedPassword: sealSecret(testKey("not-the-cluster").publicKey, "foreign-pw").toString("base64"),
    };
    const t2 = boundToken(node, gate, foreign);
    const r = node.call(
      "execute",
      {
        idempotencyKey: "x3",
        operation: foreign,
        context: CONTEXT,
        approval: { tokenData: t2.toString("base64"), signatures: signatures(t2, ["officer1", "officer2"]) },
      },
      gate,
    );
    assert.equal(r.ok ? "ok" : r.code, "RET_SEALED_SECRET_INVALID");
  });

  it("allows one unbound token per user and service but any number of bound ones", () => {
    const { node, gate } = gateNode();
    node.must("token-generate", { service: 3 }, gate);
    const second = node.call("token-generate", { service: 3 }, gate);
    assert.equal(second.ok ? "ok" : second.code, "RET_TOKEN_EXISTS");
    node.must("token-generate", { service: 3, binding: "11".repeat(32) }, gate);
    node.must("token-generate", { service: 3, binding: "22".repeat(32) }, gate);
    assert.equal(node.must("list-tokens", {}).tokens.length, 3);
    assert.equal(node.must("token-delete", { scope: "user" }, gate).deleted, 3);
  });

  it("purges the oldest expired token when the table of 1024 is full, and refuses when none has expired", () => {
    const { node, gate } = gateNode();
    for (let i = 0; i < 1024; i += 1)
      node.must(
        "token-generate",
        { service: 3, binding: i.toString(16).padStart(64, "0"), timeoutSeconds: i < 10 ? 5 : 3600 },
        gate,
      );
    const full = node.call("token-generate", { service: 3, binding: "ff".repeat(32) }, gate);
    assert.equal(full.ok ? "ok" : full.code, "RET_TOKEN_TABLE_FULL");
    node.advance(6);
    node.must("token-generate", { service: 3, binding: "ff".repeat(32) }, gate);
    assert.equal(node.must("list-tokens", {}).tokens.length, 1024);
    assert.equal(
      node.must("list-tokens", {}).tokens.some((t) => t.id === 1),
      false,
      "token 1 (expired first) went",
    );
  });
});
