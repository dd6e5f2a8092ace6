// The verdict on one candidate: counted, rejected with a reason, or noted (a valid command that
// is not an approval). Reason codes are stable snake_case; messages are for people.
import type { CandidateKind } from "./candidate.ts";
import type { CommandVerb } from "./approval-command.ts";

export const VERDICT_REASONS = [
  // counted
  "valid",
  // noted: accepted commands that are not approvals
  "withdraw",
  "retry",
  "renew",
  "execute",
  // the verbs judged by the rules that own them (vetoes, countersignatures)
  "reject",
  "countersign",
  // rejected: the comment is not a usable command
  "unknown_command",
  "unexpected_argument",
  "malformed_signature",
  "malformed_until",
  "not_applicable",
  "multiple_commands",
  "too_long",
  "invalid_candidate",
  // rejected: who posted it
  "deleted",
  "dismissed",
  "unknown_review_state",
  "bot_author",
  "edited",
  "unknown_officer",
  "self_approval",
  // rejected: the signature
  "revoked_key",
  "no_token",
  "bad_signature",
  "not_the_officer",
  "stale_token",
  "expired",
  // rejected: against the other approvals
  "withdrawn",
  "duplicate",
] as const;
export type VerdictReason = (typeof VERDICT_REASONS)[number];

export type VerdictKind = "counted" | "rejected" | "noted";

export interface Verdict {
  readonly candidateId: string;
  readonly kind: CandidateKind;
  readonly author: string;
  /** The HSM officer the author's login maps to, when it maps to one. */
  readonly officer?: string;
  readonly command: CommandVerb | null;
  readonly verdict: VerdictKind;
  readonly reason: VerdictReason;
  readonly message: string;
  /** The candidate's `url`, when it is a plain https URL. */
  readonly url?: string;
}
