// One node's database copied while its node keeps serving, with SQLite's online backup.
//
// Why this and not `cp hsm.db`: the node runs in WAL mode, so recent commits may live only in
// hsm.db-wal; a plain copy of the files taken during a write can be torn or miss them. The online
// backup reads through SQLite, inside one read transaction, so the copy is exactly the database
// as of one commit: every write acknowledged before it started, nothing half-applied. In WAL mode a
// reader never blocks the node's writers, and the node never blocks the reader.
import { closeSync, fsyncSync, openSync } from "node:fs";
import { backup, DatabaseSync } from "node:sqlite";
import { openNodeDatabase } from "../node/sqlite-repository.ts";

/**
 * Pages copied per step. SQLite restarts a stepwise backup whenever another connection writes in
 * between, which a busy node could do forever; copying everything in one step reads one snapshot
 * and cannot be restarted. The node databases are small, so one step is short.
 */
const ALL_PAGES = 0x7fffffff;
/** How long to wait for a lock the node holds for a moment (a WAL checkpoint). */
const BUSY_TIMEOUT_MS = 5000;

export interface NodeCopy {
  readonly pages: number;
  readonly clusterId: string;
  readonly hsmId: string;
  readonly nodeId: number;
  readonly users: number;
}

export type NodeCopyResult =
  | { readonly ok: true; readonly value: NodeCopy }
  | { readonly ok: false; readonly error: string };

/** Copies `sourcePath` to `destinationPath` (which must not exist), then checks the copy. */
export async function copyNodeDatabase(sourcePath: string, destinationPath: string): Promise<NodeCopyResult> {
  // Created exclusively and private first: the database holds the cluster's sealing private key.
  closeSync(openSync(destinationPath, "wx", 0o600));
  let pages: number;
  let source: DatabaseSync | undefined;
  try {
    // Read-only: the backup must never write to a live node's database.
    source = new DatabaseSync(sourcePath, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
    pages = await backup(source, destinationPath, { rate: ALL_PAGES });
  } catch (err) {
    return { ok: false, error: `the online backup failed: ${(err as Error).message}` };
  } finally {
    source?.close();
  }

  const integrity = integrityCheck(destinationPath);
  if (integrity !== null) return { ok: false, error: integrity };
  let copy: NodeCopy;
  try {
    // The node's own reader: checks the schema version and decodes the identity as a node would.
    const repo = openNodeDatabase(destinationPath);
    try {
      const id = repo.identity();
      copy = { pages, clusterId: id.clusterId, hsmId: id.hsmId, nodeId: id.nodeId, users: repo.listUsers().length };
    } finally {
      // Closing the last connection folds the WAL into the file, so the copy is a single file.
      repo.close();
    }
    fsyncFile(destinationPath);
  } catch (err) {
    return { ok: false, error: `the copy cannot be read as a node database: ${(err as Error).message}` };
  }
  return { ok: true, value: copy };
}

/** null when `PRAGMA integrity_check` says ok, else what it found (first lines). */
function integrityCheck(path: string): string | null {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    const rows = db
      .prepare("PRAGMA integrity_check")
      .all()
      .map((r) => String(Object.values(r)[0]));
    return rows.length === 1 && rows[0] === "ok" ? null : `integrity_check failed: ${rows.slice(0, 5).join("; ")}`;
  } catch (err) {
    return `integrity_check could not run: ${(err as Error).message}`;
  } finally {
    db?.close();
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
