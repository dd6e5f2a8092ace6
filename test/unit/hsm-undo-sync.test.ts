import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { createNodeDatabase, openNodeDatabase } from "../../src/node/sqlite-repository.ts";
import { SCHEMA_VERSION } from "../../src/node/sqlite-schema.ts";
import { loginAs, makeNode, sealingKeys, type TestNode } from "../helpers/core.ts";
import { testKey } from "../helpers/keys.ts";

function activated(options: { nodeId?: number; clusterId?: string } = {}): { node: TestNode; admin: string } {
  const node = makeNode(options);
  const admin = loginAs(node, "PRECO", "admin", "password");
  node.must("change-password", { userType: "PRECO", userName: "admin", password: "admin-pass-1" }, admin);
  return { node, admin };
}

function code(r: { ok: boolean; code?: string }): string {
  return r.ok ? "ok" : (r.code ?? "?");
}

describe("rollback", () => {
  it("puts a deleted user back with the same id, password, key and 2FA state", () => {
    const { node, admin } = activated();
    node.must("create-user", { userType: "CO", userName: "officer1", password: "officer1-pw" }, admin);
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
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
    node.must("logout", {}, s);
    const before = node.must("list-users", {}).users;
    const { undoId } = node.must("delete-user", { userType: "CO", userName: "officer1" }, admin);
    assert.equal(node.must("list-users", {}).users.length, before.length - 1);
    node.must("rollback", { undoId }, admin);
    assert.deepEqual(node.must("list-users", {}).users, before);
    assert.ok(node.call("login", { userType: "CO", userName: "officer1", password: "officer1-pw" }).ok);
    assert.equal(code(node.call("rollback", { undoId }, admin)), "RET_UNDO_UNAVAILABLE", "an undo runs once");
  });

  it("undoes a creation, a password change and an M value, but only for the session that made them", () => {
    const { node, admin } = activated();
    const created = node.must("create-user", { userType: "CU", userName: "app1", password: "app1-pass" }, admin);
    const changed = node.must("change-password", { userType: "CU", userName: "app1", password: "app1-newpass" }, admin);
    node.must("create-user", { userType: "CO", userName: "officer1", password: "officer1-pw" }, admin);
    node.must("create-user", { userType: "CO", userName: "officer2", password: "officer2-pw" }, admin);
    const m = node.must("set-m-value", { service: 3, value: 2 }, admin);

    const other = loginAs(node, "CO", "officer1", "officer1-pw");
    assert.equal(code(node.call("rollback", { undoId: m.undoId }, other)), "RET_UNDO_UNAVAILABLE");
    node.must("rollback", { undoId: m.undoId }, admin);
    assert.equal(node.must("get-m-value", { service: 3 }).value, 1);
    assert.equal(
      code(node.call("rollback", { undoId: created.undoId }, admin)),
      "RET_UNDO_UNAVAILABLE",
      "the user changed since it was created",
    );
    node.must("rollback", { undoId: changed.undoId }, admin);
    assert.ok(
      node.call("login", { userType: "CU", userName: "app1", password: "app1-pass" }).ok,
      "the old password is back",
    );
  });

  it("expires with the undo window and dies with the session", () => {
    const { node, admin } = activated();
    const { undoId } = node.must("create-user", { userType: "CU", userName: "app1", password: "app1-pass" }, admin);
    node.advance(601);
    const fresh = loginAs(node, "CO", "admin", "admin-pass-1");
    assert.equal(code(node.call("rollback", { undoId }, fresh)), "RET_UNDO_UNAVAILABLE");
  });
});

describe("syncUser (export-user / import-user)", () => {
  it("copies a user between nodes of one cluster, keeping its password and key, under USER_MGMT quorum", () => {
    const a = activated({ nodeId: 1, clusterId: "cluster-sync" });
    const b = activated({ nodeId: 0, clusterId: "cluster-sync" });
    a.node.must("create-user", { userType: "CU", userName: "app7", password: "app7-pass" }, a.admin);
    const { masked } = a.node.must("export-user", { userName: "app7" }, a.admin);
    assert.doesNotMatch(Buffer.from(masked, "base64").toString("latin1"), /app7/, "the record travels encrypted");
    const { user } = b.node.must("import-user", { masked }, b.admin);
    assert.deepEqual(
      user,
      a.node.must("list-users", {}).users.find((u) => u.name === "app7"),
    );
    b.node.must("logout", {}, loginAs(b.node, "CU", "app7", "app7-pass"));

    for (const name of ["officer1", "officer2"])
      b.node.must("create-user", { userType: "CO", userName: name, password: `${name}-pw` }, b.admin);
    b.node.must("set-m-value", { service: 3, value: 2 }, b.admin);
    assert.equal(
      code(b.node.call("import-user", { masked }, b.admin)),
      "RET_MXN_AUTH_FAILED",
      "importing is gated like createUser",
    );
  });

  it("refuses masked objects of another cluster and tampered ones", () => {
    const a = activated({ clusterId: "cluster-one" });
    const b = activated({ clusterId: "cluster-two" });
    a.node.must("create-user", { userType: "CU", userName: "app7", password: "app7-pass" }, a.admin);
    const { masked } = a.node.must("export-user", { userName: "app7" }, a.admin);
    assert.equal(code(b.node.call("import-user", { masked }, b.admin)), "RET_INVALID_INPUT");
    const bytes = Buffer.from(masked, "base64");
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    assert.equal(code(a.node.call("import-user", { masked: bytes.toString("base64") }, a.admin)), "RET_INVALID_INPUT");
    assert.equal(code(a.node.call("export-user", { userName: "app_user" }, a.admin)), "RET_PERMISSION_DENIED");
  });
});

describe("node database schema", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-schema-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("upgrades a version 1 database in place and keeps its data", () => {
    const path = join(dir, "hsm.db");
    const keys = sealingKeys();
    const repo = createNodeDatabase(
      path,
      { clusterId: "c", nodeId: 0, hsmId: "hsm-x", sealingPublicKeyPem: keys.publicPem },
      keys.privatePem,
    );
    repo.setSetting("marker", "kept");
    repo.close();
    const raw = new DatabaseSync(path);
    raw.exec("DROP TABLE undo; PRAGMA user_version = 1");
    raw.close();
    const reopened = openNodeDatabase(path);
    assert.equal(reopened.getSetting("marker"), "kept");
    reopened.insertUndo({
      id: "u1",
      sessionId: "s",
      createdAt: 1,
      subject: "user:x",
      beforeJson: "null",
      afterJson: "null",
    });
    assert.equal(reopened.getUndo("u1")?.subject, "user:x");
    reopened.close();
    const check = new DatabaseSync(path);
    assert.equal((check.prepare("PRAGMA user_version").get() as { user_version: number }).user_version, SCHEMA_VERSION);
    check.close();
  });
});

describe("rollback on the SQLite repository", () => {
  it("compares records whatever order their fields were built in", () => {
    const dir = mkdtempSync(join(tmpdir(), "qg-undo-sqlite-"));
    try {
      const keys = sealingKeys();
      const repo = createNodeDatabase(
        join(dir, "hsm.db"),
        { clusterId: "c", nodeId: 0, hsmId: "hsm-x", sealingPublicKeyPem: keys.publicPem },
        keys.privatePem,
      );
      const node = makeNode({ repo });
      const admin = loginAs(node, "PRECO", "admin", "password");
      node.must("change-password", { userType: "PRECO", userName: "admin", password: "admin-pass-1" }, admin);
      const { undoId } = node.must("create-user", { userType: "CU", userName: "gina", password: "gina-pass" }, admin);
      node.must("rollback", { undoId }, admin);
      assert.equal(
        node.must("list-users", {}).users.some((u) => u.name === "gina"),
        false,
      );
      repo.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
