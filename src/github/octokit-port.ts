// The GitHub port over any Octokit: Probot's `context.octokit` in the App, @actions/github's in
// the Action, @octokit/rest's in tests. Each method lives in its own file; this one only wires.
import { listCandidates, type GitHubApprovalCandidate } from "./candidates.ts";
import { upsertCheckRun } from "./check-run.ts";
import { claim, claimHeld, releaseClaim } from "./claim.ts";
import { commitFiles } from "./commit-files.ts";
import { commitOnRef } from "./commit-on-ref.ts";
import type { OctokitLike } from "./octokit-like.ts";
import type { GitHubPort, RepoRef } from "./port.ts";
import { getPullRequest, listChangedFiles, pullRequestsMergedBy } from "./pull-request.ts";
import { readFile } from "./read-file.ts";
import { findStickyComment, upsertStickyComment } from "./sticky-comment.ts";

export type { OctokitLike } from "./octokit-like.ts";
export type { GitHubApprovalCandidate } from "./candidates.ts";

/** The port, with candidates that also say whether a review was dismissed. */
export interface OctokitGitHubPort extends GitHubPort {
  listCandidates(repo: RepoRef, number: number): Promise<readonly GitHubApprovalCandidate[]>;
}

export function createGitHubPort(octokit: OctokitLike): OctokitGitHubPort {
  return {
    getPullRequest: (repo, number) => getPullRequest(octokit, repo, number),
    listChangedFiles: (repo, number) => listChangedFiles(octokit, repo, number),
    pullRequestsMergedBy: (repo, sha) => pullRequestsMergedBy(octokit, repo, sha),
    readFile: (repo, path, ref) => readFile(octokit, repo, path, ref),
    listCandidates: (repo, number) => listCandidates(octokit, repo, number),
    findStickyComment: (repo, number, marker, botLogin) => findStickyComment(octokit, repo, number, marker, botLogin),
    upsertStickyComment: (repo, number, marker, botLogin, body) =>
      upsertStickyComment(octokit, repo, number, marker, botLogin, body),
    upsertCheckRun: (repo, appId, report, guardCreate) => upsertCheckRun(octokit, repo, appId, report, guardCreate),
    claim: (repo, name, sha) => claim(octokit, repo, name, sha),
    claimHeld: (repo, name) => claimHeld(octokit, repo, name),
    releaseClaim: (repo, name) => releaseClaim(octokit, repo, name),
    commitFiles: (repo, branch, files, message, options) => commitFiles(octokit, repo, branch, files, message, options),
    commitOnRef: (repo, ref, parent, files, message) => commitOnRef(octokit, repo, ref, parent, files, message),
  };
}
