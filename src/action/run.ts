// One workflow step, end to end: read the inputs and the event, decide what to judge (event.ts),
// build the gate's dependencies from the workflow's token and the cluster secrets, call the same
// use case as the App for each pull request, then set outputs, the job summary and the step's
// result (verdict.ts). The world comes in through `ActionIO`, so tests can drive this in-process
// while the end-to-end tests run the bundled dist/index.js the way the runner does.
import type { ClusterFile } from "../cluster/cluster-file.ts";
import type { ClusterGateway, GateCredentials } from "../cluster/gateway.ts";
import type { OctokitLike } from "../github/octokit-like.ts";
import type { GitHubPort, RepoRef } from "../github/port.ts";
import { RateLimitedError } from "../github/rate-limit.ts";
import { buildGateDeps } from "../usecases/build-deps.ts";
import type { GateDeps, GateOutcome } from "../usecases/deps.ts";
import { describeError } from "../usecases/describe-error.ts";
import { handlePullRequest } from "../usecases/handle-pull-request.ts";
import { ACTIONS_BOT_LOGIN, planRun, type ActionPlan } from "./event.ts";
import { inputVariable, readInputs, type ActionInputs } from "./inputs.ts";
import { stepVerdict, type PullRequestOutcome } from "./verdict.ts";

export interface ActionIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): string;
  octokit(token: string): OctokitLike;
  gateway(file: ClusterFile, credentials: GateCredentials): ClusterGateway;
  /** Unix seconds. */
  now(): number;
  /** Masks a value in the rest of the job's log. */
  setSecret(value: string): void;
  setOutput(name: string, value: string): void;
  writeSummary(markdown: string): Promise<void>;
  info(line: string): void;
  /** Marks the step failed (exit code 1) with this message. */
  fail(message: string): void;
}

/** GitHub Actions' app id on github.com: its check runs are the workflow token's. */
const GITHUB_ACTIONS_APP_ID = 15368;

/** Thrown by the stand-in gateway when a run must reach the cluster but has no cluster inputs. */
class NoClusterError extends Error {}

export async function runAction(io: ActionIO): Promise<void> {
  // The password key is a secret: each of its lines is masked (a multi-line secret needs that),
  // before anything, even a refusal of the inputs, is written.
  for (const line of (io.env[inputVariable("password-key")] ?? "").split(/\r?\n/))
    if (line.trim() !== "" && !line.startsWith("-----")) io.setSecret(line.trim());
  const inputs = readInputs(io.env);
  if (!inputs.ok) return io.fail(`[quorum-gate] inputs: ${inputs.errors.join("; ")}`);
  if (inputs.value.cluster !== null) io.setSecret(inputs.value.cluster.credentials.password);

  const event = readEvent(io);
  if (!event.ok) return io.fail(`[quorum-gate] ${event.error}`);
  const plan = planRun(inputs.value.mode, event.name, event.payload);
  if (plan.kind === "refuse") return io.fail(`[quorum-gate] ${plan.reason}: ${plan.message}`);
  if (plan.kind === "skip") {
    io.info(`[quorum-gate] nothing to do: ${plan.message}`);
    io.setOutput("outcome", "skipped");
    return;
  }

  const cluster =
    inputs.value.cluster === null
      ? missingCluster()
      : io.gateway(inputs.value.cluster.file, inputs.value.cluster.credentials);
  try {
    const deps = buildGateDeps({
      octokit: io.octokit(inputs.value.token),
      cluster,
      now: () => io.now(),
      runner: {
        kind: "action",
        botLogin: ACTIONS_BOT_LOGIN,
        // Elsewhere (GitHub Enterprise Server) the Actions app has another id: match any app's run.
        appId:
          (io.env["GITHUB_SERVER_URL"] ?? "https://github.com") === "https://github.com" ? GITHUB_ACTIONS_APP_ID : null,
      },
      log: (line) => io.info(`[quorum-gate] ${line}`),
      // The apply job holds a real cluster's execution window itself (docs/real-cluster.md).
      windowHold: {
        ...(inputs.value.windowSeconds === null ? {} : { maxSeconds: inputs.value.windowSeconds }),
        ...(inputs.value.windowPollSeconds === null ? {} : { pollSeconds: inputs.value.windowPollSeconds }),
      },
    });
    const results = await judge(deps, event.repo, plan, inputs.value);
    const verdict = stepVerdict(inputs.value.mode, results);
    for (const [name, value] of Object.entries(verdict.outputs)) io.setOutput(name, value);
    await io.writeSummary(verdict.summary);
    for (const r of results)
      io.info(
        `[quorum-gate] #${r.number}: ${r.outcome.code}${"message" in r.outcome ? ` (${r.outcome.message})` : ""}`,
      );
    if (verdict.failure !== null) io.fail(`[quorum-gate] ${verdict.failure}`);
  } catch (err) {
    if (err instanceof NoClusterError)
      return io.fail(`[quorum-gate] no_cluster: ${noClusterMessage(plan, event.name)}`);
    if (err instanceof RateLimitedError) {
      io.setOutput("outcome", "rate_limited");
      return io.fail(
        `[quorum-gate] rate_limited: ${err.message}; re-run the job after that (a re-run evaluates afresh and replays nothing twice)`,
      );
    }
    io.fail(`[quorum-gate] unexpected_error: ${describeError(err)}`);
  } finally {
    cluster.close();
  }
}

async function judge(
  deps: GateDeps,
  repo: RepoRef,
  plan: Exclude<ActionPlan, { kind: "skip" | "refuse" }>,
  inputs: ActionInputs,
): Promise<PullRequestOutcome[]> {
  if (plan.kind === "push") {
    const numbers = await mergedBy(deps.github, repo, plan.shas);
    const results: PullRequestOutcome[] = [];
    // One after another: each replay reports on its own pull request, and the nodes see one writer.
    for (const number of numbers) {
      results.push({
        number,
        outcome: await handlePullRequest(deps, {
          repo,
          number,
          trigger: { kind: "pull_request", action: "closed" },
          replay: true,
        }),
      });
    }
    return results;
  }
  if (plan.onlyIfMerged) {
    const pr = await deps.github.getPullRequest(repo, plan.number);
    if (!pr.merged)
      return [
        {
          number: plan.number,
          outcome: {
            code: "ignored",
            message: `mode ${inputs.mode} acts only on merged pull requests; this one is ${pr.state}`,
          },
        },
      ];
  }
  const outcome: GateOutcome = await handlePullRequest(deps, {
    repo,
    number: plan.number,
    trigger: plan.trigger,
    replay: plan.replay,
  });
  return [{ number: plan.number, outcome }];
}

/** The pull requests the pushed commits merged, each once, in push order. */
async function mergedBy(github: GitHubPort, repo: RepoRef, shas: readonly string[]): Promise<number[]> {
  const numbers: number[] = [];
  for (const sha of shas)
    for (const n of await github.pullRequestsMergedBy(repo, sha)) if (!numbers.includes(n)) numbers.push(n);
  return numbers;
}

function readEvent(
  io: ActionIO,
): { ok: true; name: string; payload: unknown; repo: RepoRef } | { ok: false; error: string } {
  const name = io.env["GITHUB_EVENT_NAME"] ?? "";
  const path = io.env["GITHUB_EVENT_PATH"] ?? "";
  const full = io.env["GITHUB_REPOSITORY"] ?? "";
  const m = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(full);
  if (name === "" || path === "" || m === null)
    return {
      ok: false,
      error:
        "bad_environment: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH and GITHUB_REPOSITORY must be set (the runner sets them)",
    };
  let payload: unknown;
  try {
    payload = JSON.parse(io.readFile(path));
  } catch {
    return { ok: false, error: "bad_event: the event payload file cannot be read as JSON" };
  }
  return { ok: true, name, payload, repo: { owner: m[1] as string, repo: m[2] as string } };
}

/** A gateway for runs without cluster inputs: fine until the gate needs the cluster, then a clear stop. */
function missingCluster(): ClusterGateway {
  const stop = (): never => {
    throw new NoClusterError();
  };
  return {
    clusterId: "",
    nodes: [],
    officerKeys: stop,
    quorumValues: stop,
    sealingKey: stop,
    issueToken: stop,
    execute: stop,
    deleteToken: stop,
    close: () => {},
  };
}

function noClusterMessage(plan: ActionPlan, eventName: string): string {
  const why =
    "this pull request holds a request, and judging it needs the cluster inputs (cluster or cluster-file, gate-user, gate-password), which are empty";
  if (plan.kind === "pull_request" && plan.fromFork && eventName !== "pull_request_target") {
    return `${why}: GitHub gives no secrets to ${eventName} runs from forks. Evaluate on pull_request_target instead (this action reads the pull request through the API and never runs its code; see docs/action.md)`;
  }
  return `${why}: pass them from secrets`;
}
