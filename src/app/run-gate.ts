// One delivery, end to end, for every event the app listens to: drop the deliveries that cannot
// change an outcome (no /quorum command in the comment or review) and the events the app's own
// writes cause, build the gate's dependencies from this delivery, call the use case, log what it
// did. The use case does all the deciding; this file only translates.
import type { Logger } from "probot";
import { readClusterFile } from "../cluster/cluster-file.ts";
import { gatewayOf } from "../cluster/gateway-of.ts";
import type { OctokitLike } from "../github/octokit-like.ts";
import type { RepoRef } from "../github/port.ts";
import { RateLimitedError } from "../github/rate-limit.ts";
import type { GateOutcome, Trigger } from "../usecases/deps.ts";
import { describeError } from "../usecases/describe-error.ts";
import { buildGateDeps } from "../usecases/build-deps.ts";
import { GATE_EVENTS, inertDelivery, isOwnEvent, type GateEventName } from "../usecases/gate-events.ts";
import { handlePullRequest } from "../usecases/handle-pull-request.ts";
import type { AppIdentityCache } from "./app-identity.ts";
import type { AppConfig } from "./config.ts";

/** The part of a Probot context the gate reads; every event's context has it. */
export interface DeliveryContext {
  readonly octokit: OctokitLike;
  readonly log: Logger;
  readonly payload: {
    readonly sender?: { readonly login: string } | null;
    readonly repository: { readonly name: string; readonly owner: { readonly login: string } };
  };
}

export type RunGate = (context: DeliveryContext, event: GateEventName, number: number, action: string) => Promise<void>;

export function createGateRunner(
  config: AppConfig,
  identity: AppIdentityCache,
  now: () => number = () => Math.floor(Date.now() / 1000),
): RunGate {
  return async (context, event, number, action) => {
    const { log, payload } = context;
    const trigger: Trigger = { kind: GATE_EVENTS[event].trigger, action };
    try {
      // Before anything that could cost a call: most comments are discussion, and change nothing.
      const inert = inertDelivery(event, payload);
      if (inert !== null) {
        log.debug({ outcome: inert }, "quorum-gate: ignored a delivery that holds no /quorum command");
        return;
      }
      const me = await identity.get();
      if (isOwnEvent(trigger.kind, payload.sender?.login, me.botLogin)) {
        log.debug({ outcome: "own_event" }, "quorum-gate: ignored an event caused by the app itself");
        return;
      }
      // Re-read on every delivery, so a cluster restarted on new ports needs no app restart.
      const cluster = readClusterFile(config.clusterFile);
      if (!cluster.ok) throw new Error(cluster.error);
      const gateway = gatewayOf(cluster.value, config.gate);
      try {
        const repo: RepoRef = { owner: payload.repository.owner.login, repo: payload.repository.name };
        const deps = buildGateDeps({
          octokit: context.octokit,
          cluster: gateway,
          now,
          runner: { kind: "app", botLogin: me.botLogin, appId: me.appId },
          log: (line) => log.info(line),
          windowHold: {
            ...config.window,
            // A window outlives the delivery: GitHub waits 10 s for the answer, the HSM's token lives minutes.
            detach: (work) => {
              work().then(
                (held) =>
                  log.info(
                    { outcome: held.code, pullRequest: `${repo.owner}/${repo.repo}#${number}`, ...detailsOf(held) },
                    `quorum-gate: ${held.code}`,
                  ),
                (err: unknown) =>
                  log.error(
                    { outcome: "unexpected_error", error: describeError(err) },
                    "quorum-gate: unexpected_error in an execution window",
                  ),
              );
            },
          },
        });
        const outcome = await handlePullRequest(deps, { repo, number, trigger });
        log.info(
          { outcome: outcome.code, pullRequest: `${repo.owner}/${repo.repo}#${number}`, ...detailsOf(outcome) },
          `quorum-gate: ${outcome.code}`,
        );
      } finally {
        gateway.close();
      }
    } catch (err) {
      if (err instanceof RateLimitedError) {
        // GitHub asked for a longer wait than a delivery should hold: the delivery fails, and a
        // redelivery (or the next event) after the wait evaluates afresh; nothing is half-applied
        // that a fresh evaluation does not redo.
        log.warn(
          { outcome: "rate_limited", limit: err.limit.kind, retryAfterSeconds: err.limit.waitSeconds },
          `quorum-gate: rate_limited: ${err.message}`,
        );
        throw new Error("[quorum-gate] rate_limited (logged above)");
      }
      log.error({ outcome: "unexpected_error", error: describeError(err) }, "quorum-gate: unexpected_error");
      // A fresh error with a fixed message: the delivery shows as failed on GitHub (and can be
      // redelivered), while nothing from the original error object reaches Probot's own logging.
      throw new Error("[quorum-gate] unexpected_error (logged above)");
    }
  };
}

/**
 * The outcome's fields for the log line: plain values, no secrets. An evaluation's per-comment
 * detail (verdicts, approvers) stays out of the log; the sticky comment and check run show it.
 */
function detailsOf(outcome: GateOutcome): Record<string, unknown> {
  if (outcome.code === "evaluated") {
    const { state, approvals, required, missing, evidence, requestDigest } = outcome;
    return { state, approvals, required, missing, evidence, requestDigest };
  }
  const { code: _code, ...fields } = outcome;
  return "nodes" in fields ? { ...fields, nodes: fields.nodes.map((n) => `${n.index}:${n.result}`).join(" ") } : fields;
}
