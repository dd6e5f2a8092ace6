// The quorum-gate GitHub App (Probot): `probot run ./src/app/index.ts`. It only routes webhooks to
// the gate's one use case; see docs/github-app.md for the event table and the security notes.
import type { ApplicationFunction, Probot } from "probot";
import { appIdentityCache } from "./app-identity.ts";
import { readAppConfig } from "./config.ts";
import { gateEventKeys } from "../usecases/gate-events.ts";
import { createGateRunner } from "./run-gate.ts";

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

    app.on(gateEventKeys("pull_request_review_comment"), (context) =>
      runGate(context, "pull_request_review_comment", context.payload.pull_request.number, context.payload.action),
    );
  };
}

export default createQuorumGateApp(process.env);
