// CloudHSM CLI's token file for the admin services (docs/cloudhsm-behaviour.md, "CloudHSM CLI"):
//
//   {"version":"2.0","approval_data":"<b64>","token":"<b64 SHA-256(approval_data)>","signatures":[...]}
//
// `approval_data` is the same concatenation of per-node records a CMU token file holds, so an
// officer can sign either: `openssl dgst -sha256 -sign` over approval_data and `openssl pkeyutl
// -sign -pkeyopt digest:sha256` over the 32 bytes of `token` give the same signature. This reads
// such a file down to its approval_data, and refuses one whose `token` is not that data's hash
// (a file edited by hand, or two files mixed up: signing it would approve something else).
import { createHash } from "node:crypto";
import { decodeLenientBase64 } from "./lenient-base64.ts";

export const CLI_TOKEN_FILE_VERSION = "2.0";

export type CliTokenFileResult =
  | { readonly ok: true; readonly approvalData: Buffer }
  | { readonly ok: false; readonly reason: string };

/** Whether `bytes` look like JSON (a CLI token file) rather than a binary CMU token file. */
export function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b; // "{"
  }
  return false;
}

/**
 * The fields of any CloudHSM CLI token file (quorum, registration, MFA): strict UTF-8 JSON, one
 * object, `"version": "2.0"`. Else the reason, for the caller's message.
 */
export function readVersion2Object(
  bytes: Uint8Array,
):
  | { readonly ok: true; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, reason: "not valid JSON" };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return { ok: false, reason: "not a JSON object" };
  const fields = doc as Readonly<Record<string, unknown>>; // an object, checked above
  if (fields["version"] !== CLI_TOKEN_FILE_VERSION)
    return { ok: false, reason: `"version" is not "${CLI_TOKEN_FILE_VERSION}"` };
  return { ok: true, fields };
}

export function parseCliTokenFile(bytes: Uint8Array): CliTokenFileResult {
  const read = readVersion2Object(bytes);
  if (!read.ok) return read;
  const fields = read.fields;
  const data = fields["approval_data"];
  const token = fields["token"];
  if (typeof data !== "string" || data === "") {
    // Registration and MFA token files carry `tokens[]` with `unsigned` hashes, not approval data.
    return {
      ok: false,
      reason: Array.isArray(fields["tokens"])
        ? "a registration or MFA token file (tokens[]), not a quorum token with approval_data"
        : 'no "approval_data"',
    };
  }
  if (typeof token !== "string") return { ok: false, reason: 'no "token"' };
  const approvalData = decodeLenientBase64(data);
  if (!approvalData.ok) return { ok: false, reason: `"approval_data" is ${approvalData.error}` };
  const hash = decodeLenientBase64(token);
  if (!hash.ok) return { ok: false, reason: `"token" is ${hash.error}` };
  if (!createHash("sha256").update(approvalData.bytes).digest().equals(hash.bytes)) {
    return { ok: false, reason: '"token" is not the SHA-256 of "approval_data"' };
  }
  return { ok: true, approvalData: approvalData.bytes };
}
