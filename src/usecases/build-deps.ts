// The one place the gate's dependencies are put together, for the App (per delivery, from Probot's
// octokit) and the Action (per step, from the workflow's token): the same ports, and the runner's
// differences said once, here.
import type { ClusterGateway } from "../cluster/gateway.ts";
import type { OctokitLike } from "../github/octokit-like.ts";
import { createGitHubPort } from "../github/octokit-port.ts";
import type { GateDeps } from "./deps.ts";

export interface GateRunner {
  readonly kind: "app" | "action";
  /** The login its comments carry: `<slug>[bot]` for the App, `github-actions[bot]` for the Action. */
  readonly botLogin: string;
  /** The app whose check runs are its own; null: any app (GitHub Enterprise Server's Actions). */
  readonly appId: number | null;
}

export function buildGateDeps(input: {
  readonly octokit: OctokitLike;
  readonly cluster: ClusterGateway;
  /** Unix seconds. */
  readonly now: () => number;
  readonly runner: GateRunner;
  readonly log: (line: string) => void;
}): GateDeps {
  return {
    github: createGitHubPort(input.octokit),
    cluster: input.cluster,
    now: input.now,
    botLogin: input.runner.botLogin,
    appId: input.runner.appId,
    // The App's push (the evidence commit) comes back as a synchronize event; a push made with a
    // workflow's token starts no workflow, so the Action reports on the new head at once.
    ownPushesNotify: input.runner.kind === "app",
    log: input.log,
  };
}
