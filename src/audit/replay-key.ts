// What a merged request was replayed under, recomputed from its evidence: the idempotency key the
// gate gives `execute` (src/usecases/replay-merged.ts: `qg-` and the first 48 hex digits of the
// token file's SHA-256) and the request hash the nodes store with the outcome
// (src/hsm/execute.ts), so an audit can ask each node what it recorded and tell that it was
// this request.
import { sha256 } from "../crypto/rsa.ts";
import { toBindingContext, toOperation } from "../gate/operation.ts";
import type { GateRequest } from "../gate/request.ts";
import { executeRequestHash } from "../hsm/execute.ts";

export interface ReplayIdentity {
  readonly idempotencyKey: string;
  readonly requestHash: string;
}

export function replayIdempotencyKey(tokenFile: Uint8Array): string {
  return `qg-${sha256(tokenFile).toString("hex").slice(0, 48)}`;
}

export function replayIdentity(request: GateRequest, repository: string, pullRequest: number, requestDigest: string, tokenFile: Uint8Array): ReplayIdentity {
  return {
    idempotencyKey: replayIdempotencyKey(tokenFile),
    requestHash: executeRequestHash(toOperation(request.operation), toBindingContext(repository, pullRequest, requestDigest), tokenFile),
  };
}
