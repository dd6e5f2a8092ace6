// Issue comments, reviews and review comments of a pull request, normalised into one list of
// approval candidates, oldest first. The gate re-evaluates from this list on every event, so it
// must be complete (every page of all three lists) and its order must not depend on the API's.
import type { OctokitLike } from "./octokit-like.ts";
import { parseComments, parseReviews, type ParsedComment, type ParsedReview } from "./parse.ts";
import type { ApprovalCandidate, RepoRef } from "./port.ts";
import { describe, sendPaged } from "./send.ts";

/** The engine's candidate, with every optional field GitHub can tell set explicitly. */
export interface GitHubApprovalCandidate extends ApprovalCandidate {
  readonly updatedAt: string;
  readonly edited: boolean;
  /** A review a maintainer dismissed: shown by the gate, never counted. False for comments. */
  readonly dismissed: boolean;
  readonly url: string;
}

const KIND_ORDER = { issue_comment: 0, review: 1, review_comment: 2 } as const;

async function paged(
  octokit: OctokitLike,
  route: string,
  params: Record<string, unknown>,
): Promise<{ list: unknown[]; where: string }> {
  return { list: await sendPaged(octokit, route, params), where: describe(route, params) };
}

export function fromComment(kind: "issue_comment" | "review_comment", c: ParsedComment): GitHubApprovalCandidate {
  return {
    id: `${kind}:${c.id}`,
    kind,
    author: c.login,
    authorIsBot: c.isBot,
    body: c.body,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    edited: Date.parse(c.updatedAt) > Date.parse(c.createdAt),
    url: c.url,
    dismissed: false,
  };
}

export async function listCandidates(
  octokit: OctokitLike,
  repo: RepoRef,
  number: number,
): Promise<readonly GitHubApprovalCandidate[]> {
  const base = { owner: repo.owner, repo: repo.repo };
  const [issueComments, reviews, reviewComments] = await Promise.all([
    paged(octokit, "GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...base, issue_number: number }),
    paged(octokit, "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", { ...base, pull_number: number }),
    paged(octokit, "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments", { ...base, pull_number: number }),
  ]);
  const candidates: GitHubApprovalCandidate[] = [
    ...parseComments(issueComments.list, issueComments.where).map((c) => fromComment("issue_comment", c)),
    ...parseComments(reviewComments.list, reviewComments.where).map((c) => fromComment("review_comment", c)),
  ];
  for (const r of parseReviews(reviews.list, reviews.where)) {
    const review = fromReview(r);
    if (review !== null) candidates.push(review);
  }
  return candidates.sort(oldestFirst);
}

/** A submitted review as a candidate; null for a pending one. */
export function fromReview(r: ParsedReview): GitHubApprovalCandidate | null {
  // A pending review is a draft only its author can see; it has not been posted.
  if (r.state === "PENDING" || r.submittedAt === null) return null;
  return {
    id: `review:${r.id}`,
    kind: "review",
    author: r.login,
    authorIsBot: r.isBot,
    body: r.body,
    createdAt: r.submittedAt,
    updatedAt: r.submittedAt,
    // GitHub does not date a review body's edits, so a review never reads as edited.
    edited: false,
    url: r.url,
    dismissed: r.state === "DISMISSED",
    ...(r.state === "UNKNOWN" ? { unknownReviewState: r.rawState.slice(0, 40) } : {}),
  };
}

export function oldestFirst(a: GitHubApprovalCandidate, b: GitHubApprovalCandidate): number {
  return (
    Date.parse(a.createdAt) - Date.parse(b.createdAt) ||
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    numericId(a) - numericId(b)
  );
}

function numericId(c: ApprovalCandidate): number {
  return Number(c.id.slice(c.id.indexOf(":") + 1));
}
