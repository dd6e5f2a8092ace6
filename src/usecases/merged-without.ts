// The two ways a merged request ends before anything reaches the HSMs, said the same way by the
// emulator's replay (replay-merged.ts) and a real cluster's window (run-window.ts): the cluster
// cannot be reached, or the quorum no longer holds when judged again from the merge commit.
import { renderStickyComment, type StickyInput } from "../gate/index.ts";
import { renderNoticeSection, renderNoticeSummary } from "../gate/render-notice.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps, GateOutcome } from "./deps.ts";
import { plainCheck, report, reportCheckOnly } from "./report.ts";

export async function mergedWithoutCluster(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  message: string,
): Promise<GateOutcome> {
  await reportCheckOnly(
    deps,
    repo,
    pr,
    "failure",
    "Merged, but the HSM cluster cannot be reached",
    `${message}. Post \`/quorum retry\` once it is back.`,
  );
  return { code: "cluster_unavailable", message };
}

/** `done`: what did not happen, in the check's words ("replayed", "run"). */
export async function mergedWithoutQuorum(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  sticky: StickyInput,
  done: "replayed" | "run",
): Promise<GateOutcome> {
  const { decision } = sticky;
  const why =
    decision.problems.map((p) => p.message).join("; ") ||
    `${decision.approvers.length} of ${decision.required} approvals hold now`;
  await report(
    deps,
    repo,
    pr,
    `${renderStickyComment(sticky)}${renderNoticeSection(`Merged without a valid quorum: nothing was ${done}`, why)}`,
    plainCheck("completed", "failure", `Merged without a valid quorum: nothing ${done}`, renderNoticeSummary(why)),
  );
  return { code: "not_replayed", message: why };
}
