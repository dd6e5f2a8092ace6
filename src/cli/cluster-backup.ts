// `quorum-gate cluster backup [--data DIR] --out DIR2`: reads the arguments, runs the backup
// (src/cluster/backup.ts) and prints its progress. Restoring is in docs/operations.md.
import { resolve } from "node:path";
import { DEFAULT_DATA_DIR } from "../cluster/cluster.ts";
import { backupCluster, type BackupProgress } from "../cluster/backup.ts";
import { parseCommandArgs } from "./args.ts";

export interface ClusterBackupIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

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

const NO_SECRETS = "cluster backup takes no secrets";

export async function runClusterBackup(argv: readonly string[], io: ClusterBackupIo): Promise<number> {
  const usage = (message: string): number => {
    io.stderr.write(
      `quorum-gate cluster backup: ${message}\nRun 'quorum-gate cluster backup --help' for the options.\n`,
    );
    return 2;
  };
  const parsed = parseCommandArgs(
    argv,
    {
      data: { type: "string", default: DEFAULT_DATA_DIR },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    0,
    NO_SECRETS,
  );
  if (!parsed.ok) return usage(parsed.message);
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values.out === undefined || values.out === "") return usage("--out DIR2 is required");
  if (values.data === "") return usage("--data must not be empty");
  const outDir = resolve(values.out);
  const result = await backupCluster(resolve(values.data), outDir, (p) => io.stdout.write(progressLine(p)));
  if (!result.ok) {
    io.stderr.write(`quorum-gate cluster backup: ${result.message}\n`);
    return 1;
  }
  io.stdout.write(`backup complete: ${outDir}\n`);
  return 0;
}

function progressLine(p: BackupProgress): string {
  switch (p.kind) {
    case "started":
      return `backing up cluster ${p.clusterId} (${p.nodes} ${p.nodes === 1 ? "node" : "nodes"}) from ${p.dataDir} to ${p.outDir}\n`;
    case "node":
      return p.outcome.ok
        ? `server ${p.outcome.index} (${p.outcome.copy.hsmId}): ${p.outcome.copy.pages} pages, integrity ok, ${p.outcome.copy.users} users\n`
        : `server ${p.outcome.index}: FAILED: ${p.outcome.error}\n`;
    case "extras":
      return `copied ${p.copied.join(", ")}\n`;
  }
}
