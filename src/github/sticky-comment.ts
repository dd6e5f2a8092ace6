// The app's one summary comment per pull request, found again by a marker and by its author.
// Anyone can paste the marker into a comment; only a comment by the app's own login is the
// sticky comment, so a look-alike is never updated, returned or trusted.
import { clipCodePoints } from "./clip.ts";
import type { OctokitLike } from "./octokit-like.ts";
import { parseComments, parseId, type ParsedComment } from "./parse.ts";
import type { RepoRef } from "./port.ts";
import { describe, send, sendData, sendPaged } from "./send.ts";

export async function findStickyComment(
  octokit: OctokitLike,
  repo: RepoRef,
  number: number,
  marker: string,
  botLogin: string,
  /** The pull request's issue comments, already read (a pull request snapshot). */
  known?: readonly ParsedComment[],
): Promise<{ readonly id: number; readonly body: string } | null> {
  if (marker === "" || botLogin === "") throw new Error("[github] a sticky comment needs a marker and the bot's login");
  const route = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments";
  const params = { owner: repo.owner, repo: repo.repo, issue_number: number };
  const comments = known ?? parseComments(await sendPaged(octokit, route, params), describe(route, params));
  // Logins are unique regardless of case. The oldest match wins, so two replicas that raced to
  // create it still converge on one comment.
  const own = comments.find((c) => c.login.toLowerCase() === botLogin.toLowerCase() && c.body.includes(marker));
  return own === undefined ? null : { id: own.id, body: own.body };
}

export async function upsertStickyComment(
  octokit: OctokitLike,
  repo: RepoRef,
  number: number,
  marker: string,
  botLogin: string,
  body: string,
  known?: readonly ParsedComment[],
): Promise<{ readonly id: number }> {
  // The marker must survive in the body (also when a long body is cut), or the next event would
  // not find the comment again.
  const clipped = clipCodePoints(body);
  const text = clipped.includes(marker) ? clipped : clipCodePoints(`${marker}\n${body}`);
  const found = await findStickyComment(octokit, repo, number, marker, botLogin, known);
  if (found !== null && found.body === text) return { id: found.id };
  if (found !== null) {
    const route = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}";
    const params = { owner: repo.owner, repo: repo.repo, comment_id: found.id, body: text };
    // 404: deleted since it was listed; then a new one is created below.
    const answer = await send(octokit, route, params, [404]);
    if (answer.ok) return { id: parseId(answer.data, describe(route, params)) };
  }
  const route = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments";
  const params = { owner: repo.owner, repo: repo.repo, issue_number: number, body: text };
  return { id: parseId(await sendData(octokit, route, params), describe(route, params)) };
}
