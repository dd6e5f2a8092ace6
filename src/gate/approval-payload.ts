// The approval payload (docs/approvals.md, "The approval payload"): what an officer signs when
// the HSM's own token cannot carry the request. A real cluster's quorum token lives minutes and
// names no arguments, while a review takes days, so the long clock needs a document of the gate's
// own that names everything the officer agrees to: the exact operation and its arguments, the
// requester's reason, where it was asked for, and until when the agreement holds. The same
// document with `verdict: reject` is a veto.
//
// The format is a line document rather than JSON so that an officer can read, in a terminal, the
// very bytes `openssl dgst -sha256 -sign` signs. It is domain-separated by its title line, has one
// `key: value` line per field in a fixed order, free text as JSON strings (one line, every
// character escaped the same way), LF line ends and a final LF. Parsing is strict: the bytes must
// be exactly what `renderApprovalPayload` makes of the parsed fields, so two different byte
// strings never mean the same approval.
import { requestBindingDigest, sealedPasswordFingerprint, toBindingContext } from "./operation.ts";
import { REQUEST_KINDS, type GateRequest, type RequestOperation } from "./request.ts";

export const APPROVAL_PAYLOAD_TITLE = "quorum-gate approval payload v1";
export const VERDICTS = ["approve", "reject"] as const;
export type Verdict = (typeof VERDICTS)[number];
/** Larger than any payload a valid request yields (the reason is at most 1,000 characters). */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

export interface ApprovalPayload {
  readonly verdict: Verdict;
  readonly clusterId: string;
  /** `owner/name` as GitHub spells it. */
  readonly repository: string;
  readonly pullRequest: number;
  /** Repository-relative path of the request file. */
  readonly requestPath: string;
  /** Hex SHA-256 of the request file's bytes (`requestDigest`). */
  readonly requestSha256: string;
  /** Hex binding digest of the request in this pull request (`requestBindingDigest`). */
  readonly bindingSha256: string;
  readonly operation: PayloadOperation;
  readonly reason: string;
  /** ISO 8601 UTC to the second, e.g. `2026-12-13T03:00:00Z`. */
  readonly expiresAt: string;
}

/** The operation as the payload names it: a sealed password only by its digest. */
export type PayloadOperation =
  | {
      readonly kind: "createUser" | "changePswd";
      readonly userType: "CO" | "CU";
      readonly userName: string;
      readonly sealedPasswordSha256: string;
    }
  | { readonly kind: "deleteUser"; readonly userType: "CO" | "CU"; readonly userName: string }
  | { readonly kind: "setMValue"; readonly service: 3 | 4; readonly value: number }
  /**
   * A governance request (src/gate/governance.ts, `governancePayloadOf`): the request file is the
   * policy, and its SHA-256 (the new policy's, or for a deletion the deleted one's) names the change.
   */
  | { readonly kind: "policyChange" | "policyDeletion" };

/** The operations of governance requests, which a payload names by kind alone. */
const GOVERNANCE_PAYLOAD_KINDS = ["policyChange", "policyDeletion"] as const;

export interface PayloadInput {
  readonly verdict: Verdict;
  readonly request: GateRequest;
  readonly requestDigest: string;
  readonly requestPath: string;
  readonly repository: string;
  readonly pullRequest: number;
  readonly expiresAt: string;
}

export type PayloadResult =
  | { readonly ok: true; readonly payload: ApprovalPayload }
  | { readonly ok: false; readonly reason: "malformed_payload"; readonly message: string };

export type ExpiryCheck = "valid" | "expired" | "too_far" | "malformed";

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The payload for `input.request` as it stands in this pull request. */
export function approvalPayloadOf(input: PayloadInput): ApprovalPayload {
  const context = toBindingContext(input.repository, input.pullRequest, input.requestDigest);
  return {
    verdict: input.verdict,
    clusterId: input.request.cluster,
    repository: input.repository,
    pullRequest: input.pullRequest,
    requestPath: input.requestPath,
    requestSha256: input.requestDigest,
    bindingSha256: requestBindingDigest(input.request, context),
    operation: payloadOperation(input.request.operation),
    reason: input.request.reason,
    expiresAt: input.expiresAt,
  };
}

function payloadOperation(op: RequestOperation): PayloadOperation {
  switch (op.kind) {
    case "createUser":
    case "changePswd":
      return {
        kind: op.kind,
        userType: op.userType,
        userName: op.userName,
        sealedPasswordSha256: sealedPasswordFingerprint(op.sealedPassword),
      };
    case "deleteUser":
      return { kind: op.kind, userType: op.userType, userName: op.userName };
    case "setMValue":
      return { kind: op.kind, service: op.service, value: op.value };
  }
}

/** The exact bytes an officer signs. */
export function renderApprovalPayload(p: ApprovalPayload): Buffer {
  return Buffer.from(`${lines(p).join("\n")}\n`, "utf8");
}

function lines(p: ApprovalPayload): string[] {
  const out = [
    APPROVAL_PAYLOAD_TITLE,
    `verdict: ${p.verdict}`,
    `cluster: ${JSON.stringify(p.clusterId)}`,
    `repository: ${JSON.stringify(p.repository)}`,
    `pull-request: ${p.pullRequest}`,
    `request-file: ${JSON.stringify(p.requestPath)}`,
    `request-sha256: ${p.requestSha256}`,
    `binding-sha256: ${p.bindingSha256}`,
    `operation: ${p.operation.kind}`,
  ];
  const op = p.operation;
  if (op.kind === "setMValue") {
    out.push(`service: ${op.service}`, `value: ${op.value}`);
  } else if ("userType" in op) {
    out.push(`user-type: ${op.userType}`, `user-name: ${JSON.stringify(op.userName)}`);
    if ("sealedPasswordSha256" in op) out.push(`sealed-password-sha256: ${op.sealedPasswordSha256}`);
  }
  // A governance request adds nothing: request-file and request-sha256 name the policy bytes.
  out.push(`reason: ${JSON.stringify(p.reason)}`, `expires-at: ${p.expiresAt}`);
  return out;
}

/** Reads a payload back; anything but the canonical bytes of well-formed fields is refused. */
export function parseApprovalPayload(bytes: Uint8Array): PayloadResult {
  if (bytes.length > MAX_PAYLOAD_BYTES) return malformed(`the payload is longer than ${MAX_PAYLOAD_BYTES} bytes`);
  const text = Buffer.from(bytes).toString("utf8");
  if (!text.endsWith("\n") || text.includes("\r"))
    return malformed("the payload must use LF line ends and end with one");
  const all = text.slice(0, -1).split("\n");
  if (all[0] !== APPROVAL_PAYLOAD_TITLE) return malformed(`the first line must be "${APPROVAL_PAYLOAD_TITLE}"`);
  const fields = new Map<string, string>();
  for (const line of all.slice(1)) {
    const at = line.indexOf(": ");
    if (at <= 0) return malformed(`not a "key: value" line: ${JSON.stringify(line.slice(0, 60))}`);
    const key = line.slice(0, at);
    if (fields.has(key)) return malformed(`the field ${key} appears twice`);
    fields.set(key, line.slice(at + 2));
  }
  try {
    const payload = fromFields(fields);
    if (!renderApprovalPayload(payload).equals(Buffer.from(bytes)))
      return malformed("the payload is not in canonical form (field order, spacing or string escapes differ)");
    return { ok: true, payload };
  } catch (e) {
    return malformed((e as Error).message);
  }
}

function fromFields(f: ReadonlyMap<string, string>): ApprovalPayload {
  const verdict = need(f, "verdict");
  if (!(VERDICTS as readonly string[]).includes(verdict)) throw new Error("verdict must be approve or reject");
  const pullRequest = Number(need(f, "pull-request"));
  if (!Number.isSafeInteger(pullRequest) || pullRequest < 1)
    throw new Error("pull-request must be a positive whole number");
  const kind = need(f, "operation");
  if (
    !(REQUEST_KINDS as readonly string[]).includes(kind) &&
    !(GOVERNANCE_PAYLOAD_KINDS as readonly string[]).includes(kind)
  )
    throw new Error(`unknown operation ${JSON.stringify(kind.slice(0, 30))}`);
  let operation: PayloadOperation;
  if (kind === "policyChange" || kind === "policyDeletion") {
    operation = { kind };
  } else if (kind === "setMValue") {
    const service = Number(need(f, "service"));
    const value = Number(need(f, "value"));
    if (service !== 3 && service !== 4) throw new Error("service must be 3 or 4");
    if (!Number.isSafeInteger(value) || value < 1) throw new Error("value must be a positive whole number");
    operation = { kind, service, value };
  } else {
    const userType = need(f, "user-type");
    if (userType !== "CO" && userType !== "CU") throw new Error("user-type must be CO or CU");
    const userName = jsonString(f, "user-name");
    operation =
      kind === "deleteUser"
        ? { kind, userType, userName }
        : {
            kind: kind as "createUser" | "changePswd",
            userType,
            userName,
            sealedPasswordSha256: hex(f, "sealed-password-sha256"),
          };
  }
  const expiresAt = need(f, "expires-at");
  if (!isIsoSecond(expiresAt))
    throw new Error("expires-at must be a UTC time to the second, e.g. 2026-12-13T03:00:00Z");
  return {
    verdict: verdict as Verdict,
    clusterId: jsonString(f, "cluster"),
    repository: jsonString(f, "repository"),
    pullRequest,
    requestPath: jsonString(f, "request-file"),
    requestSha256: hex(f, "request-sha256"),
    bindingSha256: hex(f, "binding-sha256"),
    operation,
    reason: jsonString(f, "reason"),
    expiresAt,
  };
}

function need(f: ReadonlyMap<string, string>, key: string): string {
  const v = f.get(key);
  if (v === undefined) throw new Error(`the field ${key} is missing`);
  return v;
}

function jsonString(f: ReadonlyMap<string, string>, key: string): string {
  let v: unknown;
  try {
    v = JSON.parse(need(f, key));
  } catch {
    throw new Error(`${key} must be a JSON string`);
  }
  if (typeof v !== "string") throw new Error(`${key} must be a JSON string`);
  return v;
}

function hex(f: ReadonlyMap<string, string>, key: string): string {
  const v = need(f, key);
  if (!HEX64.test(v)) throw new Error(`${key} must be 64 lower-case hex digits`);
  return v;
}

function isIsoSecond(text: string): boolean {
  if (!ISO_SECOND.test(text)) return false;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).toISOString().replace(".000Z", "Z") === text;
}

/** `now` plus `lifetimeSeconds`, truncated to the second, in the payload's notation. */
export function payloadExpiry(nowMs: number, lifetimeSeconds: number): string {
  const at = Math.floor(nowMs / 1000) * 1000 + lifetimeSeconds * 1000;
  return new Date(at).toISOString().replace(".000Z", "Z");
}

/**
 * Whether an approval that says it holds until `expiresAt` still counts at `nowMs`. One that
 * claims more than the policy's longest lifetime is refused rather than shortened: the officer
 * signed that date, and the gate must not count a promise it would not have asked for.
 */
export function checkPayloadExpiry(expiresAt: string, nowMs: number, maxLifetimeSeconds: number): ExpiryCheck {
  if (!isIsoSecond(expiresAt)) return "malformed";
  const at = Date.parse(expiresAt);
  if (at <= nowMs) return "expired";
  if (at > nowMs + maxLifetimeSeconds * 1000) return "too_far";
  return "valid";
}

function malformed(message: string): PayloadResult {
  return { ok: false, reason: "malformed_payload", message };
}
