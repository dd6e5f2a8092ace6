// A pull request as the gate reads it, in one GraphQL query instead of about nine REST calls
// (docs/github-app.md, "What a delivery costs"): the pull request itself, its changed files,
// issue comments, reviews and review comments, the policy file at the base, and this app's check
// runs on the head. It is one request, and about one point of GraphQL's own hourly budget (its
// connections ask for a few hundred nodes at most, and GitHub charges a point per hundred).
//
// GraphQL cannot tell everything REST can, and the gate never guesses, so each part is either
// complete or absent (null), and the port reads an absent part over REST as before:
// - changed files: a rename (GraphQL gives no previous path, and a rename out of the policy path
//   changes policy), or more than one page;
// - comments, reviews, review comments: more than one page of any list (or of one thread);
// - the policy: the base branch has moved past the pull request's base, the file is binary,
//   truncated, larger than the gate reads, or its text does not give back its bytes;
// - check runs: more than one page.
import type { GitHubApprovalCandidate } from "./candidates.ts";
import { fromComment, fromReview, oldestFirst } from "./candidates.ts";
import type { OctokitLike } from "./octokit-like.ts";
import {
  malformed,
  readGraphqlObject,
  REVIEW_STATES,
  type GraphqlReader,
  type ParsedCheckRun,
  type ParsedComment,
} from "./parse.ts";
import type { ChangedFile, PullRequestInfo, RepoRef } from "./port.ts";
import { MAX_FILE_BYTES } from "./read-file.ts";
import { graphqlFailure } from "./send.ts";

/** GitHub's largest page; one page of each list is what a request's pull request holds. */
const PAGE = 100;
/** Check suites on one commit (CI apps add theirs) and runs of one name in a suite. */
const CHECK_PAGE = 20;

const ACTOR = "author { __typename login }";
const COMMENT = `databaseId ${ACTOR} body createdAt updatedAt url`;

export const PULL_REQUEST_SNAPSHOT_QUERY = `query PullRequestSnapshot($owner: String!, $name: String!, $number: Int!, $policyPath: String!, $checkName: String!, $appId: Int) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      number state merged mergeCommit { oid }
      headRefOid headRefName baseRefOid baseRefName isCrossRepository
      headRepository { nameWithOwner }
      ${ACTOR}
      baseRef { target { oid ... on Commit { file(path: $policyPath) { object { ... on Blob { byteSize isBinary isTruncated text } } } } } }
      commits(last: 1) { nodes { commit { oid checkSuites(first: ${CHECK_PAGE}, filterBy: { appId: $appId }) { pageInfo { hasNextPage } nodes { app { databaseId } checkRuns(first: ${CHECK_PAGE}, filterBy: { checkName: $checkName }) { pageInfo { hasNextPage } nodes { databaseId name status conclusion title summary text } } } } } } }
      files(first: ${PAGE}) { pageInfo { hasNextPage } nodes { path changeType } }
      comments(first: ${PAGE}) { pageInfo { hasNextPage } nodes { ${COMMENT} } }
      reviews(first: ${PAGE}) { pageInfo { hasNextPage } nodes { databaseId ${ACTOR} body state submittedAt url } }
      reviewThreads(first: ${PAGE}) { pageInfo { hasNextPage } nodes { comments(first: ${PAGE}) { pageInfo { hasNextPage } nodes { ${COMMENT} } } } }
    }
  }
}`;

export interface PullRequestSnapshot {
  readonly pr: PullRequestInfo;
  /** Null: not told completely (see the head of this file); read them over REST. */
  readonly files: readonly ChangedFile[] | null;
  readonly candidates: readonly GitHubApprovalCandidate[] | null;
  /** The issue comments alone, where the sticky comment is found. */
  readonly issueComments: readonly ParsedComment[] | null;
  /** The policy at `pr.baseSha` (bytes, or null: no such file), or null: not told. */
  readonly policy: { readonly path: string; readonly bytes: Uint8Array | null } | null;
  /** The runs named `checkName` on `pr.headSha` (of this app when its id is known), or null: not told. */
  readonly checkRuns: { readonly name: string; readonly runs: readonly ParsedCheckRun[] } | null;
}

export interface SnapshotOptions {
  readonly policyPath: string;
  readonly checkName: string;
  /** This app's id: only its check suites are read. Null: any app's. */
  readonly appId: number | null;
}

export async function readPullRequestSnapshot(
  octokit: OctokitLike,
  repo: RepoRef,
  number: number,
  options: SnapshotOptions,
): Promise<PullRequestSnapshot> {
  const where = `POST /graphql (PullRequestSnapshot ${repo.owner}/${repo.repo}#${number})`;
  let data: unknown;
  try {
    data = await octokit.graphql(PULL_REQUEST_SNAPSHOT_QUERY, {
      owner: repo.owner,
      name: repo.repo,
      number,
      policyPath: options.policyPath,
      checkName: options.checkName,
      appId: options.appId,
    });
  } catch (err) {
    throw graphqlFailure(where, err);
  }
  const root = readGraphqlObject(data, where);
  const node = root.obj("repository").optObj("pullRequest");
  if (node === null) throw new Error(`[github] ${where}: no such pull request`);
  return parseSnapshot(node, where, number, options);
}

/** GraphQL names a GitHub App's bot `<slug>`; REST, comments and the gate's config say `<slug>[bot]`. */
function actor(r: GraphqlReader): { readonly login: string; readonly isBot: boolean } {
  const a = r.optObj("author");
  // A deleted account: REST shows it as "ghost", and so does the gate.
  if (a === null) return { login: "ghost", isBot: false };
  const isBot = a.str("__typename") === "Bot";
  const login = a.str("login");
  return { login: isBot && !login.endsWith("[bot]") ? `${login}[bot]` : login, isBot };
}

function page(r: GraphqlReader, key: string): { readonly nodes: readonly GraphqlReader[]; readonly complete: boolean } {
  const c = r.obj(key);
  return { nodes: c.list("nodes"), complete: !c.obj("pageInfo").bool("hasNextPage") };
}

function comment(r: GraphqlReader): ParsedComment {
  const who = actor(r);
  return {
    id: r.int("databaseId"),
    login: who.login,
    isBot: who.isBot,
    body: r.optStr("body") ?? "",
    createdAt: r.date("createdAt"),
    updatedAt: r.date("updatedAt"),
    url: r.str("url"),
  };
}

const CHANGE_TYPES = {
  ADDED: "added",
  MODIFIED: "modified",
  DELETED: "removed",
  RENAMED: "renamed",
  COPIED: "copied",
  CHANGED: "changed",
} as const;

function parseFiles(r: GraphqlReader): readonly ChangedFile[] | null {
  const files = page(r, "files");
  if (!files.complete) return null;
  const out: ChangedFile[] = [];
  for (const f of files.nodes) {
    const status = CHANGE_TYPES[f.oneOf("changeType", Object.keys(CHANGE_TYPES) as (keyof typeof CHANGE_TYPES)[])];
    if (status === "renamed") return null;
    out.push({ path: f.str("path"), status });
  }
  return out;
}

function parseCandidates(r: GraphqlReader): {
  readonly candidates: readonly GitHubApprovalCandidate[] | null;
  readonly issueComments: readonly ParsedComment[] | null;
} {
  const comments = page(r, "comments");
  const issueComments = comments.complete ? comments.nodes.map(comment) : null;
  const reviews = page(r, "reviews");
  const threads = page(r, "reviewThreads");
  const reviewComments: ParsedComment[] = [];
  let complete = issueComments !== null && reviews.complete && threads.complete;
  for (const t of threads.nodes) {
    const inThread = page(t, "comments");
    complete &&= inThread.complete;
    reviewComments.push(...inThread.nodes.map(comment));
  }
  if (!complete || issueComments === null) return { candidates: null, issueComments };
  const candidates: GitHubApprovalCandidate[] = [
    ...issueComments.map((c) => fromComment("issue_comment", c)),
    ...reviewComments.map((c) => fromComment("review_comment", c)),
  ];
  for (const rv of reviews.nodes) {
    const who = actor(rv);
    const rawState = rv.str("state");
    const submitted = rv.optStr("submittedAt") === null ? null : rv.date("submittedAt");
    const review = fromReview({
      id: rv.int("databaseId"),
      login: who.login,
      isBot: who.isBot,
      body: rv.optStr("body") ?? "",
      state: REVIEW_STATES.find((s) => s === rawState) ?? "UNKNOWN",
      rawState,
      submittedAt: submitted,
      url: rv.str("url"),
    });
    if (review !== null) candidates.push(review);
  }
  return { candidates: candidates.sort(oldestFirst), issueComments };
}

function parsePolicy(r: GraphqlReader, baseSha: string, path: string): PullRequestSnapshot["policy"] {
  const target = r.optObj("baseRef")?.optObj("target") ?? null;
  // The base branch has moved since the pull request's base was recorded: the file at the
  // pull request's base is another commit's, so REST reads it there.
  if (target === null || target.str("oid") !== baseSha) return null;
  const entry = target.optObj("file");
  if (entry === null) return { path, bytes: null };
  const blob = entry.optObj("object");
  const text = blob?.optStr("text") ?? null;
  if (blob == null || text === null) return null;
  const size = blob.int("byteSize");
  if (blob.optBool("isBinary") !== false || blob.bool("isTruncated") || size > MAX_FILE_BYTES) return null;
  const bytes = new Uint8Array(Buffer.from(text, "utf8"));
  // Text that is not UTF-8 would come back changed; its byte count then differs.
  return bytes.byteLength === size ? { path, bytes } : null;
}

const CHECK_STATUSES = ["queued", "in_progress", "completed"];

function parseCheckRuns(r: GraphqlReader, headSha: string, name: string): PullRequestSnapshot["checkRuns"] {
  // `commits(last: 1)`: the head commit alone, so no page to follow.
  const last = r.obj("commits").list("nodes")[0]?.obj("commit") ?? null;
  if (last === null || last.str("oid") !== headSha) return null;
  const suites = page(last, "checkSuites");
  if (!suites.complete) return null;
  const runs: ParsedCheckRun[] = [];
  for (const s of suites.nodes) {
    const app = s.optObj("app");
    const appId = app === null ? null : app.optInt("databaseId");
    const list = page(s, "checkRuns");
    if (!list.complete) return null;
    for (const run of list.nodes) {
      const status = run.str("status").toLowerCase();
      runs.push({
        id: run.int("databaseId"),
        name: run.str("name"),
        appId,
        // WAITING, PENDING, REQUESTED: GitHub Actions' own states; never equal to what the gate writes.
        status: CHECK_STATUSES.includes(status) ? status : null,
        conclusion: run.optStr("conclusion")?.toLowerCase() ?? null,
        output: { title: run.optStr("title"), summary: run.optStr("summary"), text: run.optStr("text") },
      });
    }
  }
  return { name, runs };
}

function parseSnapshot(r: GraphqlReader, where: string, number: number, options: SnapshotOptions): PullRequestSnapshot {
  const state = r.oneOf("state", ["OPEN", "CLOSED", "MERGED"] as const);
  const merged = r.bool("merged");
  if (merged !== (state === "MERGED")) throw malformed(where, `state is ${state} but merged is ${merged}`);
  const headRepo = r.optObj("headRepository");
  const pr: PullRequestInfo = {
    number: r.int("number"),
    state: state === "OPEN" ? "open" : "closed",
    merged,
    mergeCommitSha: merged ? r.obj("mergeCommit").sha("oid") : null,
    headSha: r.sha("headRefOid"),
    headRef: r.str("headRefName"),
    headRepoFullName: headRepo === null ? "" : headRepo.str("nameWithOwner"),
    baseSha: r.sha("baseRefOid"),
    baseRef: r.str("baseRefName"),
    author: actor(r).login,
    // The head repository is null when the fork was deleted; such a pull request is still a fork.
    fork: headRepo === null || r.bool("isCrossRepository"),
  };
  if (pr.number !== number) throw malformed(where, `number is ${pr.number}, asked for ${number}`);
  const { candidates, issueComments } = parseCandidates(r);
  return {
    pr,
    files: parseFiles(r),
    candidates,
    issueComments,
    policy: parsePolicy(r, pr.baseSha, options.policyPath),
    checkRuns: parseCheckRuns(r, pr.headSha, options.checkName),
  };
}
