// An open governance request: a pull request that changes (or deletes) the policy file and nothing
// else but its own evidence. The officers of the *current* policy approve it with the same
// ceremony as any request: the gate asks the cluster for a MISC_CO token bound to this policy
// change in this pull request (on a real cluster, none: the officers sign the gate's payload of
// the change), shows what the change does, counts signatures and commits the evidence at M.
// Nothing is ever run on the HSMs for it.
import {
  buildGovernanceEvidence,
  evaluateGovernance,
  governanceWarnings,
  GOVERNANCE_SERVICE,
  POLICY_PATH,
  renderGovernanceCheckRun,
  renderGovernanceComment,
  type GovernanceRequest,
  type Policy,
} from "../gate/index.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps, GateOutcome } from "./deps.ts";
import { runOpen } from "./evaluate-open.ts";

export interface OpenGovernance {
  /** The current policy, from the base branch. */
  readonly policy: Policy;
  readonly change: GovernanceRequest;
}

export async function evaluateGovernanceOpen(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  gov: OpenGovernance,
): Promise<GateOutcome> {
  const { policy, change } = gov;
  const repository = `${repo.owner}/${repo.repo}`;
  return runOpen(deps, repo, pr, {
    policy,
    service: GOVERNANCE_SERVICE,
    label: POLICY_PATH,
    summary:
      change.kind === "policyChange"
        ? `policyChange: ${POLICY_PATH} replaced`
        : `policyDeletion: ${POLICY_PATH} deleted`,
    decide: (input) => evaluateGovernance({ ...input, change }),
    render: (decision, input) => {
      const warnings =
        change.kind === "policyChange"
          ? governanceWarnings(policy, change.policy, input.officerKeys, input.quorumValues)
          : [];
      const view = {
        decision,
        change,
        policy,
        pullRequest: pr.number,
        prAuthor: pr.author,
        warnings,
        target: `${repository}#${pr.number}`,
      };
      return { sticky: renderGovernanceComment(view), check: renderGovernanceCheckRun(view) };
    },
    evidence: (decision, input, tokenFile, now) =>
      buildGovernanceEvidence({
        decision,
        change,
        policy,
        repository,
        pullRequest: pr.number,
        tokenFile,
        officerKeys: input.officerKeys,
        pullRequestAuthor: input.prAuthor,
        now,
      }),
  });
}
