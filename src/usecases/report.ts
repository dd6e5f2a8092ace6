// Writes what the gate has to say: the one sticky comment (updated in place) and the `quorum`
// check run on the pull request's head commit (and on the evidence commit when the gate just pushed
// one). Only these are ever written for a decision.
import { CHECK_RUN_NAME, STICKY_MARKER, type CheckRunOutput } from "../gate/index.ts";
import type { CheckRunReport, CreateGuard, PullRequestInfo, RepoRef } from "../github/port.ts";
import { underClaim } from "./claim.ts";
import type { GateDeps } from "./deps.ts";

/** The engine's check-run output, or one of ours, which may also be `neutral`. */
export type CheckOutput = Omit<CheckRunOutput, "conclusion"> & { readonly conclusion?: CheckRunReport["conclusion"] };

/**
 * `newHead`: a commit the gate itself just pushed on top of `pr.headSha` (the evidence commit) that
 * no event will bring back, so it gets the same check run now; otherwise a required `quorum` check
 * would never report there and would block the merge.
 */
export async function report(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  sticky: string | null,
  check: CheckOutput,
  newHead: string | null = null,
  options: { readonly exclusive?: boolean } = {},
): Promise<void> {
  if (sticky !== null) await deps.github.upsertStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin, sticky);
  const heads = newHead === null || newHead === pr.headSha ? [pr.headSha] : [pr.headSha, newHead];
  for (const headSha of heads) {
    // One check run per head, also when two processes report on a new head at once: the creation
    // runs under a claim, unless the caller holds the pull request's claim already.
    const guard: CreateGuard | undefined =
      options.exclusive === true
        ? undefined
        : async <T>(create: () => Promise<T>) => {
            const r = await underClaim(deps, repo, `check-${headSha}`, headSha, create);
            return r.kind === "done" ? r.value : "retry";
          };
    await deps.github.upsertCheckRun(
      repo,
      deps.appId,
      {
        name: check.name,
        headSha,
        status: check.status,
        ...(check.conclusion === undefined ? {} : { conclusion: check.conclusion }),
        title: check.title,
        summary: check.summary,
        text: check.text,
      },
      guard,
    );
  }
}

/**
 * A completed check run and no sticky comment: what the gate reports where it has nothing to add
 * to the pull request's conversation (no policy, nothing to gate, the cluster down).
 */
export function reportCheckOnly(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  conclusion: CheckRunReport["conclusion"],
  title: string,
  summary: string,
  text?: string,
): Promise<void> {
  return report(deps, repo, pr, null, plainCheck("completed", conclusion, title, summary, text));
}

/** A check run for situations the engine does not render: no policy, the cluster down, a replay. */
export function plainCheck(
  status: "in_progress" | "completed",
  conclusion: CheckRunReport["conclusion"],
  title: string,
  summary: string,
  text = "",
): CheckOutput {
  return { name: CHECK_RUN_NAME, status, ...(conclusion === undefined ? {} : { conclusion }), title, summary, text };
}
