// The short clock of a real cluster (docs/real-cluster.md, "The short clock: the execution window"): after the long
// approval, the gate generates the HSM's own quorum token in its CloudHSM CLI session, and the
// officers whose approval of the payload counts sign that token within the window. This file
// judges those countersignatures and, at M, writes the approval file the gate passes to the
// command with `--approval`. Pure: the window, the comments and the time come in; verdicts and
// the file's bytes come out.
//
// What the gate checks here and the HSM checks again: each signature over the token's
// approval_data under the officer's key (the HSM uses the registered one; the gate the pinned
// one, which the long clock has already compared where the cluster shows it). What only the gate
// checks: that the officer approved this request's payload (the HSM token binds no arguments),
// that the comment was posted inside this window, once per officer.
import { parseCliTokenFile } from "../formats/cli-token-file.ts";
import { parseApprovalComment } from "./approval-command.ts";
import type { ApprovalCandidate } from "./candidate.ts";
import { verifyMessage } from "../crypto/rsa.ts";
import { pinnedKey } from "./judge-candidate.ts";
import { normalizeLogin } from "./login.ts";
import { officerOfLogin, type Policy } from "./policy.ts";
import type { Approver } from "./tally.ts";

/** A window the gate opened: the token file `quorum token-sign generate` wrote, and its clock. */
export interface ExecutionWindow {
  /** The token file's bytes, as shown in the sticky comment for officers to sign. */
  readonly tokenFile: Uint8Array;
  /** Unix seconds: when the token was generated, and when the HSM lets it lapse. */
  readonly openedAt: number;
  readonly deadline: number;
}

export const COUNTERSIGN_REASONS = [
  "valid",
  /** The officer's approval of this request's payload does not count (never given, withdrawn, lapsed). */
  "not_an_approver",
  /** Posted before this window opened: a countersignature of an earlier window's token. */
  "before_window",
  /** Posted after the window's deadline. */
  "window_closed",
  "edited",
  "unknown_officer",
  "bad_signature",
  /** The officer's countersignature already counts. */
  "duplicate",
] as const;
export type CountersignReason = (typeof COUNTERSIGN_REASONS)[number];

export interface CountersignVerdict {
  readonly candidateId: string;
  readonly author: string;
  readonly officer: string | null;
  readonly counted: boolean;
  readonly reason: CountersignReason;
  readonly message: string;
}

export type WindowJudgement =
  | { readonly ok: false; readonly reason: "bad_token_file"; readonly message: string }
  | {
      readonly ok: true;
      /** `lapsed`: the deadline has passed (even with M signatures); `ready`: M count in time; else `open`. */
      readonly state: "open" | "ready" | "lapsed";
      readonly required: number;
      /** The officers whose countersignature counts, in posting order, with their signatures and comments. */
      readonly signers: readonly Countersigner[];
      /** Approvers who have not countersigned yet: whom the sticky comment mentions. */
      readonly waitingFor: readonly string[];
      readonly verdicts: readonly CountersignVerdict[];
    };

export interface Countersigner {
  readonly officer: string;
  readonly signature: Buffer;
  /** The comment that carried it: its id, author and creation time, as GitHub gave them. */
  readonly candidateId: string;
  readonly author: string;
  readonly createdAt: string;
}

export interface WindowInput {
  readonly window: ExecutionWindow;
  readonly policy: Policy;
  /** The approvers the long-clock decision counts now (Decision.approvers). */
  readonly approvers: readonly Approver[];
  readonly required: number;
  readonly candidates: readonly ApprovalCandidate[];
  /** Unix seconds. */
  readonly now: number;
}

export function judgeWindow(input: WindowInput): WindowJudgement {
  const file = parseCliTokenFile(input.window.tokenFile);
  if (!file.ok) return { ok: false, reason: "bad_token_file", message: `the window's token file: ${file.reason}` };
  const approvalData = file.approvalData;
  const approved = new Set(input.approvers.map((a) => a.officer));
  const signers: Countersigner[] = [];
  const verdicts: CountersignVerdict[] = [];
  const { openedAt, deadline } = input.window;

  for (const c of input.candidates) {
    const parsed = parseApprovalComment(c.body);
    if (!parsed.ok || parsed.command.verb !== "countersign") continue;
    const { bytes } = parsed.command;
    const mapping = officerOfLogin(input.policy, c.author);
    const verdict = (officer: string | null, reason: CountersignReason, message: string): void => {
      verdicts.push({ candidateId: c.id, author: c.author, officer, counted: reason === "valid", reason, message });
    };
    const at = Date.parse(c.createdAt) / 1000;
    if (c.edited === true) {
      verdict(mapping?.officer ?? null, "edited", "the comment was edited after it was posted; post a new one");
      continue;
    }
    if (mapping === undefined) {
      verdict(null, "unknown_officer", `${normalizeLogin(c.author)} is not mapped to an officer in the policy`);
      continue;
    }
    const officer = mapping.officer;
    if (!(at >= openedAt)) {
      verdict(officer, "before_window", "posted before this execution window opened: it signs an earlier token");
      continue;
    }
    if (at > deadline) {
      verdict(officer, "window_closed", "posted after the execution window's deadline");
      continue;
    }
    if (!approved.has(officer)) {
      verdict(officer, "not_an_approver", `officer ${officer}'s approval of this request's payload does not count`);
      continue;
    }
    if (signers.some((s) => s.officer === officer)) {
      verdict(officer, "duplicate", `officer ${officer}'s countersignature already counts`);
      continue;
    }
    const key = pinnedKey(mapping);
    if (key === null || !verifyMessage(approvalData, key.key, bytes)) {
      verdict(officer, "bad_signature", `the signature does not verify under ${officer}'s pinned key over this token`);
      continue;
    }
    signers.push({ officer, signature: bytes, candidateId: c.id, author: c.author, createdAt: c.createdAt });
    verdict(officer, "valid", `officer ${officer} countersigns the token`);
  }

  const ready = signers.length >= input.required;
  // Past the deadline the HSM has let the token lapse: M signatures of it can run nothing now.
  const state = input.now > deadline ? "lapsed" : ready ? "ready" : "open";
  const signed = new Set(signers.map((s) => s.officer));
  return {
    ok: true,
    state,
    required: input.required,
    signers: signers.slice(0, Math.max(input.required, 0)),
    waitingFor: [...approved].filter((o) => !signed.has(o)),
    verdicts,
  };
}

/**
 * The approval file for `--approval`: the window's token file with the counted signatures filled
 * in, one entry per officer under their HSM user name (docs/cloudhsm-cli.md, "Token files").
 */
export function renderApprovalFile(
  tokenFile: Uint8Array,
  signers: readonly { readonly officer: string; readonly signature: Uint8Array }[],
): Uint8Array {
  const parsed = parseCliTokenFile(tokenFile);
  if (!parsed.ok) throw new Error(`[gate] the window's token file: ${parsed.reason}`);
  const doc = JSON.parse(Buffer.from(tokenFile).toString("utf8")) as Record<string, unknown>;
  const out = {
    ...doc,
    signatures: signers.map((s) => ({ username: s.officer, signature: Buffer.from(s.signature).toString("base64") })),
  };
  return Buffer.from(`${JSON.stringify(out, null, 2)}\n`);
}
