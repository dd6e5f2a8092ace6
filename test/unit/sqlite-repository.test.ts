// What only the SQLite repository does: files, schema version, durability settings, reopening.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { createNodeDatabase, openNodeDatabase } from "../../src/node/sqlite-repository.ts";
import { SCHEMA_VERSION } from "../../src/node/sqlite-schema.ts";
import { testIdentity } from "../helpers/node-identity.ts";

const dir = mkdtempSync(join(tmpdir(), "qg-sqlite-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `node-${++n}.db`);

describe("SQLite node database", () => {
  it("keeps identity and committed state across a reopen", () => {
    const path = freshPath();
    const t = testIdentity({ nodeId: 7, hsmId: "hsm-zzzzzzzzzzz" });
    const db = createNodeDatabase(path, t.identity, t.sealingPrivateKeyPem);
    db.transaction(() => {
      db.insertUser({
        type: "PRECO",
        name: "admin",
        passwordSalt: "s",
        passwordHash: "h",
        loginFailures: 0,
        quorumKeyPem: null,
        twoFactor: false,
      });
      db.insertToken({
        service: 3,
        keyHandle: 5n,
        nonce: "00".repeat(16),
        userName: "admin",
        createdAt: 1,
        timeoutSeconds: 600,
        sessionId: null,
        binding: null,
        approvers: [],
      });
      db.setMValue(3, 2);
    });
    db.deleteToken(1);
    db.close();

    const again = openNodeDatabase(path);
    try {
      assert.deepEqual(again.identity(), t.identity);
      assert.equal(again.sealingPrivateKeyPem(), t.sealingPrivateKeyPem);
      assert.deepEqual(
        again.listUsers().map((u) => u.name),
        ["admin"],
      );
      assert.equal(again.getMValue(3), 2);
      // The token counter is persisted: id 1 is gone but never handed out again.
      assert.equal(
        again.insertToken({
          service: 4,
          keyHandle: 0n,
          nonce: "00".repeat(16),
          userName: "admin",
          createdAt: 2,
          timeoutSeconds: 600,
          sessionId: null,
          binding: null,
          approvers: [],
        }).id,
        2,
      );
    } finally {
      again.close();
    }
  });

  it("commits durably: WAL journal and synchronous=FULL", () => {
    const t = testIdentity();
    const db = createNodeDatabase(freshPath(), t.identity, t.sealingPrivateKeyPem);
    try {
      assert.deepEqual(db.durability(), { journalMode: "wal", synchronous: 2 });
    } finally {
      db.close();
    }
  });

  it("refuses to create over an existing file and leaves it alone", () => {
    const path = freshPath();
    writeFileSync(path, "not a database");
    const t = testIdentity();
    assert.throws(() => createNodeDatabase(path, t.identity, t.sealingPrivateKeyPem), /EEXIST/);
    assert.equal(existsSync(path), true);
  });

  it("refuses to open a missing file without creating it", () => {
    const path = freshPath();
    assert.throws(() => openNodeDatabase(path), /no node database/);
    assert.equal(existsSync(path), false);
  });

  it("refuses a database with another schema version", () => {
    const path = freshPath();
    const raw = new DatabaseSync(path);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(() => openNodeDatabase(path), /schema version/);
  });

  it("uses STRICT tables: a value of the wrong type is refused, not coerced", () => {
    const path = freshPath();
    const t = testIdentity();
    createNodeDatabase(path, t.identity, t.sealingPrivateKeyPem).close();
    const raw = new DatabaseSync(path);
    try {
      assert.throws(
        () => raw.exec("INSERT INTO m_values (service, value) VALUES (3, 'two')"),
        /cannot store TEXT value in INTEGER column/,
      );
    } finally {
      raw.close();
    }
  });
});
