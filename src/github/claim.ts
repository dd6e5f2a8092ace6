// Claims: how several App processes (replicas behind a load balancer, or one process handling two
// deliveries at once) agree that only one of them creates something that must exist once, with
// GitHub as the only shared state (docs/github-app.md, "Operations"). A claim is a git ref,
// `refs/quorum-gate/claims/<name>`, pointing at the pull request's head: GitHub creates a ref
// atomically and answers 422 "Reference already exists" to every other creator, so exactly one
// process holds it. It is deleted as soon as the work is done, and never lives in refs/heads or
// refs/tags, so no branch list or clone shows it.
import type { OctokitLike } from "./octokit-like.ts";
import type { RepoRef } from "./port.ts";
import { describe, send } from "./send.ts";

export const CLAIM_REF_PREFIX = "refs/quorum-gate/claims/";

const NAME = /^[a-z0-9][a-z0-9-]{0,99}$/;

function refOf(name: string): string {
  if (!NAME.test(name)) throw new Error(`[github] not a claim name: ${JSON.stringify(name.slice(0, 40))}`);
  return `${CLAIM_REF_PREFIX}${name}`;
}

/**
 * `claimed`: this call created the claim; `held`: it exists already (someone else holds it);
 * `unavailable`: the token may not create refs (403, as a workflow token with `contents: read`
 * answers), so there is nothing to coordinate with.
 */
export async function claim(
  octokit: OctokitLike,
  repo: RepoRef,
  name: string,
  sha: string,
): Promise<"claimed" | "held" | "unavailable"> {
  const route = "POST /repos/{owner}/{repo}/git/refs";
  const params = { owner: repo.owner, repo: repo.repo, ref: refOf(name), sha };
  const answer = await send(octokit, route, params, [403, 422]);
  if (answer.ok) return "claimed";
  if (answer.status === 403) return "unavailable";
  if (/already exists/i.test(answer.message)) return "held";
  throw new Error(`[github] ${describe(route, params)} failed: HTTP 422 (${answer.message.slice(0, 200)})`);
}

/** Whether the claim exists now. */
export async function claimHeld(octokit: OctokitLike, repo: RepoRef, name: string): Promise<boolean> {
  const route = "GET /repos/{owner}/{repo}/git/ref/{ref}";
  const params = { owner: repo.owner, repo: repo.repo, ref: refOf(name).slice("refs/".length) };
  return (await send(octokit, route, params, [404])).ok;
}

/** Deletes the claim; one that is gone already (422 or 404, as GitHub answers) is not an error. */
export async function releaseClaim(octokit: OctokitLike, repo: RepoRef, name: string): Promise<void> {
  const route = "DELETE /repos/{owner}/{repo}/git/refs/{ref}";
  const params = { owner: repo.owner, repo: repo.repo, ref: refOf(name).slice("refs/".length) };
  await send(octokit, route, params, [404, 422]);
}
