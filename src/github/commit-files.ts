// Files added or replaced on a branch with one commit (the evidence of an approved request), made
// by one GraphQL mutation, `createCommitOnBranch`: the mutation carries every file (base64) and
// the head to build on as `expectedHeadOid`, the one the caller judged (else the branch's head,
// read first with a REST GET). GitHub makes the commit on top of that head and moves the branch
// only if it still points there, so a push that lands meanwhile makes this a `conflict`, never a
// lost commit (the branch is never forced).
// One commit means one `synchronize` event, however many files.
//
// Why GraphQL and not the git data API: Probot's Octokit paces every write (and every GraphQL
// request) to one a second per process, and the git data API needs a blob per binary file, a
// tree, a commit and a ref update, 5 paced writes and more. The mutation is one, which is what
// keeps the delivery that reaches M well inside GitHub's 10-second webhook timeout. A commit made
// this way by an App or by the workflow token is also signed by GitHub.
//
// A branch the app may not write (a fork, a protected branch) is an outcome for the caller, not
// an exception. GraphQL answers such refusals with HTTP 200 and an `errors` list whose `type`
// says which: FORBIDDEN, NOT_FOUND, STALE_DATA (the head moved: "Expected branch to point to
// ..."), UNPROCESSABLE (a ruleset refused) or BRANCH_PROTECTION_RULE_VIOLATION (classic branch
// protection). Anything else is one `[github]` error naming the mutation and the branch; it never
// carries the request (the files) nor the token.
import type { OctokitLike } from "./octokit-like.ts";
import { graphqlErrors, httpFailure, parseCommitOnBranch, parseGitRef } from "./parse.ts";
import type { CommitResult, FileToCommit, RepoRef } from "./port.ts";
import { RateLimitedError } from "./rate-limit.ts";
import { checkRepoPath } from "./read-file.ts";
import { describe, send } from "./send.ts";

const REFUSED = [403, 404, 409, 422] as const;

const MUTATION =
  "mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";

type Refusal = Extract<CommitResult, { ok: false }>["reason"];

function refusal(status: number): Refusal {
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  // 409: a protected branch, a ruleset or an empty repository said no. 422: the branch moved, or
  // a rule refused the update. Both mean "not now, not like this".
  return "conflict";
}

/** The refusal one GraphQL error stands for, or null when it is not a refusal. */
function graphqlRefusal(type: string | null, message: string): Refusal | null {
  if (type === "FORBIDDEN") return "forbidden";
  if (type === "NOT_FOUND") return "not_found";
  if (type === "STALE_DATA" || type === "UNPROCESSABLE" || type === "BRANCH_PROTECTION_RULE_VIOLATION")
    return "conflict";
  // The expectedHeadOid mismatch, should it ever come without its type.
  if (/\bexpected branch to point to\b/i.test(message)) return "conflict";
  return null;
}

const RANK: readonly Refusal[] = ["forbidden", "not_found", "conflict"];

/**
 * What a failed mutation means: a refusal when every GraphQL error is one (the most basic wins:
 * forbidden, then not_found, then conflict), a refusing HTTP status as for REST, else null.
 */
function refusalOf(err: unknown): Refusal | null {
  const http = httpFailure(err);
  if (http !== null) return REFUSED.some((s) => s === http.status) ? refusal(http.status) : null;
  const errors = graphqlErrors(err);
  if (errors === null) return null;
  const reasons = errors.map((e) => graphqlRefusal(e.type, e.message));
  if (reasons.some((r) => r === null)) return null;
  return RANK.find((r) => reasons.includes(r)) ?? null;
}

/**
 * GitHub's words, clipped; long base64 runs (what file contents look like, should an error ever
 * echo an input) are cut out.
 */
function quote(message: string): string {
  return message
    .replace(/[A-Za-z0-9+/]{64,}={0,2}/g, "[...]")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);
}

function failure(where: string, err: unknown): Error {
  // A rate limit is an outcome of its own (rate_limited), not a broken call: it passes as it is.
  if (err instanceof RateLimitedError) return err;
  const http = httpFailure(err);
  if (http !== null)
    return new Error(`[github] ${where} failed: HTTP ${http.status}${http.message ? ` (${quote(http.message)})` : ""}`);
  const errors = graphqlErrors(err);
  if (errors !== null)
    return new Error(
      `[github] ${where} failed: ${errors.map((e) => `${e.type ?? "error"}: ${quote(e.message)}`).join("; ")}`,
    );
  // Not an answer from GitHub (a network error, a bug). The cause is not attached: Octokit's
  // errors carry the request, and this request carries the files.
  return new Error(`[github] ${where} failed: ${quote(err instanceof Error ? err.message : String(err))}`);
}

/** A commit message as the mutation takes it: the first line, then the rest as the body. */
function messageInput(message: string): { headline: string; body?: string } {
  const [first = "", ...rest] = message.split("\n");
  const headline = first.replace(/\r$/, "");
  if (headline.trim() === "")
    throw new Error("[github] commitFiles needs a commit message whose first line is not empty");
  const body = rest.join("\n").replace(/^(?:\r?\n)+/, "");
  return body.trim() === "" ? { headline } : { headline, body };
}

export interface CommitOptions {
  /**
   * The commit the new one must sit on. The gate passes the head it judged, so a push that lands
   * after the judgement makes the commit a `conflict` instead of evidence on top of unjudged changes.
   */
  readonly expectedHead?: string;
}

export async function commitFiles(
  octokit: OctokitLike,
  repo: RepoRef,
  branch: string,
  files: readonly FileToCommit[],
  message: string,
  options: CommitOptions = {},
): Promise<CommitResult> {
  if (branch === "") throw new Error("[github] commitFiles needs a branch");
  if (files.length === 0) throw new Error("[github] commitFiles needs at least one file");
  const seen = new Set<string>();
  for (const f of files) {
    checkRepoPath(f.path);
    if (seen.has(f.path)) throw new Error(`[github] commitFiles: ${JSON.stringify(f.path)} is given twice`);
    seen.add(f.path);
  }
  const commitMessage = messageInput(message);

  // The head to build on: the one the caller judged, or else the branch's current one (a read:
  // Probot's throttling does not pace it).
  let head = options.expectedHead;
  if (head === undefined) {
    const refRoute = "GET /repos/{owner}/{repo}/git/ref/heads/{branch}";
    const refParams = { owner: repo.owner, repo: repo.repo, branch };
    const ref = await send(octokit, refRoute, refParams, REFUSED);
    if (!ref.ok) return { ok: false, reason: refusal(ref.status) };
    head = parseGitRef(ref.data, describe(refRoute, refParams));
  }

  const where = `createCommitOnBranch ${repo.owner}/${repo.repo}:${branch}`;
  const input = {
    branch: { repositoryNameWithOwner: `${repo.owner}/${repo.repo}`, branchName: branch },
    message: commitMessage,
    expectedHeadOid: head,
    fileChanges: {
      additions: files.map((f) => ({ path: f.path, contents: Buffer.from(f.content).toString("base64") })),
    },
  };
  let data: unknown;
  try {
    data = await octokit.graphql(MUTATION, { input });
  } catch (err) {
    const reason = refusalOf(err);
    if (reason !== null) return { ok: false, reason };
    throw failure(where, err);
  }
  return { ok: true, sha: parseCommitOnBranch(data, where) };
}
