// A merged governance request. Nothing is replayed to the cluster: the gate reads the policy from
// the base branch, so the merge itself puts the new policy in force. The gate re-judges the
// approvals (against the cluster's keys now, like a replay), takes the token off the nodes and
// says what happened. The app cannot stop a merge; the `quorum` check, required by branch
// protection, is what does (docs/security.md). A policy change merged without the current
// quorum's approval therefore gets a loud failure: a failed check run and a sticky comment that
// says so, so that the officers review it and revert it.
import {
  evaluateGovernance,
  POLICY_PATH,
  readStickyToken,
  renderGovernanceComment,
  renderIssuesComment,
  STICKY_MARKER,
  type Decision,
  type GateIssue,
} from "../gate/index.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps, GateOutcome, Trigger } from "./deps.ts";
import type { OpenGovernance } from "./evaluate-governance.ts";
import { gatherCluster } from "./gather-cluster.ts";
import { quorumInput } from "./quorum-input.ts";
import { hasNewRetry, replayedAtMarker } from "../gate/render-replay.ts";
import { plainCheck, report, reportCheckOnly } from "./report.ts";

const WHAT_NOW =
  "The gate cannot undo a merge. The officers should review the policy now on the base branch and revert this change unless they approve it (a revert is itself a governance request). Branch protection must require the `quorum` check, so that a policy change cannot merge before the current officers approve it (docs/security.md).";

export async function mergeGovernance(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  gov: OpenGovernance,
  trigger: Trigger,
): Promise<GateOutcome> {
  const isMerge = trigger.kind === "pull_request" && trigger.action === "closed";
  if (trigger.kind === "pull_request" && !isMerge)
    return { code: "ignored", message: `pull_request.${trigger.action} on a merged pull request` };
  const sticky = await deps.github.findStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin);
  // On a real cluster the current officers approved the governance payload: there is no token.
  const payloadClock = gov.policy.backend === "cloudhsm-cli";
  const tokenFile = sticky === null || payloadClock ? null : readStickyToken(sticky.body);
  const what = gov.change.kind === "policyChange" ? "Policy change" : "Policy deletion";

  if (tokenFile === null && !payloadClock) {
    if (!isMerge)
      return { code: "ignored", message: "a comment on a merged governance request that never had a token" };
    const why = "the gate never issued a token for it, so no officer can have approved it";
    await report(
      deps,
      repo,
      pr,
      `${STICKY_MARKER}\n## ⚠️ ${what} merged WITHOUT the approval of the current officers\n\n${POLICY_PATH} changed without approval: ${why}.\n\n${WHAT_NOW}\n`,
      plainCheck("completed", "failure", `${what} merged WITHOUT approval`, `${why}. ${WHAT_NOW}`),
    );
    return { code: "policy_merged", approved: false, approvals: 0, required: 0, message: why };
  }

  const cluster = await gatherCluster(deps);
  if (!cluster.ok) {
    await reportCheckOnly(
      deps,
      repo,
      pr,
      "failure",
      `${what} merged, but the HSM cluster cannot be reached to confirm the approvals`,
      `${cluster.message}. Post \`/quorum retry\` once it is back.`,
    );
    return { code: "cluster_unavailable", message: cluster.message };
  }
  const decision = evaluateGovernance({
    ...(await quorumInput(deps, repo, pr, gov.policy, tokenFile, cluster)),
    change: gov.change,
  });
  if (!isMerge) {
    // A comment on the merged pull request: only an officer's new `/quorum retry` re-checks it
    // (e.g. when the cluster was down at the merge).
    if (!hasNewRetry(decision.commands, sticky?.body ?? null))
      return { code: "ignored", message: "no new /quorum retry on a merged pull request" };
  }

  // Approved or not, the token has nothing left to authorize.
  let tokenNote = "No HSM token was involved: the officers approved the change's payload.";
  if (tokenFile !== null) {
    const deleted = await deps.cluster.deleteToken(tokenFile);
    const kept = deleted.filter((r) => !r.ok && r.code !== "RET_TOKEN_NOT_FOUND").map((r) => `server ${r.index}`);
    tokenNote =
      kept.length === 0
        ? "The token was deleted from the nodes."
        : `The token could not be deleted on ${kept.join(", ")}; it expires on its own and can authorize no HSM operation.`;
  }
  const approved = decision.state === "approved";
  const count = `${decision.approvers.length} approval${decision.approvers.length === 1 ? "" : "s"} (${decision.required} required)`;
  const view = {
    decision,
    change: gov.change,
    policy: gov.policy,
    pullRequest: pr.number,
    prAuthor: pr.author,
    warnings: [],
  };
  const marker = replayedAtMarker(deps.now());
  if (approved) {
    const effect =
      gov.change.kind === "policyChange"
        ? "the new policy judges every pull request evaluated from now on"
        : "the gate no longer guards this repository";
    const lines = [
      `### Merged: ${what.toLowerCase()} merged with ${count}`,
      "",
      `Nothing is replayed to the cluster: the gate reads the policy from the base branch, so ${effect}. ${tokenNote}`,
    ];
    await report(
      deps,
      repo,
      pr,
      `${renderGovernanceComment({ ...view, merged: { heading: `${what} merged`, lines } })}\n${marker}`,
      plainCheck("completed", "success", `${what} merged with ${count}`, `${effect}. ${tokenNote}`),
    );
    deps.log(
      `governance request ${repo.owner}/${repo.repo}#${pr.number} merged with ${decision.approvers.length}/${decision.required} approvals`,
    );
    return {
      code: "policy_merged",
      approved: true,
      approvals: decision.approvers.length,
      required: decision.required,
      message: `${what.toLowerCase()} merged with ${count}`,
    };
  }
  const why = whyNot(decision);
  const lines = [
    `### ⚠️ Merged WITHOUT the approval of the current officers`,
    "",
    `${why}.`,
    "",
    WHAT_NOW,
    "",
    tokenNote,
  ];
  await report(
    deps,
    repo,
    pr,
    `${renderGovernanceComment({ ...view, merged: { heading: `${what} merged WITHOUT approval`, lines } })}\n${marker}`,
    plainCheck("completed", "failure", `${what} merged WITHOUT approval`, `${why}. ${WHAT_NOW}`),
  );
  deps.log(`governance request ${repo.owner}/${repo.repo}#${pr.number} merged WITHOUT approval: ${why}`);
  return {
    code: "policy_merged",
    approved: false,
    approvals: decision.approvers.length,
    required: decision.required,
    message: why,
  };
}

/** A merged governance request whose new policy is not even valid: it cannot have been approved. */
export async function mergeInvalidPolicy(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  issues: readonly GateIssue[],
  trigger: Trigger,
): Promise<GateOutcome> {
  if (!(trigger.kind === "pull_request" && trigger.action === "closed"))
    return { code: "ignored", message: "an event on a merged pull request with an invalid policy" };
  const sticky = await deps.github.findStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin);
  const tokenFile = sticky === null ? null : readStickyToken(sticky.body);
  if (tokenFile !== null) await deps.cluster.deleteToken(tokenFile);
  const why = `the new ${POLICY_PATH} is not valid, so it cannot have been approved; until it is fixed, the gate refuses every pull request of this repository`;
  const body = renderIssuesComment("the merged policy", POLICY_PATH, issues).replace(
    /^(.*\n)## [^\n]*/,
    `$1## ⚠️ Policy change merged WITHOUT approval\n\n${why}. ${WHAT_NOW}`,
  );
  await report(
    deps,
    repo,
    pr,
    body,
    plainCheck("completed", "failure", "Policy change merged WITHOUT approval", `${why}. ${WHAT_NOW}`),
  );
  return { code: "policy_merged", approved: false, approvals: 0, required: 0, message: why };
}

function whyNot(d: Decision): string {
  const problems = d.problems.map((p) => p.message).join("; ");
  const tally = `${d.approvers.length} of ${d.required} approvals of the current officers hold now`;
  return problems === "" ? tally : `${tally}: ${problems}`;
}
