// `quorum-gate request <kind>`: writes one request file (docs/requests.md) for a pull request.
// The cluster id and the password-sealing key come from the cluster itself (no login needed);
// a password is read from stdin or a terminal, checked against the HSM's rules, sealed with
// RSA-OAEP-SHA256 to the cluster's key and never printed. Every field is judged by the gate's own
// parser before anything is asked or written, and the file is parsed back before it is written.
//
// Exit codes: 0 written; 1 the cluster, the cluster file or the output file is the problem;
// 2 bad arguments or a password the HSM would refuse.
import type { KeyObject } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { backendOf, DEFAULT_CLUSTER_FILE, readClusterFile, type ClusterFile } from "../cluster/cluster-file.ts";
import { parsePublicKey } from "../crypto/rsa.ts";
import { sealSecret } from "../crypto/seal.ts";
import {
  DEFAULT_REQUEST_FOLDER,
  describeOperation,
  parseRequest,
  type GateIssue,
  type GateRequest,
  type RequestOperation,
} from "../gate/index.ts";
import { checkPassword } from "../hsm/rules.ts";
import { parseCommandArgs } from "./args.ts";
import { isRefusal, refuse, type Refusal } from "./refusal.ts";
import { fetchClusterSealingKey } from "./cluster-sealing-key.ts";
import { findRepoPolicy } from "./repo-policy.ts";
import {
  PLACEHOLDER_SEALED_PASSWORD,
  renderRequestDocument,
  renderRequestFile,
  type RequestDocument,
} from "./request-file.ts";
import type { CliIo } from "./io.ts";
import { createHiddenPrompter, readSecretLine } from "./secret-input.ts";

const KINDS = {
  "create-user": "createUser",
  "delete-user": "deleteUser",
  "change-password": "changePswd",
  "set-m-value": "setMValue",
} as const satisfies Record<string, RequestOperation["kind"]>;
type CliKind = keyof typeof KINDS;

const DEFAULT_TIMEOUT_MS = 10_000;

const HELP = `Usage:
  quorum-gate request create-user     --type CO|CU --name NAME --reason TEXT [options]
  quorum-gate request delete-user     --type CO|CU --name NAME --reason TEXT [options]
  quorum-gate request change-password --type CO|CU --name NAME --reason TEXT [options]
  quorum-gate request set-m-value     --service 3|4 --value M  --reason TEXT [options]

Writes one request file for a pull request (docs/requests.md). The cluster id and the key that
seals passwords are read from the cluster's nodes (no login needed). create-user and
change-password ask for the new password: on a terminal twice, without echo; otherwise give
--password-stdin and pipe one line. The password must meet the HSM's rules (7 to 32
characters); it is sealed with RSA-OAEP-SHA256 so that only the cluster's nodes can open it,
and it is never written or printed. Passwords are never accepted as arguments.

Options:
  --cluster FILE        cluster file (default ${DEFAULT_CLUSTER_FILE})
  --type CO|CU          user type (create-user, delete-user, change-password)
  --name NAME           user name, 1 to 31 letters, digits or underscores (stored in lower case)
  --service 3|4         quorum service of set-m-value: 3 USER_MGMT, 4 MISC_CO
  --value M             new M for set-m-value, 2 to 8
  --reason TEXT         why; shown to the approving officers (required, at most 1,000 characters)
  --requested-by LOGIN  GitHub login of who asked (optional, informational)
  --password-stdin      read the password from the first line of stdin (on a terminal: asked
                        once, without echo)
  --out FILE            where to write (default: <yyyy-mm-dd>-<kind>-<name or service>.yml in the
                        request folder of the repository's .github/quorum-gate.yml, else in
                        ${DEFAULT_REQUEST_FOLDER})
  --force               overwrite FILE if it exists
  --timeout-ms N        a node that does not answer within N ms counts as unreachable (default ${DEFAULT_TIMEOUT_MS})
  -h, --help            show this help

Exit status: 0 written; 1 the cluster, the cluster file or the output file is the problem;
2 bad arguments or a password the HSM would refuse.
`;

const OPTIONS = {
  cluster: { type: "string" },
  type: { type: "string" },
  name: { type: "string" },
  service: { type: "string" },
  value: { type: "string" },
  reason: { type: "string" },
  "requested-by": { type: "string" },
  "password-stdin": { type: "boolean" },
  out: { type: "string" },
  force: { type: "boolean" },
  "timeout-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Which option stands for which field of the file, so the gate's messages name what to fix. */
const OPTION_OF_PATH: Readonly<Record<string, string>> = {
  cluster: "the cluster file's clusterId",
  "operation.type": "--type",
  "operation.name": "--name",
  "operation.service": "--service",
  "operation.value": "--value",
  reason: "--reason",
  requested_by: "--requested-by",
};

export async function runRequest(argv: string[], io: CliIo, now: () => Date = () => new Date()): Promise<number> {
  const outcome = await request(argv, io, now);
  if (isRefusal(outcome)) {
    io.stderr.write(`quorum-gate request: ${outcome.message}\n`);
    return outcome.refused;
  }
  return 0;
}

interface Plan {
  readonly cliKind: CliKind;
  readonly needsPassword: boolean;
  readonly passwordFromStdin: boolean;
  readonly clusterPath: string;
  readonly timeoutMs: number;
  readonly out: string | undefined;
  readonly force: boolean;
  readonly document: RequestDocument;
}

async function request(argv: string[], io: CliIo, now: () => Date): Promise<Refusal | "done"> {
  const plan = planRequest(argv, io);
  if (plan === "help") {
    io.stdout.write(HELP);
    return "done";
  }
  if (isRefusal(plan)) return plan;

  const clusterFile = readClusterFile(plan.clusterPath);
  if (!clusterFile.ok) return refuse(1, clusterFile.error);

  // Judge every field with the gate's parser before asking for a password or calling the cluster.
  const draft: RequestDocument = { ...plan.document, cluster: clusterFile.value.clusterId };
  const probe = parseRequest(Buffer.from(renderRequestDocument(draft), "utf8"));
  if (!probe.ok)
    return refuse(
      2,
      `the gate would refuse this request:\n${probe.issues.map((i) => `  ${describeIssue(i)}`).join("\n")}`,
    );

  const folder = requestFolder(plan, clusterFile.value.clusterId);
  if (isRefusal(folder)) return folder;
  const outPath = plan.out ?? join(folder, defaultFileName(plan.cliKind, probe.request.operation, now()));
  if (!plan.force && existsSync(outPath)) return refuse(1, `${outPath} exists; use --force to overwrite it`);
  if (plan.out !== undefined && !existsSync(dirname(outPath)))
    return refuse(1, `the folder of ${outPath} does not exist`);

  const sealing = await sealingKeyOf(clusterFile.value, plan.timeoutMs, plan.needsPassword);
  if (!sealing.ok) return refuse(1, sealing.error);
  for (const u of sealing.value.unreachable)
    io.stderr.write(`note: ${u} did not answer; the other nodes gave the sealing key\n`);

  let final: GateRequest = probe.request;
  const op = final.operation;
  if (op.kind === "createUser" || op.kind === "changePswd") {
    const key = sealing.value.key;
    if (key === null) return refuse(1, "no_password_key: there is no key to seal the password to");
    const password = await readNewPassword(io, plan.passwordFromStdin);
    if (isRefusal(password)) return password;
    final = {
      ...final,
      operation: { ...op, sealedPassword: sealSecret(key, password).toString("base64") },
    };
  }

  const rendered = renderRequestFile(final);
  if (!rendered.ok) return refuse(1, `refusing to write ${outPath}: ${rendered.message}`);
  const written = writeRequest(outPath, rendered.bytes, plan);
  if (written !== null) return written;
  const sealedNote = plan.needsPassword
    ? `; password sealed to the ${sealing.value.whose} ${sealing.value.fingerprint.slice(0, 16)}…`
    : "";
  io.stdout.write(
    [
      `wrote ${outPath}`,
      `request digest (SHA-256): ${rendered.digest}`,
      `${describeOperation(final.operation)} on ${final.cluster}${sealedNote}`,
      "",
    ].join("\n"),
  );
  return "done";
}

/**
 * Where a request goes without --out: the request folder of the repository's policy (checked to
 * govern this cluster), or hsm-requests/ outside a governed repository.
 */
function requestFolder(plan: Plan, clusterId: string): string | Refusal {
  const found = findRepoPolicy(process.cwd());
  if (found.kind === "invalid") {
    if (plan.out !== undefined) return DEFAULT_REQUEST_FOLDER;
    return refuse(
      1,
      `the repository's policy ${found.path} is not valid, so its request folder is unknown (give --out):\n${found.problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
  if (found.kind === "none") return DEFAULT_REQUEST_FOLDER;
  if (found.policy.cluster !== clusterId) {
    return refuse(
      1,
      `the repository's policy governs cluster ${found.policy.cluster}, but the cluster file names ${clusterId}: the gate would refuse this request (use --cluster for the right cluster file)`,
    );
  }
  return join(found.root, found.policy.requestFolder);
}

/** Arguments to a plan, or the usage error. Nothing is read or asked yet. */
function planRequest(argv: string[], io: CliIo): Plan | Refusal | "help" {
  const parsed = parseCommandArgs(argv, OPTIONS, 1, "use --password-stdin, or answer the prompt on a terminal");
  if (!parsed.ok) return refuse(2, `${parsed.message}\nRun 'quorum-gate request --help' for the options.`);
  const v = parsed.values;
  if (v.help === true) return "help";
  const cliKind = parsed.positionals[0];
  if (cliKind === undefined)
    return refuse(
      2,
      `which request? one of ${Object.keys(KINDS).join(", ")}\nRun 'quorum-gate request --help' for the options.`,
    );
  if (!isCliKind(cliKind))
    return refuse(2, `unknown request kind '${cliKind.slice(0, 40)}'; use one of ${Object.keys(KINDS).join(", ")}`);
  const kind = KINDS[cliKind];
  const userKind = kind !== "setMValue";
  const needsPassword = kind === "createUser" || kind === "changePswd";
  const passwordFromStdin = v["password-stdin"] === true;

  const required = userKind ? (["type", "name", "reason"] as const) : (["service", "value", "reason"] as const);
  const missing = required.filter((o) => v[o] === undefined);
  if (missing.length > 0) return refuse(2, `${cliKind} needs ${missing.map((o) => `--${o}`).join(", ")}`);
  const foreign = (userKind ? (["service", "value"] as const) : (["type", "name"] as const)).filter(
    (o) => v[o] !== undefined,
  );
  if (foreign.length > 0) return refuse(2, `${cliKind} does not take ${foreign.map((o) => `--${o}`).join(" or ")}`);
  if (!needsPassword && passwordFromStdin) return refuse(2, `${cliKind} takes no password; drop --password-stdin`);
  if (needsPassword && !passwordFromStdin && !io.isTTY)
    return refuse(2, "stdin is not a terminal, so the password cannot be asked for: pipe it with --password-stdin");
  const timeoutMs = v["timeout-ms"] === undefined ? DEFAULT_TIMEOUT_MS : Number(v["timeout-ms"]);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000)
    return refuse(2, "--timeout-ms must be a whole number of milliseconds, 1 to 600000");

  const operation: Record<string, string> = userKind
    ? { kind, type: (v.type ?? "").toUpperCase(), name: v.name ?? "" }
    : { kind, service: v.service ?? "", value: v.value ?? "" };
  if (needsPassword) operation["sealed_password"] = PLACEHOLDER_SEALED_PASSWORD;
  const requestedBy = v["requested-by"]?.replace(/^@/, "");
  const document: RequestDocument = {
    version: 1,
    cluster: "",
    operation,
    reason: (v.reason ?? "").trim(),
    ...(requestedBy === undefined ? {} : { requested_by: requestedBy }),
  };
  return {
    cliKind,
    needsPassword,
    passwordFromStdin,
    clusterPath: v.cluster ?? DEFAULT_CLUSTER_FILE,
    timeoutMs,
    out: v.out,
    force: v.force === true,
    document,
  };
}

/** Exclusive create unless --force: a file that appeared meanwhile is not overwritten either. */
function writeRequest(outPath: string, bytes: Buffer, plan: Plan): Refusal | null {
  try {
    if (plan.out === undefined) mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, bytes, { flag: plan.force ? "w" : "wx", mode: 0o644 });
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return refuse(
      1,
      code === "EEXIST"
        ? `${outPath} exists; use --force to overwrite it`
        : `cannot write ${outPath}: ${code ?? "error"}`,
    );
  }
}

function isCliKind(s: string): s is CliKind {
  return Object.hasOwn(KINDS, s);
}

function describeIssue(i: GateIssue): string {
  const option = OPTION_OF_PATH[i.path];
  return option === undefined ? `${i.path === "" ? "" : `${i.path}: `}${i.message}` : `${option}: ${i.message}`;
}

/** `<yyyy-mm-dd>-<kind>-<name or service>.yml`, with the local date. */
export function defaultFileName(cliKind: string, op: RequestOperation, date: Date): string {
  const day = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
  const subject = op.kind === "setMValue" ? `service${op.service}` : op.userName;
  return `${day}-${cliKind}-${subject}.yml`;
}

/** The new user password, checked against the HSM's rules; never echoed or printed. */
async function readNewPassword(io: CliIo, fromStdin: boolean): Promise<string | Refusal> {
  let password: string;
  if (fromStdin) {
    const line = await readSecretLine(io, "Password: ");
    if (!line.ok)
      return line.reason === "cancelled"
        ? refuse(1, "cancelled; nothing was written")
        : refuse(
            2,
            line.reason === "empty"
              ? "no password on stdin; nothing was written"
              : "the first line of stdin is too long for a password; nothing was written",
          );
    password = line.line;
  } else {
    const prompter = createHiddenPrompter(io.stdin, io.stderr);
    const first = await prompter.ask("Password: ");
    const again = first === null ? null : await prompter.ask("Again: ");
    prompter.close();
    if (first === null || again === null) return refuse(1, "cancelled; nothing was written");
    if (first !== again) return refuse(2, "the passwords do not match; nothing was written");
    password = first;
  }
  const problem = checkPassword(password);
  if (problem !== null)
    return refuse(
      2,
      `the HSM would refuse this password: ${problem.message.replace(/^[^:]*: /, "")}; nothing was written`,
    );
  return password;
}

/**
 * The key a password is sealed to. The emulator's nodes hand out their sealing key; a real
 * cluster has none of its own, so the cluster file names the gate's password key
 * (`backend.passwordKey`, docs/real-cluster.md, "Passwords on a real cluster"), and a request
 * without a password needs no key at all there.
 */
async function sealingKeyOf(
  file: ClusterFile,
  timeoutMs: number,
  needsPassword: boolean,
): Promise<
  | {
      readonly ok: true;
      readonly value: {
        readonly key: KeyObject | null;
        readonly fingerprint: string;
        readonly whose: string;
        readonly unreachable: readonly string[];
      };
    }
  | { readonly ok: false; readonly error: string }
> {
  if (backendOf(file).kind === "cloudhsm-cli") {
    const pem = file.backend?.kind === "cloudhsm-cli" ? file.backend.passwordKey : undefined;
    if (pem === undefined)
      return needsPassword
        ? {
            ok: false,
            error:
              "no_password_key: the cluster file's backend has no passwordKey, the gate's password key a password is sealed to on a real cluster",
          }
        : { ok: true, value: { key: null, fingerprint: "", whose: "", unreachable: [] } };
    const parsed = parsePublicKey(pem);
    if (!parsed.ok) return { ok: false, error: "the cluster file's backend.passwordKey is not an RSA-2048 public key" };
    return {
      ok: true,
      value: { key: parsed.key, fingerprint: parsed.fingerprint, whose: "gate's password key", unreachable: [] },
    };
  }
  const fetched = await fetchClusterSealingKey(file, { timeoutMs });
  if (!fetched.ok) return fetched;
  return { ok: true, value: { ...fetched.value, whose: "cluster key" } };
}
