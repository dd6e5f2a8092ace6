// Request files (docs/requests.md): one privileged HSM operation per YAML file, added by a pull
// request. `parseRequest` turns the file's bytes into a readonly typed request or a list of
// issues; it never throws for bad input. The request digest is SHA-256 of the exact bytes, so a
// signature binds what reviewers saw, byte for byte, not a re-serialisation of it.
import { RSA_BITS, sha256 } from "../crypto/rsa.ts";
import { decodeLenientBase64 } from "../formats/lenient-base64.ts";
import { LIMITS, SERVICE_MISC_CO, SERVICE_USER_MGMT } from "../hsm/model.ts";
import { checkUserName } from "../hsm/rules.ts";
import { fieldsOf, join, parseDecimal, type Fields, type Scalar } from "./fields.ts";
import { byLine, issue, type GateIssue } from "./issues.ts";
import { isGithubLogin } from "./login.ts";
import { parseYamlTree, type YamlNode } from "./yaml-tree.ts";

export const REQUEST_VERSION = 1;
export const MAX_REQUEST_BYTES = 16 * 1024;
export const MAX_REASON_CHARS = 1000;
/** RSA-OAEP to the cluster's RSA-2048 sealing key gives exactly one modulus of ciphertext. */
export const SEALED_PASSWORD_BYTES = RSA_BITS / 8;

export const REQUEST_KINDS = ["createUser", "deleteUser", "changePswd", "setMValue"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export type RequestOperation =
  | {
      readonly kind: "createUser";
      readonly userType: "CO" | "CU";
      readonly userName: string;
      readonly sealedPassword: string;
    }
  | { readonly kind: "deleteUser"; readonly userType: "CO" | "CU"; readonly userName: string }
  | {
      readonly kind: "changePswd";
      readonly userType: "CO" | "CU";
      readonly userName: string;
      readonly sealedPassword: string;
    }
  | { readonly kind: "setMValue"; readonly service: 3 | 4; readonly value: number };

export interface GateRequest {
  readonly version: typeof REQUEST_VERSION;
  readonly cluster: string;
  readonly operation: RequestOperation;
  readonly reason: string;
  /** Informational only: who the PR author says asked for it. Never used for authorization. */
  readonly requestedBy?: string;
}

export type RequestResult =
  | { readonly ok: true; readonly request: GateRequest; readonly digest: string }
  | { readonly ok: false; readonly issues: readonly GateIssue[]; readonly digest: string };

const TOP_FIELDS = ["version", "cluster", "operation", "reason", "requested_by"] as const;
const OPERATION_FIELDS: Readonly<Record<RequestKind, readonly string[]>> = {
  createUser: ["kind", "type", "name", "sealed_password"],
  deleteUser: ["kind", "type", "name"],
  changePswd: ["kind", "type", "name", "sealed_password"],
  setMValue: ["kind", "service", "value"],
};
const ANY_OPERATION_FIELD = [...new Set(Object.values(OPERATION_FIELDS).flat())];
const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Lower-case hex SHA-256 of the file exactly as committed. */
export function requestDigest(bytes: Uint8Array): string {
  return sha256(bytes).toString("hex");
}

export function parseRequest(bytes: Uint8Array): RequestResult {
  const digest = requestDigest(bytes);
  const tree = parseYamlTree(bytes, MAX_REQUEST_BYTES, "the request file");
  if (!tree.ok) return { ok: false, issues: [...passwordLines(bytes, tree.issues), ...tree.issues], digest };
  const issues: GateIssue[] = [];
  findPlaintextPasswords(tree.root, "", issues);
  const top = fieldsOf(tree.root, "", "a request file", issues);
  if (top === null) return { ok: false, issues, digest };

  top.rejectUnknown(TOP_FIELDS, isPasswordKey);
  const version = readVersion(top);
  const cluster = readCluster(top);
  const operation = readOperation(top);
  const reason = readReason(top);
  const requestedBy = readRequestedBy(top);
  issues.sort(byLine);
  if (issues.length > 0 || version === null || cluster === null || operation === null || reason === null)
    return { ok: false, issues, digest };
  const request: GateRequest =
    requestedBy === null
      ? { version, cluster, operation, reason }
      : { version, cluster, operation, reason, requestedBy };
  return { ok: true, request, digest };
}

/** A `password`-like key other than `sealed_password`, in any spelling. */
export function isPasswordKey(key: string): boolean {
  const squashed = key.toLowerCase().replace(/[^a-z]/g, "");
  return squashed !== "sealedpassword" && /password|passwd|pswd/.test(squashed);
}

/**
 * A password-like key anywhere in the file is never just "unknown": the file has already exposed
 * a secret, and the author must hear that before anything else.
 */
function findPlaintextPasswords(node: YamlNode, path: string, issues: GateIssue[]): void {
  if (node.kind === "seq")
    for (const [i, item] of node.items.entries()) findPlaintextPasswords(item, `${path}[${i}]`, issues);
  if (node.kind !== "map") return;
  for (const [key, entry] of node.entries) {
    const p = join(path, key);
    if (isPasswordKey(key)) {
      issues.push(issue("plaintext_password", p, PLAINTEXT_MESSAGE, entry.line));
    } else {
      findPlaintextPasswords(entry.value, p, issues);
    }
  }
}

/**
 * The same warning for a file that is not even valid YAML, from its lines: a password must not
 * wait for a syntax fix to be noticed. Skipped for files too large or not text.
 */
function passwordLines(bytes: Uint8Array, yamlIssues: readonly GateIssue[]): GateIssue[] {
  if (yamlIssues.some((i) => i.code !== "invalid_yaml")) return [];
  const found: GateIssue[] = [];
  Buffer.from(bytes)
    .toString("utf8")
    .split(/\r\n|\r|\n/)
    .forEach((line, i) => {
      const key = /^[\s\-{,]*["']?([A-Za-z_][\w\- ]*?)["']?\s*:/.exec(line)?.[1];
      if (key !== undefined && isPasswordKey(key))
        found.push(issue("plaintext_password", key, PLAINTEXT_MESSAGE, i + 1));
    });
  return found;
}

const PLAINTEXT_MESSAGE =
  "a request file must never hold a plaintext password: seal it to the cluster key (`quorum-gate request … --password-stdin` writes `sealed_password`). If this file was pushed, treat the password as disclosed and choose a new one";

function readVersion(top: Fields): typeof REQUEST_VERSION | null {
  const v = top.scalar("version", true);
  if (v === null) return null;
  if (v.text !== String(REQUEST_VERSION)) {
    top.report(
      "unsupported_version",
      v.path,
      `version must be ${REQUEST_VERSION}; this gate reads request files of version ${REQUEST_VERSION} only`,
      v.line,
    );
    return null;
  }
  return REQUEST_VERSION;
}

export function readCluster(top: Fields): string | null {
  const c = top.scalar("cluster", true);
  if (c === null) return null;
  if (!CLUSTER_ID.test(c.text)) {
    top.report(
      "bad_cluster",
      c.path,
      "cluster must be a cluster id such as cluster-abc123 (letters, digits, '.', '_', '-', at most 64)",
      c.line,
    );
    return null;
  }
  return c.text;
}

function readReason(top: Fields): string | null {
  const r = top.scalar("reason", true);
  if (r === null) return null;
  if ([...r.text].length > MAX_REASON_CHARS) {
    top.report("bad_reason", r.path, `reason is longer than ${MAX_REASON_CHARS} characters`, r.line);
    return null;
  }
  if (/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(r.text)) {
    top.report("bad_reason", r.path, "reason may not hold control or text-direction characters", r.line);
    return null;
  }
  return r.text;
}

function readRequestedBy(top: Fields): string | null {
  const r = top.scalar("requested_by", false);
  if (r === null) return null;
  const login = r.text.replace(/^@/, "");
  if (!isGithubLogin(login)) {
    top.report(
      "bad_login",
      r.path,
      "requested_by must be a GitHub login (letters, digits and single hyphens, at most 39)",
      r.line,
    );
    return null;
  }
  return login;
}

function readOperation(top: Fields): RequestOperation | null {
  const op = top.map("operation", true);
  if (op === null) return null;
  const kindField = op.scalar("kind", true);
  if (kindField === null) {
    op.rejectUnknown(ANY_OPERATION_FIELD, isPasswordKey);
    return null;
  }
  const kind = REQUEST_KINDS.find((k) => k === kindField.text);
  if (kind === undefined) {
    const shown = JSON.stringify(kindField.text.slice(0, 40));
    op.report(
      "unknown_operation",
      kindField.path,
      `unknown operation kind ${shown}; use one of ${REQUEST_KINDS.join(", ")}`,
      kindField.line,
    );
    op.rejectUnknown(ANY_OPERATION_FIELD, isPasswordKey);
    return null;
  }
  op.rejectUnknown(OPERATION_FIELDS[kind], isPasswordKey);
  if (kind === "setMValue") {
    const service = readService(op);
    const value = readMValue(op);
    return service === null || value === null ? null : { kind, service, value };
  }
  const userType = readUserType(op);
  const userName = readUserName(op);
  if (kind === "deleteUser") return userType === null || userName === null ? null : { kind, userType, userName };
  const sealedPassword = readSealedPassword(op);
  if (userType === null || userName === null || sealedPassword === null) return null;
  return { kind, userType, userName, sealedPassword };
}

function readUserType(op: Fields): "CO" | "CU" | null {
  const t = op.scalar("type", true);
  if (t === null) return null;
  if (t.text === "CO" || t.text === "CU") return t.text;
  op.report("bad_user_type", t.path, "type must be CO (crypto officer) or CU (crypto user)", t.line);
  return null;
}

/** CloudHSM names are case-insensitive; the request carries the canonical lower-case form. */
function readUserName(op: Fields): string | null {
  const n = op.scalar("name", true);
  if (n === null) return null;
  const checked = checkUserName(n.text);
  if (typeof checked !== "string") {
    op.report("bad_name", n.path, `name must be 1 to ${LIMITS.nameMax} letters, digits or underscores`, n.line);
    return null;
  }
  return checked;
}

/** Canonical base64 of the ciphertext. The value is never echoed: it may be a pasted password. */
function readSealedPassword(op: Fields): string | null {
  const s = op.scalar("sealed_password", true);
  if (s === null) return null;
  const decoded = decodeLenientBase64(s.text);
  if (!decoded.ok || decoded.bytes.length !== SEALED_PASSWORD_BYTES) {
    op.report(
      "bad_sealed_password",
      s.path,
      `sealed_password must be the base64 of ${SEALED_PASSWORD_BYTES} bytes (RSA-OAEP-SHA256 to the cluster's sealing key); this value is not. If it is a plaintext password, treat it as disclosed`,
      s.line,
    );
    return null;
  }
  return decoded.bytes.toString("base64");
}

function readService(op: Fields): 3 | 4 | null {
  const s = op.scalar("service", true);
  if (s === null) return null;
  const n = parseDecimal(s.text, 2);
  if (n === SERVICE_USER_MGMT || n === SERVICE_MISC_CO) return n;
  op.report(
    "bad_service",
    s.path,
    `service must be ${SERVICE_USER_MGMT} (USER_MGMT) or ${SERVICE_MISC_CO} (MISC_CO)`,
    s.line,
  );
  return null;
}

function readMValue(op: Fields): number | null {
  const v: Scalar | null = op.scalar("value", true);
  if (v === null) return null;
  const n = parseDecimal(v.text, 2);
  if (n !== null && n >= LIMITS.minQuorum && n <= LIMITS.maxQuorum) return n;
  op.report(
    "bad_value",
    v.path,
    `value must be a whole number from ${LIMITS.minQuorum} to ${LIMITS.maxQuorum}`,
    v.line,
  );
  return null;
}
