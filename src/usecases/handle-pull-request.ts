// The gate's one entry point: every relevant webhook (or workflow run) calls this with the pull
// request it concerns, and the gate re-evaluates that pull request from scratch.
import type { GateDeps, GateOutcome, PullRequestEvent } from "./deps.ts";

export async function handlePullRequest(deps: GateDeps, event: PullRequestEvent): Promise<GateOutcome> {
  void deps;
  void event;
  return { code: "ignored", message: "not implemented yet" };
}
