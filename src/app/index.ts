// The quorum-gate GitHub App (Probot): `probot run ./src/app/index.ts`. It only routes webhooks to
// the gate's one use case; see docs/github-app.md for the event table and the security notes.
import type { ApplicationFunction, Probot } from "probot";
import { appIdentityCache } from "./app-identity.ts";
import { readAppConfig } from "./config.ts";
import { CHECK_RUN_NAME } from "../gate/index.ts";
import { gateEventKeys } from "../usecases/gate-events.ts";
import { createGateRunner } from "./run-gate.ts";

/** A head commit shared by more pull requests than this is not a request's: the rest wait for their own events. */
const MAX_RERUN_PULL_REQUESTS = 5;

/** The app, reading its configuration from `env` when Probot loads it (tests pass their own). */
export function createQuorumGateApp(env: Readonly<Record<string, string | undefined>>): ApplicationFunction {
  return async (app: Probot) => {
    const config = readAppConfig(env);
    // Refuse to start half-configured: every delivery would fail the same way.
    if (!config.ok) throw new Error(`[quorum-gate] configuration: ${config.errors.join("; ")}`);

    const identity = appIdentityCache(app);
    try {
      const me = await identity.get();
      app.log.info({ appId: me.appId, botLogin: me.botLogin }, "quorum-gate: ready");
    } catch (err) {
      // GitHub unreachable at start-up should not stop the server; the first delivery asks again.
      app.log.warn(
        { error: err instanceof Error ? err.message : String(err) },
        "quorum-gate: GET /app failed; will retry on the first delivery",
      );
    }
    const runGate = createGateRunner(config.value, identity);

    // The events and actions: src/usecases/gate-events.ts, shared with the Action and app.yml.
    app.on(gateEventKeys("pull_request"), (context) =>
      runGate(context, "pull_request", context.payload.pull_request.number, context.payload.action),
    );

    app.on(gateEventKeys("issue_comment"), async (context) => {
      // Issues and pull requests share the comment API; only a pull request can hold a request.
      if (!context.payload.issue.pull_request) {
        context.log.debug({ outcome: "not_a_pull_request" }, "quorum-gate: ignored a comment on an issue");
        return;
      }
      await runGate(context, "issue_comment", context.payload.issue.number, context.payload.action);
    });

    app.on(gateEventKeys("pull_request_review"), (context) =>
      runGate(context, "pull_request_review", context.payload.pull_request.number, context.payload.action),
    );

    app.on(gateEventKeys("check_run"), async (context) => {
      const run = context.payload.check_run;
      // GitHub sends check_run events only to the App that made the run; ours is one name.
      if (run.name !== CHECK_RUN_NAME) {
        context.log.debug({ outcome: "not_our_check" }, "quorum-gate: ignored a check run that is not the gate's");
        return;
      }
      // The pull requests of this repository whose head the run is on (GitHub lists none for a
      // fork's): each is evaluated afresh, as on any other event.
      const repositoryId = context.payload.repository.id;
      const numbers = run.pull_requests.filter((pr) => pr.base.repo.id === repositoryId).map((pr) => pr.number);
      if (numbers.length === 0) {
        context.log.info(
          { outcome: "ignored" },
          "quorum-gate: a re-run of a check on no pull request of this repository",
        );
        return;
      }
      for (const number of [...new Set(numbers)].slice(0, MAX_RERUN_PULL_REQUESTS))
        await runGate(context, "check_run", number, context.payload.action);
    });

    app.on(gateEventKeys("pull_request_review_comment"), (context) =>
      runGate(context, "pull_request_review_comment", context.payload.pull_request.number, context.payload.action),
    );
  };
}

export default createQuorumGateApp(process.env);
