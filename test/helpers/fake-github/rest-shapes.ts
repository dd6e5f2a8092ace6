// The JSON the fake answers with: the REST shapes of GitHub's API, with the fields Octokit users
// read (and a few more so that webhook payload builders can reuse them). Web links point at
// github.com-style URLs; they are for display only.
import { createHash } from "node:crypto";
import { commitOf, pullDiff } from "./git.ts";
import type {
  CheckRunState,
  CommentState,
  FakeState,
  FakeUser,
  PullState,
  RepoState,
  ReviewCommentState,
  ReviewState,
} from "./model.ts";

const WEB = "https://github.com";

/** A stable numeric id per login, so the same user looks the same in every answer. */
export function userId(login: string): number {
  return Number.parseInt(createHash("sha1").update(login.toLowerCase()).digest("hex").slice(0, 7), 16);
}

export function userJson(u: FakeUser): Record<string, unknown> {
  return { login: u.login, id: userId(u.login), type: u.type, site_admin: false, html_url: `${WEB}/${u.login}` };
}

export function repoJson(r: RepoState): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    full_name: r.fullName,
    owner: userJson({ login: r.owner, type: "User" }),
    private: false,
    fork: r.forkOf !== null,
    default_branch: r.defaultBranch,
    html_url: `${WEB}/${r.fullName}`,
  };
}

export function headSha(pr: PullState): string {
  return pr.frozen?.headSha ?? pr.headRepo.branches.get(pr.headRef) ?? pr.lastHeadSha;
}

export function baseSha(state: FakeState, pr: PullState): string {
  const sha = pr.frozen?.baseSha ?? pr.baseRepo.branches.get(pr.baseRef);
  if (sha === undefined) throw new Error(`[fake-github] base branch ${pr.baseRef} is gone`);
  return commitOf(state, sha).sha;
}

function branchJson(repo: RepoState, ref: string, sha: string, user: FakeUser): Record<string, unknown> {
  return { label: `${repo.owner}:${ref}`, ref, sha, user: userJson(user), repo: repoJson(repo) };
}

export function pullJson(state: FakeState, pr: PullState): Record<string, unknown> {
  const head = headSha(pr);
  const base = baseSha(state, pr);
  // GitHub shows a test-merge commit while the PR is open; only a merged PR's is real.
  const mergeCommitSha = pr.mergeCommitSha ?? createHash("sha1").update(`test-merge ${base} ${head}`).digest("hex");
  return {
    id: pr.id,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    body: pr.body,
    user: userJson(pr.author),
    draft: false,
    merged: pr.merged,
    merged_by: pr.mergedBy === null ? null : userJson(pr.mergedBy),
    merge_commit_sha: mergeCommitSha,
    head: branchJson(pr.headRepo, pr.headRef, head, { login: pr.headRepo.owner, type: "User" }),
    base: branchJson(pr.baseRepo, pr.baseRef, base, { login: pr.baseRepo.owner, type: "User" }),
    html_url: `${WEB}/${pr.baseRepo.fullName}/pull/${pr.number}`,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.mergedAt,
    changed_files: pullDiff(state, base, head).length,
    comments: pr.comments.length,
    review_comments: pr.reviewComments.length,
  };
}

export function commentJson(pr: PullState, c: CommentState): Record<string, unknown> {
  return {
    id: c.id,
    user: userJson(c.user),
    body: c.body,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    html_url: `${WEB}/${pr.baseRepo.fullName}/pull/${pr.number}#issuecomment-${c.id}`,
    issue_url: `${WEB}/${pr.baseRepo.fullName}/issues/${pr.number}`,
    author_association: "CONTRIBUTOR",
  };
}

export function reviewJson(pr: PullState, r: ReviewState): Record<string, unknown> {
  return {
    id: r.id,
    user: userJson(r.user),
    body: r.body,
    state: r.state,
    commit_id: r.commitId,
    html_url: `${WEB}/${pr.baseRepo.fullName}/pull/${pr.number}#pullrequestreview-${r.id}`,
    author_association: "CONTRIBUTOR",
    ...(r.submittedAt === null ? {} : { submitted_at: r.submittedAt }),
  };
}

export function reviewCommentJson(pr: PullState, c: ReviewCommentState): Record<string, unknown> {
  return {
    id: c.id,
    user: userJson(c.user),
    body: c.body,
    path: c.path,
    line: c.line,
    commit_id: c.commitId,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    html_url: `${WEB}/${pr.baseRepo.fullName}/pull/${pr.number}#discussion_r${c.id}`,
    author_association: "CONTRIBUTOR",
  };
}

export function checkRunJson(repo: RepoState, c: CheckRunState): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    head_sha: c.headSha,
    status: c.status,
    conclusion: c.conclusion,
    started_at: c.startedAt,
    completed_at: c.completedAt,
    details_url: c.detailsUrl,
    external_id: c.externalId,
    output: {
      ...c.output,
      annotations_count: c.annotationsCount,
      annotations_url: `https://api.github.com/repos/${repo.fullName}/check-runs/${c.id}/annotations`,
    },
    app: { id: c.appId, slug: c.appSlug, name: c.appSlug },
    html_url: `${WEB}/${repo.fullName}/runs/${c.id}`,
  };
}
