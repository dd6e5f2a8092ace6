// `quorum-gate drill open | check`: quorum drills (docs/governance.md, "Drills"). `open` writes a
// fresh drill document (random challenge, window); officers sign it with the same openssl line as
// an approval; `check` verifies the answers against the keys the cluster holds now and reports
// who can still sign, against M and M + 1. Nothing is replayed: a drill signature is over a
// document no node and no gate would accept as an approval.
//
// Exit codes: 0 healthy (M + 1 or more answered in the window); 1 unhealthy (reason
// drill_below_m_plus_1 or drill_below_m), an unusable file or an unreachable cluster; 2 bad arguments.
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { DEFAULT_CLUSTER_FILE, readClusterFile, type ClusterFile } from "../cluster/cluster-file.ts";
import { createNodeClient } from "../protocol/node-client.ts";
import {
  DEFAULT_DRILL_WINDOW_SECONDS,
  judgeDrill,
  openDrill,
  parseDrill,
  renderDrill,
  renderDrillReport,
  type DrillAnswer,
} from "../gate/drill.ts";
import type { QuorumValues } from "../gate/operation.ts";
import { parseCommandArgs } from "./args.ts";
import type { CliIo } from "./io.ts";
import { annotationCommand } from "./workflow-command.ts";

const HELP = `Usage:
  quorum-gate drill open  [--cluster FILE] [--window-seconds N] [--out FILE]
  quorum-gate drill check --drill FILE --answer OFFICER=SIGFILE... [--cluster FILE] [--summary FILE]
                          [--annotate] [--json]

A quorum drill: learn, before you need it, how many officers can still sign.

open    writes a drill document (title line "quorum-gate drill v1", the cluster id, a random
        challenge, opened-at and closes-at) to --out or stdout. Each officer signs it exactly as
        they sign an approval:
          openssl dgst -sha256 -sign officer.key -out officer.sig drill.txt
check   verifies each answer (raw or base64 signature file) under the quorum key the cluster holds
        for that officer, and reports who answered within the window against M and M + 1 of
        services 3 and 4. The report (Markdown) goes to stdout, and is appended to --summary
        (for example "$GITHUB_STEP_SUMMARY" in a workflow). With --annotate it also prints the
        verdict as a GitHub Actions annotation, so it shows on the job's check run.

Options:
  --cluster FILE        cluster file (default ${DEFAULT_CLUSTER_FILE})
  --window-seconds N    how long the drill stays open (default ${DEFAULT_DRILL_WINDOW_SECONDS}; 60 to 1209600)
  --out FILE            where open writes the drill document (default: stdout)
  --drill FILE          the drill document check judges
  --answer OFFICER=FILE an officer's signature; repeat for each officer
  --summary FILE        also append the report to this file
  --annotate            also print the verdict as a workflow command (::notice or ::error), for
                        the check run of the workflow job that runs the drill
  --json                print the report as JSON instead of Markdown
  -h, --help            show this help

Exit status: 0 healthy; 1 unhealthy (drill_below_m_plus_1: fewer than M + 1 answered;
drill_below_m: fewer than M), an unusable file or an unreachable cluster; 2 bad arguments.
`;

export interface DrillDeps {
  /** Unix seconds. */
  now(): number;
  entropy(bytes: number): Uint8Array;
  /** Officer keys and M values, from every node of the cluster. */
  readCluster(
    file: ClusterFile,
  ): Promise<
    { ok: true; keys: ReadonlyMap<string, string>; quorumValues: QuorumValues } | { ok: false; message: string }
  >;
}

const realDeps: DrillDeps = {
  now: () => Math.floor(Date.now() / 1000),
  entropy: (n) => randomBytes(n),
  readCluster,
};

export async function runDrill(
  argv: readonly string[],
  io: Pick<CliIo, "stdout" | "stderr">,
  deps: DrillDeps = realDeps,
): Promise<number> {
  const [sub, ...rest] = argv;
  const fail = (code: 1 | 2, message: string): number => {
    io.stderr.write(
      `quorum-gate drill: ${message}\n${code === 2 ? "Run 'quorum-gate drill --help' for the options.\n" : ""}`,
    );
    return code;
  };
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "open" && sub !== "check") return fail(2, `unknown subcommand '${sub}': open or check`);
  const parsed = parseCommandArgs(
    rest,
    {
      cluster: { type: "string", default: DEFAULT_CLUSTER_FILE },
      "window-seconds": { type: "string", default: String(DEFAULT_DRILL_WINDOW_SECONDS) },
      out: { type: "string" },
      drill: { type: "string" },
      answer: { type: "string", multiple: true, default: [] },
      summary: { type: "string" },
      json: { type: "boolean", default: false },
      annotate: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    0,
    "a drill takes no secrets; officers sign with their own key, elsewhere",
  );
  if (!parsed.ok) return fail(2, parsed.message);
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const file = readClusterFile(v.cluster);
  if (!file.ok) return fail(1, file.error);

  if (sub === "open") {
    const w = v["window-seconds"];
    const opened = openDrill({
      clusterId: file.value.clusterId,
      now: deps.now(),
      windowSeconds: /^[0-9]{1,8}$/.test(w) ? Number(w) : Number.NaN,
      entropy: deps.entropy,
    });
    if (!opened.ok) return fail(2, `${opened.reason}: ${opened.message}`);
    const bytes = renderDrill(opened.drill);
    if (v.out === undefined) io.stdout.write(bytes);
    else {
      writeFileSync(v.out, bytes);
      io.stdout.write(
        `wrote ${v.out}: drill for cluster ${opened.drill.clusterId}, closes ${opened.drill.closesAt}\nEach officer signs it: openssl dgst -sha256 -sign officer.key -out officer.sig ${v.out}\n`,
      );
    }
    return 0;
  }

  if (v.drill === undefined) return fail(2, "check needs --drill FILE");
  // The annotation is a line on stdout; inside JSON output it would make the document unreadable.
  if (v.annotate && v.json) return fail(2, "--annotate and --json do not go together: both write to stdout");
  let drillBytes: Buffer;
  try {
    drillBytes = readFileSync(v.drill);
  } catch (err) {
    return fail(1, `cannot read ${v.drill}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const drill = parseDrill(drillBytes);
  if (!drill.ok) return fail(1, `${drill.reason}: ${drill.message}`);
  if (drill.drill.clusterId !== file.value.clusterId)
    return fail(
      1,
      `cluster_mismatch: the drill is for cluster ${drill.drill.clusterId}, but the cluster file is for ${file.value.clusterId}`,
    );
  const answers: DrillAnswer[] = [];
  for (const a of v.answer) {
    const eq = a.indexOf("=");
    if (eq <= 0) return fail(2, `--answer must be OFFICER=SIGFILE, not "${a.slice(0, 40)}"`);
    const sig = readSignature(a.slice(eq + 1));
    if (sig === null) return fail(1, `cannot read a signature from ${a.slice(eq + 1)} (raw 256 bytes, or base64)`);
    answers.push({ officer: a.slice(0, eq), signature: sig });
  }
  const cluster = await deps.readCluster(file.value);
  if (!cluster.ok) return fail(1, cluster.message);
  const report = judgeDrill({
    drill: drill.drill,
    answers,
    officerKeys: cluster.keys,
    quorumValues: cluster.quorumValues,
    now: deps.now(),
  });
  const text = renderDrillReport(report);
  io.stdout.write(
    v.json
      ? `${JSON.stringify({ reason: report.reason, healthy: report.healthy, message: report.message, drill: report.drill, officers: report.officers, services: report.services }, null, 2)}\n`
      : text,
  );
  if (v.summary !== undefined) appendFileSync(v.summary, text);
  if (v.annotate)
    io.stdout.write(
      annotationCommand(
        report.healthy ? "notice" : "error",
        `Quorum drill: ${report.healthy ? "healthy" : "unhealthy"}`,
        `${report.reason}: ${report.message}`,
      ),
    );
  if (!report.healthy) io.stderr.write(`quorum-gate drill: ${report.reason}: ${report.message}\n`);
  return report.healthy ? 0 : 1;
}

function readSignature(path: string): Uint8Array | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return null;
  }
  if (bytes.length === 256) return bytes;
  const text = bytes.toString("utf8").trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  const decoded = Buffer.from(text, "base64");
  return decoded.length === 256 ? decoded : null;
}

/** Keys and M values from every node; a key that differs between nodes is left out (it would not verify everywhere). */
async function readCluster(
  file: ClusterFile,
): Promise<
  { ok: true; keys: ReadonlyMap<string, string>; quorumValues: QuorumValues } | { ok: false; message: string }
> {
  const clients = file.nodes.map((n) =>
    createNodeClient(
      file.ca === undefined ? { host: n.host, port: n.port } : { host: n.host, port: n.port, ca: file.ca },
      { timeoutMs: 5000 },
    ),
  );
  try {
    const answers = await Promise.all(
      clients.map(async (c) => [await c.call("quorum-keys", {}), await c.call("quorum-values", {})] as const),
    );
    const failed = answers.findIndex(([k, q]) => !k.ok || !q.ok);
    if (failed >= 0) return { ok: false, message: `server ${failed} did not answer: a drill needs every node` };
    const perNode = answers.map(
      ([k]) => new Map(k.ok ? k.data.keys.map((x) => [x.userName.toLowerCase(), x.publicKeyPem]) : []),
    );
    const keys = new Map<string, string>();
    for (const [name, pem] of perNode[0] ?? new Map<string, string>())
      if (perNode.every((m) => m.get(name) === pem)) keys.set(name, pem);
    const values = answers.map(([, q]) => (q.ok ? q.data : { user: 0, quorum: 0 }));
    // The strictest M any node holds: a drill must not report health the cluster does not have.
    return {
      ok: true,
      keys,
      quorumValues: { user: Math.max(...values.map((x) => x.user)), quorum: Math.max(...values.map((x) => x.quorum)) },
    };
  } finally {
    for (const c of clients) c.close();
  }
}
