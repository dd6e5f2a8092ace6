// Doing once what several processes may try at the same moment: the first token and sticky comment
// of a pull request, a check run on a new head (docs/github-app.md, "Operations"). The winner of
// the claim (a git ref, src/github/claim.ts) does the work and lets go; a loser waits until the
// claim is gone and then looks again, so it finds what the winner made instead of making a second
// one. A claim left behind by a process that died is taken over after CLAIM_WAIT_MS. Where the
// token may not create refs, the work runs unguarded.
import type { RepoRef } from "../github/port.ts";
import type { GateDeps } from "./deps.ts";

/** Longer than the slowest guarded work (a token, a comment and a check run, at Probot's write pace). */
export const CLAIM_WAIT_MS = 30_000;
export const CLAIM_POLL_MS = 500;

export type Claimed<T> = { readonly kind: "done"; readonly value: T } | { readonly kind: "waited" };

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function underClaim<T>(
  deps: GateDeps,
  repo: RepoRef,
  name: string,
  sha: string,
  work: () => Promise<T>,
): Promise<Claimed<T>> {
  const sleep = deps.sleep ?? timer;
  const got = await deps.github.claim(repo, name, sha);
  // A token that may not create refs (a workflow's with `contents: read`) cannot coordinate; the
  // Action's workflows run one at a time per pull request (their concurrency group) instead.
  if (got === "unavailable") return { kind: "done", value: await work() };
  if (got === "claimed") {
    try {
      return { kind: "done", value: await work() };
    } finally {
      try {
        await deps.github.releaseClaim(repo, name);
      } catch (err) {
        // The work is done; a claim left behind only makes the next contender wait, then take over.
        deps.log(`could not release claim ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  for (let waited = 0; waited < CLAIM_WAIT_MS; waited += CLAIM_POLL_MS) {
    await sleep(CLAIM_POLL_MS);
    if (!(await deps.github.claimHeld(repo, name))) return { kind: "waited" };
  }
  deps.log(`claim ${name} held for more than ${CLAIM_WAIT_MS / 1000} s: taking it over`);
  await deps.github.releaseClaim(repo, name);
  return { kind: "waited" };
}
