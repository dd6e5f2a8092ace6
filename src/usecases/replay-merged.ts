// A merged request pull request: replay the operation to every node, once. The request is read
// from the merge commit and re-judged against the cluster's current keys and M, so a key revoked
// since the approval no longer counts; each node verifies the signatures again itself. The
// idempotency key is derived from the token, so a redelivered webhook or a second replica gets
// the nodes' recorded results instead of a second application.
import { replayIdempotencyKey } from "../gate/replay-key.ts";
import {
  evaluateQuorum,
  readStickyToken,
  renderStickyComment,
  STICKY_MARKER,
  toBindingContext,
  toOperation,
} from "../gate/index.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps, GateOutcome, ReplayNodeResult, Trigger } from "./deps.ts";
import type { OpenRequest } from "./evaluate-open.ts";
import { gatherCluster } from "./gather-cluster.ts";
import { quorumInput } from "./quorum-input.ts";
import { hasNewRetry, renderReplaySection } from "../gate/render-replay.ts";
import { plainCheck, report } from "./report.ts";
import { mergedWithoutCluster, mergedWithoutQuorum } from "./merged-without.ts";
import { runWindow } from "./run-window.ts";

export async function replayMerged(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  merged: OpenRequest,
  trigger: Trigger,
): Promise<GateOutcome> {
  // A real cluster issues its token only now, for minutes, in one session: the short clock.
  if (merged.policy.backend === "cloudhsm-cli") return runWindow(deps, repo, pr, merged, trigger);
  const sticky = await deps.github.findStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin);
  const tokenFile = sticky === null ? null : readStickyToken(sticky.body);
  if (sticky === null || tokenFile === null)
    return { code: "not_replayed", message: "the pull request was merged without a token from the gate" };
  const isMerge = trigger.kind === "pull_request" && trigger.action === "closed";
  if (trigger.kind === "pull_request" && !isMerge)
    return { code: "ignored", message: `pull_request.${trigger.action} on a merged pull request` };

  const cluster = await gatherCluster(deps);
  if (!cluster.ok) return mergedWithoutCluster(deps, repo, pr, cluster.message);
  const repository = `${repo.owner}/${repo.repo}`;
  const decision = evaluateQuorum({
    ...(await quorumInput(deps, repo, pr, merged.policy, tokenFile, cluster)),
    request: merged.request,
    requestDigest: merged.digest,
    requestPath: merged.path,
  });
  if (!isMerge && !hasNewRetry(decision.commands, sticky.body))
    return { code: "ignored", message: "no new /quorum retry on a merged pull request" };
  const stickyInput = { decision, request: merged.request, requestPath: merged.path, policy: merged.policy };
  if (decision.state !== "approved") return mergedWithoutQuorum(deps, repo, pr, stickyInput, "replayed");

  const results = await deps.cluster.execute({
    idempotencyKey: replayIdempotencyKey(tokenFile),
    operation: toOperation(merged.request.operation),
    context: toBindingContext(repository, pr.number, merged.digest),
    tokenData: tokenFile,
    signatures: decision.approvers.map((a) => ({ userName: a.officer, signature: Buffer.from(a.signature, "base64") })),
  });
  const nodes: ReplayNodeResult[] = results.map((r) =>
    r.ok
      ? {
          index: r.index,
          hsmId: r.hsmId,
          ok: true,
          result: r.value.replayed ? "already_applied" : "applied",
          message: "",
        }
      : { index: r.index, hsmId: r.hsmId, ok: false, result: r.code, message: r.message },
  );
  const applied = nodes.filter((n) => n.ok).length;
  const title =
    applied === nodes.length
      ? `Replayed on all ${nodes.length} nodes`
      : `Replayed on ${applied} of ${nodes.length} nodes: /quorum retry for the rest`;
  await report(
    deps,
    repo,
    pr,
    `${renderStickyComment(stickyInput)}\n${renderReplaySection(nodes, deps.now())}`,
    plainCheck(
      "completed",
      applied === nodes.length ? "success" : "failure",
      title,
      nodes.map((n) => `server ${n.index}: ${n.result}`).join(", "),
    ),
  );
  deps.log(`replayed ${repository}#${pr.number}: ${applied}/${nodes.length} nodes`);
  return { code: "replayed", nodes };
}
