// The token file the gate obtained from the cluster for one pull request: is it the token of
// *this* request (every record bound to the request's binding digest, for the right service),
// and until when will the nodes accept it? Approvals are checked against these exact bytes.
import { sha256Hex } from "../crypto/rsa.ts";
import { decodeRecords } from "../hsm/token-record.ts";

export interface TokenRecordSummary {
  readonly nodeId: number;
  readonly tokenId: number;
  readonly service: number;
  /** The officer account that owns the token (the gate's). */
  readonly userName: string;
  readonly createdAt: number;
}

export interface TokenSummary {
  readonly base64: string;
  /** Hex SHA-256 of the token file: what `openssl dgst -sha256` hashes before signing. */
  readonly sha256: string;
  readonly bytes: number;
  readonly records: readonly TokenRecordSummary[];
  /** Unix seconds: the oldest record's creation plus the policy's token lifetime. */
  readonly expiresAt: number;
  readonly expired: boolean;
}

export type TokenProblem = "no_token" | "bad_token_file" | "token_binding_mismatch" | "token_service_mismatch";

export type TokenCheck =
  | { readonly ok: true; readonly token: TokenSummary }
  | { readonly ok: false; readonly problem: TokenProblem; readonly message: string };

export interface TokenExpectation {
  /** Hex binding digest, from `requestBindingDigest`. */
  readonly binding: string;
  readonly service: number;
  readonly lifetimeSeconds: number;
  /** Unix seconds. */
  readonly now: number;
}

export function inspectToken(tokenFile: Uint8Array | null, expect: TokenExpectation): TokenCheck {
  if (tokenFile === null || tokenFile.byteLength === 0)
    return { ok: false, problem: "no_token", message: "the gate has no token for this request yet" };
  const decoded = decodeRecords(tokenFile);
  if (!decoded.ok)
    return { ok: false, problem: "bad_token_file", message: `the token file is not valid: ${decoded.reason}` };
  const records = decoded.records;
  if (records.some((r) => r.binding !== expect.binding)) {
    return {
      ok: false,
      problem: "token_binding_mismatch",
      message: "the token is not bound to this request (its binding digest differs): renew it",
    };
  }
  if (records.some((r) => r.service !== expect.service)) {
    return { ok: false, problem: "token_service_mismatch", message: `the token is not for service ${expect.service}` };
  }
  const oldest = Math.min(...records.map((r) => r.createdAt));
  const expiresAt = oldest + expect.lifetimeSeconds;
  return {
    ok: true,
    token: {
      base64: Buffer.from(tokenFile.buffer, tokenFile.byteOffset, tokenFile.byteLength).toString("base64"),
      sha256: sha256Hex(tokenFile),
      bytes: tokenFile.byteLength,
      records: records.map((r) => ({
        nodeId: r.nodeId,
        tokenId: r.tokenId,
        service: r.service,
        userName: r.userName,
        createdAt: r.createdAt,
      })),
      expiresAt,
      expired: expect.now >= expiresAt,
    },
  };
}
