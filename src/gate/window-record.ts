// The execution window's record in git (docs/audit.md, "The execution window's record"). On a
// real cluster the HSM token, the countersignatures and the cluster's answer all come after the
// merge, when the pull request takes no more commits. So when a window ends, the gate makes one
// commit whose parent is the merge commit and whose tree is the merge's plus one folder beside
// the request's evidence, and points `refs/quorum-gate/windows/pr-<N>-<opened>` at it. The folder
// holds the token the HSM issued (token.json, as the CLI wrote it), the approval file the command
// ran with (approval.json, when it ran) and window.json: who countersigned, when, and what the
// cluster answered. This file builds those files and reads window.json back for the audit; pure.
import { evidenceFolder } from "./evidence.ts";

export const WINDOW_RECORD_FORMAT = "quorum-gate-window";
export const WINDOW_RECORD_VERSION = 1;
export const WINDOW_RECORD_REF_PREFIX = "refs/quorum-gate/windows/";
export const WINDOW_FILE_NAME = "window.json";
export const WINDOW_TOKEN_FILE_NAME = "token.json";
export const WINDOW_APPROVAL_FILE_NAME = "approval.json";

export const WINDOW_RESULTS = [
  /** The command ran and the cluster accepted it. */
  "applied",
  /** At M the cluster already showed the change: nothing ran. */
  "already_applied",
  /** The command ran and the cluster refused it (`code` says why). */
  "refused",
  /** Fewer than M countersignatures in time, or the session ended: nothing ran. */
  "lapsed",
] as const;
export type WindowResult = (typeof WINDOW_RESULTS)[number];

export interface RecordedCountersignature {
  readonly officer: string;
  readonly githubLogin: string;
  readonly candidateId: string;
  readonly createdAt: string;
  /** base64 of the signature over the token's approval_data. */
  readonly signature: string;
  /**
   * The officer's approval of the request's payload that made this countersignature count: with
   * it the record says on its own why this officer could countersign (an officer who approved
   * after the evidence was committed is in no evidence.json).
   */
  readonly approval: {
    readonly candidateId: string;
    readonly createdAt: string;
    readonly until: string;
    /** base64 of the signature over the payload. */
    readonly signature: string;
  };
}

export interface WindowRecord {
  readonly format: typeof WINDOW_RECORD_FORMAT;
  readonly version: typeof WINDOW_RECORD_VERSION;
  readonly repository: string;
  readonly pullRequest: number;
  readonly request: { readonly path: string; readonly sha256: string };
  readonly mergeCommit: string;
  readonly openedAt: string;
  readonly deadline: string;
  readonly required: number;
  /** The countersignatures that counted, in posting order (at most `required`). */
  readonly countersignatures: readonly RecordedCountersignature[];
  readonly result: {
    readonly state: WindowResult;
    readonly at: string;
    /** The cluster's or the gate's code for a refusal or a lapse; null when applied. */
    readonly code: string | null;
    readonly message: string;
  };
}

export interface WindowRecordInput {
  readonly repository: string;
  readonly pullRequest: number;
  readonly requestPath: string;
  readonly requestDigest: string;
  readonly mergeCommit: string;
  /** Unix seconds. */
  readonly openedAt: number;
  readonly deadline: number;
  readonly required: number;
  readonly tokenFile: Uint8Array;
  readonly countersignatures: readonly RecordedCountersignature[];
  /** The file passed to `--approval`; null when nothing ran. */
  readonly approvalFile: Uint8Array | null;
  readonly result: {
    readonly state: WindowResult;
    readonly at: number;
    readonly code: string | null;
    readonly message: string;
  };
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The ref a window's record is reachable from: one per window, named for its pull request and opening second. */
export function windowRecordRef(pullRequest: number, openedAt: number): string {
  return `${WINDOW_RECORD_REF_PREFIX}pr-${pullRequest}-${openedAt}`;
}

/** `pr-<N>-<opened>` read back from a ref name, or null for any other name. */
export function parseWindowRecordRef(ref: string): { readonly pullRequest: number; readonly openedAt: number } | null {
  const m = /^refs\/quorum-gate\/windows\/pr-([1-9][0-9]{0,9})-([0-9]{1,12})$/.exec(ref);
  return m === null ? null : { pullRequest: Number(m[1]), openedAt: Number(m[2]) };
}

/** The record's folder, inside the request's evidence folder: `<request>.evidence/window-<opened>/`. */
export function windowRecordFolder(requestPath: string, openedAt: number): string {
  return `${evidenceFolder(requestPath)}window-${openedAt}/`;
}

export function buildWindowRecord(input: WindowRecordInput): {
  readonly folder: string;
  readonly files: readonly { readonly path: string; readonly content: Uint8Array }[];
} {
  const record: WindowRecord = {
    format: WINDOW_RECORD_FORMAT,
    version: WINDOW_RECORD_VERSION,
    repository: input.repository,
    pullRequest: input.pullRequest,
    request: { path: input.requestPath, sha256: input.requestDigest },
    mergeCommit: input.mergeCommit,
    openedAt: iso(input.openedAt),
    deadline: iso(input.deadline),
    required: input.required,
    countersignatures: input.countersignatures,
    result: {
      state: input.result.state,
      at: iso(input.result.at),
      code: input.result.code,
      message: input.result.message.slice(0, 1000),
    },
  };
  const folder = windowRecordFolder(input.requestPath, input.openedAt);
  const files = [
    { path: `${folder}${WINDOW_FILE_NAME}`, content: Buffer.from(`${JSON.stringify(record, null, 2)}\n`) },
    { path: `${folder}${WINDOW_TOKEN_FILE_NAME}`, content: input.tokenFile },
  ];
  if (input.approvalFile !== null)
    files.push({ path: `${folder}${WINDOW_APPROVAL_FILE_NAME}`, content: input.approvalFile });
  return { folder, files };
}

export type WindowRecordParse =
  | { readonly ok: true; readonly record: WindowRecord }
  | { readonly ok: false; readonly reason: string };

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;
const SHA1 = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** window.json read back: every field checked, anything else one sentence. */
export function parseWindowRecord(bytes: Uint8Array): WindowRecordParse {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, reason: "window.json is not UTF-8 JSON" };
  }
  const bad = (what: string): WindowRecordParse => ({ ok: false, reason: `window.json: ${what}` });
  if (!isObject(doc)) return bad("not an object");
  if (doc["format"] !== WINDOW_RECORD_FORMAT || doc["version"] !== WINDOW_RECORD_VERSION)
    return bad(`not a ${WINDOW_RECORD_FORMAT} document of version ${WINDOW_RECORD_VERSION}`);
  const str = (o: Record<string, unknown>, k: string, re?: RegExp): string | null => {
    const v = o[k];
    return typeof v === "string" && (re === undefined || re.test(v)) ? v : null;
  };
  const repository = str(doc, "repository", /^[^/\s]+\/[^/\s]+$/);
  if (repository === null) return bad("repository is not owner/name");
  const pullRequest = doc["pullRequest"];
  if (typeof pullRequest !== "number" || !Number.isSafeInteger(pullRequest) || pullRequest < 1)
    return bad("pullRequest is not a pull request number");
  const request = doc["request"];
  if (!isObject(request)) return bad("request is not an object");
  const path = str(request, "path");
  const sha256 = str(request, "sha256", SHA256);
  if (path === null || sha256 === null) return bad("request needs a path and a sha256");
  const mergeCommit = str(doc, "mergeCommit", SHA1);
  if (mergeCommit === null) return bad("mergeCommit is not a commit id");
  const openedAt = str(doc, "openedAt", ISO);
  const deadline = str(doc, "deadline", ISO);
  if (openedAt === null || deadline === null) return bad("openedAt and deadline must be UTC times");
  const required = doc["required"];
  if (typeof required !== "number" || !Number.isSafeInteger(required) || required < 1)
    return bad("required is not a positive whole number");
  const list = doc["countersignatures"];
  if (!Array.isArray(list)) return bad("countersignatures is not a list");
  const countersignatures: RecordedCountersignature[] = [];
  for (const raw of list as unknown[]) {
    if (!isObject(raw)) return bad("a countersignature is not an object");
    const officer = str(raw, "officer");
    const githubLogin = str(raw, "githubLogin");
    const candidateId = str(raw, "candidateId");
    const createdAt = str(raw, "createdAt", ISO);
    const signature = str(raw, "signature", BASE64);
    if (officer === null || githubLogin === null || candidateId === null || createdAt === null || signature === null)
      return bad("a countersignature needs officer, githubLogin, candidateId, createdAt and a base64 signature");
    const a = raw["approval"];
    const approval = isObject(a)
      ? {
          candidateId: str(a, "candidateId"),
          createdAt: str(a, "createdAt", ISO),
          until: str(a, "until", ISO),
          signature: str(a, "signature", BASE64),
        }
      : null;
    if (
      approval === null ||
      approval.candidateId === null ||
      approval.createdAt === null ||
      approval.until === null ||
      approval.signature === null
    )
      return bad(
        `the countersignature of ${officer} needs its approval: candidateId, createdAt, until and a base64 signature`,
      );
    countersignatures.push({
      officer,
      githubLogin,
      candidateId,
      createdAt,
      signature,
      approval: {
        candidateId: approval.candidateId,
        createdAt: approval.createdAt,
        until: approval.until,
        signature: approval.signature,
      },
    });
  }
  const result = doc["result"];
  if (!isObject(result)) return bad("result is not an object");
  const state = WINDOW_RESULTS.find((r) => r === result["state"]);
  if (state === undefined) return bad(`result.state is not one of ${WINDOW_RESULTS.join(", ")}`);
  const at = str(result, "at", ISO);
  const message = str(result, "message");
  const code = result["code"] === null ? null : str(result, "code");
  if (at === null || message === null || (code === null && result["code"] !== null))
    return bad("result needs a UTC time, a message and a code (or null)");
  return {
    ok: true,
    record: {
      format: WINDOW_RECORD_FORMAT,
      version: WINDOW_RECORD_VERSION,
      repository,
      pullRequest,
      request: { path, sha256 },
      mergeCommit,
      openedAt,
      deadline,
      required,
      countersignatures,
      result: { state, at, code, message },
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
