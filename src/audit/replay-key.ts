// What a merged request was replayed under, recomputed from its evidence: the idempotency key the
// gate gives `execute` (src/gate/replay-key.ts) and the request hash the nodes store with the
// outcome (src/hsm/execute.ts), so an audit can ask each node what it recorded and tell that it
// was this request.
import { toBindingContext, toOperation } from "../gate/operation.ts";
import { replayIdempotencyKey } from "../gate/replay-key.ts";
import type { GateRequest } from "../gate/request.ts";
import { executeRequestHash } from "../hsm/execute.ts";

export interface ReplayIdentity {
  readonly idempotencyKey: string;
  readonly requestHash: string;
}

export { replayIdempotencyKey };

export function replayIdentity(
  request: GateRequest,
  repository: string,
  pullRequest: number,
  requestDigest: string,
  tokenFile: Uint8Array,
): ReplayIdentity {
  return {
    idempotencyKey: replayIdempotencyKey(tokenFile),
    requestHash: executeRequestHash(
      toOperation(request.operation),
      toBindingContext(repository, pullRequest, requestDigest),
      tokenFile,
    ),
  };
}
