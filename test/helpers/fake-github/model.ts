// The fake's in-memory world: one commit/blob store shared by every repository (like a fork
// network on GitHub, where a fork's commits are reachable from the parent), repositories with
// branches, pull requests with their comments and reviews, and check runs. Plain mutable
// records: the route handlers and the test helpers are the only writers.

export interface FakeUser {
  readonly login: string;
  readonly type: "User" | "Bot" | "Organization";
}

export interface Commit {
  readonly sha: string;
  readonly parents: readonly string[];
  /** path → blob SHA; a flat tree (directories exist implicitly, as prefixes). */
  readonly tree: ReadonlyMap<string, string>;
  readonly message: string;
  readonly date: string;
}

export interface CommentState {
  readonly id: number;
  readonly user: FakeUser;
  body: string;
  readonly createdAt: string;
  updatedAt: string;
}

export interface ReviewCommentState extends CommentState {
  readonly path: string;
  readonly line: number;
  readonly commitId: string;
}

export type ReviewStateName = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface ReviewState {
  readonly id: number;
  readonly user: FakeUser;
  body: string;
  state: ReviewStateName;
  /** Null while PENDING (a draft review). */
  readonly submittedAt: string | null;
  readonly commitId: string;
}

export interface PullState {
  readonly id: number;
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly author: FakeUser;
  readonly baseRepo: RepoState;
  readonly baseRef: string;
  readonly headRepo: RepoState;
  readonly headRef: string;
  state: "open" | "closed";
  merged: boolean;
  mergeCommitSha: string | null;
  mergedBy: FakeUser | null;
  /** Head and base as they were when the pull request was closed or merged. */
  frozen: { readonly headSha: string; readonly baseSha: string } | null;
  /** The last head seen, for a head branch deleted while the pull request is open. */
  lastHeadSha: string;
  readonly createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  readonly comments: CommentState[];
  readonly reviews: ReviewState[];
  readonly reviewComments: ReviewCommentState[];
}

export interface CheckRunState {
  readonly id: number;
  readonly name: string;
  readonly headSha: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  readonly appId: number;
  readonly appSlug: string;
  readonly startedAt: string;
  completedAt: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  /** Annotations added so far (each create or update appends its own, at most 50 a request). */
  annotationsCount: number;
}

export interface RepoState {
  readonly id: number;
  readonly owner: string;
  readonly name: string;
  readonly fullName: string;
  readonly defaultBranch: string;
  readonly branches: Map<string, string>;
  /** Refs outside refs/heads (the gate's claims, refs/quorum-gate/claims/*): full name → SHA. */
  readonly otherRefs: Map<string, string>;
  /**
   * Updates of these branches are refused, as a protected branch's are: 409 from the git refs API,
   * an UNPROCESSABLE error from the createCommitOnBranch mutation.
   */
  readonly protectedBranches: Set<string>;
  /** The app is installed here, so its tokens may write. A fork is not. */
  readonly installed: boolean;
  readonly forkOf: RepoState | null;
  readonly checkRuns: CheckRunState[];
}

/** Who a token speaks for. `appId` is null for a user token, which cannot write check runs. */
export interface Identity {
  readonly user: FakeUser;
  readonly appId: number | null;
  readonly appSlug: string | null;
  /** What an App's installation token may do (fake-github/permissions.ts); null: not limited. */
  readonly permissions: Readonly<Record<string, "read" | "write">> | null;
}

export interface FakeState {
  readonly repos: Map<string, RepoState>;
  /** Pull requests by base repository (lower-cased full name), then number. */
  readonly pulls: Map<string, Map<number, PullState>>;
  readonly commits: Map<string, Commit>;
  readonly blobs: Map<string, Buffer>;
  /** Tree SHA → flat tree, for every tree the git data API has shown or made. */
  readonly trees: Map<string, ReadonlyMap<string, string>>;
  readonly tokens: Map<string, Identity>;
  /** Ids of every object (repos, PRs, comments, reviews, check runs) come from one counter. */
  nextId: number;
  /** Fake time in ms: every write moves it by one second, so ordering and `edited` are exact. */
  clockMs: number;
  /** Date writes by the machine's clock instead (never backwards), for a process that reads that clock. */
  readonly realClock: boolean;
}

export function newState(startTime: Date, realClock = false): FakeState {
  return {
    repos: new Map(),
    pulls: new Map(),
    commits: new Map(),
    blobs: new Map(),
    trees: new Map(),
    tokens: new Map(),
    nextId: 1000,
    clockMs: startTime.getTime(),
    realClock,
  };
}

export function nextId(state: FakeState): number {
  state.nextId += 1;
  return state.nextId;
}

/** The next fake instant, formatted as GitHub formats it (seconds, `Z`). */
export function tick(state: FakeState): string {
  state.clockMs = state.realClock ? Math.max(state.clockMs, Date.now()) : state.clockMs + 1000;
  return new Date(state.clockMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function repoKey(fullName: string): string {
  return fullName.toLowerCase();
}

export function asUser(who: string | FakeUser): FakeUser {
  return typeof who === "string" ? { login: who, type: who.endsWith("[bot]") ? "Bot" : "User" } : who;
}
