// `quorum-gate cluster backup [--data DIR] --out DIR2`: a consistent copy of every node's
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
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { NODE_DB_FILE } from "../node/sqlite-repository.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { copyNodeDatabase, type NodeCopy } from "./backup-node.ts";
import { CLUSTER_FILE, DEFAULT_DATA_DIR, LAYOUT_FILE, nodeDir } from "./cluster.ts";

export interface ClusterBackupIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** Written by createCluster (cluster.ts) when a cluster is complete: `{ version, clusterId, nodes }`. */
const MANIFEST_FILE = "backup.json";
const TLS_DIR = "tls";

const HELP = `Usage: quorum-gate cluster backup [--data DIR] --out DIR2

Copies every node's database while the cluster runs, with SQLite's online backup: each copy is
the node's state as of one commit, with every write acknowledged before the copy began. Each copy
is checked with PRAGMA integrity_check. The cluster file and TLS material are copied too.

DIR2 becomes a cluster data directory of its own: 'quorum-gate cluster start --data DIR2' runs
the backed-up state (with the same --nodes). See docs/operations.md for restoring in place.

Options:
  --data DIR    data directory of the cluster (default ${DEFAULT_DATA_DIR})
  --out DIR2    where to write the backup; must not exist or be empty
  -h, --help    show this help

The backup holds the cluster's sealing private key and password verifiers: keep it as safe as
the data directory itself. Exit status: 0 every node copied and checked; 1 otherwise; 2 bad
arguments.
`;

interface BackupArgs {
  readonly dataDir: string;
  readonly outDir: string;
}

function parseBackupArgs(argv: readonly string[]): BackupArgs | "help" {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: "string", default: DEFAULT_DATA_DIR },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  if (values.out === undefined || values.out === "") throw new Error("--out DIR2 is required");
  if (values.data === "") throw new Error("--data must not be empty");
  return { dataDir: resolve(values.data), outDir: resolve(values.out) };
}

interface Layout {
  readonly clusterId: string;
  readonly nodes: number;
}

function readLayout(dataDir: string): Layout | string {
  const path = join(dataDir, LAYOUT_FILE);
  if (!existsSync(path)) return `${dataDir} holds no cluster (no ${LAYOUT_FILE})`;
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as { clusterId?: unknown; nodes?: unknown };
    if (typeof v.clusterId === "string" && typeof v.nodes === "number" && Number.isInteger(v.nodes) && v.nodes >= 1) return { clusterId: v.clusterId, nodes: v.nodes };
  } catch {
    // fall through
  }
  return `${path} is damaged`;
}

/** A usable output directory, created if needed; or why not. */
function prepareOut(outDir: string): string | null {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) return `${outDir} exists and is not a directory`;
    if (readdirSync(outDir).length > 0) return `${outDir} is not empty; a backup never overwrites anything: choose a new directory`;
    return null;
  }
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  return null;
}

type NodeOutcome = { readonly index: number; readonly copiedAt: string } & ({ readonly ok: true; readonly copy: NodeCopy } | { readonly ok: false; readonly error: string });

export async function runClusterBackup(argv: readonly string[], io: ClusterBackupIo): Promise<number> {
  let args: BackupArgs | "help";
  try {
    args = parseBackupArgs(argv);
  } catch (err) {
    io.stderr.write(`quorum-gate cluster backup: ${(err as Error).message}\nRun 'quorum-gate cluster backup --help' for the options.\n`);
    return 2;
  }
  if (args === "help") {
    io.stdout.write(HELP);
    return 0;
  }
  const fail = (message: string): number => {
    io.stderr.write(`quorum-gate cluster backup: ${message}\n`);
    return 1;
  };
  const { dataDir, outDir } = args;
  const layout = readLayout(dataDir);
  if (typeof layout === "string") return fail(layout);
  const outProblem = prepareOut(outDir);
  if (outProblem !== null) return fail(outProblem);

  const startedAt = new Date().toISOString();
  io.stdout.write(`backing up cluster ${layout.clusterId} (${layout.nodes} ${layout.nodes === 1 ? "node" : "nodes"}) from ${dataDir} to ${outDir}\n`);
  const outcomes: NodeOutcome[] = [];
  for (let index = 0; index < layout.nodes; index++) {
    const outcome = await backupNode(dataDir, outDir, index, layout.clusterId);
    outcomes.push(outcome);
    io.stdout.write(
      outcome.ok
        ? `server ${index} (${outcome.copy.hsmId}): ${outcome.copy.pages} pages, integrity ok, ${outcome.copy.users} users\n`
        : `server ${index}: FAILED: ${outcome.error}\n`,
    );
  }

  const extras = copyExtras(dataDir, outDir);
  if (extras.length > 0) io.stdout.write(`copied ${extras.join(", ")}\n`);
  const complete = outcomes.every((o) => o.ok);
  writeFileAtomic(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest(layout, dataDir, startedAt, complete, outcomes), null, 2)}\n`, 0o600);
  if (!complete) {
    const failed = outcomes.filter((o) => !o.ok).map((o) => o.index);
    return fail(`backup INCOMPLETE: server${failed.length === 1 ? "" : "s"} ${failed.join(", ")} could not be copied; ${outDir} is kept for inspection but cannot be started`);
  }
  // Last: its presence is what makes DIR2 a complete cluster directory (see cluster.ts).
  copyFileSync(join(dataDir, LAYOUT_FILE), join(outDir, LAYOUT_FILE));
  io.stdout.write(`backup complete: ${outDir}\n`);
  return 0;
}

async function backupNode(dataDir: string, outDir: string, index: number, clusterId: string): Promise<NodeOutcome> {
  const copiedAt = new Date().toISOString();
  const source = join(nodeDir(dataDir, index), NODE_DB_FILE);
  if (!existsSync(source)) return { index, copiedAt, ok: false, error: `no database at ${source}` };
  mkdirSync(nodeDir(outDir, index), { mode: 0o700 });
  const result = await copyNodeDatabase(source, join(nodeDir(outDir, index), NODE_DB_FILE));
  if (!result.ok) return { index, copiedAt, ok: false, error: result.error };
  if (result.value.clusterId !== clusterId) return { index, copiedAt, ok: false, error: `the database belongs to ${result.value.clusterId}, not to ${clusterId}` };
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

function manifest(layout: Layout, dataDir: string, startedAt: string, complete: boolean, outcomes: readonly NodeOutcome[]) {
  return {
    version: 1,
    clusterId: layout.clusterId,
    source: dataDir,
    startedAt,
    complete,
    nodes: outcomes.map((o) =>
      o.ok
        ? { index: o.index, copiedAt: o.copiedAt, hsmId: o.copy.hsmId, nodeId: o.copy.nodeId, pages: o.copy.pages, users: o.copy.users, integrity: "ok" }
        : { index: o.index, copiedAt: o.copiedAt, error: o.error },
    ),
  };
}
