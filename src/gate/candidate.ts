// What the adapters hand the engine: every review, review comment and issue comment on the pull
// request, normalised to one shape. The engine decides which of them are commands.

export const CANDIDATE_KINDS = ["review", "review_comment", "issue_comment"] as const;
export type CandidateKind = (typeof CANDIDATE_KINDS)[number];

export interface ApprovalCandidate {
  /** Unique among the candidates, e.g. `issue_comment:123456`. */
  readonly id: string;
  readonly kind: CandidateKind;
  /** GitHub login of the author, as GitHub reports it (bots end in `[bot]`). */
  readonly author: string;
  /** GitHub's own `type === "Bot"` (or the app's id check); the engine never guesses it from the login. */
  readonly authorIsBot: boolean;
  readonly body: string;
  /** ISO 8601, as GitHub reports `created_at` (or `submitted_at` for reviews). */
  readonly createdAt: string;
  /** The body was changed after it was posted (`updated_at` after `created_at`, or an `edited` event). */
  readonly edited?: boolean;
  /** Set by an adapter that passes along the comment of a `deleted` event; it then counts for nothing. */
  readonly deleted?: boolean;
  /** A review a maintainer dismissed: shown, never counted. */
  readonly dismissed?: boolean;
  /** A review whose `state` is none GitHub documents (as GitHub spelled it): shown, never counted. */
  readonly unknownReviewState?: string;
  /** GitHub's `html_url`, for links in the sticky comment. */
  readonly url?: string;
}
