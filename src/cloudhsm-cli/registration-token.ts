// The registration token of `quorum token-sign generate --service registration` and the signed
// copy `user change-quorum token-sign register --signed-token` reads (docs/cloudhsm-cli.md,
// "Registering a quorum key"):
//
//   {"version":"2.0","tokens":[{"approval_data":"<b64>","unsigned":"<b64 SHA-256(approval_data)>","signed":""}]}
//
// The officer fills in `signed` by signing the 32 bytes of `unsigned` with `openssl pkeyutl -sign
// -pkeyopt digest:sha256`, which is the same signature as `openssl dgst -sha256 -sign` over
// approval_data: exactly the proof of possession each HSM checks for CMU's registerQuorumPubKey.
// Parsing only checks the shape; the HSMs judge the signature.
import { createHash } from "node:crypto";
import { CLI_TOKEN_FILE_VERSION, readVersion2Object } from "../formats/cli-token-file.ts";
import { decodeLenientBase64 } from "../formats/lenient-base64.ts";
import { LIMITS } from "../hsm/model.ts";

export interface SignedRegistration {
  readonly approvalData: Buffer;
  readonly signature: Buffer;
}

export type RegistrationResult =
  | { readonly ok: true; readonly registration: SignedRegistration }
  | { readonly ok: false; readonly message: string };

/** The unsigned file for `approvalData` (at most LIMITS.registrationTokenMax bytes, which every HSM enforces too). */
export function renderRegistrationToken(approvalData: Buffer): string {
  const unsigned = createHash("sha256").update(approvalData).digest();
  return `${JSON.stringify({ version: CLI_TOKEN_FILE_VERSION, tokens: [{ approval_data: approvalData.toString("base64"), unsigned: unsigned.toString("base64"), signed: "" }] }, null, 2)}\n`;
}

export function parseSignedRegistration(bytes: Uint8Array): RegistrationResult {
  const bad = (why: string): RegistrationResult => ({ ok: false, message: `Invalid signed token file: ${why}` });
  const read = readVersion2Object(bytes);
  if (!read.ok) return bad(read.reason);
  const fields = read.fields;
  const tokens = fields["tokens"];
  if (!Array.isArray(tokens) || tokens.length !== 1) return bad('"tokens" must hold the one registration token');
  const entry = tokens[0] as Readonly<Record<string, unknown>> | null;
  const data = typeof entry?.["approval_data"] === "string" ? decodeLenientBase64(entry["approval_data"]) : null;
  if (data === null || !data.ok || data.bytes.length === 0 || data.bytes.length > LIMITS.registrationTokenMax)
    return bad(`"approval_data" must be base64 of 1 to ${LIMITS.registrationTokenMax} bytes`);
  const unsigned = typeof entry?.["unsigned"] === "string" ? decodeLenientBase64(entry["unsigned"]) : null;
  if (unsigned === null || !unsigned.ok || !createHash("sha256").update(data.bytes).digest().equals(unsigned.bytes))
    return bad('"unsigned" is not the SHA-256 of "approval_data"');
  const signedText = entry?.["signed"];
  if (typeof signedText !== "string" || signedText.trim() === "")
    return bad('"signed" is empty: sign "unsigned" first');
  const signature = decodeLenientBase64(signedText);
  if (!signature.ok || signature.bytes.length !== 256) return bad('"signed" is not a base64 RSA-2048 signature');
  return { ok: true, registration: { approvalData: data.bytes, signature: signature.bytes } };
}
