// `quorum-gate cluster status`: asks every node of the cluster file what it holds, and shows where
// the nodes disagree. This file only parses arguments and prints (src/cluster/status-render.ts or
// JSON); asking the nodes is src/cluster/status-report.ts, the comparison src/cluster/drift.ts.
//
// Exit codes: 0 every node answered as itself and nothing differs; 1 drift, an unreachable or
// wrong node, or a cluster file that cannot be used (as `cmu`); 2 bad arguments.
import { DEFAULT_CLUSTER_FILE, readClusterFile } from "../cluster/cluster-file.ts";
import { gatherReport } from "../cluster/status-report.ts";
import { renderStatus } from "../cluster/status-render.ts";
import { parseCommandArgs } from "./args.ts";

export interface ClusterStatusIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

const DEFAULT_TIMEOUT_MS = 5000;
const JSON_REPORT_VERSION = 1;

const HELP = `Usage: quorum-gate cluster status [--cluster FILE] [--json] [--timeout-ms N]

Asks every node of the cluster what it holds and shows where the nodes disagree. CloudHSM does
not synchronize its HSMs: an operation that succeeded on one node and failed on another leaves
them different until an operator repairs it (syncUser in the shell's server mode).

For each node: reachable or not (and why), whether it is the node the cluster file names
(cluster id, hsm id, node id), and its counts. Then every user that is not the same on all nodes
that answered (missing, type, id, quorum key, 2FA, locked) and every M value of services 3 and 4
that differs. No login is needed. Passwords cannot be compared: nodes never reveal them.

Options:
  --cluster FILE    cluster file written by 'quorum-gate cluster start' (default ${DEFAULT_CLUSTER_FILE})
  --json            print a machine-readable report instead of the tables
  --timeout-ms N    a node that does not answer within N ms counts as unreachable (default ${DEFAULT_TIMEOUT_MS})
  -h, --help        show this help

Exit status: 0 all nodes answered and agree; 1 drift, a node unreachable or not the expected
one, or an unusable cluster file; 2 bad arguments.
`;

interface StatusArgs {
  readonly clusterFile: string;
  readonly json: boolean;
  readonly timeoutMs: number;
}

function parseStatusArgs(argv: readonly string[]): StatusArgs | "help" {
  const parsed = parseCommandArgs(
    argv,
    {
      cluster: { type: "string", default: DEFAULT_CLUSTER_FILE },
      json: { type: "boolean", default: false },
      "timeout-ms": { type: "string", default: String(DEFAULT_TIMEOUT_MS) },
      help: { type: "boolean", short: "h", default: false },
    },
    0,
    "cluster status takes no secrets",
  );
  if (!parsed.ok) throw new Error(parsed.message);
  const { values } = parsed;
  if (values.help) return "help";
  const t = values["timeout-ms"];
  if (!/^[0-9]{1,7}$/.test(t) || Number(t) < 1)
    throw new Error(`--timeout-ms must be a whole number of milliseconds (1 to 9999999), not "${t}"`);
  if (values.cluster === "") throw new Error("--cluster must not be empty");
  return { clusterFile: values.cluster, json: values.json, timeoutMs: Number(t) };
}

export async function runClusterStatus(argv: readonly string[], io: ClusterStatusIo): Promise<number> {
  let args: StatusArgs | "help";
  try {
    args = parseStatusArgs(argv);
  } catch (err) {
    io.stderr.write(
      `quorum-gate cluster status: ${(err as Error).message}\nRun 'quorum-gate cluster status --help' for the options.\n`,
    );
    return 2;
  }
  if (args === "help") {
    io.stdout.write(HELP);
    return 0;
  }
  const file = readClusterFile(args.clusterFile);
  if (!file.ok) {
    io.stderr.write(`quorum-gate cluster status: ${file.error}\n`);
    return 1;
  }

  const report = await gatherReport(file.value, args.timeoutMs);
  if (args.json)
    io.stdout.write(
      `${JSON.stringify({ version: JSON_REPORT_VERSION, clusterFile: args.clusterFile, ...report }, null, 2)}\n`,
    );
  else io.stdout.write(`${renderStatus(report, args.clusterFile).join("\n")}\n`);
  return report.verdict.ok ? 0 : 1;
}
