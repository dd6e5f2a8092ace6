// The on-disk schema of one node. STRICT tables so that a wrong type fails loudly instead of being
// coerced; no foreign keys, because the core already keeps the rows consistent inside one
// transaction and cascades would hide its mistakes. `PRAGMA user_version` carries the version.
export const SCHEMA_VERSION = 2;

export const SCHEMA_SQL = `
CREATE TABLE identity (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Counters that never go back (token ids must never be reused, even after a delete).
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id             INTEGER PRIMARY KEY,
  type           TEXT NOT NULL CHECK (type IN ('CU', 'CO', 'PCO', 'AU', 'PRECO')),
  name           TEXT NOT NULL UNIQUE,
  password_salt  TEXT NOT NULL,
  password_hash  TEXT NOT NULL,
  login_failures INTEGER NOT NULL,
  quorum_key_pem TEXT,
  two_factor     INTEGER NOT NULL CHECK (two_factor IN (0, 1))
) STRICT;

CREATE TABLE m_values (
  service INTEGER PRIMARY KEY,
  value   INTEGER NOT NULL
) STRICT;

-- key_handle is a u64: kept as decimal TEXT because SQLite integers are signed 64-bit.
-- approvers is a JSON array of names, in approval order.
CREATE TABLE tokens (
  id              INTEGER PRIMARY KEY,
  service         INTEGER NOT NULL,
  key_handle      TEXT NOT NULL,
  nonce           TEXT NOT NULL,
  user_name       TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  timeout_seconds INTEGER NOT NULL,
  session_id      TEXT,
  binding         TEXT,
  approvers       TEXT NOT NULL
) STRICT;

CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,
  user_name    TEXT NOT NULL,
  user_type    TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT;

CREATE TABLE challenges (
  id         TEXT PRIMARY KEY,
  digest     TEXT NOT NULL,
  purpose    TEXT NOT NULL CHECK (purpose IN ('login', 'enroll')),
  user_name  TEXT NOT NULL,
  session_id TEXT,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE outcomes (
  idempotency_key TEXT PRIMARY KEY,
  request_hash    TEXT NOT NULL,
  outcome_json    TEXT NOT NULL
) STRICT;

CREATE TABLE audit (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  opcode    TEXT NOT NULL,
  user_name TEXT,
  detail    TEXT NOT NULL,
  result    TEXT NOT NULL
) STRICT;
`;

/** Version 2: the undo journal behind CMU's rollBack. */
export const UNDO_TABLE_SQL = `
CREATE TABLE undo (
  id          TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  subject     TEXT NOT NULL,
  before_json TEXT NOT NULL,
  after_json  TEXT NOT NULL
) STRICT;
`;

/** Steps that bring an older database to SCHEMA_VERSION, keyed by the version they start from. */
export const MIGRATIONS: Readonly<Record<number, string>> = {
  1: UNDO_TABLE_SQL,
};
