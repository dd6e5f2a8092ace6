// The backup behind `quorum-gate cluster backup` (src/cli/cluster-backup.ts): a consistent copy of every node's
// database while the cluster keeps running (backup-node.ts), each copy checked with
// `PRAGMA integrity_check`, plus the files a cluster directory needs to start again.
//
// The output is itself a cluster data directory, laid out like DIR:
//   DIR2/node-<i>/hsm.db   the copy of node i (mode 0600: it holds the sealing private key)
//   DIR2/cluster.json      where the nodes listened when the backup was taken
//   DIR2/tls/              CA and node certificates, when the cluster had them
//   DIR2/backup.json       what was copied, when, and how each copy checked out
//   DIR2/layout.json       written last, and only when every node was copied and checked
// Without layout.json `cluster start` refuses the directory, so a half backup cannot be started by
// mistake. Restoring is done with the cluster stopped; docs/operations.md describes it.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { NODE_DB_FILE } from "../node/sqlite-repository.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { copyNodeDatabase, type NodeCopy } from "./backup-node.ts";
import { CLUSTER_FILE, LAYOUT_FILE, nodeDir } from "./cluster.ts";

/** Written by createCluster (cluster.ts) when a cluster is complete: `{ version, clusterId, nodes }`. */
const MANIFEST_FILE = "backup.json";
const TLS_DIR = "tls";

interface Layout {
  readonly clusterId: string;
  readonly nodes: number;
}

function readLayout(dataDir: string): Layout | string {
  const path = join(dataDir, LAYOUT_FILE);
  if (!existsSync(path)) return `${dataDir} holds no cluster (no ${LAYOUT_FILE})`;
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as { clusterId?: unknown; nodes?: unknown };
    if (typeof v.clusterId === "string" && typeof v.nodes === "number" && Number.isInteger(v.nodes) && v.nodes >= 1)
      return { clusterId: v.clusterId, nodes: v.nodes };
  } catch {
    // fall through
  }
  return `${path} is damaged`;
}

/** A usable output directory, created if needed; or why not. */
function prepareOut(outDir: string): string | null {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) return `${outDir} exists and is not a directory`;
    if (readdirSync(outDir).length > 0)
      return `${outDir} is not empty; a backup never overwrites anything: choose a new directory`;
    return null;
  }
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  return null;
}

export type NodeOutcome = { readonly index: number; readonly copiedAt: string } & (
  | { readonly ok: true; readonly copy: NodeCopy }
  | { readonly ok: false; readonly error: string }
);

/** What a backup reports as it goes, so that the command can print progress. */
export type BackupProgress =
  | {
      readonly kind: "started";
      readonly clusterId: string;
      readonly nodes: number;
      readonly dataDir: string;
      readonly outDir: string;
    }
  | { readonly kind: "node"; readonly outcome: NodeOutcome }
  | { readonly kind: "extras"; readonly copied: readonly string[] };

export type BackupResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * Copies every node of the cluster in `dataDir` into `outDir` (see the top of this file for the
 * layout). A failure before any copy leaves nothing behind but an empty `outDir`; a failed node
 * leaves a backup without layout.json, which `cluster start` refuses.
 */
export async function backupCluster(
  dataDir: string,
  outDir: string,
  progress: (p: BackupProgress) => void = () => {},
): Promise<BackupResult> {
  const layout = readLayout(dataDir);
  if (typeof layout === "string") return { ok: false, message: layout };
  const outProblem = prepareOut(outDir);
  if (outProblem !== null) return { ok: false, message: outProblem };

  const startedAt = new Date().toISOString();
  progress({ kind: "started", clusterId: layout.clusterId, nodes: layout.nodes, dataDir, outDir });
  const outcomes: NodeOutcome[] = [];
  for (let index = 0; index < layout.nodes; index++) {
    const outcome = await backupNode(dataDir, outDir, index, layout.clusterId);
    outcomes.push(outcome);
    progress({ kind: "node", outcome });
  }

  const extras = copyExtras(dataDir, outDir);
  if (extras.length > 0) progress({ kind: "extras", copied: extras });
  const complete = outcomes.every((o) => o.ok);
  writeFileAtomic(
    join(outDir, MANIFEST_FILE),
    `${JSON.stringify(manifest(layout, dataDir, startedAt, complete, outcomes), null, 2)}\n`,
    0o600,
  );
  if (!complete) {
    const failed = outcomes.filter((o) => !o.ok).map((o) => o.index);
    return {
      ok: false,
      message: `backup INCOMPLETE: server${failed.length === 1 ? "" : "s"} ${failed.join(", ")} could not be copied; ${outDir} is kept for inspection but cannot be started`,
    };
  }
  // Last: its presence is what makes DIR2 a complete cluster directory (see cluster.ts).
  copyFileSync(join(dataDir, LAYOUT_FILE), join(outDir, LAYOUT_FILE));
  return { ok: true };
}

async function backupNode(dataDir: string, outDir: string, index: number, clusterId: string): Promise<NodeOutcome> {
  const copiedAt = new Date().toISOString();
  const source = join(nodeDir(dataDir, index), NODE_DB_FILE);
  if (!existsSync(source)) return { index, copiedAt, ok: false, error: `no database at ${source}` };
  mkdirSync(nodeDir(outDir, index), { mode: 0o700 });
  const result = await copyNodeDatabase(source, join(nodeDir(outDir, index), NODE_DB_FILE));
  if (!result.ok) return { index, copiedAt, ok: false, error: result.error };
  if (result.value.clusterId !== clusterId)
    return {
      index,
      copiedAt,
      ok: false,
      error: `the database belongs to ${result.value.clusterId}, not to ${clusterId}`,
    };
  return { index, copiedAt, ok: true, copy: result.value };
}

/** The cluster file and the TLS material, when present; returns what was copied. */
function copyExtras(dataDir: string, outDir: string): string[] {
  const copied: string[] = [];
  if (existsSync(join(dataDir, CLUSTER_FILE))) {
    copyFileSync(join(dataDir, CLUSTER_FILE), join(outDir, CLUSTER_FILE));
    copied.push(CLUSTER_FILE);
  }
  const tls = join(dataDir, TLS_DIR);
  if (existsSync(tls)) {
    mkdirSync(join(outDir, TLS_DIR), { mode: 0o700 });
    // copyFile keeps each file's mode: private keys stay 0600.
    for (const name of readdirSync(tls)) copyFileSync(join(tls, name), join(outDir, TLS_DIR, name));
    copied.push(`${TLS_DIR}/`);
  }
  return copied;
}

function manifest(
  layout: Layout,
  dataDir: string,
  startedAt: string,
  complete: boolean,
  outcomes: readonly NodeOutcome[],
) {
  return {
    version: 1,
    clusterId: layout.clusterId,
    source: dataDir,
    startedAt,
    complete,
    nodes: outcomes.map((o) =>
      o.ok
        ? {
            index: o.index,
            copiedAt: o.copiedAt,
            hsmId: o.copy.hsmId,
            nodeId: o.copy.nodeId,
            pages: o.copy.pages,
            users: o.copy.users,
            integrity: "ok",
          }
        : { index: o.index, copiedAt: o.copiedAt, error: o.error },
    ),
  };
}
