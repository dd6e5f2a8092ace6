// The trust boundary between GitHub's REST answers and the port's types. Every response body and
// every thrown HTTP error is `unknown` until it passes through here; nothing else in src/github
// casts. A malformed answer throws one clear error that names the route and the field
// ("[github] GET /repos/o/r/pulls/1: malformed response: head.sha is not a commit SHA"), because
// a gate that guesses at a half-read pull request is worse than one that stops.
import type { ChangedFile, PullRequestInfo } from "./port.ts";

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const FILE_STATUSES = ["added", "modified", "removed", "renamed", "copied", "changed", "unchanged"] as const;
export const REVIEW_STATES = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"] as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function malformed(where: string, what: string): Error {
  return new Error(`[github] ${where}: malformed response: ${what}`);
}

/** Reads the fields of one untrusted JSON object; every error names the field's path. */
interface Reader {
  str(key: string): string;
  /** Absent or null reads as null (GitHub omits or nulls optional fields inconsistently). */
  optStr(key: string): string | null;
  int(key: string): number;
  bool(key: string): boolean;
  sha(key: string): string;
  date(key: string): string;
  oneOf<T extends string>(key: string, allowed: readonly T[]): T;
  obj(key: string): Reader;
  optObj(key: string): Reader | null;
  /** Absent or null reads as null. */
  optBool(key: string): boolean | null;
  optInt(key: string): number | null;
  /** A list of objects (GraphQL `nodes`); a null entry is malformed. */
  list(key: string): Reader[];
}

/** The same reader over a GraphQL answer's `data` (src/github/pull-request-snapshot.ts). */
export type GraphqlReader = Reader;

export function readGraphqlObject(data: unknown, where: string): GraphqlReader {
  return reader(data, where, "");
}

function reader(value: unknown, where: string, path: string): Reader {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(where, `${path || "the body"} is not an object`);
  }
  const o: Readonly<Record<string, unknown>> = value as Readonly<Record<string, unknown>>; // checked just above
  const at = (key: string): string => (path ? `${path}.${key}` : key);
  const str = (key: string): string => {
    const v = o[key];
    if (typeof v !== "string") throw malformed(where, `${at(key)} is not a string`);
    return v;
  };
  return {
    str,
    optStr(key) {
      const v = o[key];
      if (v === undefined || v === null) return null;
      if (typeof v !== "string") throw malformed(where, `${at(key)} is not a string`);
      return v;
    },
    int(key) {
      const v = o[key];
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
        throw malformed(where, `${at(key)} is not a non-negative integer`);
      return v;
    },
    bool(key) {
      const v = o[key];
      if (typeof v !== "boolean") throw malformed(where, `${at(key)} is not a boolean`);
      return v;
    },
    sha(key) {
      const v = str(key);
      if (!SHA.test(v)) throw malformed(where, `${at(key)} is not a commit SHA`);
      return v;
    },
    date(key) {
      const v = str(key);
      if (!ISO_DATE.test(v) || Number.isNaN(Date.parse(v)))
        throw malformed(where, `${at(key)} is not an ISO 8601 date`);
      return v;
    },
    oneOf(key, allowed) {
      const v = str(key);
      const hit = allowed.find((a) => a === v);
      if (hit === undefined)
        throw malformed(where, `${at(key)} is ${JSON.stringify(v.slice(0, 40))}, not one of ${allowed.join("/")}`);
      return hit;
    },
    obj: (key) => reader(o[key], where, at(key)),
    optObj: (key) => (o[key] === null || o[key] === undefined ? null : reader(o[key], where, at(key))),
    optBool(key) {
      const v = o[key];
      if (v === undefined || v === null) return null;
      if (typeof v !== "boolean") throw malformed(where, `${at(key)} is not a boolean`);
      return v;
    },
    optInt(key) {
      const v = o[key];
      if (v === undefined || v === null) return null;
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
        throw malformed(where, `${at(key)} is not a non-negative integer`);
      return v;
    },
    list(key) {
      const v = o[key];
      if (!Array.isArray(v)) throw malformed(where, `${at(key)} is not a list`);
      return v.map((item, i) => reader(item, where, `${at(key)}[${i}]`));
    },
  };
}

function items(list: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(list)) throw malformed(where, "the body is not a list");
  return list;
}

/** GitHub shows a deleted account as "ghost"; the REST schema allows `user: null` for it. */
function author(r: Reader): { readonly login: string; readonly isBot: boolean } {
  const user = r.optObj("user");
  if (user === null) return { login: "ghost", isBot: false };
  return { login: user.str("login"), isBot: user.str("type") === "Bot" };
}

export function parsePullRequest(data: unknown, where: string): PullRequestInfo {
  const r = reader(data, where, "");
  const head = r.obj("head");
  const base = r.obj("base");
  const baseRepo = base.obj("repo");
  // The head repository is null when the fork was deleted; such a pull request is still a fork.
  const headRepo = head.optObj("repo");
  const merged = r.bool("merged");
  // GitHub fills merge_commit_sha with a test merge while the PR is open; only a merged PR's
  // merge commit is something the gate may replay from.
  const mergeCommitSha = merged ? r.sha("merge_commit_sha") : null;
  return {
    number: r.int("number"),
    state: r.oneOf("state", ["open", "closed"] as const),
    merged,
    mergeCommitSha,
    headSha: head.sha("sha"),
    headRef: head.str("ref"),
    headRepoFullName: headRepo === null ? "" : headRepo.str("full_name"),
    baseSha: base.sha("sha"),
    baseRef: base.str("ref"),
    author: author(r).login,
    fork: headRepo === null || headRepo.int("id") !== baseRepo.int("id"),
  };
}

/**
 * The pull requests merged by a commit, from GitHub's list of the pull requests a commit belongs
 * to. That list has the short shape (no `merged` field): a merged one has `merged_at` set and its
 * `merge_commit_sha` is the commit itself (an open PR's is a test merge, never the commit asked about).
 */
export function parseMergedBy(list: unknown, sha: string, where: string): number[] {
  const numbers: number[] = [];
  for (const [i, item] of items(list, where).entries()) {
    const r = reader(item, where, `[${i}]`);
    const mergedAt = r.optStr("merged_at");
    if (mergedAt !== null && r.optStr("merge_commit_sha") === sha) numbers.push(r.int("number"));
  }
  return numbers;
}

export function parseChangedFiles(list: unknown, where: string): ChangedFile[] {
  return items(list, where).map((item, i) => {
    const r = reader(item, where, `[${i}]`);
    const path = r.str("filename");
    const status = r.oneOf("status", FILE_STATUSES);
    const previousPath = r.optStr("previous_filename");
    return previousPath === null ? { path, status } : { path, status, previousPath };
  });
}

export type ContentsEntry =
  | { readonly kind: "file"; readonly sha: string; readonly size: number; readonly content: string | null }
  | { readonly kind: "directory" }
  | { readonly kind: "other"; readonly type: string };

/** GET contents: a list for a directory, an object with `type` otherwise. */
export function parseContents(data: unknown, where: string): ContentsEntry {
  if (Array.isArray(data)) return { kind: "directory" };
  const r = reader(data, where, "");
  const type = r.str("type");
  if (type === "dir") return { kind: "directory" };
  if (type !== "file") return { kind: "other", type };
  // Files over 1 MB come back with `encoding: "none"` and empty content: the caller fetches the blob.
  const content = r.optStr("encoding") === "base64" ? r.str("content") : null;
  return { kind: "file", sha: r.sha("sha"), size: r.int("size"), content };
}

/** GET git/blobs/{sha}: base64 content of any size the API serves. */
export function parseBlob(data: unknown, where: string): { readonly size: number; readonly content: string } {
  const r = reader(data, where, "");
  if (r.str("encoding") !== "base64") throw malformed(where, "encoding is not base64");
  return { size: r.int("size"), content: r.str("content") };
}

/** Strict base64 (GitHub wraps lines at 60 characters), checked against the announced size. */
export function decodeBase64(text: string, size: number, where: string): Uint8Array {
  const compact = text.replace(/[\r\n]/g, "");
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) throw malformed(where, "content is not base64");
  const bytes = Buffer.from(compact, "base64");
  if (bytes.length !== size) throw malformed(where, `content has ${bytes.length} bytes, size says ${size}`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** An issue comment or a review comment: same fields, different ids and URLs. */
export interface ParsedComment {
  readonly id: number;
  readonly login: string;
  readonly isBot: boolean;
  readonly body: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly url: string;
}

export function parseComments(list: unknown, where: string): ParsedComment[] {
  return items(list, where).map((item, i) => {
    const r = reader(item, where, `[${i}]`);
    const who = author(r);
    return {
      id: r.int("id"),
      login: who.login,
      isBot: who.isBot,
      body: r.optStr("body") ?? "",
      createdAt: r.date("created_at"),
      updatedAt: r.date("updated_at"),
      url: r.str("html_url"),
    };
  });
}

export interface ParsedReview {
  readonly id: number;
  readonly login: string;
  readonly isBot: boolean;
  readonly body: string;
  /** "UNKNOWN" for a state GitHub may add later; `rawState` then holds what it said. */
  readonly state: (typeof REVIEW_STATES)[number] | "UNKNOWN";
  readonly rawState: string;
  /** Null only for a pending (unsubmitted) review. */
  readonly submittedAt: string | null;
  readonly url: string;
}

export function parseReviews(list: unknown, where: string): ParsedReview[] {
  return items(list, where).map((item, i) => {
    const r = reader(item, where, `[${i}]`);
    const who = author(r);
    // A state outside the documented five must not stop every evaluation of the pull request:
    // it reads as UNKNOWN and the gate counts no approval from it (docs/approvals.md).
    const rawState = r.str("state");
    const state = REVIEW_STATES.find((s) => s === rawState) ?? "UNKNOWN";
    return {
      id: r.int("id"),
      login: who.login,
      isBot: who.isBot,
      body: r.optStr("body") ?? "",
      state,
      rawState,
      submittedAt: r.optStr("submitted_at") === null ? null : r.date("submitted_at"),
      url: r.str("html_url"),
    };
  });
}

export interface ParsedCheckRun {
  readonly id: number;
  readonly name: string;
  readonly appId: number | null;
  /** What the run shows now, to skip an update that would change nothing. */
  readonly status: string | null;
  readonly conclusion: string | null;
  readonly output: {
    readonly title: string | null;
    readonly summary: string | null;
    readonly text: string | null;
  } | null;
}

export function parseCheckRuns(list: unknown, where: string): ParsedCheckRun[] {
  return items(list, where).map((item, i) => {
    const r = reader(item, where, `[${i}]`);
    const app = r.optObj("app");
    const output = r.optObj("output");
    return {
      id: r.int("id"),
      name: r.str("name"),
      appId: app === null ? null : app.int("id"),
      status: r.optStr("status"),
      conclusion: r.optStr("conclusion"),
      output:
        output === null
          ? null
          : { title: output.optStr("title"), summary: output.optStr("summary"), text: output.optStr("text") },
    };
  });
}

/** The `id` of a created or updated comment or check run. */
export function parseId(data: unknown, where: string): number {
  return reader(data, where, "").int("id");
}

/** The `sha` of a created git object (blob, tree, commit). */
export function parseSha(data: unknown, where: string): string {
  return reader(data, where, "").sha("sha");
}

/** GET or PATCH a git ref: `{ ref, object: { type, sha } }`; a branch points at a commit. */
export function parseGitRef(data: unknown, where: string): string {
  const object = reader(data, where, "").obj("object");
  if (object.str("type") !== "commit") throw malformed(where, "object.type is not commit");
  return object.sha("sha");
}

/** POST git/trees or git/commits: the new object's `sha`. */
export function parseCreatedObject(data: unknown, where: string): string {
  return reader(data, where, "").sha("sha");
}

/** GET git/commits/{sha}: the commit's tree, which a new tree builds on. */
export function parseGitCommitTree(data: unknown, where: string): string {
  return reader(data, where, "").obj("tree").sha("sha");
}

/**
 * Octokit throws a RequestError carrying `status` and `response.data.message`. Anything thrown
 * without a numeric status (a network error, a bug) is not an HTTP answer and yields null.
 */
export function httpFailure(err: unknown): { readonly status: number; readonly message: string } | null {
  if (typeof err !== "object" || err === null || !("status" in err)) return null;
  const status = err.status;
  if (typeof status !== "number" || !Number.isInteger(status)) return null;
  let message = "";
  const response = "response" in err ? err.response : undefined;
  if (typeof response === "object" && response !== null && "data" in response) {
    const data = response.data;
    if (typeof data === "object" && data !== null && "message" in data && typeof data.message === "string")
      message = data.message;
  }
  return { status, message };
}

/** The `data` of a `createCommitOnBranch { commit { oid } }` answer: the new commit's SHA. */
export function parseCommitOnBranch(data: unknown, where: string): string {
  return reader(data, where, "").obj("createCommitOnBranch").obj("commit").sha("oid");
}

/** One entry of a GraphQL answer's `errors`: GitHub's `type` (FORBIDDEN, STALE_DATA...) if any. */
export interface GraphqlError {
  readonly type: string | null;
  readonly message: string;
}

/**
 * The `errors` of a GraphQL answer, as Octokit's `graphql()` throws them (a GraphqlResponseError
 * carrying the list); null for anything else thrown (an HTTP failure, a network error, a bug).
 * GitHub puts the kind of error in `type`; `extensions.code` is read when `type` is absent.
 */
export function graphqlErrors(err: unknown): readonly GraphqlError[] | null {
  if (typeof err !== "object" || err === null || !("errors" in err)) return null;
  const list: unknown = err.errors;
  if (!Array.isArray(list) || list.length === 0) return null;
  return list.map((e: unknown): GraphqlError => {
    if (typeof e !== "object" || e === null) return { type: null, message: "" };
    const message = "message" in e && typeof e.message === "string" ? e.message : "";
    if ("type" in e && typeof e.type === "string") return { type: e.type, message };
    const ext = "extensions" in e ? e.extensions : undefined;
    const code =
      typeof ext === "object" && ext !== null && "code" in ext && typeof ext.code === "string" ? ext.code : null;
    return { type: code, message };
  });
}
