// evidence.json (docs/audit.md): the one definition of the document the gate writes beside an
// approved request (src/gate/evidence.ts builds it) and of the validating reader the audit uses.
// Everything read back is a claim to be checked, so it is parsed field by field into what the
// verifier needs, and anything malformed is one sentence, never an exception.
import { CANDIDATE_KINDS, type CandidateKind } from "./candidate.ts";
import { MAX_OFFICERS } from "./policy.ts";
import type { TokenRecordSummary } from "./token.ts";

export const EVIDENCE_FORMAT = "quorum-gate-evidence";
export const EVIDENCE_VERSION = 1;
export const TOKEN_FILE_NAME = "token.bin";
export const APPROVAL_FILE_NAME = "approval.txt";
export const EVIDENCE_FILE_NAME = "evidence.json";
/** A payload approval's signed bytes sit beside its signature: `<officer>.payload`. */
export const PAYLOAD_SUFFIX = ".payload";

/** One counted approval as the document records it. */
export interface EvidenceApproval {
  readonly officer: string;
  readonly githubLogin: string;
  readonly candidateId: string;
  readonly kind: CandidateKind;
  readonly createdAt: string;
  readonly keyFingerprint: string;
  /** SPKI PEM; the gate always writes it, but evidence made before it recorded keys has none. */
  readonly publicKey?: string;
  readonly signatureFile: string;
  /** base64. */
  readonly signature: string;
  /**
   * A payload approval (backend cloudhsm-cli, docs/audit.md, "Evidence of payload approvals"): its
   * `until=`, and the file holding the exact payload bytes it signs.
   */
  readonly until?: string;
  readonly payloadFile?: string;
}

export interface EvidenceDocument {
  readonly format: typeof EVIDENCE_FORMAT;
  readonly version: typeof EVIDENCE_VERSION;
  readonly repository: string;
  readonly pullRequest: number;
  /** The pull request's author: with `allow_self_approval: false`, whose approval never counts. */
  readonly pullRequestAuthor: string;
  readonly cluster: string;
  readonly request: {
    readonly path: string;
    readonly sha256: string;
    readonly summary: string;
    readonly operation: Readonly<Record<string, string | number>>;
    /** A request's reason; a governance request has none. */
    readonly reason?: string;
    readonly requestedBy?: string;
    /** A governance request: what the new policy changes, one sentence each. */
    readonly policyChanges?: readonly string[];
  };
  readonly bindingDigest: string;
  /**
   * The HSM token the officers signed. Absent when they approved the gate's payload instead
   * (backend cloudhsm-cli): a real cluster's token exists only in the execution window after merge.
   */
  readonly token?: {
    readonly file: string;
    readonly base64: string;
    readonly sha256: string;
    readonly expiresAt: string;
    readonly records: readonly TokenRecordSummary[];
  };
  readonly required: number;
  readonly approvals: readonly (EvidenceApproval & {
    /** The officer's quorum key as the cluster had it registered (SPKI PEM); its SHA-256 is `keyFingerprint`. */
    readonly publicKey: string;
  })[];
  readonly decision: {
    readonly state: string;
    readonly missing: number;
    readonly verdicts: readonly {
      readonly candidateId: string;
      readonly author: string;
      readonly officer?: string;
      readonly verdict: string;
      readonly reason: string;
    }[];
  };
  readonly evaluatedAt: string;
}

/** What the audit reads back and checks: the document without the parts it recomputes itself. */
export type EvidenceRecord = Omit<
  EvidenceDocument,
  "format" | "version" | "request" | "token" | "approvals" | "decision"
> & {
  readonly request: Omit<EvidenceDocument["request"], "reason" | "policyChanges">;
  readonly token?: Pick<NonNullable<EvidenceDocument["token"]>, "file" | "base64" | "sha256">;
  readonly approvals: readonly EvidenceApproval[];
};

export type EvidenceParse =
  | { readonly ok: true; readonly evidence: EvidenceRecord }
  | { readonly ok: false; readonly message: string };

/** evidence.json is a few KB; anything far larger is not the gate's. */
export const MAX_EVIDENCE_BYTES = 1024 * 1024;

type Json = Record<string, unknown>;

class Malformed extends Error {}

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function field<T>(o: Json, key: string, where: string, check: (v: unknown) => v is T, what: string): T {
  const v = o[key];
  if (!check(v)) throw new Malformed(`${where}${key} must be ${what}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isHex64 = (v: unknown): v is string => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
const isPositiveInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
const isKind = (v: unknown): v is CandidateKind =>
  typeof v === "string" && (CANDIDATE_KINDS as readonly string[]).includes(v);
const isScalarRecord = (v: unknown): v is Record<string, string | number> =>
  isObject(v) && Object.values(v).every((x) => typeof x === "string" || typeof x === "number");

export function parseEvidenceDocument(bytes: Uint8Array): EvidenceParse {
  if (bytes.byteLength > MAX_EVIDENCE_BYTES)
    return { ok: false, message: `evidence.json is ${bytes.byteLength} bytes, more than the gate ever writes` };
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, message: "evidence.json is not UTF-8 JSON" };
  }
  try {
    return { ok: true, evidence: read(doc) };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, message: `evidence.json: ${err.message}` };
    throw err;
  }
}

function read(doc: unknown): EvidenceRecord {
  if (!isObject(doc)) throw new Malformed("it must be a JSON object");
  if (doc["format"] !== EVIDENCE_FORMAT) throw new Malformed(`format must be "${EVIDENCE_FORMAT}"`);
  if (doc["version"] !== EVIDENCE_VERSION)
    throw new Malformed(
      `version ${JSON.stringify(doc["version"])} is not supported (this audit reads version ${EVIDENCE_VERSION})`,
    );
  const request = field(doc, "request", "", isObject, "an object");
  const approvals = field(doc, "approvals", "", (v): v is unknown[] => Array.isArray(v), "an array");
  if (approvals.length > MAX_OFFICERS)
    throw new Malformed(`approvals has ${approvals.length} entries, more than ${MAX_OFFICERS}`);
  const recorded = approvals.map((a, i) => readApproval(a, `approvals[${i}].`));
  // Without a token, every approval must be of the payload: there is nothing else they could sign.
  const payloadOnly = recorded.length > 0 && recorded.every((a) => a.until !== undefined);
  const token =
    doc["token"] === undefined && payloadOnly
      ? undefined
      : field(doc, "token", "", isObject, "an object (only payload approvals, each with until, come without one)");
  const required = field(doc, "required", "", isPositiveInt, "a whole number of at least 1");
  if (required > MAX_OFFICERS) throw new Malformed(`required must be at most ${MAX_OFFICERS}`);
  const requestedBy = request["requestedBy"];
  return {
    repository: field(doc, "repository", "", isString, "a string"),
    pullRequest: field(doc, "pullRequest", "", isPositiveInt, "a pull request number"),
    pullRequestAuthor: field(
      doc,
      "pullRequestAuthor",
      "",
      isString,
      "the pull request's author (evidence made before the gate recorded it cannot be re-judged)",
    ),
    cluster: field(doc, "cluster", "", isString, "a string"),
    request: {
      path: field(request, "path", "request.", isString, "a string"),
      sha256: field(request, "sha256", "request.", isHex64, "a SHA-256 in lower-case hex"),
      summary: field(request, "summary", "request.", isString, "a string"),
      operation: field(request, "operation", "request.", isScalarRecord, "an object of strings and numbers"),
      ...(typeof requestedBy === "string" ? { requestedBy } : {}),
    },
    bindingDigest: field(doc, "bindingDigest", "", isHex64, "a SHA-256 in lower-case hex"),
    ...(token === undefined
      ? {}
      : {
          token: {
            file: field(token, "file", "token.", isString, "a string"),
            base64: field(token, "base64", "token.", isString, "a string"),
            sha256: field(token, "sha256", "token.", isHex64, "a SHA-256 in lower-case hex"),
          },
        }),
    required,
    approvals: recorded,
    evaluatedAt: field(doc, "evaluatedAt", "", isString, "a string"),
  };
}

function readApproval(a: unknown, where: string): EvidenceApproval {
  if (!isObject(a)) throw new Malformed(`${where.slice(0, -1)} must be an object`);
  const publicKey = a["publicKey"];
  if (publicKey !== undefined && typeof publicKey !== "string")
    throw new Malformed(`${where}publicKey must be a PEM string`);
  const until = a["until"];
  const payloadFile = a["payloadFile"];
  if (until !== undefined && typeof until !== "string") throw new Malformed(`${where}until must be a string`);
  if ((until === undefined) !== (payloadFile === undefined) || (payloadFile !== undefined && !isString(payloadFile)))
    throw new Malformed(`${where}until and payloadFile must both be strings, or both absent`);
  return {
    officer: field(a, "officer", where, isString, "a string"),
    githubLogin: field(a, "githubLogin", where, isString, "a string"),
    candidateId: field(a, "candidateId", where, isString, "a string"),
    kind: field(a, "kind", where, isKind, `one of ${CANDIDATE_KINDS.join(", ")}`),
    createdAt: field(a, "createdAt", where, isString, "a string"),
    keyFingerprint: field(a, "keyFingerprint", where, isString, "a string"),
    ...(publicKey === undefined ? {} : { publicKey }),
    signatureFile: field(a, "signatureFile", where, isString, "a string"),
    signature: field(a, "signature", where, isString, "a string"),
    ...(until === undefined ? {} : { until, payloadFile: payloadFile as string }),
  };
}
