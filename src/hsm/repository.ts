// The port through which the core reads and writes one node's state. Calls are synchronous: the
// SQLite adapter runs a whole command inside one transaction, so a command is atomic and commands
// on one node never interleave. An in-memory implementation serves the unit tests.
//
// Rules both implementations keep (test/unit/repository-contract.test.ts checks them):
// - users are listed by id, tokens by id, sessions by id (byte order), audit oldest first;
// - updating a row that does not exist (updateUser, setTokenApprovers, touchSession) throws, as
//   does inserting a duplicate (user name, session, challenge, outcome key): both are bugs in the
//   caller; deleting a missing row does nothing;
// - listAudit(limit) returns the newest `limit` entries, oldest first;
// - purgeChallenges(t) drops challenges with createdAt < t.
import type { AuditEntry, Challenge, NodeIdentity, Session, Token, User } from "./model.ts";

export type NewUser = Omit<User, "id">;
export type NewToken = Omit<Token, "id">;

export interface StoredOutcome {
  /** hex SHA-256 of the canonical request, to refuse a key reused for a different operation. */
  readonly requestHash: string;
  /** JSON of the outcome returned the first time. */
  readonly outcomeJson: string;
}

/**
 * One change a session made on this node, kept for a short while so that the shell can roll it
 * back on the nodes where it succeeded when it failed on another (CMU's rollBack).
 */
export interface UndoEntry {
  readonly id: string;
  readonly sessionId: string;
  readonly createdAt: number;
  /** What the change touched: `user:<name>` or `mvalue:<service>`. */
  readonly subject: string;
  /** JSON of the state before: the User record or null (it did not exist), or the M value. */
  readonly beforeJson: string;
  /** JSON of the state the change left; a rollback only runs while the state is still this. */
  readonly afterJson: string;
}

export interface NodeRepository {
  identity(): NodeIdentity;
  /** PKCS#8 PEM of the cluster sealing key; only the node ever sees it. */
  sealingPrivateKeyPem(): string;

  getUser(name: string): User | null;
  listUsers(): readonly User[];
  /** Assigns the next user id (highest id + 1). */
  insertUser(user: NewUser): User;
  /** Inserts a user with the id it carries (a restored or imported user); throws if id or name is taken. */
  putUser(user: User): void;
  updateUser(user: User): void;
  deleteUser(name: string): void;

  /** Quorum minimum per service; 1 (off) when never set. */
  getMValue(service: number): number;
  setMValue(service: number, value: number): void;

  listTokens(): readonly Token[];
  getToken(id: number): Token | null;
  /** Assigns the next token id from a counter that never goes back, so ids are never reused. */
  insertToken(token: NewToken): Token;
  setTokenApprovers(id: number, approvers: readonly string[]): void;
  deleteToken(id: number): void;

  getSession(id: string): Session | null;
  insertSession(session: Session): void;
  touchSession(id: string, at: number): void;
  deleteSession(id: string): void;
  listSessions(): readonly Session[];

  getChallenge(id: string): Challenge | null;
  insertChallenge(challenge: Challenge): void;
  deleteChallenge(id: string): void;
  /** Drops challenges created before `createdBefore` (Unix seconds); keeps the table bounded. */
  purgeChallenges(createdBefore: number): void;
  /** Open challenges of one session, so a client cannot pile them up. */
  countChallenges(sessionId: string | null): number;

  getOutcome(idempotencyKey: string): StoredOutcome | null;
  putOutcome(idempotencyKey: string, outcome: StoredOutcome): void;

  insertUndo(entry: UndoEntry): void;
  getUndo(id: string): UndoEntry | null;
  deleteUndo(id: string): void;
  /** Drops undo entries created before `createdBefore` (Unix seconds). */
  purgeUndo(createdBefore: number): void;

  getSetting(key: string): string | null;
  setSetting(key: string, value: string): void;

  appendAudit(entry: Omit<AuditEntry, "seq">): void;
  listAudit(limit: number): readonly AuditEntry[];
}
