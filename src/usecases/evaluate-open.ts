// An open pull request with a valid request: gather the inputs, decide from scratch, make sure a
// token exists for exactly this request, and report. Nothing is counted between events: the
// token lives in the app's sticky comment and the cluster, the approvals in the PR's comments.
import {
  evaluateQuorum,
  readStickyToken,
  renderCheckRun,
  renderStickyComment,
  serviceOf,
  STICKY_MARKER,
  type Decision,
  type EvaluationInput,
  type GateRequest,
  type Policy,
} from "../gate/index.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps, GateOutcome } from "./deps.ts";
import { placeEvidence, type EvidenceState } from "./evidence.ts";
import { gatherCluster } from "./gather-cluster.ts";
import { plainCheck, report } from "./report.ts";

export interface OpenRequest {
  readonly policy: Policy;
  readonly path: string;
  readonly request: GateRequest;
  readonly digest: string;
}

/** Problems a new token cures: none yet, a broken one, or one bound to another version of the request. */
function needsNewToken(decision: Decision): boolean {
  return decision.renewRequested || decision.problems.some((p) => p.code === "no_token" || p.code === "bad_token_file" || p.code === "token_binding_mismatch" || p.code === "token_service_mismatch");
}

export async function evaluateOpen(deps: GateDeps, repo: RepoRef, pr: PullRequestInfo, open: OpenRequest): Promise<GateOutcome> {
  const sticky = await deps.github.findStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin);
  let tokenFile = sticky === null ? null : readStickyToken(sticky.body);
  const cluster = await gatherCluster(deps);
  if (!cluster.ok) {
    await report(deps, repo, pr, null, plainCheck("completed", "failure", "The HSM cluster cannot be reached", cluster.message, "The gate re-evaluates on the next event; an officer's comment is enough to trigger it."));
    return { code: "cluster_unavailable", message: cluster.message };
  }
  const input: EvaluationInput = {
    policy: open.policy,
    request: open.request,
    requestDigest: open.digest,
    repository: `${repo.owner}/${repo.repo}`,
    pullRequest: pr.number,
    tokenFile,
    officerKeys: cluster.keys,
    quorumValues: cluster.quorumValues,
    prAuthor: pr.author,
    candidates: await deps.github.listCandidates(repo, pr.number),
    now: deps.now(),
  };
  let decision = evaluateQuorum(input);

  if (needsNewToken(decision) && !decision.problems.some((p) => p.code === "cluster_mismatch")) {
    const issued = await deps.cluster.issueToken(serviceOf(open.request.operation), decision.bindingDigest, open.policy.tokenLifetimeSeconds);
    if (!issued.ok) {
      const message = issued.failures.map((f) => `server ${f.index}: ${f.code}`).join(", ");
      await report(deps, repo, pr, null, plainCheck("completed", "failure", "No token could be issued for this request", `The cluster refused or did not answer: ${message}.`));
      return { code: "cluster_unavailable", message };
    }
    // The old token can no longer authorize anything useful; take it off the nodes.
    if (tokenFile !== null) await deps.cluster.deleteToken(tokenFile);
    tokenFile = issued.tokenData;
    decision = evaluateQuorum({ ...input, tokenFile });
    deps.log(`issued a token for ${repo.owner}/${repo.repo}#${pr.number}`);
  }

  let evidence: { state: EvidenceState; note: string } = { state: "none", note: "" };
  if (decision.state === "approved" && tokenFile !== null) {
    evidence = await placeEvidence(deps, repo, pr, { decision, request: open.request, requestPath: open.path, tokenFile });
  }
  const stickyInput = { decision, request: open.request, requestPath: open.path, policy: open.policy };
  const check = renderCheckRun(stickyInput);
  const withEvidence = evidence.state === "check_run_only" ? { ...check, text: `${check.text}\n\nEvidence could not be committed: ${evidence.note}. The approvals above are the evidence; the merge replays them.` } : check;
  await report(deps, repo, pr, renderStickyComment(stickyInput), withEvidence);
  return { code: "evaluated", state: decision.state, approvals: decision.approvers.length, required: decision.required, evidence: evidence.state };
}
