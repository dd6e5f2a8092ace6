// The cluster file: where each node of a cluster listens, and the CA that vouches for them when
// they speak TLS. `cluster start` writes it; the shell, the gate and the tests read it.
//
//   { "version": 1, "clusterId": "cluster-...", "ca"?: "PEM",
//     "nodes": [ { "index": 0, "host": "127.0.0.1", "port": 2225, "hsmId": "hsm-...", "nodeId": 1 }, ... ],
//     "backend"?: { "kind": "emulator" } | { "kind": "cloudhsm-cli", "binary"?: "/path", "args"?: ["..."], "passwordKey"?: "PEM" } }
//
// `backend` says how the gate reaches the cluster (docs/real-cluster.md): the emulator's node
// protocol (the default, and what a file without the field means), or the `cloudhsm-cli` binary
// driven in interactive mode (cloudhsm-cli-driver.ts).
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic-write.ts";
import type { NodeEndpoint } from "../protocol/node-client.ts";
import { parsePublicKey } from "../crypto/rsa.ts";

export const CLUSTER_FILE_VERSION = 1;

/** The cluster file's name inside a data directory. */
export const CLUSTER_FILE = "cluster.json";
/** Where `cluster start` keeps a cluster unless told otherwise, relative to the working directory. */
export const DEFAULT_DATA_DIR = ".data/cluster";
/** The cluster file clients read by default: the one `cluster start` writes without --data. */
export const DEFAULT_CLUSTER_FILE = `${DEFAULT_DATA_DIR}/${CLUSTER_FILE}`;

export interface ClusterNode {
  /** Server index as the shell shows it (`server 0`): the order of this list. */
  readonly index: number;
  readonly host: string;
  readonly port: number;
  readonly hsmId: string;
  /** The HSM's node id (`Node:1` in getToken output); not the index. */
  readonly nodeId: number;
}

export interface ClusterFile {
  readonly version: typeof CLUSTER_FILE_VERSION;
  readonly clusterId: string;
  readonly nodes: readonly ClusterNode[];
  /** PEM of the cluster CA; present when the nodes speak TLS. */
  readonly ca?: string;
  /** How the gate reaches the cluster; absent means the emulator. Read it through backendOf. */
  readonly backend?: ClusterBackend;
}

/** Where Client SDK 5 installs CloudHSM CLI on Linux. */
export const DEFAULT_CLOUDHSM_CLI_BINARY = "/opt/cloudhsm/bin/cloudhsm-cli";

export type ClusterBackend =
  | { readonly kind: "emulator" }
  | {
      readonly kind: "cloudhsm-cli";
      /** The binary to run; DEFAULT_CLOUDHSM_CLI_BINARY when absent. */
      readonly binary?: string;
      /** Words placed before `interactive` (e.g. a wrapper's own options). */
      readonly args?: readonly string[];
      /** SPKI PEM of the gate's password key: requests seal passwords to it (src/cluster/password-key.ts). */
      readonly passwordKey?: string;
    };

export const BACKEND_KINDS = ["emulator", "cloudhsm-cli"] as const;

/** The backend of a (validated) cluster file, with its defaults filled in. */
export function backendOf(
  file: ClusterFile,
):
  | { readonly kind: "emulator" }
  | { readonly kind: "cloudhsm-cli"; readonly binary: string; readonly args: readonly string[] } {
  const b = file.backend;
  if (b === undefined || b.kind === "emulator") return { kind: "emulator" };
  return { kind: "cloudhsm-cli", binary: b.binary ?? DEFAULT_CLOUDHSM_CLI_BINARY, args: b.args ?? [] };
}

export type ClusterFileResult =
  | { readonly ok: true; readonly value: ClusterFile }
  | { readonly ok: false; readonly error: string };

/** Reads and checks a cluster file. Never throws: every problem comes back as one clear sentence. */
export function readClusterFile(path: string): ClusterFileResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      error:
        code === "ENOENT" ? `no cluster file at ${path}` : `cannot read the cluster file ${path}: ${code ?? "error"}`,
    };
  }
  return parseClusterFile(text, `the cluster file ${path}`);
}

/**
 * Checks a cluster file's text (the Action takes it from a secret rather than a path); `source`
 * names it in the error, e.g. "the cluster input".
 */
export function parseClusterFile(text: string, source: string): ClusterFileResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: `${source} is not valid JSON` };
  }
  const problem = validate(parsed);
  return problem === null
    ? { ok: true, value: parsed as ClusterFile }
    : { ok: false, error: `${source} is invalid: ${problem}` };
}

/** Returns what is wrong with `value`, or null when it is a valid cluster file. */
export function validate(value: unknown): string | null {
  if (!isObject(value)) return "it must be a JSON object";
  const allowed = ["version", "clusterId", "nodes", "ca", "backend"];
  const extra = Object.keys(value).find((k) => !allowed.includes(k));
  if (extra !== undefined) return `unknown field "${extra}"`;
  if (value["version"] !== CLUSTER_FILE_VERSION) return `"version" must be ${CLUSTER_FILE_VERSION}`;
  if (typeof value["clusterId"] !== "string" || value["clusterId"] === "")
    return `"clusterId" must be a non-empty string`;
  if (
    value["ca"] !== undefined &&
    (typeof value["ca"] !== "string" || !value["ca"].includes("-----BEGIN CERTIFICATE-----"))
  ) {
    return `"ca" must be a PEM certificate`;
  }
  if (value["backend"] !== undefined) {
    const problem = validateBackend(value["backend"]);
    if (problem !== null) return `backend: ${problem}`;
  }
  const nodes = value["nodes"];
  if (!Array.isArray(nodes) || nodes.length === 0) return `"nodes" must be a non-empty array`;
  const seen = new Set<string>();
  for (const [i, node] of nodes.entries()) {
    const problem = validateNode(node, i);
    if (problem !== null) return `nodes[${i}]: ${problem}`;
    const n = node as ClusterNode;
    if (seen.has(n.hsmId)) return `nodes[${i}]: hsmId ${n.hsmId} appears twice`;
    seen.add(n.hsmId);
  }
  return null;
}

function validateNode(node: unknown, i: number): string | null {
  if (!isObject(node)) return "must be an object";
  const allowed = ["index", "host", "port", "hsmId", "nodeId"];
  const extra = Object.keys(node).find((k) => !allowed.includes(k));
  if (extra !== undefined) return `unknown field "${extra}"`;
  if (node["index"] !== i) return `"index" must be ${i} (nodes are listed in index order)`;
  if (typeof node["host"] !== "string" || node["host"] === "") return `"host" must be a non-empty string`;
  if (!isInt(node["port"], 1, 65535)) return `"port" must be an integer 1..65535`;
  if (typeof node["hsmId"] !== "string" || !/^hsm-[a-z0-9]{11}$/.test(node["hsmId"]))
    return `"hsmId" must look like hsm-abcdefghijk`;
  if (!isInt(node["nodeId"], 0, 0xffffffff)) return `"nodeId" must be an unsigned 32-bit integer`;
  return null;
}

function validateBackend(b: unknown): string | null {
  if (!isObject(b)) return "must be an object";
  const kind = b["kind"];
  if (typeof kind !== "string" || !(BACKEND_KINDS as readonly string[]).includes(kind))
    return `"kind" must be one of ${BACKEND_KINDS.join(", ")}`;
  const allowed = kind === "emulator" ? ["kind"] : ["kind", "binary", "args", "passwordKey"];
  const extra = Object.keys(b).find((k) => !allowed.includes(k));
  if (extra !== undefined) return `unknown field "${extra}" for kind ${kind}`;
  if (
    b["binary"] !== undefined &&
    (typeof b["binary"] !== "string" || b["binary"] === "" || b["binary"].includes("\0"))
  )
    return `"binary" must be a non-empty path`;
  const args = b["args"];
  if (args !== undefined && (!Array.isArray(args) || !args.every((a) => typeof a === "string" && !a.includes("\0"))))
    return `"args" must be an array of strings`;
  const passwordKey = b["passwordKey"];
  if (passwordKey !== undefined && (typeof passwordKey !== "string" || !parsePublicKey(passwordKey).ok))
    return `"passwordKey" must be the gate's password key as an RSA-2048 public key in PEM`;
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

/** Writes the file atomically (see atomic-write.ts), after checking it. */
export function writeClusterFile(path: string, file: ClusterFile): void {
  const problem = validate(file);
  if (problem !== null) throw new Error(`refusing to write an invalid cluster file: ${problem}`);
  writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** The endpoints a client needs, in server-index order. */
export function clusterEndpoints(file: ClusterFile): NodeEndpoint[] {
  return file.nodes.map((n) =>
    file.ca === undefined ? { host: n.host, port: n.port } : { host: n.host, port: n.port, ca: file.ca },
  );
}
