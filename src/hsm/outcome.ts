// `outcome`: what `execute` recorded under an idempotency key on this node, read-only. It is how
// an audit learns whether an approved operation was replayed here without replaying anything:
// it never applies, consumes or changes state, and writes no audit row (like the other reads).
//
// Like `quorum-values`, `quorum-keys` and `list-tokens`, it needs no login: an outcome holds the
// approvers' names, the request hash and, for user operations, the user's public view, all of
// which those reads (or `list-users`) already show without a session. A caller learns only
// whether an operation ran under a key it already knows (the key is derived from the token).
import type { RecordedOutcome, UserView } from "./commands.ts";
import type { CoreContext } from "./context.ts";
import { readIdempotencyKey } from "./execute.ts";
import { asBody, isError } from "./input.ts";
import { ok, type HsmResult } from "./ret-codes.ts";

export function recordedOutcome(ctx: CoreContext, body: unknown): HsmResult<RecordedOutcome> {
  const b = asBody(body, ["idempotencyKey"]);
  if (isError(b)) return b;
  const key = readIdempotencyKey(b);
  if (isError(key)) return key;
  const stored = ctx.repo.getOutcome(key);
  if (stored === null) return ok({ state: "not_recorded" });
  const result = JSON.parse(stored.outcomeJson) as { approvers: readonly string[]; user?: UserView };
  return ok(
    result.user === undefined
      ? { state: "recorded", requestHash: stored.requestHash, approvers: result.approvers }
      : { state: "recorded", requestHash: stored.requestHash, approvers: result.approvers, user: result.user },
  );
}
