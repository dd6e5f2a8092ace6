// The GitHub port with its reads of one pull request served from one GraphQL query
// (pull-request-snapshot.ts) instead of a REST call each: the pull request, its files, its
// candidates, the sticky comment, the policy at the base and the check run on the head. A port
// lives for one delivery (the App) or one step (the Action), and so does what it read.
//
// What was read is trusted only until the gate itself writes what it would change: its sticky
// comment or check run (that part is read again over REST), a claim, or a commit (everything is
// read again). The look-again under a claim therefore always asks GitHub, as it must. A part the
// query could not tell completely, or a query GitHub refuses (an older GitHub Enterprise Server,
// a token without one of the permissions), is read over REST exactly as before.
import type { GitHubApprovalCandidate } from "./candidates.ts";
import { upsertCheckRun } from "./check-run.ts";
import type { OctokitLike } from "./octokit-like.ts";
import type { OctokitGitHubPort } from "./octokit-port.ts";
import { graphqlErrors } from "./parse.ts";
import type { PullRequestInfo, RepoRef } from "./port.ts";
import { type PullRequestSnapshot, readPullRequestSnapshot, type SnapshotOptions } from "./pull-request-snapshot.ts";
import { RateLimitedError } from "./rate-limit.ts";
import { findStickyComment, upsertStickyComment } from "./sticky-comment.ts";

interface Entry {
  readonly repo: string;
  /** Null: the query was refused; this pull request is read over REST. */
  readonly snapshot: PullRequestSnapshot | null;
  comments: boolean;
  checks: boolean;
  all: boolean;
}

const key = (repo: RepoRef, number: number): string => `${repo.owner}/${repo.repo}#${number}`.toLowerCase();
const repoKey = (repo: RepoRef): string => `${repo.owner}/${repo.repo}`.toLowerCase();

export function withPullRequestSnapshots(
  octokit: OctokitLike,
  rest: OctokitGitHubPort,
  options: SnapshotOptions,
): OctokitGitHubPort {
  const entries = new Map<string, Promise<Entry>>();

  const load = async (repo: RepoRef, number: number): Promise<Entry> => {
    try {
      const snapshot = await readPullRequestSnapshot(octokit, repo, number, options);
      return { repo: repoKey(repo), snapshot, comments: true, checks: true, all: true };
    } catch (err) {
      const errors = graphqlErrors(err instanceof Error && err.cause !== undefined ? err.cause : err);
      // A rate limit, a network or server failure: REST would meet the same, so it is not hidden.
      if (err instanceof RateLimitedError || errors === null) throw err;
      return { repo: repoKey(repo), snapshot: null, comments: false, checks: false, all: false };
    }
  };
  /** What this port read of the pull request and may still trust; undefined: read over REST. */
  const current = async (repo: RepoRef, number: number): Promise<Entry | undefined> => {
    const entry = await entries.get(key(repo, number))?.catch(() => undefined);
    return entry?.all === true && entry.snapshot !== null ? entry : undefined;
  };
  // A load that failed is dropped by getPullRequest; until then it is no entry of anything.
  const forRepo = async (repo: RepoRef): Promise<Entry[]> =>
    (await Promise.allSettled(entries.values()))
      .flatMap((r) => (r.status === "fulfilled" ? [r.value] : []))
      .filter((e) => e.repo === repoKey(repo));
  const forget = async (repo: RepoRef, part: "comments" | "checks" | "all"): Promise<void> => {
    for (const e of await forRepo(repo)) e[part] = false;
  };

  return {
    ...rest,
    async getPullRequest(repo, number): Promise<PullRequestInfo> {
      const k = key(repo, number);
      const known = entries.get(k);
      if (known === undefined) {
        const loading = load(repo, number);
        entries.set(k, loading);
        // A failed load is not kept: the next call tries again.
        const entry = await loading.catch((err: unknown) => {
          entries.delete(k);
          throw err;
        });
        if (entry.snapshot !== null) return entry.snapshot.pr;
      } else {
        const entry = await current(repo, number);
        if (entry?.snapshot != null) return entry.snapshot.pr;
      }
      return rest.getPullRequest(repo, number);
    },
    async listChangedFiles(repo, number) {
      const files = (await current(repo, number))?.snapshot?.files ?? null;
      return files ?? rest.listChangedFiles(repo, number);
    },
    async readFile(repo, path, ref) {
      for (const e of await forRepo(repo)) {
        const policy = e.all ? e.snapshot?.policy : null;
        if (policy != null && policy.path === path && e.snapshot?.pr.baseSha === ref) return policy.bytes;
      }
      return rest.readFile(repo, path, ref);
    },
    async listCandidates(repo, number): Promise<readonly GitHubApprovalCandidate[]> {
      const entry = await current(repo, number);
      const candidates = entry?.comments === true ? entry.snapshot?.candidates : null;
      return candidates ?? rest.listCandidates(repo, number);
    },
    async findStickyComment(repo, number, marker, botLogin) {
      const entry = await current(repo, number);
      const comments = entry?.comments === true ? (entry.snapshot?.issueComments ?? undefined) : undefined;
      return findStickyComment(octokit, repo, number, marker, botLogin, comments);
    },
    async upsertStickyComment(repo, number, marker, botLogin, body) {
      const entry = await current(repo, number);
      const comments = entry?.comments === true ? (entry.snapshot?.issueComments ?? undefined) : undefined;
      await forget(repo, "comments");
      return upsertStickyComment(octokit, repo, number, marker, botLogin, body, comments);
    },
    async upsertCheckRun(repo, appId, report, guardCreate) {
      let known: PullRequestSnapshot["checkRuns"] = null;
      for (const e of await forRepo(repo)) {
        const s = e.all && e.checks ? e.snapshot : null;
        if (s?.checkRuns != null && s.pr.headSha === report.headSha && s.checkRuns.name === report.name) {
          known = appId === options.appId ? s.checkRuns : null;
          break;
        }
      }
      await forget(repo, "checks");
      return upsertCheckRun(octokit, repo, appId, report, guardCreate, known?.runs);
    },
    async claim(repo, name, sha) {
      await forget(repo, "all");
      return rest.claim(repo, name, sha);
    },
    async releaseClaim(repo, name) {
      await forget(repo, "all");
      return rest.releaseClaim(repo, name);
    },
    async commitFiles(repo, branch, files, message, commitOptions) {
      await forget(repo, "all");
      return rest.commitFiles(repo, branch, files, message, commitOptions);
    },
    async commitOnRef(repo, ref, parent, files, message) {
      // A commit outside every branch changes nothing a snapshot holds; it is never read back.
      return rest.commitOnRef(repo, ref, parent, files, message);
    },
  };
}
