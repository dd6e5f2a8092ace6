// The same cases against both NodeRepository implementations: the in-memory one the core's unit
// tests use must behave exactly like the SQLite one the nodes run on.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Token, User } from "../../src/hsm/model.ts";
import type { NewToken, NewUser } from "../../src/hsm/repository.ts";
import { MemoryNodeRepository } from "../helpers/memory-repository.ts";
import { createNodeDatabase } from "../../src/node/sqlite-repository.ts";
import type { TransactionalRepository } from "../../src/node/store.ts";
import { testIdentity } from "../helpers/node-identity.ts";

const dir = mkdtempSync(join(tmpdir(), "qg-repo-contract-"));
const opened: { close(): void }[] = [];
after(() => {
  for (const db of opened) db.close();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
const implementations: Record<string, () => TransactionalRepository> = {
  memory: () => {
    const t = testIdentity();
    return new MemoryNodeRepository(t.identity, t.sealingPrivateKeyPem);
  },
  sqlite: () => {
    const t = testIdentity();
    const db = createNodeDatabase(join(dir, `db-${++counter}.db`), t.identity, t.sealingPrivateKeyPem);
    opened.push(db);
    return db;
  },
};

function newUser(name: string, over: Partial<NewUser> = {}): NewUser {
  return {
    type: "CO",
    name,
    passwordSalt: "aa",
    passwordHash: "bb",
    loginFailures: 0,
    quorumKeyPem: null,
    twoFactor: false,
    ...over,
  };
}

function newToken(over: Partial<NewToken> = {}): NewToken {
  return {
    service: 3,
    keyHandle: 0n,
    nonce: "00112233445566778899aabbccddeeff",
    userName: "officer1",
    createdAt: 1_700_000_000,
    timeoutSeconds: 600,
    sessionId: "s1",
    binding: null,
    approvers: [],
    ...over,
  };
}

for (const [kind, make] of Object.entries(implementations)) {
  describe(`NodeRepository contract: ${kind}`, () => {
    it("returns the identity and sealing key it was created with", () => {
      const repo = make();
      const t = testIdentity();
      assert.deepEqual(repo.identity(), t.identity);
      assert.equal(repo.sealingPrivateKeyPem(), t.sealingPrivateKeyPem);
    });

    it("assigns user ids as highest id + 1 and lists users by id", () => {
      const repo = make();
      assert.equal(repo.insertUser(newUser("admin", { type: "PRECO" })).id, 1);
      assert.equal(repo.insertUser(newUser("app_user", { type: "AU" })).id, 2);
      assert.equal(repo.insertUser(newUser("officer1")).id, 3);
      repo.deleteUser("app_user");
      // A gap stays a gap: the next id follows the highest one.
      assert.equal(repo.insertUser(newUser("officer2")).id, 4);
      repo.deleteUser("officer2");
      // Highest id + 1, as the port says: deleting the top user frees its id.
      assert.equal(repo.insertUser(newUser("officer3")).id, 4);
      assert.deepEqual(
        repo.listUsers().map((u) => [u.id, u.name]),
        [
          [1, "admin"],
          [3, "officer1"],
          [4, "officer3"],
        ],
      );
    });

    it("stores every user field and finds users by exact name", () => {
      const repo = make();
      const user = repo.insertUser(
        newUser("officer1", { type: "CU", loginFailures: 2, quorumKeyPem: "PEM", twoFactor: true }),
      );
      assert.deepEqual(repo.getUser("officer1"), user);
      assert.equal(repo.getUser("OFFICER1"), null, "the repository does not fold case; the core does");
      assert.equal(repo.getUser("nobody"), null);
    });

    it("refuses a duplicate user name", () => {
      const repo = make();
      repo.insertUser(newUser("officer1"));
      assert.throws(() => repo.insertUser(newUser("officer1")));
      assert.equal(repo.listUsers().length, 1);
    });

    it("updates a user by id and throws for a missing one", () => {
      const repo = make();
      const user = repo.insertUser(newUser("officer1"));
      const changed: User = {
        ...user,
        type: "CO",
        loginFailures: 5,
        quorumKeyPem: "KEY",
        twoFactor: true,
        passwordHash: "cc",
      };
      repo.updateUser(changed);
      assert.deepEqual(repo.getUser("officer1"), changed);
      assert.throws(() => repo.updateUser({ ...changed, id: 99 }));
    });

    it("deleting a missing user is a no-op", () => {
      const repo = make();
      repo.deleteUser("nobody");
      assert.deepEqual(repo.listUsers(), []);
    });

    it("M values default to 1 and can be set and overwritten", () => {
      const repo = make();
      assert.equal(repo.getMValue(3), 1);
      repo.setMValue(3, 2);
      repo.setMValue(4, 3);
      repo.setMValue(3, 5);
      assert.equal(repo.getMValue(3), 5);
      assert.equal(repo.getMValue(4), 3);
    });

    it("never reuses a token id, even after deleting the newest token", () => {
      const repo = make();
      assert.deepEqual(
        [1, 2, 3].map(() => repo.insertToken(newToken()).id),
        [1, 2, 3],
      );
      repo.deleteToken(3);
      repo.deleteToken(2);
      assert.equal(repo.insertToken(newToken()).id, 4);
      assert.deepEqual(
        repo.listTokens().map((t) => t.id),
        [1, 4],
      );
      repo.deleteToken(42); // missing: no-op
    });

    it("round-trips every token field, including a full u64 key handle", () => {
      const repo = make();
      const bound = repo.insertToken(
        newToken({
          keyHandle: 2n ** 64n - 1n,
          sessionId: null,
          binding: "ab".repeat(32),
          approvers: ["officer1", "officer2"],
        }),
      );
      const plain = repo.insertToken(newToken());
      const expected: Token = {
        ...newToken({
          keyHandle: 2n ** 64n - 1n,
          sessionId: null,
          binding: "ab".repeat(32),
          approvers: ["officer1", "officer2"],
        }),
        id: 1,
      };
      assert.deepEqual(bound, expected);
      assert.deepEqual(repo.getToken(1), expected);
      assert.deepEqual(repo.getToken(plain.id), plain);
      assert.equal(repo.getToken(99), null);
    });

    it("sets token approvers in order and throws for a missing token", () => {
      const repo = make();
      const token = repo.insertToken(newToken());
      repo.setTokenApprovers(token.id, ["officer2", "officer1"]);
      assert.deepEqual(repo.getToken(token.id)?.approvers, ["officer2", "officer1"]);
      assert.throws(() => repo.setTokenApprovers(99, ["x"]));
    });

    it("keeps sessions, touches them, lists them by id and deletes them", () => {
      const repo = make();
      repo.insertSession({ id: "bbb", userName: "officer1", userType: "CO", createdAt: 10, lastSeenAt: 10 });
      repo.insertSession({ id: "aaa", userName: "officer2", userType: "PCO", createdAt: 20, lastSeenAt: 20 });
      repo.insertSession({ id: "ccc", userName: "cu1", userType: "CU", createdAt: 5, lastSeenAt: 5 });
      assert.throws(() =>
        repo.insertSession({ id: "aaa", userName: "x", userType: "CO", createdAt: 1, lastSeenAt: 1 }),
      );
      repo.touchSession("bbb", 99);
      assert.deepEqual(repo.getSession("bbb"), {
        id: "bbb",
        userName: "officer1",
        userType: "CO",
        createdAt: 10,
        lastSeenAt: 99,
      });
      assert.throws(() => repo.touchSession("zzz", 1));
      assert.deepEqual(
        repo.listSessions().map((s) => s.id),
        ["aaa", "bbb", "ccc"],
      );
      repo.deleteSession("aaa");
      repo.deleteSession("missing");
      assert.equal(repo.getSession("aaa"), null);
      assert.equal(repo.listSessions().length, 2);
    });

    it("keeps challenges, counts them per session and purges old ones", () => {
      const repo = make();
      const base = { digest: "cd".repeat(32), userName: "officer1" };
      repo.insertChallenge({ ...base, id: "c1", purpose: "login", sessionId: null, createdAt: 100 });
      repo.insertChallenge({ ...base, id: "c2", purpose: "login", sessionId: null, createdAt: 200 });
      repo.insertChallenge({ ...base, id: "c3", purpose: "enroll", sessionId: "s1", createdAt: 150 });
      assert.throws(() => repo.insertChallenge({ ...base, id: "c1", purpose: "login", sessionId: null, createdAt: 1 }));
      assert.deepEqual(repo.getChallenge("c3"), {
        ...base,
        id: "c3",
        purpose: "enroll",
        sessionId: "s1",
        createdAt: 150,
      });
      assert.equal(repo.countChallenges(null), 2);
      assert.equal(repo.countChallenges("s1"), 1);
      assert.equal(repo.countChallenges("s2"), 0);
      repo.purgeChallenges(150); // strictly older than 150 goes
      assert.equal(repo.getChallenge("c1"), null);
      assert.notEqual(repo.getChallenge("c3"), null);
      repo.deleteChallenge("c2");
      repo.deleteChallenge("missing");
      assert.equal(repo.countChallenges(null), 0);
    });

    it("records an outcome once per idempotency key", () => {
      const repo = make();
      assert.equal(repo.getOutcome("k1"), null);
      repo.putOutcome("k1", { requestHash: "h1", outcomeJson: '{"ok":true}' });
      assert.deepEqual(repo.getOutcome("k1"), { requestHash: "h1", outcomeJson: '{"ok":true}' });
      assert.throws(() => repo.putOutcome("k1", { requestHash: "h2", outcomeJson: "{}" }));
      assert.deepEqual(repo.getOutcome("k1"), { requestHash: "h1", outcomeJson: '{"ok":true}' });
    });

    it("gets and overwrites settings", () => {
      const repo = make();
      assert.equal(repo.getSetting("token_timeout"), null);
      repo.setSetting("token_timeout", "600");
      repo.setSetting("token_timeout", "300");
      assert.equal(repo.getSetting("token_timeout"), "300");
    });

    it("numbers audit entries and lists the newest ones oldest first", () => {
      const repo = make();
      for (let i = 0; i < 5; i++)
        repo.appendAudit({
          at: 1000 + i,
          opcode: "CN_LOGIN",
          userName: i % 2 ? null : "u",
          detail: `d${i}`,
          result: "RET_OK",
        });
      assert.deepEqual(
        repo.listAudit(3).map((e) => [e.seq, e.detail]),
        [
          [3, "d2"],
          [4, "d3"],
          [5, "d4"],
        ],
      );
      assert.deepEqual(repo.listAudit(100)[1], {
        seq: 2,
        at: 1001,
        opcode: "CN_LOGIN",
        userName: null,
        detail: "d1",
        result: "RET_OK",
      });
      assert.deepEqual(repo.listAudit(0), []);
    });

    it("keeps a transaction's writes when it returns and undoes all of them when it throws", () => {
      const repo = make();
      const value = repo.transaction(() => {
        repo.insertUser(newUser("kept"));
        repo.insertToken(newToken());
        return 42;
      });
      assert.equal(value, 42);
      const boom = new Error("bug in a command");
      assert.throws(
        () =>
          repo.transaction(() => {
            repo.insertUser(newUser("lost"));
            repo.insertToken(newToken());
            repo.setMValue(3, 2);
            repo.appendAudit({ at: 1, opcode: "CN_CREATE_USER", userName: "lost", detail: "", result: "RET_OK" });
            throw boom;
          }),
        (err) => err === boom,
      );
      assert.deepEqual(
        repo.listUsers().map((u) => u.name),
        ["kept"],
      );
      assert.equal(repo.getMValue(3), 1);
      assert.deepEqual(repo.listAudit(10), []);
      // The rolled-back token id was never visible, so handing it out again reuses nothing.
      assert.equal(repo.insertToken(newToken()).id, 2);
    });

    it("refuses nested transactions", () => {
      const repo = make();
      assert.throws(() => repo.transaction(() => repo.transaction(() => 1)), /nest/);
      // The outer transaction was rolled back and the repository is usable again.
      assert.equal(
        repo.transaction(() => 7),
        7,
      );
    });

    it("hands out copies: changing a returned value does not change the store", () => {
      const repo = make();
      const token = repo.insertToken(newToken({ approvers: ["a"] }));
      (token.approvers as string[]).push("b");
      const copy = repo.getToken(token.id);
      assert.ok(copy);
      (copy.approvers as string[]).push("c");
      assert.deepEqual(repo.getToken(token.id)?.approvers, ["a"]);
    });
  });
}
