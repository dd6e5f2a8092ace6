// The one place the gate's dependencies are put together, for the App (per delivery, from Probot's
// octokit) and the Action (per step, from the workflow's token): the same ports, and the runner's
// differences said once, here.
import type { ClusterGateway } from "../cluster/gateway.ts";
import type { OctokitLike } from "../github/octokit-like.ts";
import { createGitHubPort } from "../github/octokit-port.ts";
import { DEFAULT_BACKOFF, withRateLimitBackoff } from "../github/rate-limit.ts";
import { withPullRequestSnapshots } from "../github/snapshot-port.ts";
import { CHECK_RUN_NAME, POLICY_PATH } from "../gate/index.ts";
import type { GateDeps, WindowHold } from "./deps.ts";

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
  /** How a rate-limited call waits; tests pass one that does not. Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How an execution window is held (backend cloudhsm-cli). */
  readonly windowHold?: WindowHold;
}): GateDeps {
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // Every call of both runners waits out GitHub's rate limits the same way (src/github/rate-limit.ts).
  const octokit = withRateLimitBackoff(input.octokit, { ...DEFAULT_BACKOFF, now: input.now, sleep, log: input.log });
  return {
    // A pull request is read in one GraphQL query where it can be (src/github/snapshot-port.ts).
    github: withPullRequestSnapshots(octokit, createGitHubPort(octokit), {
      policyPath: POLICY_PATH,
      checkName: CHECK_RUN_NAME,
      appId: input.runner.appId,
    }),
    cluster: input.cluster,
    now: input.now,
    botLogin: input.runner.botLogin,
    appId: input.runner.appId,
    // The App's push (the evidence commit) comes back as a synchronize event; a push made with a
    // workflow's token starts no workflow, so the Action reports on the new head at once.
    ownPushesNotify: input.runner.kind === "app",
    log: input.log,
    sleep,
    ...(input.windowHold === undefined ? {} : { windowHold: input.windowHold }),
  };
}
