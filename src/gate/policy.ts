// The gate's policy, `.github/quorum-gate.yml` (docs/requests.md, "The policy"). Adapters read it
// from the pull request's *base* branch only: a PR cannot loosen the rules it is judged by.
// Parsed like requests: a readonly value or a list of issues, never an exception.
import { parseRsaPublicKeyAtLeast, RSA_BITS } from "../crypto/rsa.ts";
import { LIMITS } from "../hsm/model.ts";
import { checkUserName } from "../hsm/rules.ts";
import { fieldsOf, join, parseDecimal, type Fields } from "./fields.ts";
import { byLine, type GateIssue } from "./issues.ts";
import { isGithubLogin, normalizeLogin } from "./login.ts";
import { DEFAULT_LOCKOUT_MARGIN } from "./lockout-guard.ts";
import { readCluster, REQUEST_KINDS, type RequestKind } from "./request.ts";
import { parseYamlTree } from "./yaml-tree.ts";

export const POLICY_PATH = ".github/quorum-gate.yml";
export const POLICY_VERSION = 1;
export const MAX_POLICY_BYTES = 64 * 1024;
export const DEFAULT_REQUEST_FOLDER = "hsm-requests/";
/** A day: officers sign at their own pace; nodes accept up to a week (src/hsm/tokens.ts). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 24 * 3600;
export const MIN_TOKEN_LIFETIME_SECONDS = 60;
export const MAX_TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600;
/** How long a signed approval payload may hold (docs/approvals.md, "The approval payload"). */
export const DEFAULT_APPROVAL_LIFETIME_SECONDS = 7 * 24 * 3600;
export const MIN_APPROVAL_LIFETIME_SECONDS = 300;
export const MAX_APPROVAL_LIFETIME_SECONDS = 30 * 24 * 3600;
/**
 * How the gate reaches the cluster, and so which ceremony officers follow (docs/real-cluster.md):
 * `emulator`, one clock, officers sign the HSM's operation-bound token; `cloudhsm-cli`, two clocks,
 * officers sign the approval payload, then countersign the HSM's short-lived token at execution.
 * The policy says it, not only the gate's cluster file, because officers read the policy to know
 * what they sign.
 */
export const BACKENDS = ["emulator", "cloudhsm-cli"] as const;
export type Backend = (typeof BACKENDS)[number];
export const DEFAULT_BACKEND: Backend = "emulator";
/** No more officers than one approval file (and one `execute`) can carry. */
export const MAX_OFFICERS = LIMITS.maxApprovals;

export interface OfficerMapping {
  /** Lower-case GitHub login. */
  readonly login: string;
  /** Lower-case HSM officer (CO) name. */
  readonly officer: string;
  /** Hex SHA-256 of the officer key's SPKI; when set, any other registered key is refused. */
  readonly keyFingerprint?: string;
  /**
   * The officer's public key pinned in the policy (SPKI PEM, RSA of at least 2048 bits), against
   * which the gate verifies approval payloads (docs/real-cluster.md). When set, `keyFingerprint`
   * is its fingerprint, so the registered key is pinned too.
   */
  readonly publicKeyPem?: string;
}

/** How many vetoes block a request unless the policy says otherwise (docs/governance.md). */
export const DEFAULT_REJECTIONS_TO_BLOCK = 1;
/** The longest cooling-off the policy may ask for: longer than any approval can live. */
export const MAX_DELAY_SECONDS = MAX_APPROVAL_LIFETIME_SECONDS;

/** At least `count` of the counted approvers must be in `group` (docs/governance.md, "Required count and AND groups"). */
export interface GroupRule {
  readonly group: string;
  readonly count: number;
}

/** What the policy asks of one kind of request on top of the HSM's M (which stays the floor). */
export interface OperationRule {
  /** Distinct officers needed; the gate asks for max(M, required). */
  readonly required?: number;
  readonly groups: readonly GroupRule[];
  /** Seconds after the last needed approval before the request may go (cooling-off). */
  readonly delaySeconds: number;
}

export interface Policy {
  readonly version: typeof POLICY_VERSION;
  readonly cluster: string;
  readonly backend: Backend;
  /** Relative folder with a trailing slash, e.g. `hsm-requests/`. */
  readonly requestFolder: string;
  readonly allowSelfApproval: boolean;
  readonly tokenLifetimeSeconds: number;
  /** The longest an approval payload's `expires-at` may lie ahead of the time it is counted. */
  readonly approvalLifetimeSeconds: number;
  readonly officers: readonly OfficerMapping[];
  /** Signers beyond M that must remain after an operation (lock-out guard); default 1. */
  readonly lockoutMargin?: number;
  /** Distinct officers whose `/quorum reject` blocks a request; default 1. */
  readonly rejectionsToBlock?: number;
  /** Group name → lower-case GitHub logins of officers in it. */
  readonly groups?: ReadonlyMap<string, readonly string[]>;
  /** Rules per request kind. */
  readonly operations?: Readonly<Partial<Record<RequestKind, OperationRule>>>;
}

export type PolicyResult =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly issues: readonly GateIssue[] };

const TOP_FIELDS = [
  "version",
  "cluster",
  "backend",
  "request_folder",
  "allow_self_approval",
  "token_lifetime_seconds",
  "approval_lifetime_seconds",
  "officers",
  "lockout_margin",
  "rejections_to_block",
  "groups",
  "operations",
] as const;
const OPERATION_RULE_FIELDS = ["required", "groups", "delay_seconds"] as const;
const GROUP_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const OFFICER_FIELDS = ["officer", "key_fingerprint", "public_key"] as const;
const FOLDER_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function parsePolicy(bytes: Uint8Array): PolicyResult {
  const tree = parseYamlTree(bytes, MAX_POLICY_BYTES, "the policy file");
  if (!tree.ok) return tree;
  const issues: GateIssue[] = [];
  const top = fieldsOf(tree.root, "", "the policy file", issues);
  if (top === null) return { ok: false, issues };
  top.rejectUnknown(TOP_FIELDS);

  const version = top.scalar("version", true);
  if (version !== null && version.text !== String(POLICY_VERSION)) {
    top.report("unsupported_version", version.path, `version must be ${POLICY_VERSION}`, version.line);
  }
  const cluster = readCluster(top);
  const backend = readBackend(top);
  const requestFolder = readFolder(top);
  const allowSelfApproval = readBoolean(top, "allow_self_approval", true);
  const tokenLifetimeSeconds = readLifetime(
    top,
    "token_lifetime_seconds",
    DEFAULT_TOKEN_LIFETIME_SECONDS,
    MIN_TOKEN_LIFETIME_SECONDS,
    MAX_TOKEN_LIFETIME_SECONDS,
  );
  const approvalLifetimeSeconds = readLifetime(
    top,
    "approval_lifetime_seconds",
    DEFAULT_APPROVAL_LIFETIME_SECONDS,
    MIN_APPROVAL_LIFETIME_SECONDS,
    MAX_APPROVAL_LIFETIME_SECONDS,
  );
  const officers = readOfficers(top, backend);
  const lockoutMargin = readCount(top, "lockout_margin", DEFAULT_LOCKOUT_MARGIN, 0, MAX_OFFICERS);
  const rejectionsToBlock = readCount(top, "rejections_to_block", DEFAULT_REJECTIONS_TO_BLOCK, 1, MAX_OFFICERS);
  const groups = readGroups(top, officers ?? []);
  const operations = readOperations(top, groups);
  issues.sort(byLine);
  if (
    issues.length > 0 ||
    cluster === null ||
    backend === null ||
    requestFolder === null ||
    allowSelfApproval === null ||
    tokenLifetimeSeconds === null ||
    approvalLifetimeSeconds === null ||
    officers === null ||
    lockoutMargin === null ||
    rejectionsToBlock === null
  ) {
    return { ok: false, issues };
  }
  // The governance keys appear only when the file sets them, so a policy without them is the same value as before them.
  return {
    ok: true,
    policy: {
      version: POLICY_VERSION,
      cluster,
      backend,
      requestFolder,
      allowSelfApproval,
      tokenLifetimeSeconds,
      approvalLifetimeSeconds,
      officers,
      ...(top.entry("lockout_margin") === undefined ? {} : { lockoutMargin }),
      ...(top.entry("rejections_to_block") === undefined ? {} : { rejectionsToBlock }),
      ...(groups.size === 0 ? {} : { groups }),
      ...(Object.keys(operations).length === 0 ? {} : { operations }),
    },
  };
}

/** What the policy asks of this kind of request, or no extra rule. */
export function operationRule(policy: Policy, kind: RequestKind): OperationRule {
  return policy.operations?.[kind] ?? { groups: [], delaySeconds: 0 };
}

function readCount(at: Fields, key: string, fallback: number, min: number, max: number): number | null {
  const t = at.scalar(key, false);
  if (t === null) return fallback;
  const n = parseDecimal(t.text, 4);
  if (n !== null && n >= min && n <= max) return n;
  at.report("bad_count", t.path, `${key} must be a whole number from ${min} to ${max}`, t.line);
  return null;
}

/** `groups: {security: [alice, bob], platform: [carol]}`: each member a login under `officers`. */
function readGroups(top: Fields, officers: readonly OfficerMapping[]): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  const groups = top.map("groups", false);
  if (groups === null) return out;
  for (const name of groups.keys()) {
    const entry = groups.entry(name);
    const path = join(groups.path, name);
    if (!GROUP_NAME.test(name)) {
      groups.report(
        "bad_group",
        path,
        "a group name is 1 to 40 lower-case letters, digits, '_' or '-', starting with a letter",
        entry?.line,
      );
      continue;
    }
    if (entry === undefined || entry.value.kind !== "seq") {
      groups.report(
        "bad_group",
        path,
        `group ${name} must be a list of GitHub logins from officers, e.g. [alice, bob]`,
        entry?.line,
      );
      continue;
    }
    const members: string[] = [];
    for (const item of entry.value.items) {
      const login = item.kind === "scalar" ? normalizeLogin(item.text.trim()) : "";
      if (!officers.some((o) => o.login === login)) {
        groups.report(
          "bad_group",
          path,
          `group ${name}: every member must be a GitHub login listed under officers`,
          item.line,
        );
        continue;
      }
      if (!members.includes(login)) members.push(login);
    }
    if (members.length === 0) groups.report("bad_group", path, `group ${name} has no members`, entry.line);
    out.set(name, members);
  }
  return out;
}

/** `operations: {deleteUser: {required: 3, groups: {security: 1}, delay_seconds: 3600}}`. */
function readOperations(
  top: Fields,
  groups: ReadonlyMap<string, readonly string[]>,
): Partial<Record<RequestKind, OperationRule>> {
  const out: Partial<Record<RequestKind, OperationRule>> = {};
  const ops = top.map("operations", false);
  if (ops === null) return out;
  ops.rejectUnknown(REQUEST_KINDS);
  for (const kind of REQUEST_KINDS) {
    if (ops.entry(kind) === undefined) continue;
    const rule = ops.map(kind, true);
    if (rule === null) continue;
    rule.rejectUnknown(OPERATION_RULE_FIELDS);
    const required = readCount(rule, "required", 0, 1, MAX_OFFICERS);
    const delaySeconds = readCount(rule, "delay_seconds", 0, 0, MAX_DELAY_SECONDS);
    const groupRules: GroupRule[] = [];
    const g = rule.map("groups", false);
    if (g !== null) {
      for (const group of g.keys()) {
        const members = groups.get(group);
        if (members === undefined) {
          g.report(
            "unknown_group",
            join(g.path, group),
            `group ${group} is not defined under groups`,
            g.entry(group)?.line,
          );
          continue;
        }
        const count = readCount(g, group, 1, 1, MAX_OFFICERS);
        if (count === null) continue;
        if (count > members.length) {
          g.report(
            "bad_count",
            join(g.path, group),
            `group ${group} has ${members.length} member${members.length === 1 ? "" : "s"}, fewer than ${count}`,
            g.entry(group)?.line,
          );
          continue;
        }
        groupRules.push({ group, count });
      }
    }
    out[kind] = {
      ...(required === null || required === 0 ? {} : { required }),
      groups: groupRules,
      delaySeconds: delaySeconds ?? 0,
    };
  }
  return out;
}

/** The mapping of a GitHub login, compared case-insensitively. */
export function officerOfLogin(policy: Policy, login: string): OfficerMapping | undefined {
  const wanted = normalizeLogin(login);
  return policy.officers.find((o) => o.login === wanted);
}

/** Whether `path` (repository-relative, `/`-separated) is a request file under the policy's folder. */
export function isRequestPath(policy: Policy, path: string): boolean {
  return (
    path.startsWith(policy.requestFolder) &&
    /\.ya?ml$/.test(path) &&
    !path.slice(policy.requestFolder.length).includes("/")
  );
}

function readFolder(top: Fields): string | null {
  const f = top.scalar("request_folder", false);
  if (f === null) return DEFAULT_REQUEST_FOLDER;
  const segments = f.text.replace(/\/+$/, "").split("/");
  if (f.text.startsWith("/") || segments.some((s) => !FOLDER_SEGMENT.test(s) || s === "." || s === "..")) {
    top.report(
      "bad_folder",
      f.path,
      "request_folder must be a relative folder such as hsm-requests/ (no leading '/', no '.' or '..')",
      f.line,
    );
    return null;
  }
  return `${segments.join("/")}/`;
}

function readBackend(top: Fields): Backend | null {
  const b = top.scalar("backend", false);
  if (b === null) return DEFAULT_BACKEND;
  const found = BACKENDS.find((name) => name === b.text);
  if (found !== undefined) return found;
  top.report("bad_backend", b.path, `backend must be one of ${BACKENDS.join(", ")}`, b.line);
  return null;
}

function readBoolean(top: Fields, key: string, fallback: boolean): boolean | null {
  const b = top.scalar(key, false);
  if (b === null) return fallback;
  if (b.text === "true") return true;
  if (b.text === "false") return false;
  top.report("bad_boolean", b.path, `${key} must be true or false`, b.line);
  return null;
}

function readLifetime(top: Fields, key: string, fallback: number, min: number, max: number): number | null {
  const t = top.scalar(key, false);
  if (t === null) return fallback;
  const n = parseDecimal(t.text, 7);
  if (n !== null && n >= min && n <= max) return n;
  top.report("bad_lifetime", t.path, `${key} must be a whole number from ${min} to ${max}`, t.line);
  return null;
}

function readOfficers(top: Fields, backend: Backend | null): readonly OfficerMapping[] | null {
  const officers = top.map("officers", true);
  if (officers === null) return null;
  const out: OfficerMapping[] = [];
  const byOfficer = new Map<string, string>();
  for (const key of officers.keys()) {
    const path = join(officers.path, key);
    const line = officers.entry(key)?.line;
    if (!isGithubLogin(key)) {
      officers.report("bad_login", path, "each key under officers must be a GitHub login", line);
      continue;
    }
    const login = normalizeLogin(key);
    if (out.some((o) => o.login === login)) {
      officers.report(
        "duplicate_login",
        path,
        `GitHub login ${key} is listed twice (logins are not case-sensitive)`,
        line,
      );
      continue;
    }
    const mapping = readOfficer(officers, key, login);
    if (mapping === null) continue;
    // With the real cluster's ceremony the gate itself verifies the long approval (the HSM sees
    // only the short countersignature), so it needs each officer's key from the reviewed policy.
    if (backend === "cloudhsm-cli" && mapping.publicKeyPem === undefined) {
      officers.report(
        "missing_public_key",
        path,
        `officer ${mapping.officer} needs a public_key: with backend cloudhsm-cli the gate verifies approval payloads against the key the policy pins`,
        line,
      );
    }
    const holder = byOfficer.get(mapping.officer);
    if (holder !== undefined) {
      officers.report(
        "duplicate_officer",
        path,
        `officer ${mapping.officer} is already mapped to ${holder}; one officer has one GitHub account`,
        line,
      );
      continue;
    }
    byOfficer.set(mapping.officer, login);
    out.push(mapping);
  }
  if (officers.keys().length === 0)
    officers.report(
      "no_officers",
      officers.path,
      "officers must map at least one GitHub login to an HSM officer",
      officers.line,
    );
  if (out.length > MAX_OFFICERS)
    officers.report("too_many_officers", officers.path, `at most ${MAX_OFFICERS} officers`, officers.line);
  return out;
}

/** `login: officer1`, or `login: {officer: officer1, key_fingerprint?: <hex>, public_key?: <PEM>}`. */
function readOfficer(officers: Fields, key: string, login: string): OfficerMapping | null {
  const entry = officers.entry(key);
  const path = join(officers.path, key);
  if (entry === undefined) return null;
  if (entry.value.kind === "scalar")
    return officerName(officers, entry.value.text.trim(), path, entry.line, login, undefined);
  const fields = officers.map(key, true);
  if (fields === null) return null;
  fields.rejectUnknown(OFFICER_FIELDS);
  const name = fields.scalar("officer", true);
  const fp = fields.scalar("key_fingerprint", false);
  let keyFingerprint: string | undefined;
  if (fp !== null) {
    const hex = fp.text
      .toLowerCase()
      .replace(/^sha256:/, "")
      .replace(/:/g, "");
    if (/^[0-9a-f]{64}$/.test(hex)) keyFingerprint = hex;
    else
      fields.report(
        "bad_fingerprint",
        fp.path,
        "key_fingerprint must be the SHA-256 of the key's SPKI in hex (64 digits)",
        fp.line,
      );
  }
  const pk = fields.scalar("public_key", false);
  let publicKeyPem: string | undefined;
  if (pk !== null) {
    const parsed = parseRsaPublicKeyAtLeast(pk.text, RSA_BITS);
    if (!parsed.ok) {
      fields.report(
        "bad_public_key",
        pk.path,
        `public_key must be an RSA public key of at least ${RSA_BITS} bits in PEM (${parsed.reason})`,
        pk.line,
      );
    } else if (keyFingerprint !== undefined && keyFingerprint !== parsed.fingerprint) {
      fields.report("bad_public_key", pk.path, "public_key is not the key key_fingerprint names", pk.line);
    } else {
      publicKeyPem = parsed.pem;
      keyFingerprint = parsed.fingerprint;
    }
  }
  if (name === null) return null;
  const mapping = officerName(fields, name.text, name.path, name.line, login, keyFingerprint);
  return mapping === null || publicKeyPem === undefined ? mapping : { ...mapping, publicKeyPem };
}

function officerName(
  at: Fields,
  text: string,
  path: string,
  line: number,
  login: string,
  keyFingerprint: string | undefined,
): OfficerMapping | null {
  const checked = checkUserName(text);
  if (typeof checked !== "string") {
    at.report(
      "bad_name",
      path,
      `officer must be an HSM user name: 1 to ${LIMITS.nameMax} letters, digits or underscores`,
      line,
    );
    return null;
  }
  return keyFingerprint === undefined ? { login, officer: checked } : { login, officer: checked, keyFingerprint };
}
