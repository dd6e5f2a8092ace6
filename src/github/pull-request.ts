// The pull request and the files it changes, as the gate sees them.
import type { OctokitLike } from "./octokit-like.ts";
import { malformed, parseChangedFiles, parseMergedBy, parsePullRequest } from "./parse.ts";
import type { ChangedFile, PullRequestInfo, RepoRef } from "./port.ts";
import { describe, sendData, sendPaged } from "./send.ts";

/**
 * GitHub lists at most 3000 files of a pull request and silently stops there. A gate that saw
 * only part of a PR could miss a policy change, so a list that reaches the cap is refused.
 */
export const MAX_LISTED_FILES = 3000;

export async function getPullRequest(octokit: OctokitLike, repo: RepoRef, number: number): Promise<PullRequestInfo> {
  const route = "GET /repos/{owner}/{repo}/pulls/{pull_number}";
  const params = { owner: repo.owner, repo: repo.repo, pull_number: number };
  const where = describe(route, params);
  const pr = parsePullRequest(await sendData(octokit, route, params), where);
  if (pr.number !== number) throw malformed(where, `number is ${pr.number}, asked for ${number}`);
  return pr;
}

export async function listChangedFiles(
  octokit: OctokitLike,
  repo: RepoRef,
  number: number,
): Promise<readonly ChangedFile[]> {
  const route = "GET /repos/{owner}/{repo}/pulls/{pull_number}/files";
  const params = { owner: repo.owner, repo: repo.repo, pull_number: number };
  const files = parseChangedFiles(await sendPaged(octokit, route, params), describe(route, params));
  if (files.length >= MAX_LISTED_FILES) {
    throw new Error(
      `[github] pull request #${number} changes ${MAX_LISTED_FILES} files or more; GitHub lists only the first ${MAX_LISTED_FILES}, so the gate cannot see the whole change`,
    );
  }
  return files;
}

/** The numbers of the pull requests that `sha` merged (usually one; none for a direct push). */
export async function pullRequestsMergedBy(
  octokit: OctokitLike,
  repo: RepoRef,
  sha: string,
): Promise<readonly number[]> {
  const route = "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls";
  const params = { owner: repo.owner, repo: repo.repo, commit_sha: sha };
  return parseMergedBy(await sendPaged(octokit, route, params), sha, describe(route, params));
}
