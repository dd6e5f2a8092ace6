// The officer's own check of a token before signing it (docs/approvals.md, "Signing with quorum-gate approve").
// The token comes from the gate's sticky comment, but nothing in that
// comment is trusted: every record must carry the binding digest the officer computes from the
// request file at the pull request's head, for the operation's quorum service, on the cluster the
// policy governs, and the token must still be alive. Pure: the clock is passed in.
import { decodeRecords, type TokenRecord } from "../hsm/token-record.ts";
import { requestBindingDigest, serviceOf, toBindingContext } from "./operation.ts";
import type { GateRequest } from "./request.ts";

export const TOKEN_CHECK_REASONS = [
  "bad_token_file",
  "wrong_cluster",
  "token_binding_mismatch",
  "token_service_mismatch",
  "token_expired",
] as const;
export type TokenCheckReason = (typeof TOKEN_CHECK_REASONS)[number];

export interface TokenBindingInput {
  readonly token: Uint8Array;
  readonly request: GateRequest;
  /** Hex SHA-256 of the request file's bytes at the pull request's head. */
  readonly requestDigest: string;
  readonly repository: string;
  readonly pullRequest: number;
  /** The cluster id of the policy on the base branch. */
  readonly policyCluster: string;
  readonly tokenLifetimeSeconds: number;
  /** Unix seconds. */
  readonly now: number;
}

export type TokenBindingResult =
  | {
      readonly ok: true;
      readonly binding: string;
      readonly records: readonly TokenRecord[];
      readonly expiresAt: number;
    }
  | {
      readonly ok: false;
      readonly reason: TokenCheckReason;
      readonly binding: string | null;
      readonly details: readonly string[];
    };

export function checkTokenBinding(input: TokenBindingInput): TokenBindingResult {
  if (input.request.cluster !== input.policyCluster) {
    return {
      ok: false,
      reason: "wrong_cluster",
      binding: null,
      details: [`the request names cluster ${input.request.cluster}, but the policy governs ${input.policyCluster}`],
    };
  }
  const binding = requestBindingDigest(
    input.request,
    toBindingContext(input.repository, input.pullRequest, input.requestDigest),
  );
  const decoded = decodeRecords(input.token);
  if (!decoded.ok)
    return {
      ok: false,
      reason: "bad_token_file",
      binding,
      details: [`the token is not a quorum token file: ${decoded.reason}`],
    };
  const records = decoded.records;
  const unbound = records.flatMap((r, i) =>
    r.binding === binding
      ? []
      : [
          `record ${i} (node ${r.nodeId}, token ${r.tokenId}): ${r.binding === null ? "not bound to any operation" : `bound to ${r.binding}`}`,
        ],
  );
  if (unbound.length > 0) return { ok: false, reason: "token_binding_mismatch", binding, details: unbound };
  const service = serviceOf(input.request.operation);
  const wrongService = records.flatMap((r, i) =>
    r.service === service
      ? []
      : [`record ${i} (node ${r.nodeId}): service ${r.service}, but this operation needs service ${service}`],
  );
  if (wrongService.length > 0) return { ok: false, reason: "token_service_mismatch", binding, details: wrongService };
  // As the gate counts it (src/gate/token.ts): the oldest record plus the policy's lifetime.
  const expiresAt = Math.min(...records.map((r) => r.createdAt)) + input.tokenLifetimeSeconds;
  if (input.now >= expiresAt)
    return {
      ok: false,
      reason: "token_expired",
      binding,
      details: [
        `the token expired at ${new Date(expiresAt * 1000).toISOString()}: post /quorum renew and sign the new one`,
      ],
    };
  return { ok: true, binding, records, expiresAt };
}
