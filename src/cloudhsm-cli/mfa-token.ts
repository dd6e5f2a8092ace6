// The MFA token file of `login ... mfa-token-sign --token` and `user change-mfa token-sign --token`
// (docs/cloudhsm-cli.md, "MFA"):
//
//   {"version":"2.0","tokens":[{"unsigned":"<b64 32 bytes>","signed":""}, ...]}
//
// One pair per HSM: each HSM hands out a 32-byte digest, and the user fills in `signed` with
// `openssl pkeyutl -sign -pkeyopt digest:sha256` over the decoded digest. The file names no HSM,
// so an answer is matched to its HSM by its `unsigned` value; the order of the pairs is free.
// Parsing checks the shape and that every digest asked for is answered; the HSMs check the
// signatures (and, on enrolment, the shell checks them first against the new key, for a clearer
// message than a refusal by every HSM).
import { CLI_TOKEN_FILE_VERSION, readVersion2Object } from "../formats/cli-token-file.ts";
import { decodeLenientBase64 } from "../formats/lenient-base64.ts";

/** What an HSM asked to have signed: its challenge and the digest (base64 of 32 bytes). */
export interface MfaChallenge<T> {
  readonly target: T;
  readonly challengeId: string;
  readonly digest: string;
}

export interface MfaAnswer<T> {
  readonly target: T;
  readonly challengeId: string;
  readonly digest: Buffer;
  readonly signature: Buffer;
}

export type MfaAnswers<T> =
  | { readonly ok: true; readonly answers: readonly MfaAnswer<T>[] }
  | { readonly ok: false; readonly message: string };

const SIGNATURE_BYTES = 256;
/** Far above any cluster's file (a pair is under 400 bytes), far below what would hurt to read. */
export const MFA_TOKEN_FILE_MAX_BYTES = 64 * 1024;

export function renderMfaTokenFile(challenges: readonly MfaChallenge<unknown>[]): string {
  const tokens = challenges.map((c) => ({ unsigned: c.digest, signed: "" }));
  return `${JSON.stringify({ version: CLI_TOKEN_FILE_VERSION, tokens }, null, 2)}\n`;
}

export function parseSignedMfaTokens<T>(bytes: Uint8Array, challenges: readonly MfaChallenge<T>[]): MfaAnswers<T> {
  const bad = (why: string): MfaAnswers<T> => ({ ok: false, message: `Invalid signed token file: ${why}` });
  if (bytes.length > MFA_TOKEN_FILE_MAX_BYTES) return bad(`larger than ${MFA_TOKEN_FILE_MAX_BYTES} bytes`);
  const read = readVersion2Object(bytes);
  if (!read.ok) return bad(read.reason);
  const fields = read.fields;
  const tokens = fields["tokens"];
  if (!Array.isArray(tokens)) return bad('"tokens" is not a list');
  const pairs: { unsigned: Buffer; signed: string }[] = [];
  for (const [i, entry] of tokens.entries()) {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry))
      return bad(`tokens[${i}] is not an object`);
    const e = entry as Readonly<Record<string, unknown>>;
    const unsigned = typeof e["unsigned"] === "string" ? decodeLenientBase64(e["unsigned"]) : null;
    if (unsigned === null || !unsigned.ok || unsigned.bytes.length !== 32)
      return bad(`tokens[${i}].unsigned is not base64 of 32 bytes`);
    if (typeof e["signed"] !== "string") return bad(`tokens[${i}].signed is not a string`);
    pairs.push({ unsigned: unsigned.bytes, signed: e["signed"] });
  }
  const answers: MfaAnswer<T>[] = [];
  for (const c of challenges) {
    const digest = Buffer.from(c.digest, "base64");
    const pair = pairs.find((p) => p.unsigned.equals(digest));
    if (pair === undefined)
      return bad("a token written for this command is missing: sign the tokens of the file written just now");
    if (pair.signed.trim() === "") return bad(`"signed" is empty for unsigned token ${c.digest}: sign every token`);
    const signature = decodeLenientBase64(pair.signed);
    if (!signature.ok || signature.bytes.length !== SIGNATURE_BYTES)
      return bad(`"signed" of unsigned token ${c.digest} is not a base64 RSA-2048 signature`);
    answers.push({ target: c.target, challengeId: c.challengeId, digest, signature: signature.bytes });
  }
  return { ok: true, answers };
}

export const SIGNED_TOKEN_PROMPT = "Enter signed token file path (press enter if same as the unsigned token file):";
export const PUBLIC_KEY_PROMPT = "Enter public key PEM file path:";
