// The GraphQL endpoint (POST /graphql; GitHub Enterprise Server's /api/graphql reaches it too):
// the `createCommitOnBranch` mutation selecting `commit { oid }` on the fake's git model, and
// queries, executed by graphql-js over the pruned schema (graphql-schema.ts) with resolvers over
// the fake's state (the reads of src/github/pull-request-snapshot.ts: a repository's pull request
// with its files, comments, reviews, review threads, the base branch's tip and a file there, the
// head commit's check suites and runs). They answer what the REST routes answer for the same
// objects. A field the pruned schema holds but this file does not answer (a leaf field the model
// has no data for, an argument it does not implement) is an error saying so, never a guess; a
// document that needs more than the pruned schema is refused as unsupported.
//
// As on GitHub, errors come back with HTTP 200 and an `errors` list. A refusal of the mutation
// is `data: { createCommitOnBranch: null }` with one error of a `type`: NOT_FOUND (no such
// repository or branch), FORBIDDEN (the app is not installed there, e.g. a fork: what
// requireWrite answers 403 for in REST), UNPROCESSABLE (a protected branch, as GitHub's rulesets
// refuse) and STALE_DATA (`expectedHeadOid` is not the branch's tip). An input that does not fit
// the schema is an error without a type and without `data`, as GitHub's variable checks answer:
// GitHub's schema itself (graphql-schema.ts) refuses first, this file's reading catches what the
// schema's custom scalars let through (a GitObjectID or Base64String that is none). A query's
// field refused is null with an error of a `type` and the field's `path`: NOT_FOUND (no such
// repository or pull request), FORBIDDEN (the token lacks the permission: pull_requests, contents
// or checks read), EXCESSIVE_PAGINATION / MISSING_PAGINATION_BOUNDARIES / INVALID_CURSOR_ARGUMENTS
// (a connection's `first`/`last`/`after`/`before`).
import { createHash } from "node:crypto";
import type { GraphQLError, GraphQLFieldResolver } from "graphql";
import { applyChanges, commitOf, makeCommit, pullDiff, type FileChanges, type FileDiff } from "../git.ts";
import type { Reply } from "../http-io.ts";
import { prepareGraphql } from "../graphql-schema.ts";
import {
  repoKey,
  type CheckRunState,
  type CommentState,
  type FakeState,
  type FakeUser,
  type Identity,
  type PullState,
  type RepoState,
  type ReviewCommentState,
  type ReviewState,
} from "../model.ts";
import { COMMIT_ON_BRANCH_NEEDS, holds, type Permissions } from "../permissions.ts";
import {
  baseSha,
  checkRunJson,
  commentJson,
  headSha,
  nodeId,
  pullSimpleJson,
  reviewCommentJson,
  reviewJson,
  userId,
} from "../rest-shapes.ts";
import { bodyObject, route, type Route } from "../router.ts";
import { INLINE_CONTENT_LIMIT } from "./contents.ts";
import { PULL_FILES_CAP } from "./pulls.ts";

/** `mutation [Name]($v: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $v) { commit { oid } } }`, any spacing. */
const COMMIT_ON_BRANCH =
  /^mutation(?:\s+[_A-Za-z][_0-9A-Za-z]*)?\s*\(\s*\$([_A-Za-z][_0-9A-Za-z]*)\s*:\s*CreateCommitOnBranchInput!\s*\)\s*\{\s*createCommitOnBranch\s*\(\s*input\s*:\s*\$([_A-Za-z][_0-9A-Za-z]*)\s*\)\s*\{\s*commit\s*\{\s*oid\s*\}\s*\}\s*\}$/;
const OID = /^[0-9a-f]{40}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An input the schema would not accept: GitHub answers these before running anything. */
class InputError extends Error {}

/** The mutation ran and refused: `data.createCommitOnBranch` is null and the error has a type. */
class FieldError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

type Json = Readonly<Record<string, unknown>>;

function object(value: unknown, where: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where} (Expected an object)`,
    );
  return Object.fromEntries(Object.entries(value));
}

function string(o: Json, key: string, where: string, required = true): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (!required) return undefined;
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where}${key} (Expected value to not be null)`,
    );
  }
  if (typeof v !== "string")
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where}${key} (Could not coerce value to String)`,
    );
  return v;
}

function list(o: Json, key: string, where: string): readonly unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v))
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where}${key} (Expected a list)`,
    );
  return v;
}

function checkPath(path: string, where: string): string {
  if (path === "" || path.startsWith("/") || path.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where} ([fake-github] not a repository file path)`,
    );
  }
  return path;
}

interface CommitInput {
  readonly nameWithOwner: string;
  readonly branch: string;
  readonly message: string;
  readonly expectedHeadOid: string;
  readonly changes: FileChanges;
}

function parseInput(value: unknown): CommitInput {
  const input = object(value, "input");
  const branch = object(input["branch"], "branch");
  if (branch["id"] !== undefined)
    throw new InputError(
      "[fake-github] branch.id is not supported: name the branch with repositoryNameWithOwner and branchName",
    );
  const nameWithOwner = string(branch, "repositoryNameWithOwner", "branch.") ?? "";
  // GitHub takes the branch with or without refs/heads/.
  const branchName = (string(branch, "branchName", "branch.") ?? "").replace(/^refs\/heads\//, "");
  const message = object(input["message"], "message");
  const headline = string(message, "headline", "message.") ?? "";
  const body = string(message, "body", "message.", false);
  const expectedHeadOid = string(input, "expectedHeadOid", "") ?? "";
  if (!OID.test(expectedHeadOid))
    throw new InputError(
      "Variable $input of type CreateCommitOnBranchInput! was provided invalid value for expectedHeadOid (Could not coerce value to GitObjectID)",
    );
  const fileChanges =
    input["fileChanges"] === undefined || input["fileChanges"] === null
      ? {}
      : object(input["fileChanges"], "fileChanges");
  const changes: Record<string, Uint8Array | null> = {};
  for (const [i, raw] of list(fileChanges, "deletions", "fileChanges.").entries()) {
    const where = `fileChanges.deletions.${i}.path`;
    changes[
      checkPath(string(object(raw, `fileChanges.deletions.${i}`), "path", `fileChanges.deletions.${i}.`) ?? "", where)
    ] = null;
  }
  for (const [i, raw] of list(fileChanges, "additions", "fileChanges.").entries()) {
    const addition = object(raw, `fileChanges.additions.${i}`);
    const path = checkPath(
      string(addition, "path", `fileChanges.additions.${i}.`) ?? "",
      `fileChanges.additions.${i}.path`,
    );
    const contents = string(addition, "contents", `fileChanges.additions.${i}.`) ?? "";
    if (!BASE64.test(contents))
      throw new InputError(
        `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for fileChanges.additions.${i}.contents (Could not coerce value to Base64String)`,
      );
    if (path in changes) throw new InputError(`[fake-github] ${JSON.stringify(path)} is changed twice in fileChanges`);
    changes[path] = Buffer.from(contents, "base64");
  }
  return {
    nameWithOwner,
    branch: branchName,
    message: body === undefined || body === "" ? headline : `${headline}\n\n${body}`,
    expectedHeadOid,
    changes,
  };
}

/** The mutation on the fake's git model; returns the new commit's SHA or throws a FieldError. */
function commitOnBranch(state: FakeState, input: CommitInput, permissions: Permissions | null): string {
  const repo = state.repos.get(repoKey(input.nameWithOwner));
  if (repo === undefined)
    throw new FieldError("NOT_FOUND", `Could not resolve to a Repository with the name '${input.nameWithOwner}'.`);
  // Not installed there (a fork), or installed without the permission: the same refusal.
  if (!repo.installed || (permissions !== null && !holds(permissions, COMMIT_ON_BRANCH_NEEDS)))
    throw new FieldError("FORBIDDEN", "Resource not accessible by integration");
  const tip = repo.branches.get(input.branch);
  if (tip === undefined)
    throw new FieldError("NOT_FOUND", `Could not resolve to a Ref with the name 'refs/heads/${input.branch}'.`);
  if (repo.protectedBranches.has(input.branch))
    throw new FieldError(
      "UNPROCESSABLE",
      "Repository rule violations found\n\nChanges must be made through a pull request.\n",
    );
  if (tip !== input.expectedHeadOid)
    throw new FieldError(
      "STALE_DATA",
      `Expected branch to point to "${input.expectedHeadOid}" but it did not.  Pull and try again.`,
    );
  const commit = makeCommit(state, [tip], applyChanges(state, commitOf(state, tip).tree, input.changes), input.message);
  repo.branches.set(input.branch, commit.sha);
  return commit.sha;
}

function errors(list: readonly object[], data?: Json): Reply {
  return { status: 200, body: data === undefined ? { errors: list } : { data, errors: list } };
}

// ---- Queries: resolvers over the fake's state ----

/**
 * A value the field resolver hands graphql-js: each field is a property (a function of the
 * field's arguments when it takes any). A field without its property is one the fake does not
 * answer, said as an error, rather than a null GitHub would not send.
 */
type GqlObject = Readonly<Record<string, unknown>>;
type Args = Readonly<Record<string, unknown>>;

const WEB = "https://github.com";
/** GitHub's largest page of a connection. */
const MAX_PAGE = 100;

class Unsupported extends Error {
  constructor(what: string) {
    super(
      `[fake-github] ${what} is not supported by the fake's GraphQL API (test/helpers/fake-github/routes/graphql.ts)`,
    );
  }
}

const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, _context, info) => {
  if (typeof source !== "object" || source === null || !Object.hasOwn(source, info.fieldName))
    throw new Unsupported(`the field ${info.parentType.name}.${info.fieldName}`);
  const value: unknown = Reflect.get(source, info.fieldName);
  return typeof value === "function" ? value(args) : value;
};

/** Refuses an argument given that the fake does not implement (rather than ignoring it). */
function only(args: Args, where: string, ...known: readonly string[]): void {
  for (const [name, value] of Object.entries(args))
    if (value !== undefined && value !== null && !known.includes(name))
      throw new Unsupported(`the argument ${name} of ${where}`);
}

const PAGE_ARGS = ["first", "last", "after", "before"] as const;

function optInt(args: Args, name: string): number | null {
  const v = args[name];
  return typeof v === "number" ? v : null;
}

function optString(args: Args, name: string): string | null {
  const v = args[name];
  return typeof v === "string" ? v : null;
}

function optObject(args: Args, name: string): Args {
  const v = args[name];
  return typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v)) : {};
}

function optList(args: Args, name: string): readonly unknown[] | null {
  const v = args[name];
  return Array.isArray(v) ? v : null;
}

/** The fake's cursors: an item's place in its list, opaque as GitHub's are. */
const cursorOf = (index: number): string => Buffer.from(`cursor:v2:${index}`).toString("base64");

function indexOf(cursor: string): number {
  const m = /^cursor:v2:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"));
  if (m === null || cursorOf(Number(m[1])) !== cursor)
    throw new FieldError("INVALID_CURSOR_ARGUMENTS", `\`${cursor}\` does not appear to be a valid cursor.`);
  return Number(m[1]);
}

/** A connection of GitHub's: `first`/`last` (one of them, at most 100), `after`/`before` cursors. */
function connection<T>(name: string, items: readonly T[], args: Args, node: (item: T) => unknown): GqlObject {
  const first = optInt(args, "first");
  const last = optInt(args, "last");
  if (first === null && last === null)
    throw new FieldError(
      "MISSING_PAGINATION_BOUNDARIES",
      `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
    );
  for (const [key, n] of [
    ["first", first],
    ["last", last],
  ] as const) {
    if (n !== null && n > MAX_PAGE)
      throw new FieldError(
        "EXCESSIVE_PAGINATION",
        `Requesting ${n} records on the \`${name}\` connection exceeds the \`${key}\` limit of ${MAX_PAGE} records.`,
      );
    if (n !== null && n < 0) throw new Unsupported(`a negative \`${key}\` on the \`${name}\` connection`);
  }
  const after = optString(args, "after");
  const before = optString(args, "before");
  let start = after === null ? 0 : Math.min(items.length, indexOf(after) + 1);
  let end = before === null ? items.length : Math.max(start, Math.min(items.length, indexOf(before)));
  if (first !== null) end = Math.min(end, start + first);
  if (last !== null) start = Math.max(start, end - last);
  const slice = items.slice(start, end);
  return {
    nodes: slice.map(node),
    pageInfo: {
      hasNextPage: end < items.length,
      hasPreviousPage: start > 0,
      startCursor: slice.length === 0 ? null : cursorOf(start),
      endCursor: slice.length === 0 ? null : cursorOf(end - 1),
    },
    totalCount: items.length,
  };
}

interface QueryContext {
  readonly state: FakeState;
  readonly identity: Identity | null;
}

/** GraphQL's answer to a token without the permission: this field null, FORBIDDEN. */
function need(ctx: QueryContext, permissions: Permissions): void {
  const held = ctx.identity?.permissions ?? null;
  if (held !== null && !holds(held, permissions))
    throw new FieldError("FORBIDDEN", "Resource not accessible by integration");
}

/** An Actor. GraphQL names a GitHub App's bot by its slug: REST's `x[bot]` is `x` here. */
function actor(u: FakeUser): GqlObject {
  const login = u.type === "Bot" ? u.login.replace(/\[bot\]$/, "") : u.login;
  const path = u.type === "Bot" ? `/apps/${login}` : `/${login}`;
  return {
    __typename: u.type,
    login,
    // REST's `user.id`.
    databaseId: userId(u.login),
    resourcePath: path,
    url: `${WEB}${path}`,
  };
}

function repository(ctx: QueryContext, repo: RepoState): GqlObject {
  return {
    __typename: "Repository",
    id: nodeId("Repository", repo.id),
    databaseId: repo.id,
    name: repo.name,
    nameWithOwner: repo.fullName,
    url: `${WEB}/${repo.fullName}`,
    isFork: repo.forkOf !== null,
    isPrivate: false,
    pullRequest: (args: Args) => {
      need(ctx, { pull_requests: "read" });
      const number = optInt(args, "number");
      const pr = number === null ? undefined : ctx.state.pulls.get(repoKey(repo.fullName))?.get(number);
      if (pr === undefined)
        throw new FieldError("NOT_FOUND", `Could not resolve to a PullRequest with the number of ${number}.`);
      return pullRequest(ctx, pr);
    },
  };
}

const CHANGE_TYPES: Readonly<Record<FileDiff["status"], string>> = {
  added: "ADDED",
  modified: "MODIFIED",
  removed: "DELETED",
  renamed: "RENAMED",
};

function pullRequest(ctx: QueryContext, pr: PullState): GqlObject {
  const { state } = ctx;
  const rest = pullSimpleJson(state, pr);
  const head = headSha(pr);
  const base = baseSha(state, pr);
  const baseTip = pr.baseRepo.branches.get(pr.baseRef);
  const where = "PullRequest";
  const me = ctx.identity?.user.login.toLowerCase();
  return {
    __typename: "PullRequest",
    id: rest["node_id"],
    databaseId: pr.id,
    number: pr.number,
    title: pr.title,
    body: pr.body,
    url: rest["html_url"],
    state: pr.merged ? "MERGED" : pr.state === "open" ? "OPEN" : "CLOSED",
    closed: pr.state === "closed",
    merged: pr.merged,
    isDraft: false,
    createdAt: pr.createdAt,
    updatedAt: pr.updatedAt,
    closedAt: pr.closedAt,
    mergedAt: pr.mergedAt,
    mergeCommit: pr.merged && pr.mergeCommitSha !== null ? commit(ctx, pr.baseRepo, pr.mergeCommitSha) : null,
    headRefOid: head,
    headRefName: pr.headRef,
    baseRefOid: base,
    baseRefName: pr.baseRef,
    isCrossRepository: pr.headRepo !== pr.baseRepo,
    // Null once the head repository is gone (a deleted fork).
    headRepository:
      state.repos.get(repoKey(pr.headRepo.fullName)) === pr.headRepo ? repository(ctx, pr.headRepo) : null,
    author: actor(pr.author),
    // The base branch as it is now: its tip may have moved past `baseRefOid`.
    baseRef:
      baseTip === undefined
        ? null
        : {
            __typename: "Ref",
            id: nodeId("Ref", `${pr.baseRepo.id}:refs/heads/${pr.baseRef}`),
            name: pr.baseRef,
            prefix: "refs/heads/",
            target: commit(ctx, pr.baseRepo, baseTip),
          },
    // The fake's pull requests have one commit, their head (REST's `commits: 1`).
    commits: (args: Args) => {
      only(args, `${where}.commits`, ...PAGE_ARGS);
      return connection("commits", [head], args, (sha) => ({
        __typename: "PullRequestCommit",
        id: nodeId("PullRequestCommit", `${pr.id}:${sha}`),
        url: `${String(rest["html_url"])}/commits/${sha}`,
        commit: commit(ctx, pr.baseRepo, sha),
      }));
    },
    // GET /pulls/N/files: the three-dot diff, at most 3000 files.
    files: (args: Args) => {
      only(args, `${where}.files`, ...PAGE_ARGS);
      const files = pullDiff(state, base, head).slice(0, PULL_FILES_CAP);
      return connection("files", files, args, (f) => ({
        __typename: "PullRequestChangedFile",
        path: f.path,
        changeType: CHANGE_TYPES[f.status],
        additions: 0,
        deletions: 0,
      }));
    },
    comments: (args: Args) => {
      only(args, `${where}.comments`, ...PAGE_ARGS);
      return connection("comments", pr.comments, args, (c) => issueComment(pr, c));
    },
    // GET /pulls/N/reviews: a pending review is a draft that only its author sees.
    reviews: (args: Args) => {
      only(args, `${where}.reviews`, ...PAGE_ARGS, "states", "author");
      const states = optList(args, "states");
      const author = optString(args, "author")?.toLowerCase() ?? null;
      const visible = pr.reviews.filter(
        (r) =>
          (r.state !== "PENDING" || r.user.login.toLowerCase() === me) &&
          (states === null || states.includes(r.state)) &&
          (author === null || String(actor(r.user)["login"]).toLowerCase() === author),
      );
      return connection("reviews", visible, args, (r) => review(pr, r));
    },
    // GET /pulls/N/comments: the fake has no replies, so each review comment is its own thread.
    reviewThreads: (args: Args) => {
      only(args, `${where}.reviewThreads`, ...PAGE_ARGS);
      return connection("reviewThreads", pr.reviewComments, args, (c) => ({
        __typename: "PullRequestReviewThread",
        id: nodeId("PullRequestReviewThread", c.id),
        path: c.path,
        line: c.line,
        comments: (inner: Args) => {
          only(inner, "PullRequestReviewThread.comments", ...PAGE_ARGS, "skip");
          return connection("comments", [c].slice(optInt(inner, "skip") ?? 0), inner, (x) => reviewComment(pr, x));
        },
      }));
    },
  };
}

/** The fields an issue comment and a review comment share, from the REST shape of the same comment. */
function commentFields(typename: string, c: CommentState, rest: Readonly<Record<string, unknown>>): GqlObject {
  return {
    __typename: typename,
    id: rest["node_id"],
    databaseId: c.id,
    author: actor(c.user),
    body: c.body,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    lastEditedAt: c.updatedAt === c.createdAt ? null : c.updatedAt,
    url: rest["html_url"],
  };
}

/** GET /issues/N/comments, one comment. */
function issueComment(pr: PullState, c: CommentState): GqlObject {
  return commentFields("IssueComment", c, commentJson(pr, c));
}

/** GET /pulls/N/reviews, one review. */
function review(pr: PullState, r: ReviewState): GqlObject {
  const rest = reviewJson(pr, r);
  return {
    __typename: "PullRequestReview",
    id: rest["node_id"],
    databaseId: r.id,
    author: actor(r.user),
    body: r.body,
    state: r.state,
    submittedAt: r.submittedAt,
    url: rest["html_url"],
  };
}

/** GET /pulls/N/comments, one comment. */
function reviewComment(pr: PullState, c: ReviewCommentState): GqlObject {
  return {
    ...commentFields("PullRequestReviewComment", c, reviewCommentJson(pr, c)),
    path: c.path,
    line: c.line,
    originalLine: c.line,
  };
}

/**
 * A commit as seen from `repo` (a pull request's commits from its base repository, where the
 * gate's check runs are, as GET /repos/{base}/commits/{sha}/check-runs reads them).
 */
function commit(ctx: QueryContext, repo: RepoState, sha: string): GqlObject {
  const c = commitOf(ctx.state, sha);
  return {
    __typename: "Commit",
    id: nodeId("Commit", sha),
    oid: sha,
    abbreviatedOid: sha.slice(0, 7),
    message: c.message,
    committedDate: c.date,
    authoredDate: c.date,
    url: `${WEB}/${repo.fullName}/commit/${sha}`,
    file: (args: Args) => {
      need(ctx, { contents: "read" });
      return treeEntry(ctx, c.sha, c.tree, optString(args, "path") ?? "");
    },
    checkSuites: (args: Args) => {
      only(args, "Commit.checkSuites", ...PAGE_ARGS, "filterBy");
      need(ctx, { checks: "read" });
      const filter = optObject(args, "filterBy");
      only(filter, "CheckSuiteFilter", "appId");
      const appId = optInt(filter, "appId");
      const runs = repo.checkRuns.filter((r) => r.headSha === sha);
      // One suite per app with runs on the commit, in the order the apps first reported.
      const apps = [...new Set(runs.map((r) => r.appId))].filter((id) => appId === null || id === appId);
      return connection("checkSuites", apps, args, (id) =>
        checkSuite(
          ctx,
          repo,
          runs.filter((r) => r.appId === id),
        ),
      );
    },
  };
}

/** A file of the flat tree, or a directory (a prefix of some file), or null. */
function treeEntry(
  ctx: QueryContext,
  commitSha: string,
  tree: ReadonlyMap<string, string>,
  path: string,
): GqlObject | null {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const sha = tree.get(path);
  if (sha !== undefined) {
    const bytes = ctx.state.blobs.get(sha) ?? Buffer.alloc(0);
    return {
      __typename: "TreeEntry",
      name,
      path,
      type: "blob",
      mode: 0o100644,
      oid: sha,
      size: bytes.length,
      object: blob(sha, bytes),
    };
  }
  if (path === "" || ![...tree.keys()].some((p) => p.startsWith(`${path}/`))) return null;
  // The same id the contents API gives the directory (the fake's trees are flat: it has no real one).
  const oid = createHash("sha1").update(`tree ${commitSha} ${path}`).digest("hex");
  return {
    __typename: "TreeEntry",
    name,
    path,
    type: "tree",
    mode: 0o40000,
    oid,
    object: { __typename: "Tree", id: nodeId("Tree", oid), oid, abbreviatedOid: oid.slice(0, 7) },
  };
}

/**
 * A blob: binary as git decides (a NUL byte in the first 8000 bytes: no text), its text cut at
 * the contents API's inline limit (`isTruncated`).
 */
function blob(sha: string, bytes: Buffer): GqlObject {
  const isBinary = bytes.subarray(0, 8000).includes(0);
  return {
    __typename: "Blob",
    id: nodeId("Blob", sha),
    oid: sha,
    abbreviatedOid: sha.slice(0, 7),
    byteSize: bytes.length,
    isBinary,
    isTruncated: !isBinary && bytes.length > INLINE_CONTENT_LIMIT,
    text: isBinary ? null : bytes.subarray(0, INLINE_CONTENT_LIMIT).toString("utf8"),
  };
}

const CHECK_RUN_TYPES = ["ALL", "LATEST"];

/** One app's suite on a commit: its runs, newest first, the latest per name unless checkType ALL (REST's filter). */
function checkSuite(ctx: QueryContext, repo: RepoState, runs: readonly CheckRunState[]): GqlObject {
  const first = runs[0];
  if (first === undefined) throw new Error("[fake-github] a check suite without runs");
  // REST's `check_suite.id` of these runs.
  const restSuite = checkRunJson(ctx.state, repo, first)["check_suite"];
  const databaseId = typeof restSuite === "object" && restSuite !== null && "id" in restSuite ? restSuite.id : null;
  return {
    __typename: "CheckSuite",
    id: nodeId("CheckSuite", String(databaseId)),
    databaseId,
    app: {
      __typename: "App",
      id: nodeId("Integration", first.appId),
      databaseId: first.appId,
      slug: first.appSlug,
      name: first.appSlug,
    },
    checkRuns: (args: Args) => {
      only(args, "CheckSuite.checkRuns", ...PAGE_ARGS, "filterBy");
      const filter = optObject(args, "filterBy");
      only(filter, "CheckRunFilter", "checkName", "appId", "checkType", "status", "statuses", "conclusions");
      const name = optString(filter, "checkName");
      const appId = optInt(filter, "appId");
      const status = optString(filter, "status");
      const statuses = optList(filter, "statuses");
      const conclusions = optList(filter, "conclusions");
      const type = optString(filter, "checkType") ?? "LATEST";
      if (!CHECK_RUN_TYPES.includes(type)) throw new Unsupported(`CheckRunFilter.checkType ${type}`);
      let list = [...runs]
        .sort((a, b) => b.id - a.id)
        .filter((r) => name === null || r.name === name)
        .filter((r) => appId === null || r.appId === appId);
      if (type === "LATEST") list = list.filter((r, i) => list.findIndex((o) => o.name === r.name) === i);
      list = list
        .filter((r) => status === null || r.status.toUpperCase() === status)
        .filter((r) => statuses === null || statuses.includes(r.status.toUpperCase()))
        .filter((r) => conclusions === null || conclusions.includes(r.conclusion?.toUpperCase()));
      return connection("checkRuns", list, args, (r) => checkRun(repo, r));
    },
  };
}

/** GET /check-runs/:id, in GraphQL's enum casing (COMPLETED, SUCCESS...). */
function checkRun(repo: RepoState, r: CheckRunState): GqlObject {
  return {
    __typename: "CheckRun",
    id: nodeId("CheckRun", r.id),
    databaseId: r.id,
    name: r.name,
    status: r.status.toUpperCase(),
    conclusion: r.conclusion?.toUpperCase() ?? null,
    title: r.output.title,
    summary: r.output.summary,
    text: r.output.text,
    detailsUrl: r.detailsUrl,
    externalId: r.externalId,
    startedAt: r.startedAt,
    completedAt: r.completedAt,
    url: `${WEB}/${repo.fullName}/runs/${r.id}`,
  };
}

function queryRoot(ctx: QueryContext): GqlObject {
  return {
    repository: (args: Args) => {
      only(args, "Query.repository", "owner", "name", "followRenames");
      const fullName = `${optString(args, "owner") ?? ""}/${optString(args, "name") ?? ""}`;
      const repo = ctx.state.repos.get(repoKey(fullName));
      if (repo === undefined)
        throw new FieldError("NOT_FOUND", `Could not resolve to a Repository with the name '${fullName}'.`);
      return repository(ctx, repo);
    },
  };
}

/** An execution error as GitHub words it: `type` (when the fake refused the field), `path`, `locations`, `message`. */
function githubError(e: GraphQLError): Record<string, unknown> {
  const original = e.originalError;
  return {
    ...(original instanceof FieldError ? { type: original.type } : {}),
    ...(e.path === undefined ? {} : { path: e.path }),
    ...(e.locations === undefined ? {} : { locations: e.locations.map(({ line, column }) => ({ line, column })) }),
    message: e.message,
  };
}

const UNSERVED =
  "[fake-github] this fake GraphQL API supports only `mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }` and queries of the fields it serves (test/helpers/fake-github/graphql-schema.ts, SERVED); this document is not supported";

export const graphqlRoutes: readonly Route[] = [
  route("POST", "/graphql", "token", (ctx) => {
    // The "token" route already refused a request without a valid token (HTTP 401, as GitHub).
    const body = bodyObject(ctx);
    const given = body["query"];
    if (typeof given !== "string")
      return errors([{ message: "A query attribute must be specified and must be a string." }]);
    const rawVariables = body["variables"];
    const operationName = typeof body["operationName"] === "string" ? body["operationName"] : null;
    // GitHub's schema first: a document or variables it refuses never reach the fake's own reading.
    const prepared = prepareGraphql(
      given,
      operationName,
      typeof rawVariables === "object" && rawVariables !== null && !Array.isArray(rawVariables)
        ? Object.fromEntries(Object.entries(rawVariables))
        : {},
    );
    if (prepared.refused !== null) return errors(prepared.refused);
    if (prepared.served?.operation === "query") {
      const result = prepared.served.execute(
        queryRoot({ state: ctx.state, identity: ctx.identity }),
        undefined,
        fieldResolver,
      );
      const list = result.errors ?? [];
      return {
        status: 200,
        body:
          list.length === 0
            ? { data: result.data ?? null }
            : { data: result.data ?? null, errors: list.map(githubError) },
      };
    }
    const query = given.trim();
    const m = COMMIT_ON_BRANCH.exec(query);
    if (m === null || m[1] !== m[2]) return errors([{ message: UNSERVED }]);
    const variables = body["variables"] === undefined || body["variables"] === null ? {} : body["variables"];
    try {
      const input = parseInput(
        typeof variables === "object" && !Array.isArray(variables)
          ? Object.fromEntries(Object.entries(variables))[m[1] ?? ""]
          : undefined,
      );
      const oid = commitOnBranch(ctx.state, input, ctx.identity?.permissions ?? null);
      return { status: 200, body: { data: { createCommitOnBranch: { commit: { oid } } } } };
    } catch (err) {
      if (err instanceof FieldError)
        return errors([{ type: err.type, path: ["createCommitOnBranch"], message: err.message }], {
          createCommitOnBranch: null,
        });
      if (err instanceof InputError) return errors([{ message: err.message }]);
      throw err;
    }
  }),
];
