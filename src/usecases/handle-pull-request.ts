// The gate's one entry point: every relevant webhook (or workflow run) calls this with the pull
// request it concerns, and the gate re-evaluates that pull request from scratch. The steps:
// 1. read the pull request; 2. read the policy (base branch) and the request or the policy change
// (head, or the merge commit once merged); 3. open: decide and report; merged: replay a request,
// or confirm a governance request (nothing to replay); closed: take the token back.
import {
  POLICY_PATH,
  readStickyToken,
  renderIssuesCheckRun,
  renderIssuesComment,
  STICKY_MARKER,
} from "../gate/index.ts";
import { issue } from "../gate/issues.ts";
import { renderNoticeComment, renderNoticeSummary } from "../gate/render-notice.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps, GateOutcome, PullRequestEvent } from "./deps.ts";
import { evaluateGovernanceOpen } from "./evaluate-governance.ts";
import { evaluateOpen } from "./evaluate-open.ts";
import { loadRequest } from "./load-request.ts";
import { mergeGovernance, mergeInvalidPolicy } from "./merge-governance.ts";
import { replayMerged } from "./replay-merged.ts";
import { plainCheck, report, reportCheckOnly } from "./report.ts";

export async function handlePullRequest(deps: GateDeps, event: PullRequestEvent): Promise<GateOutcome> {
  const { repo, number, trigger } = event;
  const pr = await deps.github.getPullRequest(repo, number);
  if (pr.state === "closed" && !pr.merged) return closeWithoutMerge(deps, repo, pr);
  if (pr.merged && pr.mergeCommitSha === null)
    return { code: "ignored", message: "merged, but GitHub has not reported the merge commit yet" };
  if (pr.merged && event.replay === false)
    return { code: "ignored", message: "merged: replays are left to the run on the default branch" };

  const ref = pr.merged ? (pr.mergeCommitSha as string) : pr.headSha;
  const loaded = await loadRequest(deps.github, repo, pr, ref);
  switch (loaded.kind) {
    case "unconfigured":
      // Without a policy on the base branch the repository has not adopted the gate: say so
      // without blocking anything.
      await reportCheckOnly(
        deps,
        repo,
        pr,
        "success",
        "quorum-gate is not configured here",
        "The base branch has no .github/quorum-gate.yml, so this pull request is not gated.",
      );
      return { code: "unconfigured", message: "no policy on the base branch" };
    case "invalid_policy":
      await report(
        deps,
        repo,
        pr,
        renderIssuesComment("the policy on the base branch", ".github/quorum-gate.yml", loaded.issues),
        renderIssuesCheckRun("The policy on the base branch", ".github/quorum-gate.yml", loaded.issues),
      );
      return { code: "invalid", message: "the policy on the base branch is not valid" };
    case "not_a_request":
      await reportCheckOnly(
        deps,
        repo,
        pr,
        "success",
        "No HSM request in this pull request",
        `Nothing under ${loaded.policy.requestFolder} changes.`,
      );
      return { code: "not_a_request", message: "no request file" };
    case "invalid_pull_request":
      await report(
        deps,
        repo,
        pr,
        renderNoticeComment("this pull request cannot be approved", loaded.message),
        plainCheck("completed", "failure", "This pull request cannot be approved", renderNoticeSummary(loaded.message)),
      );
      return { code: "invalid", message: loaded.message };
    case "invalid_request":
      await report(
        deps,
        repo,
        pr,
        renderIssuesComment("the request file", loaded.path, loaded.issues),
        renderIssuesCheckRun("The request file", loaded.path, loaded.issues),
      );
      return { code: "invalid", message: `${loaded.path} is not a valid request` };
    case "invalid_policy_change":
      if (pr.merged) return mergeInvalidPolicy(deps, repo, pr, loaded.issues, trigger);
      await report(
        deps,
        repo,
        pr,
        renderIssuesComment("the new policy", POLICY_PATH, loaded.issues),
        renderIssuesCheckRun("The new policy", POLICY_PATH, loaded.issues),
      );
      return { code: "invalid", message: `${POLICY_PATH} in this pull request is not a valid policy` };
    case "governance":
    case "request": {
      // What officers sign depends on the backend (docs/real-cluster.md): judging a policy's
      // ceremony against a cluster reached another way would count signatures over the wrong bytes.
      const reached = deps.cluster.backend ?? "emulator";
      if (loaded.policy.backend !== reached) {
        const issues = [
          issue(
            "backend_mismatch",
            "backend",
            `the policy says backend ${loaded.policy.backend}, but this gate reaches cluster ${deps.cluster.clusterId} through ${reached}; nothing is judged or applied until they agree`,
          ),
        ];
        await report(
          deps,
          repo,
          pr,
          renderIssuesComment("the policy on the base branch", POLICY_PATH, issues),
          renderIssuesCheckRun("The policy on the base branch", POLICY_PATH, issues),
        );
        return {
          code: "invalid",
          message: `backend_mismatch: the policy says ${loaded.policy.backend}, the cluster is reached through ${reached}`,
        };
      }
      break;
    }
  }
  switch (loaded.kind) {
    case "governance": {
      const gov = { policy: loaded.policy, change: loaded.change };
      return pr.merged ? mergeGovernance(deps, repo, pr, gov, trigger) : evaluateGovernanceOpen(deps, repo, pr, gov);
    }
    case "request": {
      const request = { policy: loaded.policy, path: loaded.path, request: loaded.request, digest: loaded.digest };
      return pr.merged ? replayMerged(deps, repo, pr, request, trigger) : evaluateOpen(deps, repo, pr, request);
    }
  }
}

/** Closed without merge: the token is deleted from the nodes, so it can never be used. */
async function closeWithoutMerge(deps: GateDeps, repo: RepoRef, pr: PullRequestInfo): Promise<GateOutcome> {
  const sticky = await deps.github.findStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin);
  const tokenFile = sticky === null ? null : readStickyToken(sticky.body);
  if (tokenFile === null) return { code: "ignored", message: "closed without a token" };
  const results = await deps.cluster.deleteToken(tokenFile);
  const failed = results.filter((r) => !r.ok).map((r) => `server ${r.index}`);
  const note =
    failed.length === 0
      ? "The token was deleted from every node."
      : `The token could not be deleted on ${failed.join(", ")}; it expires on its own and is bound to this request only.`;
  await report(
    deps,
    repo,
    pr,
    renderNoticeComment("closed without merge", `Nothing was replayed. ${note}`),
    plainCheck("completed", "neutral", "Closed without merge", renderNoticeSummary(note)),
  );
  return { code: "token_deleted", message: note };
}
