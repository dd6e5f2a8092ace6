// An in-memory NodeRepository for unit tests of the core. It mirrors the SQLite repository rule for
// rule (id assignment, ordering, what throws), and test/unit/repository-contract.test.ts runs the
// same cases against both so the two cannot drift apart.
//
// Rules shared with SQLite:
// - users are listed by id, tokens by id, audit by seq, sessions by id (byte order);
// - insertUser takes max(id)+1; insertToken takes the next value of a counter that never goes back;
// - inserting a duplicate key (user name, session, challenge, outcome) throws;
// - updating a row that does not exist (updateUser, setTokenApprovers, touchSession) throws,
//   because it can only be a bug in the caller; deleting a missing row is a no-op;
// - values go in and come out as copies, so a caller never shares an object with the store.
import type { AuditEntry, Challenge, NodeIdentity, Session, Token, User } from "../../src/hsm/model.ts";
import type { NewToken, NewUser, StoredOutcome, UndoEntry } from "../../src/hsm/repository.ts";
import { compareBytes, type TransactionalRepository } from "../../src/node/store.ts";

interface State {
  users: Map<string, User>;
  mValues: Map<number, number>;
  tokens: Map<number, Token>;
  lastTokenId: number;
  sessions: Map<string, Session>;
  challenges: Map<string, Challenge>;
  outcomes: Map<string, StoredOutcome>;
  undo: Map<string, UndoEntry>;
  settings: Map<string, string>;
  audit: AuditEntry[];
  lastAuditSeq: number;
}

function emptyState(): State {
  return {
    users: new Map(),
    mValues: new Map(),
    tokens: new Map(),
    lastTokenId: 0,
    sessions: new Map(),
    challenges: new Map(),
    outcomes: new Map(),
    undo: new Map(),
    settings: new Map(),
    audit: [],
    lastAuditSeq: 0,
  };
}

const copyToken = (t: Token): Token => ({ ...t, approvers: [...t.approvers] });

export class MemoryNodeRepository implements TransactionalRepository {
  readonly #identity: NodeIdentity;
  readonly #sealingKeyPem: string;
  #state: State = emptyState();
  #inTransaction = false;

  constructor(identity: NodeIdentity, sealingPrivateKeyPem: string) {
    this.#identity = { ...identity };
    this.#sealingKeyPem = sealingPrivateKeyPem;
  }

  /** Snapshot and restore: the same all-or-nothing effect as the SQLite transaction. */
  transaction<T>(fn: () => T): T {
    if (this.#inTransaction) throw new Error("transactions do not nest");
    const snapshot = structuredClone(this.#state);
    this.#inTransaction = true;
    try {
      return fn();
    } catch (err) {
      this.#state = snapshot;
      throw err;
    } finally {
      this.#inTransaction = false;
    }
  }

  identity(): NodeIdentity {
    return { ...this.#identity };
  }

  sealingPrivateKeyPem(): string {
    return this.#sealingKeyPem;
  }

  getUser(name: string): User | null {
    const user = this.#state.users.get(name);
    return user === undefined ? null : { ...user };
  }

  listUsers(): readonly User[] {
    return [...this.#state.users.values()].sort((a, b) => a.id - b.id).map((u) => ({ ...u }));
  }

  insertUser(user: NewUser): User {
    if (this.#state.users.has(user.name)) throw new Error(`insertUser: a user named "${user.name}" already exists`);
    let max = 0;
    for (const u of this.#state.users.values()) max = Math.max(max, u.id);
    const stored: User = { ...user, id: max + 1 };
    this.#state.users.set(stored.name, stored);
    return { ...stored };
  }

  putUser(user: User): void {
    if (this.#state.users.has(user.name)) throw new Error(`putUser: a user named "${user.name}" already exists`);
    for (const u of this.#state.users.values()) {
      if (u.id === user.id) throw new Error(`putUser: user id ${user.id} is taken`);
    }
    this.#state.users.set(user.name, { ...user });
  }

  updateUser(user: User): void {
    const current = [...this.#state.users.values()].find((u) => u.id === user.id);
    if (current === undefined) throw new Error(`updateUser: no user with id ${user.id}`);
    if (current.name !== user.name && this.#state.users.has(user.name))
      throw new Error(`updateUser: a user named "${user.name}" already exists`);
    // Rebuild the map so that a renamed user is keyed by its new name.
    this.#state.users.delete(current.name);
    this.#state.users.set(user.name, { ...user });
  }

  deleteUser(name: string): void {
    this.#state.users.delete(name);
  }

  getMValue(service: number): number {
    return this.#state.mValues.get(service) ?? 1;
  }

  setMValue(service: number, value: number): void {
    this.#state.mValues.set(service, value);
  }

  listTokens(): readonly Token[] {
    return [...this.#state.tokens.values()].sort((a, b) => a.id - b.id).map(copyToken);
  }

  getToken(id: number): Token | null {
    const token = this.#state.tokens.get(id);
    return token === undefined ? null : copyToken(token);
  }

  insertToken(token: NewToken): Token {
    const id = this.#state.lastTokenId + 1;
    const stored: Token = { ...token, id, approvers: [...token.approvers] };
    this.#state.lastTokenId = id;
    this.#state.tokens.set(id, stored);
    return copyToken(stored);
  }

  setTokenApprovers(id: number, approvers: readonly string[]): void {
    const token = this.#state.tokens.get(id);
    if (token === undefined) throw new Error(`setTokenApprovers: no token with id ${id}`);
    this.#state.tokens.set(id, { ...token, approvers: [...approvers] });
  }

  deleteToken(id: number): void {
    this.#state.tokens.delete(id);
  }

  getSession(id: string): Session | null {
    const session = this.#state.sessions.get(id);
    return session === undefined ? null : { ...session };
  }

  insertSession(session: Session): void {
    if (this.#state.sessions.has(session.id)) throw new Error("insertSession: duplicate session id");
    this.#state.sessions.set(session.id, { ...session });
  }

  touchSession(id: string, at: number): void {
    const session = this.#state.sessions.get(id);
    if (session === undefined) throw new Error("touchSession: no such session");
    this.#state.sessions.set(id, { ...session, lastSeenAt: at });
  }

  deleteSession(id: string): void {
    this.#state.sessions.delete(id);
  }

  listSessions(): readonly Session[] {
    return [...this.#state.sessions.values()].sort((a, b) => compareBytes(a.id, b.id)).map((s) => ({ ...s }));
  }

  getChallenge(id: string): Challenge | null {
    const challenge = this.#state.challenges.get(id);
    return challenge === undefined ? null : { ...challenge };
  }

  insertChallenge(challenge: Challenge): void {
    if (this.#state.challenges.has(challenge.id)) throw new Error("insertChallenge: duplicate challenge id");
    this.#state.challenges.set(challenge.id, { ...challenge });
  }

  deleteChallenge(id: string): void {
    this.#state.challenges.delete(id);
  }

  purgeChallenges(createdBefore: number): void {
    for (const [id, c] of this.#state.challenges) {
      if (c.createdAt < createdBefore) this.#state.challenges.delete(id);
    }
  }

  countChallenges(sessionId: string | null): number {
    let count = 0;
    for (const c of this.#state.challenges.values()) if (c.sessionId === sessionId) count++;
    return count;
  }

  getOutcome(idempotencyKey: string): StoredOutcome | null {
    const outcome = this.#state.outcomes.get(idempotencyKey);
    return outcome === undefined ? null : { ...outcome };
  }

  putOutcome(idempotencyKey: string, outcome: StoredOutcome): void {
    // An outcome is recorded once; a second write for the same key is a bug in the caller.
    if (this.#state.outcomes.has(idempotencyKey))
      throw new Error("putOutcome: an outcome is already recorded for this key");
    this.#state.outcomes.set(idempotencyKey, { ...outcome });
  }

  insertUndo(entry: UndoEntry): void {
    if (this.#state.undo.has(entry.id)) throw new Error(`insertUndo: entry ${entry.id} exists`);
    this.#state.undo.set(entry.id, { ...entry });
  }

  getUndo(id: string): UndoEntry | null {
    const e = this.#state.undo.get(id);
    return e === undefined ? null : { ...e };
  }

  deleteUndo(id: string): void {
    this.#state.undo.delete(id);
  }

  purgeUndo(createdBefore: number): void {
    for (const [id, e] of this.#state.undo) {
      if (e.createdAt < createdBefore) this.#state.undo.delete(id);
    }
  }

  getSetting(key: string): string | null {
    return this.#state.settings.get(key) ?? null;
  }

  setSetting(key: string, value: string): void {
    this.#state.settings.set(key, value);
  }

  appendAudit(entry: Omit<AuditEntry, "seq">): void {
    const seq = this.#state.lastAuditSeq + 1;
    this.#state.lastAuditSeq = seq;
    this.#state.audit.push({ ...entry, seq });
  }

  /** The newest `limit` entries, oldest first. */
  listAudit(limit: number): readonly AuditEntry[] {
    if (limit <= 0) return [];
    return this.#state.audit.slice(-limit).map((e) => ({ ...e }));
  }
}
