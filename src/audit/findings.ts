// What an offline verification finds, in stable codes: one line per check, one verdict per
// signature. Codes are snake_case and never change meaning; messages are for people.
import type { VerdictReason } from "../gate/verdict.ts";

/** The checks, in the order they are reported. */
export const CHECK_NAMES = [
  "evidence",
  "policy",
  "request",
  "token",
  "approval_file",
  "signature_files",
  "binding",
  "approvals",
  "quorum",
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export const FAILURE_CODES = [
  /** evidence.json is missing, not JSON, or not the gate's format. */
  "evidence_unreadable",
  /** evidence.json names another request or pull request than the folder it sits in. */
  "folder_mismatch",
  /** No policy at the landing commit's first parent: nothing could have judged it. */
  "no_policy",
  "invalid_policy",
  /** The request file (a policy change: the new policy) is not in the landing commit. */
  "request_missing",
  "invalid_request",
  /** The request file's bytes do not hash to evidence.request.sha256. */
  "request_digest_mismatch",
  "token_missing",
  /** token.bin does not hash to evidence.token.sha256 (or is not evidence.token.base64). */
  "token_digest_mismatch",
  /** approval.txt does not parse, or does not name exactly token.bin and the folder's .sig files of the approvals. */
  "approval_file_mismatch",
  /** A .sig file is missing or differs from the signature in evidence.json. */
  "signature_file_mismatch",
  /** The binding digest recomputed from the request differs from evidence.bindingDigest. */
  "binding_digest_mismatch",
  /** A CMU approval file that approveToken would refuse as a whole: one of its approvals does not verify. */
  "approval_rejected",
  /** The engine, re-run on the evidence (or, for a CMU approval file, the count of valid officers), does not reach the quorum. */
  "quorum_not_met",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export interface Check {
  readonly name: CheckName;
  readonly ok: boolean;
  /** `ok`, or why not. */
  readonly code: FailureCode | "ok";
  readonly message: string;
}

/**
 * Signature verdicts only offline can give. The engine's own reasons (`valid`, `bad_signature`,
 * `duplicate`, `expired`, `unknown_officer`, `self_approval`, ...) come through unchanged.
 */
export const OFFLINE_REASONS = [
  /** The policy that judged the operation pins no key for this officer: git cannot vouch for the key in evidence.json. */
  "key_not_pinned",
  /** The policy pins another key for this officer. */
  "key_pin_mismatch",
  /** evidence.json holds no usable public key for this approval. */
  "no_public_key",
  /** The engine could not run (no policy, no request): nothing was judged. */
  "not_judged",
  // A CMU approval file (`verify --approval-file`), checked as approveToken checks it:
  /** No key was given for this approver. */
  "no_key",
  /** Approver type 1 (CU): only crypto officers approve these tokens. */
  "not_a_crypto_officer",
] as const;
export type OfflineReason = (typeof OFFLINE_REASONS)[number];

export interface SignatureVerdict {
  readonly officer: string;
  readonly githubLogin: string;
  /** When the approval was posted (ISO 8601, as evidence.json records it). */
  readonly createdAt: string;
  readonly signatureFile: string;
  /** SHA-256 of the SPKI of the key in evidence.json, when it holds one. */
  readonly keyFingerprint: string | null;
  readonly counted: boolean;
  readonly reason: VerdictReason | OfflineReason;
  readonly message: string;
}

export const pass = (name: CheckName, message: string): Check => ({ name, ok: true, code: "ok", message });
export const failure = (name: CheckName, code: FailureCode, message: string): Check => ({
  name,
  ok: false,
  code,
  message,
});
