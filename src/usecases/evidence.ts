// Puts the evidence of an approved request on the pull request's branch, so that the merge carries
// it into git history: one commit for all of its files, so one `synchronize` event. Signatures
// bind the request digest, not the head commit, so the commit never invalidates an approval; and
// nothing is committed when the same evidence is already there, so that event settles at once.
import type { EvidenceResult } from "../gate/index.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps } from "./deps.ts";

export type EvidenceState = "committed" | "present" | "check_run_only" | "none";

export type PlacedEvidence =
  | {
      readonly state: "committed";
      readonly note: "" /** The evidence commit: the branch's new head. */;
      readonly newHead: string;
    }
  | { readonly state: Exclude<EvidenceState, "committed">; readonly note: string };

/**
 * Commits `built` (a request's or a governance request's evidence) to the head branch, every file
 * in one commit; `label` names it in the commit message.
 */
export async function placeEvidence(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  built: EvidenceResult,
  label: string,
): Promise<PlacedEvidence> {
  if (!built.ok) return { state: "none", note: built.message };
  // evidence.json records when it was made; the other files are what must not change.
  const stable = built.files.filter((f) => !f.path.endsWith("/evidence.json"));
  const present = await Promise.all(
    stable.map(async (f) => {
      const there = await deps.github.readFile(repo, f.path, pr.headSha);
      return there !== null && Buffer.from(there).equals(Buffer.from(f.content));
    }),
  );
  if (present.every(Boolean) && (await deps.github.readFile(repo, `${built.folder}evidence.json`, pr.headSha)) !== null)
    return { state: "present", note: "" };
  if (pr.fork)
    return { state: "check_run_only", note: "the pull request comes from a fork, which the app may not write to" };
  // On the head that was judged: if the branch moved since, the commit is refused and the push's
  // own event judges the new head.
  const r = await deps.github.commitFiles(repo, pr.headRef, built.files, `quorum-gate: evidence for ${label}`, {
    expectedHead: pr.headSha,
  });
  if (!r.ok) return { state: "check_run_only", note: `the branch refused the evidence commit (${r.reason})` };
  return { state: "committed", note: "", newHead: r.sha };
}
