// `quorum-gate audit`: every operation whose evidence landed on the first-parent history of a
// revision, each verified as `quorum-gate verify` verifies it (the same code), with the nodes'
// replay results when a cluster file is given (docs/audit.md).
//
// Exit codes: 0 every listed operation verifies; 1 one does not; 2 bad arguments, not a git
// repository, or an unreadable cluster file.
import { auditHistory } from "../audit/audit-log.ts";
import { GitError, openRepository, resolveCommit } from "../audit/git.ts";
import { auditJson, renderAuditTable } from "../audit/render.ts";
import { replayHolds } from "../audit/replay-status.ts";
import { readClusterFile } from "../cluster/cluster-file.ts";
import { createClusterReader, type ClusterReader } from "../cluster/gateway.ts";
import { parseCommandArgs } from "./args.ts";
import { isRefusal, refuse, type Refusal } from "./refusal.ts";
import type { CliIo } from "./io.ts";

const HELP = `Usage: quorum-gate audit [--repo DIR] [--rev REV] [--cluster FILE] [--timeout-ms N] [--json]

Lists every operation of the gate in the history of a repository, oldest first: each commit on
the first-parent history of REV that landed an evidence folder (a merged request, or a policy
change), with its date, pull request, operation, who requested it, who approved it and when,
whether its evidence still verifies (exactly as 'quorum-gate verify' checks it), and with
--cluster, what each node recorded when the gate replayed it.

On a real cluster (backend cloudhsm-cli) the replay column lists the execution windows the gate
recorded under refs/quorum-gate/windows/, each verified (countersignatures, approvals, approval
file). A clone does not fetch them by default:
  git fetch origin '+refs/quorum-gate/windows/*:refs/quorum-gate/windows/*'

  --repo DIR        the repository (default: the current directory)
  --rev REV         whose first-parent history to list (default: HEAD)
  --cluster FILE    a cluster file (cluster.json): ask every node, read-only, for the outcome it
                    recorded under each operation's idempotency key; without it the replay
                    column says unknown (replay results are not in git)
  --timeout-ms N    per node request, with --cluster (default 10000)
  --json            print one JSON array, one object per operation
  -h, --help        show this help

Exit status: 0 every listed operation verifies, and every window record with it (the nodes'
replay results do not change it); 1 one does not;
2 bad arguments, not a git repository, or an unreadable cluster file.
`;

const OPTIONS = {
  repo: { type: "string" },
  rev: { type: "string" },
  cluster: { type: "string" },
  "timeout-ms": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function runAudit(argv: string[], io: CliIo): Promise<number> {
  const outcome = await audit(argv, io);
  if (isRefusal(outcome)) {
    io.stderr.write(`quorum-gate audit: ${outcome.message}\n`);
    return outcome.refused;
  }
  return outcome;
}

async function audit(argv: string[], io: CliIo): Promise<number | Refusal> {
  const parsed = parseCommandArgs(argv, OPTIONS, 0, "audit takes no secrets");
  if (!parsed.ok) return refuse(2, `${parsed.message}\nRun 'quorum-gate audit --help' for the options.`);
  const v = parsed.values;
  if (v.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  let timeoutMs: number | undefined;
  if (v["timeout-ms"] !== undefined) {
    if (!/^[1-9][0-9]{0,6}$/.test(v["timeout-ms"]))
      return refuse(2, "--timeout-ms must be a whole number of milliseconds");
    if (v.cluster === undefined) return refuse(2, "--timeout-ms goes with --cluster");
    timeoutMs = Number(v["timeout-ms"]);
  }
  const opened = await openRepository(v.repo ?? ".");
  if (!opened.ok) return refuse(2, opened.message);
  const revName = v.rev ?? "HEAD";
  const rev = await resolveCommit(opened.repo, revName);
  if (rev === null) return refuse(2, `${revName} is not a commit in ${opened.repo.dir}`);

  let reader: ClusterReader | null = null;
  if (v.cluster !== undefined) {
    const file = readClusterFile(v.cluster);
    if (!file.ok) return refuse(2, file.error);
    reader = createClusterReader(file.value, timeoutMs === undefined ? {} : { timeoutMs });
  }
  try {
    const entries = await auditHistory(opened.repo, rev, reader);
    io.stdout.write(v.json === true ? `${JSON.stringify(auditJson(entries), null, 2)}\n` : renderAuditTable(entries));
    return entries.every((e) => e.verification.holds && replayHolds(e.replay)) ? 0 : 1;
  } catch (err) {
    if (err instanceof GitError) return refuse(2, `git: ${err.message}`);
    throw err;
  } finally {
    reader?.close();
  }
}
