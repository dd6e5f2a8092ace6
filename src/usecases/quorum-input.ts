// The part of every decision's input that comes from the pull request and the cluster, the same
// whether the gate judges a request or a policy change, open or merged.
import type { Policy, QuorumInput } from "../gate/index.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps } from "./deps.ts";
import type { ClusterFacts } from "./gather-cluster.ts";

export async function quorumInput(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  policy: Policy,
  tokenFile: Uint8Array | null,
  cluster: Extract<ClusterFacts, { ok: true }>,
): Promise<QuorumInput> {
  return {
    policy,
    repository: `${repo.owner}/${repo.repo}`,
    pullRequest: pr.number,
    tokenFile,
    officerKeys: cluster.keys,
    quorumValues: cluster.quorumValues,
    ...(cluster.registered === undefined ? {} : { registeredOfficers: cluster.registered }),
    ...(deps.cluster.opensSealedPassword === undefined
      ? {}
      : { opensSealedPassword: deps.cluster.opensSealedPassword }),
    prAuthor: pr.author,
    candidates: await deps.github.listCandidates(repo, pr.number),
    now: deps.now(),
  };
}
