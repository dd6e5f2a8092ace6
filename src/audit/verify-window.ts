// One execution window's record verified offline (docs/audit.md, "The execution window's record"),
// against the landing it belongs to: the record is a commit on top of the request's merge
// commit, adding only its own folder; window.json names that request and that merge; every
// countersignature verifies under the officer's key pinned in the policy that judged the request,
// over the approval_data of the token.json beside it, was posted inside the window, and comes with
// the officer's own approval of the request's payload, which verifies too and still lived when
// the window opened. A record that says the command ran holds M of them and the approval file
// the command ran with. Pure: the bytes come in, findings come out.
//
// What this cannot show: that the HSM accepted the command. The record says what the cluster
// answered; the cluster's own state (`user list`) is where to look for the effect.
import { parseCliTokenFile } from "../formats/cli-token-file.ts";
import { verifyMessage } from "../crypto/rsa.ts";
import { pinnedKey } from "../gate/judge-candidate.ts";
import { normalizeLogin } from "../gate/login.ts";
import type { Policy } from "../gate/policy.ts";
import {
  parseWindowRecord,
  parseWindowRecordRef,
  WINDOW_APPROVAL_FILE_NAME,
  WINDOW_FILE_NAME,
  WINDOW_TOKEN_FILE_NAME,
  windowRecordFolder,
  type WindowResult,
} from "../gate/window-record.ts";
import type { EvidenceRecord } from "../gate/evidence-document.ts";

export const WINDOW_FAILURES = [
  /** The ref's name is not `pr-<N>-<opened>`, or its commit is not on top of the request's merge commit. */
  "record_misplaced",
  /** The commit changes files outside the record's folder. */
  "record_outside_folder",
  /** window.json or token.json is missing or malformed. */
  "record_unreadable",
  /** window.json names another request, pull request, merge commit or opening time. */
  "record_mismatch",
  /** A countersignature or its approval does not verify, or was not the officer's to give. */
  "bad_countersignature",
  /** The record says the command ran, with fewer than M countersignatures or another approval file. */
  "quorum_not_met",
] as const;
export type WindowFailure = (typeof WINDOW_FAILURES)[number];

export interface WindowRecordInput {
  readonly ref: string;
  readonly commit: string;
  /** The record commit's parents. */
  readonly parents: readonly string[];
  /** Every path the record commit changes against its parent. */
  readonly changedPaths: readonly string[];
  /** The record folder's files at the record commit: name → bytes. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export interface WindowVerification {
  readonly ref: string;
  readonly commit: string;
  readonly holds: boolean;
  readonly openedAt: string | null;
  readonly result: WindowResult | null;
  readonly code: string | null;
  readonly message: string | null;
  /** The officers whose countersignature verifies, in the record's order. */
  readonly countersignedBy: readonly string[];
  readonly failures: readonly { readonly code: WindowFailure; readonly message: string }[];
}

export interface WindowSubject {
  /** The commit that landed the request (its merge, or its squash). */
  readonly landingCommit: string;
  readonly evidence: EvidenceRecord;
  readonly policy: Policy;
  /** The request's approval payload for an `until=`. */
  readonly payloadOf: (until: string) => Uint8Array;
}

export function verifyWindowRecord(input: WindowRecordInput, subject: WindowSubject): WindowVerification {
  const failures: { code: WindowFailure; message: string }[] = [];
  const fail = (code: WindowFailure, message: string): void => {
    failures.push({ code, message });
  };
  const out = (rest: Partial<WindowVerification>): WindowVerification => ({
    ref: input.ref,
    commit: input.commit,
    openedAt: null,
    result: null,
    code: null,
    message: null,
    countersignedBy: [],
    ...rest,
    holds: failures.length === 0,
    failures,
  });
  const { evidence } = subject;

  const named = parseWindowRecordRef(input.ref);
  if (named === null || named.pullRequest !== evidence.pullRequest) {
    fail("record_misplaced", `${input.ref} is not named for pull request ${evidence.pullRequest}`);
    return out({});
  }
  if (input.parents.length !== 1 || input.parents[0] !== subject.landingCommit)
    fail("record_misplaced", `its commit's parent is not ${subject.landingCommit.slice(0, 12)}, the request's merge`);
  const folder = windowRecordFolder(evidence.request.path, named.openedAt);
  const outside = input.changedPaths.filter((p) => !p.startsWith(folder));
  if (outside.length > 0)
    fail(
      "record_outside_folder",
      `it changes ${outside.slice(0, 3).join(", ")}${outside.length > 3 ? ", ..." : ""} besides ${folder}`,
    );

  const raw = input.files.get(WINDOW_FILE_NAME);
  const parsed =
    raw === undefined ? ({ ok: false, reason: `no ${WINDOW_FILE_NAME}` } as const) : parseWindowRecord(raw);
  if (!parsed.ok) {
    fail("record_unreadable", parsed.reason);
    return out({});
  }
  const r = parsed.record;
  const shown = { openedAt: r.openedAt, result: r.result.state, code: r.result.code, message: r.result.message };
  const openedAt = Date.parse(r.openedAt) / 1000;
  const deadline = Date.parse(r.deadline) / 1000;
  if (
    r.repository.toLowerCase() !== evidence.repository.toLowerCase() ||
    r.pullRequest !== evidence.pullRequest ||
    r.request.path !== evidence.request.path ||
    r.request.sha256 !== evidence.request.sha256 ||
    r.mergeCommit !== subject.landingCommit ||
    openedAt !== named.openedAt
  )
    fail(
      "record_mismatch",
      `window.json is for ${r.repository}#${r.pullRequest} ${r.request.path} (${r.request.sha256.slice(0, 12)}) merged in ${r.mergeCommit.slice(0, 12)}, opened ${r.openedAt}`,
    );

  const tokenBytes = input.files.get(WINDOW_TOKEN_FILE_NAME);
  const token = tokenBytes === undefined ? null : parseCliTokenFile(tokenBytes);
  if (token === null || !token.ok) {
    fail("record_unreadable", `${WINDOW_TOKEN_FILE_NAME}: ${token === null ? "missing" : token.reason}`);
    return out(shown);
  }

  const signed: string[] = [];
  const valid: { officer: string; signature: string }[] = [];
  for (const c of r.countersignatures) {
    const why = countersignatureProblem(c, subject, token.approvalData, openedAt, deadline, signed);
    if (why !== null) fail("bad_countersignature", `${c.officer} (${c.githubLogin}): ${why}`);
    else {
      signed.push(c.officer);
      valid.push({ officer: c.officer, signature: c.signature });
    }
  }

  const ran = r.result.state === "applied" || r.result.state === "refused";
  if (ran) {
    if (valid.length < evidence.required)
      fail(
        "quorum_not_met",
        `it says the command ran with ${valid.length} valid countersignatures of ${evidence.required}`,
      );
    const approval = input.files.get(WINDOW_APPROVAL_FILE_NAME);
    const problem =
      approval === undefined
        ? `no ${WINDOW_APPROVAL_FILE_NAME}`
        : approvalFileProblem(approval, tokenBytes ?? new Uint8Array(), valid);
    if (problem !== null) fail("quorum_not_met", `${WINDOW_APPROVAL_FILE_NAME}: ${problem}`);
  } else if (input.files.has(WINDOW_APPROVAL_FILE_NAME))
    fail(
      "record_mismatch",
      `${WINDOW_APPROVAL_FILE_NAME} is there, but the record says nothing ran (${r.result.state})`,
    );
  return out({ ...shown, countersignedBy: signed });
}

function countersignatureProblem(
  c: {
    officer: string;
    githubLogin: string;
    createdAt: string;
    signature: string;
    approval: { until: string; signature: string };
  },
  subject: WindowSubject,
  approvalData: Uint8Array,
  openedAt: number,
  deadline: number,
  signed: readonly string[],
): string | null {
  const login = normalizeLogin(c.githubLogin);
  const mapping = subject.policy.officers.find((o) => o.login === login);
  if (mapping === undefined || mapping.officer !== c.officer)
    return `${login} is not mapped to officer ${c.officer} in the policy that judged the request`;
  if (!subject.policy.allowSelfApproval && login === normalizeLogin(subject.evidence.pullRequestAuthor))
    return "the pull request's author, whom the policy does not let approve";
  if (signed.includes(c.officer)) return "counted twice";
  const key = pinnedKey(mapping);
  if (key === null) return "the policy pins no usable public_key for this officer";
  const at = Date.parse(c.createdAt) / 1000;
  if (!(at >= openedAt && at <= deadline)) return `posted at ${c.createdAt}, outside the window`;
  if (!verifyMessage(approvalData, key.key, Buffer.from(c.signature, "base64")))
    return "the countersignature does not verify over token.json's approval_data under the pinned key";
  if (!(Date.parse(c.approval.until) / 1000 >= openedAt))
    return `the approval lapsed (until=${c.approval.until}) before the window opened`;
  if (!verifyMessage(subject.payloadOf(c.approval.until), key.key, Buffer.from(c.approval.signature, "base64")))
    return "the approval does not verify over this request's payload under the pinned key";
  return null;
}

/** The approval file is token.json with exactly the valid countersignatures under the officers' names. */
function approvalFileProblem(
  approval: Uint8Array,
  token: Uint8Array,
  valid: readonly { officer: string; signature: string }[],
): string | null {
  let doc: unknown;
  let base: unknown;
  try {
    doc = JSON.parse(Buffer.from(approval).toString("utf8"));
    base = JSON.parse(Buffer.from(token).toString("utf8"));
  } catch {
    return "not JSON";
  }
  if (typeof doc !== "object" || doc === null || typeof base !== "object" || base === null) return "not an object";
  const d = doc as Record<string, unknown>;
  const b = base as Record<string, unknown>;
  if (d["approval_data"] !== b["approval_data"] || d["token"] !== b["token"]) return "it is not token.json's token";
  const sigs = Array.isArray(d["signatures"]) ? (d["signatures"] as unknown[]) : null;
  const want = valid.map((v) => `${v.officer} ${v.signature}`);
  const got =
    sigs?.map((s) =>
      typeof s === "object" && s !== null
        ? `${String((s as Record<string, unknown>)["username"])} ${String((s as Record<string, unknown>)["signature"])}`
        : "?",
    ) ?? null;
  if (got === null || got.length !== want.length || got.some((g, i) => g !== want[i]))
    return "its signatures are not the record's valid countersignatures";
  return null;
}
