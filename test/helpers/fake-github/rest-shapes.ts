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
import { repoKey } from "./model.ts";

const WEB = "https://github.com";
const API = "https://api.github.com";
/** When the fake's repositories, users and Apps say they were created: before any fake write. */
const CREATED = "2025-12-01T00:00:00Z";

/**
 * GitHub's description (fake-github/openapi.ts) requires every field below: the fake answers all
 * of them, with values derived from the names (URLs, node ids) where GitHub's are, and the
 * neutral value (null, [], 0, false) where the fake has no model for them (labels, milestones,
 * licences, stars).
 */

/** A stable numeric id per login, so the same user looks the same in every answer. */
export function userId(login: string): number {
  return Number.parseInt(createHash("sha1").update(login.toLowerCase()).digest("hex").slice(0, 7), 16);
}

/** GitHub's legacy global id: base64 of "0<kind length>:<Kind><id>". */
export function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`0${kind.length}:${kind}${id}`).toString("base64");
}

/** `simple-user`. */
export function userJson(u: FakeUser): Record<string, unknown> {
  const id = userId(u.login);
  const api = `${API}/users/${encodeURIComponent(u.login)}`;
  return {
    login: u.login,
    id,
    node_id: nodeId(u.type, id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: `${WEB}/${u.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: u.type,
    user_view_type: "public",
    site_admin: false,
  };
}

/** `private-user`: what `GET /user` shows a user about themselves. */
export function privateUserJson(u: FakeUser): Record<string, unknown> {
  return {
    ...userJson(u),
    name: null,
    company: null,
    blog: "",
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: CREATED,
    updated_at: CREATED,
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

/** `integration`: a GitHub App as its own `GET /app` and a check run's `app` show it. */
export function appJson(
  id: number,
  slug: string,
  permissions: Readonly<Record<string, string>>,
  events: readonly string[],
): Record<string, unknown> {
  return {
    id,
    slug,
    node_id: nodeId("Integration", id),
    client_id: `Iv1.${createHash("sha1").update(slug).digest("hex").slice(0, 16)}`,
    owner: userJson({ login: "quorum-gate", type: "Organization" }),
    name: slug,
    description: null,
    external_url: `${WEB}/apps/${slug}`,
    html_url: `${WEB}/apps/${slug}`,
    created_at: CREATED,
    updated_at: CREATED,
    permissions,
    events,
  };
}

/** `full-repository` (which holds every field of `repository`, as a pull request's head and base carry it). */
export function repoJson(r: RepoState): Record<string, unknown> {
  const api = `${API}/repos/${r.fullName}`;
  return {
    id: r.id,
    node_id: nodeId("Repository", r.id),
    name: r.name,
    full_name: r.fullName,
    owner: userJson({ login: r.owner, type: "User" }),
    private: false,
    visibility: "public",
    html_url: `${WEB}/${r.fullName}`,
    description: null,
    fork: r.forkOf !== null,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://github.com/${r.fullName}.git`,
    hooks_url: `${api}/hooks`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@github.com:${r.fullName}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${WEB}/${r.fullName}.git`,
    mirror_url: null,
    svn_url: `${WEB}/${r.fullName}`,
    homepage: null,
    language: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 0,
    default_branch: r.defaultBranch,
    open_issues: 0,
    open_issues_count: 0,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    license: null,
    pushed_at: CREATED,
    created_at: CREATED,
    updated_at: CREATED,
    network_count: 0,
    subscribers_count: 0,
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

/** `pull-request-simple`: the shape of lists (`GET /repos/{owner}/{repo}/commits/{sha}/pulls`), without `merged`. */
export function pullSimpleJson(state: FakeState, pr: PullState): Record<string, unknown> {
  const head = headSha(pr);
  const base = baseSha(state, pr);
  // GitHub shows a test-merge commit while the PR is open; only a merged PR's is real.
  const mergeCommitSha = pr.mergeCommitSha ?? createHash("sha1").update(`test-merge ${base} ${head}`).digest("hex");
  const full = pr.baseRepo.fullName;
  const api = `${API}/repos/${full}`;
  const html = `${WEB}/${full}/pull/${pr.number}`;
  const href = (u: string): { href: string } => ({ href: u });
  return {
    url: `${api}/pulls/${pr.number}`,
    id: pr.id,
    node_id: nodeId("PullRequest", pr.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    commits_url: `${api}/pulls/${pr.number}/commits`,
    review_comments_url: `${api}/pulls/${pr.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pr.number}/comments`,
    statuses_url: `${api}/statuses/${head}`,
    number: pr.number,
    state: pr.state,
    locked: false,
    active_lock_reason: null,
    title: pr.title,
    body: pr.body,
    user: userJson(pr.author),
    labels: [],
    milestone: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    draft: false,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: mergeCommitSha,
    head: branchJson(pr.headRepo, pr.headRef, head, { login: pr.headRepo.owner, type: "User" }),
    base: branchJson(pr.baseRepo, pr.baseRef, base, { login: pr.baseRepo.owner, type: "User" }),
    _links: {
      self: href(`${api}/pulls/${pr.number}`),
      html: href(html),
      issue: href(`${api}/issues/${pr.number}`),
      comments: href(`${api}/issues/${pr.number}/comments`),
      review_comments: href(`${api}/pulls/${pr.number}/comments`),
      review_comment: href(`${api}/pulls/comments{/number}`),
      commits: href(`${api}/pulls/${pr.number}/commits`),
      statuses: href(`${api}/statuses/${head}`),
    },
    author_association: "CONTRIBUTOR",
    auto_merge: null,
  };
}

/** `pull-request`: one pull request with its counts and merge state. */
export function pullJson(state: FakeState, pr: PullState): Record<string, unknown> {
  return {
    ...pullSimpleJson(state, pr),
    merged: pr.merged,
    mergeable: null,
    rebaseable: null,
    mergeable_state: "unknown",
    merged_by: pr.mergedBy === null ? null : userJson(pr.mergedBy),
    comments: pr.comments.length,
    review_comments: pr.reviewComments.length,
    maintainer_can_modify: false,
    commits: 1,
    additions: 0,
    deletions: 0,
    changed_files: pullDiff(state, baseSha(state, pr), headSha(pr)).length,
  };
}

export function commentJson(pr: PullState, c: CommentState): Record<string, unknown> {
  const api = `${API}/repos/${pr.baseRepo.fullName}`;
  return {
    id: c.id,
    node_id: nodeId("IssueComment", c.id),
    url: `${api}/issues/comments/${c.id}`,
    user: userJson(c.user),
    body: c.body,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    html_url: `${WEB}/${pr.baseRepo.fullName}/pull/${pr.number}#issuecomment-${c.id}`,
    issue_url: `${api}/issues/${pr.number}`,
    author_association: "CONTRIBUTOR",
  };
}

export function reviewJson(pr: PullState, r: ReviewState): Record<string, unknown> {
  const html = `${WEB}/${pr.baseRepo.fullName}/pull/${pr.number}#pullrequestreview-${r.id}`;
  const pull = `${API}/repos/${pr.baseRepo.fullName}/pulls/${pr.number}`;
  return {
    id: r.id,
    node_id: nodeId("PullRequestReview", r.id),
    user: userJson(r.user),
    body: r.body,
    state: r.state,
    commit_id: r.commitId,
    html_url: html,
    pull_request_url: pull,
    _links: { html: { href: html }, pull_request: { href: pull } },
    author_association: "CONTRIBUTOR",
    ...(r.submittedAt === null ? {} : { submitted_at: r.submittedAt }),
  };
}

export function reviewCommentJson(pr: PullState, c: ReviewCommentState): Record<string, unknown> {
  const api = `${API}/repos/${pr.baseRepo.fullName}`;
  const html = `${WEB}/${pr.baseRepo.fullName}/pull/${pr.number}#discussion_r${c.id}`;
  return {
    url: `${api}/pulls/comments/${c.id}`,
    id: c.id,
    node_id: nodeId("PullRequestReviewComment", c.id),
    pull_request_review_id: null,
    diff_hunk: `@@ -${c.line},1 +${c.line},1 @@`,
    user: userJson(c.user),
    body: c.body,
    path: c.path,
    line: c.line,
    original_line: c.line,
    side: "RIGHT",
    commit_id: c.commitId,
    original_commit_id: c.commitId,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    html_url: html,
    pull_request_url: `${api}/pulls/${pr.number}`,
    _links: {
      self: { href: `${api}/pulls/comments/${c.id}` },
      html: { href: html },
      pull_request: { href: `${api}/pulls/${pr.number}` },
    },
    author_association: "CONTRIBUTOR",
  };
}

/** `pull-request-minimal`: how a check run names the open pull requests of its head commit, in its own repository. */
function minimalPullJson(state: FakeState, pr: PullState): Record<string, unknown> {
  const side = (repo: RepoState, ref: string, sha: string): Record<string, unknown> => ({
    ref,
    sha,
    repo: { id: repo.id, url: `${API}/repos/${repo.fullName}`, name: repo.name },
  });
  return {
    id: pr.id,
    number: pr.number,
    url: `${API}/repos/${pr.baseRepo.fullName}/pulls/${pr.number}`,
    head: side(pr.headRepo, pr.headRef, headSha(pr)),
    base: side(pr.baseRepo, pr.baseRef, baseSha(state, pr)),
  };
}

export function checkRunJson(state: FakeState, repo: RepoState, c: CheckRunState): Record<string, unknown> {
  const pulls = [...(state.pulls.get(repoKey(repo.fullName))?.values() ?? [])].filter(
    (pr) => pr.state === "open" && pr.headRepo === repo && headSha(pr) === c.headSha,
  );
  return {
    id: c.id,
    node_id: nodeId("CheckRun", c.id),
    url: `${API}/repos/${repo.fullName}/check-runs/${c.id}`,
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
      annotations_url: `${API}/repos/${repo.fullName}/check-runs/${c.id}/annotations`,
    },
    // One suite per commit and app, as GitHub groups them; the fake models no suites beyond the id.
    check_suite: {
      id: Number.parseInt(createHash("sha1").update(`${c.headSha} ${c.appId}`).digest("hex").slice(0, 8), 16),
    },
    app: appJson(c.appId, c.appSlug, {}, []),
    pull_requests: pulls.map((pr) => minimalPullJson(state, pr)),
    html_url: `${WEB}/${repo.fullName}/runs/${c.id}`,
  };
}
