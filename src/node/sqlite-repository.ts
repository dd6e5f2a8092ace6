// NodeRepository on node:sqlite. One file per node, opened by exactly one process.
//
// Durability: WAL journal with synchronous=FULL, so COMMIT returns only after the WAL is fsynced;
// a node killed with SIGKILL right after answering still has the write. The server runs each
// command in `transaction()` (BEGIN IMMEDIATE ... COMMIT), so a command is all-or-nothing.
//
// Behaviour is kept identical to test/helpers/memory-repository.ts (see the rules listed there); the contract
// test runs the same cases against both.
import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import {
  isUserType,
  type AuditEntry,
  type Challenge,
  type NodeIdentity,
  type Session,
  type Token,
  type User,
  type UserType,
} from "../hsm/model.ts";
import type { NewToken, NewUser, StoredOutcome, UndoEntry } from "../hsm/repository.ts";
import { MIGRATIONS, SCHEMA_SQL, SCHEMA_VERSION, UNDO_TABLE_SQL } from "./sqlite-schema.ts";
import type { TransactionalRepository } from "./store.ts";

type Row = Record<string, SQLInputValue>;

/** The database file inside a node's data directory. */
export const NODE_DB_FILE = "hsm.db";

const IDENTITY_KEYS = ["clusterId", "nodeId", "hsmId", "sealingPublicKeyPem", "sealingPrivateKeyPem"] as const;

/** Opens an existing node database; fails with a clear message when it is missing or foreign. */
export function openNodeDatabase(path: string): SqliteNodeRepository {
  if (!existsSync(path)) throw new Error(`no node database at ${path}`);
  const db = new DatabaseSync(path);
  try {
    configure(db);
    migrate(db, readUserVersion(db));
    const version = readUserVersion(db);
    if (version !== SCHEMA_VERSION) {
      throw new Error(`${path} has schema version ${version}, this build reads version ${SCHEMA_VERSION}`);
    }
    return new SqliteNodeRepository(db);
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Creates the database of a brand-new node with its identity and the cluster sealing key. Refuses
 * to touch an existing file. If anything fails the half-made file is removed, so a retry starts
 * clean. The caller seeds the users afterwards (initNode).
 */
export function createNodeDatabase(
  path: string,
  identity: NodeIdentity,
  sealingPrivateKeyPem: string,
): SqliteNodeRepository {
  // 'wx' creates the file exclusively: two creators cannot both succeed.
  closeSync(openSync(path, "wx", 0o600));
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    configure(db);
    const values: Record<(typeof IDENTITY_KEYS)[number], string> = {
      clusterId: identity.clusterId,
      nodeId: String(identity.nodeId),
      hsmId: identity.hsmId,
      sealingPublicKeyPem: identity.sealingPublicKeyPem,
      sealingPrivateKeyPem,
    };
    const schemaDb = db;
    inTransaction(schemaDb, () => {
      schemaDb.exec(SCHEMA_SQL);
      schemaDb.exec(UNDO_TABLE_SQL);
      const put = schemaDb.prepare("INSERT INTO identity (key, value) VALUES (?, ?)");
      for (const key of IDENTITY_KEYS) put.run(key, values[key]);
      schemaDb.prepare("INSERT INTO counters (name, value) VALUES ('token_id', 0)").run();
      // user_version lives in the database header and is written by this same transaction.
      schemaDb.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
    return new SqliteNodeRepository(db);
  } catch (err) {
    db?.close();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
    throw err;
  }
}

function configure(db: DatabaseSync): void {
  const mode = db.prepare("PRAGMA journal_mode = WAL").get() as Row | undefined;
  if (mode?.["journal_mode"] !== "wal") throw new Error("the database cannot use WAL mode");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = OFF");
  // One process owns the file; a short wait covers a checkpoint by a stray reader (sqlite3 CLI).
  db.exec("PRAGMA busy_timeout = 2000");
}

/** Upgrades an older database one version at a time, each step in its own transaction. */
function migrate(db: DatabaseSync, from: number): void {
  for (let version = from; version > 0 && version < SCHEMA_VERSION; version += 1) {
    const step = MIGRATIONS[version];
    if (step === undefined) return;
    inTransaction(db, () => {
      db.exec(step);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    });
  }
}

function readUserVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as Row | undefined;
  return Number(row?.["user_version"] ?? 0);
}

function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  // IMMEDIATE takes the write lock up front, so a command never fails half-way on a lock upgrade.
  db.exec("BEGIN IMMEDIATE");
  let result: T;
  try {
    result = fn();
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
  db.exec("COMMIT");
  return result;
}

// ---- row decoding: a value of the wrong shape means a corrupt or foreign file ----------------

function str(row: Row, col: string): string {
  const v = row[col];
  if (typeof v !== "string") throw new Error(`corrupt row: ${col} is not text`);
  return v;
}
function strOrNull(row: Row, col: string): string | null {
  const v = row[col];
  if (v === null) return null;
  return str(row, col);
}
function int(row: Row, col: string): number {
  const v = row[col];
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`corrupt row: ${col} is not an integer`);
  return v;
}
function userType(row: Row, col: string): UserType {
  const v = str(row, col);
  if (!isUserType(v)) throw new Error(`corrupt row: ${col} is not a user type`);
  return v;
}

function toUser(row: Row): User {
  return {
    id: int(row, "id"),
    type: userType(row, "type"),
    name: str(row, "name"),
    passwordSalt: str(row, "password_salt"),
    passwordHash: str(row, "password_hash"),
    loginFailures: int(row, "login_failures"),
    quorumKeyPem: strOrNull(row, "quorum_key_pem"),
    twoFactor: int(row, "two_factor") === 1,
  };
}

function toToken(row: Row): Token {
  const approvers: unknown = JSON.parse(str(row, "approvers"));
  if (!Array.isArray(approvers) || !approvers.every((a) => typeof a === "string"))
    throw new Error("corrupt row: approvers");
  return {
    id: int(row, "id"),
    service: int(row, "service"),
    keyHandle: BigInt(str(row, "key_handle")),
    nonce: str(row, "nonce"),
    userName: str(row, "user_name"),
    createdAt: int(row, "created_at"),
    timeoutSeconds: int(row, "timeout_seconds"),
    sessionId: strOrNull(row, "session_id"),
    binding: strOrNull(row, "binding"),
    approvers,
  };
}

function toSession(row: Row): Session {
  return {
    id: str(row, "id"),
    userName: str(row, "user_name"),
    userType: userType(row, "user_type"),
    createdAt: int(row, "created_at"),
    lastSeenAt: int(row, "last_seen_at"),
  };
}

function toChallenge(row: Row): Challenge {
  const purpose = str(row, "purpose");
  if (purpose !== "login" && purpose !== "enroll") throw new Error("corrupt row: purpose");
  return {
    id: str(row, "id"),
    digest: str(row, "digest"),
    purpose,
    userName: str(row, "user_name"),
    sessionId: strOrNull(row, "session_id"),
    createdAt: int(row, "created_at"),
  };
}

function toAudit(row: Row): AuditEntry {
  return {
    seq: int(row, "seq"),
    at: int(row, "at"),
    opcode: str(row, "opcode"),
    userName: strOrNull(row, "user_name"),
    detail: str(row, "detail"),
    result: str(row, "result"),
  };
}

/** Prepared once per open database: every command reuses them. */
function prepareStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    getUser: p("SELECT * FROM users WHERE name = ?"),
    listUsers: p("SELECT * FROM users ORDER BY id"),
    nextUserId: p("SELECT coalesce(max(id), 0) + 1 AS id FROM users"),
    insertUser: p(
      "INSERT INTO users (id, type, name, password_salt, password_hash, login_failures, quorum_key_pem, two_factor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    updateUser: p(
      "UPDATE users SET type = ?, name = ?, password_salt = ?, password_hash = ?, login_failures = ?, quorum_key_pem = ?, two_factor = ? WHERE id = ?",
    ),
    deleteUser: p("DELETE FROM users WHERE name = ?"),
    getMValue: p("SELECT value FROM m_values WHERE service = ?"),
    setMValue: p(
      "INSERT INTO m_values (service, value) VALUES (?, ?) ON CONFLICT (service) DO UPDATE SET value = excluded.value",
    ),
    listTokens: p("SELECT * FROM tokens ORDER BY id"),
    getToken: p("SELECT * FROM tokens WHERE id = ?"),
    nextTokenId: p("UPDATE counters SET value = value + 1 WHERE name = 'token_id' RETURNING value"),
    insertToken: p(
      "INSERT INTO tokens (id, service, key_handle, nonce, user_name, created_at, timeout_seconds, session_id, binding, approvers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    setTokenApprovers: p("UPDATE tokens SET approvers = ? WHERE id = ?"),
    deleteToken: p("DELETE FROM tokens WHERE id = ?"),
    getSession: p("SELECT * FROM sessions WHERE id = ?"),
    insertSession: p(
      "INSERT INTO sessions (id, user_name, user_type, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
    ),
    touchSession: p("UPDATE sessions SET last_seen_at = ? WHERE id = ?"),
    deleteSession: p("DELETE FROM sessions WHERE id = ?"),
    listSessions: p("SELECT * FROM sessions ORDER BY id"),
    getChallenge: p("SELECT * FROM challenges WHERE id = ?"),
    insertChallenge: p(
      "INSERT INTO challenges (id, digest, purpose, user_name, session_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    deleteChallenge: p("DELETE FROM challenges WHERE id = ?"),
    purgeChallenges: p("DELETE FROM challenges WHERE created_at < ?"),
    countChallenges: p("SELECT count(*) AS n FROM challenges WHERE session_id IS ?"),
    getOutcome: p("SELECT request_hash, outcome_json FROM outcomes WHERE idempotency_key = ?"),
    putOutcome: p("INSERT INTO outcomes (idempotency_key, request_hash, outcome_json) VALUES (?, ?, ?)"),
    getSetting: p("SELECT value FROM settings WHERE key = ?"),
    setSetting: p(
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    appendAudit: p("INSERT INTO audit (at, opcode, user_name, detail, result) VALUES (?, ?, ?, ?, ?)"),
    listAudit: p("SELECT * FROM (SELECT * FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq"),
    insertUndo: p(
      "INSERT INTO undo (id, session_id, created_at, subject, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    getUndo: p("SELECT * FROM undo WHERE id = ?"),
    deleteUndo: p("DELETE FROM undo WHERE id = ?"),
    purgeUndo: p("DELETE FROM undo WHERE created_at < ?"),
  };
}

// ---- the repository ---------------------------------------------------------------------------

export class SqliteNodeRepository implements TransactionalRepository {
  readonly #db: DatabaseSync;
  readonly #identity: NodeIdentity;
  readonly #sealingKeyPem: string;
  readonly #s: ReturnType<typeof prepareStatements>;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#s = prepareStatements(db);
    const identity = new Map<string, string>();
    for (const row of db.prepare("SELECT key, value FROM identity").all() as Row[])
      identity.set(str(row, "key"), str(row, "value"));
    const need = (key: string): string => {
      const v = identity.get(key);
      if (v === undefined) throw new Error(`the node database has no ${key}`);
      return v;
    };
    this.#identity = {
      clusterId: need("clusterId"),
      nodeId: Number(need("nodeId")),
      hsmId: need("hsmId"),
      sealingPublicKeyPem: need("sealingPublicKeyPem"),
    };
    this.#sealingKeyPem = need("sealingPrivateKeyPem");
  }

  transaction<T>(fn: () => T): T {
    if (this.#db.isTransaction) throw new Error("transactions do not nest");
    return inTransaction(this.#db, fn);
  }

  /** Diagnostics: the settings that make a commit durable, as SQLite reports them. */
  durability(): { journalMode: string; synchronous: number } {
    const mode = this.#db.prepare("PRAGMA journal_mode").get() as Row;
    const sync = this.#db.prepare("PRAGMA synchronous").get() as Row;
    return { journalMode: str(mode, "journal_mode"), synchronous: int(sync, "synchronous") };
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  identity(): NodeIdentity {
    return { ...this.#identity };
  }

  sealingPrivateKeyPem(): string {
    return this.#sealingKeyPem;
  }

  getUser(name: string): User | null {
    const row = this.#s.getUser.get(name) as Row | undefined;
    return row === undefined ? null : toUser(row);
  }

  listUsers(): readonly User[] {
    return (this.#s.listUsers.all() as Row[]).map(toUser);
  }

  insertUser(user: NewUser): User {
    const id = int(this.#s.nextUserId.get() as Row, "id");
    this.#s.insertUser.run(
      id,
      user.type,
      user.name,
      user.passwordSalt,
      user.passwordHash,
      user.loginFailures,
      user.quorumKeyPem,
      user.twoFactor ? 1 : 0,
    );
    return { ...user, id };
  }

  putUser(user: User): void {
    this.#s.insertUser.run(
      user.id,
      user.type,
      user.name,
      user.passwordSalt,
      user.passwordHash,
      user.loginFailures,
      user.quorumKeyPem,
      user.twoFactor ? 1 : 0,
    );
  }

  updateUser(user: User): void {
    const r = this.#s.updateUser.run(
      user.type,
      user.name,
      user.passwordSalt,
      user.passwordHash,
      user.loginFailures,
      user.quorumKeyPem,
      user.twoFactor ? 1 : 0,
      user.id,
    );
    if (r.changes === 0) throw new Error(`updateUser: no user with id ${user.id}`);
  }

  deleteUser(name: string): void {
    this.#s.deleteUser.run(name);
  }

  getMValue(service: number): number {
    const row = this.#s.getMValue.get(service) as Row | undefined;
    return row === undefined ? 1 : int(row, "value");
  }

  setMValue(service: number, value: number): void {
    this.#s.setMValue.run(service, value);
  }

  listTokens(): readonly Token[] {
    return (this.#s.listTokens.all() as Row[]).map(toToken);
  }

  getToken(id: number): Token | null {
    const row = this.#s.getToken.get(id) as Row | undefined;
    return row === undefined ? null : toToken(row);
  }

  insertToken(token: NewToken): Token {
    const id = int(this.#s.nextTokenId.get() as Row, "value");
    this.#s.insertToken.run(
      id,
      token.service,
      token.keyHandle.toString(),
      token.nonce,
      token.userName,
      token.createdAt,
      token.timeoutSeconds,
      token.sessionId,
      token.binding,
      JSON.stringify(token.approvers),
    );
    return { ...token, id, approvers: [...token.approvers] };
  }

  setTokenApprovers(id: number, approvers: readonly string[]): void {
    const r = this.#s.setTokenApprovers.run(JSON.stringify(approvers), id);
    if (r.changes === 0) throw new Error(`setTokenApprovers: no token with id ${id}`);
  }

  deleteToken(id: number): void {
    this.#s.deleteToken.run(id);
  }

  getSession(id: string): Session | null {
    const row = this.#s.getSession.get(id) as Row | undefined;
    return row === undefined ? null : toSession(row);
  }

  insertSession(session: Session): void {
    this.#s.insertSession.run(session.id, session.userName, session.userType, session.createdAt, session.lastSeenAt);
  }

  touchSession(id: string, at: number): void {
    const r = this.#s.touchSession.run(at, id);
    if (r.changes === 0) throw new Error("touchSession: no such session");
  }

  deleteSession(id: string): void {
    this.#s.deleteSession.run(id);
  }

  listSessions(): readonly Session[] {
    return (this.#s.listSessions.all() as Row[]).map(toSession);
  }

  getChallenge(id: string): Challenge | null {
    const row = this.#s.getChallenge.get(id) as Row | undefined;
    return row === undefined ? null : toChallenge(row);
  }

  insertChallenge(c: Challenge): void {
    this.#s.insertChallenge.run(c.id, c.digest, c.purpose, c.userName, c.sessionId, c.createdAt);
  }

  deleteChallenge(id: string): void {
    this.#s.deleteChallenge.run(id);
  }

  purgeChallenges(createdBefore: number): void {
    this.#s.purgeChallenges.run(createdBefore);
  }

  countChallenges(sessionId: string | null): number {
    return int(this.#s.countChallenges.get(sessionId) as Row, "n");
  }

  getOutcome(idempotencyKey: string): StoredOutcome | null {
    const row = this.#s.getOutcome.get(idempotencyKey) as Row | undefined;
    return row === undefined ? null : { requestHash: str(row, "request_hash"), outcomeJson: str(row, "outcome_json") };
  }

  putOutcome(idempotencyKey: string, outcome: StoredOutcome): void {
    this.#s.putOutcome.run(idempotencyKey, outcome.requestHash, outcome.outcomeJson);
  }

  insertUndo(e: UndoEntry): void {
    this.#s.insertUndo.run(e.id, e.sessionId, e.createdAt, e.subject, e.beforeJson, e.afterJson);
  }

  getUndo(id: string): UndoEntry | null {
    const row = this.#s.getUndo.get(id) as Row | undefined;
    if (row === undefined) return null;
    return {
      id: str(row, "id"),
      sessionId: str(row, "session_id"),
      createdAt: int(row, "created_at"),
      subject: str(row, "subject"),
      beforeJson: str(row, "before_json"),
      afterJson: str(row, "after_json"),
    };
  }

  deleteUndo(id: string): void {
    this.#s.deleteUndo.run(id);
  }

  purgeUndo(createdBefore: number): void {
    this.#s.purgeUndo.run(createdBefore);
  }

  getSetting(key: string): string | null {
    const row = this.#s.getSetting.get(key) as Row | undefined;
    return row === undefined ? null : str(row, "value");
  }

  setSetting(key: string, value: string): void {
    this.#s.setSetting.run(key, value);
  }

  appendAudit(entry: Omit<AuditEntry, "seq">): void {
    this.#s.appendAudit.run(entry.at, entry.opcode, entry.userName, entry.detail, entry.result);
  }

  /** The newest `limit` entries, oldest first. */
  listAudit(limit: number): readonly AuditEntry[] {
    if (limit <= 0) return [];
    return (this.#s.listAudit.all(limit) as Row[]).map(toAudit);
  }
}
