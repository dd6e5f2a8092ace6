// What a test does to a repository without going through the API: commit, open or fork a pull
// request, comment and review as any user, merge. Each helper returns the REST shape the API
// would show (`payload`), so webhook payload builders can reuse it.
import { applyChanges, commitOf, makeCommit, mergeTrees, resolveRef, type FileChanges } from "./git.ts";
import {
  asUser,
  nextId,
  repoKey,
  tick,
  type FakeState,
  type FakeUser,
  type PullState,
  type RepoState,
  type ReviewStateName,
} from "./model.ts";
import {
  checkRunJson,
  commentJson,
  headSha,
  pullJson,
  repoJson,
  reviewCommentJson,
  reviewJson,
} from "./rest-shapes.ts";

export interface OpenPullRequest {
  /** The head branch; created from `base` when it does not exist yet. */
  readonly head: string;
  /** Defaults to the default branch. */
  readonly base?: string;
  /** Defaults to "requester". */
  readonly author?: string | FakeUser;
  readonly title?: string;
  readonly body?: string;
  /** Committed to the head branch before the pull request opens. */
  readonly files?: FileChanges;
}

export interface ForkPullRequest extends OpenPullRequest {
  /** Owner of the fork (`<forkOwner>/<repo name>`); the app is not installed there. */
  readonly forkOwner: string;
}

/** An object the helpers created, with its REST shape. */
export interface Created {
  readonly id: number;
  readonly payload: Record<string, unknown>;
}

export interface FakeRepo {
  readonly owner: string;
  readonly name: string;
  readonly fullName: string;
  readonly defaultBranch: string;
  /** One commit on `branch` (created from `from`, default: the default branch); returns its SHA. */
  commit(branch: string, files: FileChanges, options?: { readonly message?: string; readonly from?: string }): string;
  branchSha(branch: string): string | undefined;
  /** Refs outside refs/heads (the gate's claims and window records): full name → SHA. */
  otherRefs(): ReadonlyMap<string, string>;
  /** A commit's parents and message (e.g. to check an evidence commit or a merge). */
  commitInfo(sha: string): { readonly parents: readonly string[]; readonly message: string };
  /** A file's bytes at a branch or SHA, or null. */
  readBytes(ref: string, path: string): Buffer | null;
  readText(ref: string, path: string): string | null;
  /**
   * Updates of this branch are refused from now on: 409 from the git refs API, an UNPROCESSABLE
   * error from the createCommitOnBranch mutation.
   */
  protectBranch(branch: string): void;
  openPullRequest(options: OpenPullRequest): number;
  /** A pull request whose head lives in a fork; API writes to the fork answer 403 (FORBIDDEN in GraphQL). */
  forkPullRequest(options: ForkPullRequest): { readonly number: number; readonly fork: FakeRepo };
  /** The REST pull request object (what `pull_request` webhook payloads carry). */
  pullRequestPayload(number: number): Record<string, unknown>;
  repositoryPayload(): Record<string, unknown>;
  addComment(number: number, author: string | FakeUser, body: string): Created;
  editComment(id: number, body: string): Created;
  deleteComment(id: number): void;
  addReview(number: number, author: string | FakeUser, body: string, state?: ReviewStateName): Created;
  dismissReview(id: number): Created;
  addReviewComment(number: number, author: string | FakeUser, body: string, path?: string): Created;
  /** Merges with a merge commit (head changes applied onto the base tip); returns its SHA. */
  merge(number: number, by?: string | FakeUser): string;
  closePullRequest(number: number): void;
  /** Check runs as the API shows them, oldest first; only those on `sha` when given. */
  checkRuns(sha?: string): Record<string, unknown>[];
}

export function createRepoState(
  state: FakeState,
  fullName: string,
  options: { defaultBranch: string; installed: boolean; forkOf: RepoState | null },
): RepoState {
  const [owner, name, extra] = fullName.split("/");
  if (owner === undefined || name === undefined || extra !== undefined || owner === "" || name === "")
    throw new Error(`[fake-github] bad repository name ${fullName}`);
  if (state.repos.has(repoKey(fullName))) throw new Error(`[fake-github] ${fullName} exists already`);
  const repo: RepoState = {
    id: nextId(state),
    owner,
    name,
    fullName,
    defaultBranch: options.defaultBranch,
    branches: new Map(),
    otherRefs: new Map(),
    protectedBranches: new Set(),
    installed: options.installed,
    forkOf: options.forkOf,
    checkRuns: [],
  };
  state.repos.set(repoKey(fullName), repo);
  state.pulls.set(repoKey(fullName), new Map());
  return repo;
}

export function fakeRepo(state: FakeState, repo: RepoState, handleOf: (r: RepoState) => FakeRepo): FakeRepo {
  const pulls = (): Map<number, PullState> => state.pulls.get(repoKey(repo.fullName)) ?? new Map();
  const pull = (n: number): PullState => {
    const pr = pulls().get(n);
    if (pr === undefined) throw new Error(`[fake-github] ${repo.fullName} has no pull request #${n}`);
    return pr;
  };
  const findComment = (id: number): { pr: PullState; index: number } => {
    for (const pr of pulls().values()) {
      const index = pr.comments.findIndex((c) => c.id === id);
      if (index !== -1) return { pr, index };
    }
    throw new Error(`[fake-github] no issue comment ${id} in ${repo.fullName}`);
  };
  const commit = (
    branch: string,
    files: FileChanges,
    options: { readonly message?: string; readonly from?: string } = {},
  ): string => {
    const parent = repo.branches.get(branch) ?? repo.branches.get(options.from ?? repo.defaultBranch) ?? null;
    const tree = applyChanges(state, parent === null ? new Map() : commitOf(state, parent).tree, files);
    const created = makeCommit(
      state,
      parent === null ? [] : [parent],
      tree,
      options.message ?? `Update ${Object.keys(files).join(", ")}`,
    );
    repo.branches.set(branch, created.sha);
    return created.sha;
  };
  const open = (headRepo: RepoState, o: OpenPullRequest): number => {
    const base = o.base ?? repo.defaultBranch;
    if (!repo.branches.has(base)) throw new Error(`[fake-github] no base branch ${base}`);
    if (o.files !== undefined) handleOf(headRepo).commit(o.head, o.files, { from: base });
    const head = headRepo.branches.get(o.head);
    if (head === undefined) throw new Error(`[fake-github] no head branch ${o.head} in ${headRepo.fullName}`);
    const number = Math.max(0, ...pulls().keys()) + 1;
    const at = tick(state);
    const pr: PullState = {
      id: nextId(state),
      number,
      title: o.title ?? `Pull request ${number}`,
      body: o.body ?? "",
      author: asUser(o.author ?? "requester"),
      baseRepo: repo,
      baseRef: base,
      headRepo,
      headRef: o.head,
      state: "open",
      merged: false,
      mergeCommitSha: null,
      mergedBy: null,
      frozen: null,
      lastHeadSha: head,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      mergedAt: null,
      comments: [],
      reviews: [],
      reviewComments: [],
    };
    pulls().set(number, pr);
    return number;
  };
  const freeze = (pr: PullState): void => {
    const base = repo.branches.get(pr.baseRef) ?? pr.lastHeadSha;
    pr.frozen = { headSha: headSha(pr), baseSha: base };
    pr.state = "closed";
    pr.closedAt = tick(state);
    pr.updatedAt = pr.closedAt;
  };
  return {
    owner: repo.owner,
    name: repo.name,
    fullName: repo.fullName,
    defaultBranch: repo.defaultBranch,
    commit,
    branchSha: (branch) => repo.branches.get(branch),
    otherRefs: () => new Map(repo.otherRefs),
    commitInfo(sha) {
      const c = commitOf(state, sha);
      return { parents: c.parents, message: c.message };
    },
    readBytes(ref, path) {
      const sha = resolveRef(state, repo, ref)?.tree.get(path);
      return sha === undefined ? null : (state.blobs.get(sha) ?? null);
    },
    readText(ref, path) {
      return this.readBytes(ref, path)?.toString("utf8") ?? null;
    },
    protectBranch: (branch) => void repo.protectedBranches.add(branch),
    openPullRequest: (o) => open(repo, o),
    forkPullRequest(o) {
      const forkName = `${o.forkOwner}/${repo.name}`;
      let fork = state.repos.get(repoKey(forkName));
      if (fork === undefined) {
        fork = createRepoState(state, forkName, { defaultBranch: repo.defaultBranch, installed: false, forkOf: repo });
        for (const [b, sha] of repo.branches) fork.branches.set(b, sha);
      }
      return { number: open(fork, { author: o.forkOwner, ...o }), fork: handleOf(fork) };
    },
    pullRequestPayload: (n) => pullJson(state, pull(n)),
    repositoryPayload: () => repoJson(repo),
    addComment(n, author, body) {
      const pr = pull(n);
      const at = tick(state);
      const c = { id: nextId(state), user: asUser(author), body, createdAt: at, updatedAt: at };
      pr.comments.push(c);
      return { id: c.id, payload: commentJson(pr, c) };
    },
    editComment(id, body) {
      const { pr, index } = findComment(id);
      const c = pr.comments[index];
      if (c === undefined) throw new Error("[fake-github] comment vanished");
      c.body = body;
      c.updatedAt = tick(state);
      return { id, payload: commentJson(pr, c) };
    },
    deleteComment(id) {
      const { pr, index } = findComment(id);
      pr.comments.splice(index, 1);
    },
    addReview(n, author, body, reviewState = "COMMENTED") {
      const pr = pull(n);
      const r = {
        id: nextId(state),
        user: asUser(author),
        body,
        state: reviewState,
        submittedAt: reviewState === "PENDING" ? null : tick(state),
        commitId: headSha(pr),
      };
      pr.reviews.push(r);
      return { id: r.id, payload: reviewJson(pr, r) };
    },
    dismissReview(id) {
      for (const pr of pulls().values()) {
        const r = pr.reviews.find((x) => x.id === id);
        if (r === undefined) continue;
        r.state = "DISMISSED";
        return { id, payload: reviewJson(pr, r) };
      }
      throw new Error(`[fake-github] no review ${id} in ${repo.fullName}`);
    },
    addReviewComment(n, author, body, path = "README.md") {
      const pr = pull(n);
      const at = tick(state);
      const c = {
        id: nextId(state),
        user: asUser(author),
        body,
        createdAt: at,
        updatedAt: at,
        path,
        line: 1,
        commitId: headSha(pr),
      };
      pr.reviewComments.push(c);
      return { id: c.id, payload: reviewCommentJson(pr, c) };
    },
    merge(n, by = "maintainer") {
      const pr = pull(n);
      if (pr.state !== "open") throw new Error(`[fake-github] #${n} is not open`);
      const baseTip = repo.branches.get(pr.baseRef);
      if (baseTip === undefined) throw new Error(`[fake-github] no base branch ${pr.baseRef}`);
      const head = headSha(pr);
      const merged = makeCommit(
        state,
        [baseTip, head],
        mergeTrees(state, baseTip, head),
        `Merge pull request #${n} from ${pr.headRepo.owner}/${pr.headRef}`,
      );
      freeze(pr);
      pr.frozen = { headSha: head, baseSha: baseTip };
      repo.branches.set(pr.baseRef, merged.sha);
      pr.merged = true;
      pr.mergeCommitSha = merged.sha;
      pr.mergedBy = asUser(by);
      pr.mergedAt = pr.closedAt;
      return merged.sha;
    },
    closePullRequest: (n) => freeze(pull(n)),
    checkRuns: (sha) =>
      repo.checkRuns.filter((c) => sha === undefined || c.headSha === sha).map((c) => checkRunJson(state, repo, c)),
  };
}
