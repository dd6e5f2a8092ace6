// The token-file round of CloudHSM CLI's MFA (docs/cloudhsm-cli.md, "MFA"), shared by `login ...
// mfa-token-sign` and `user change-mfa token-sign`: write one unsigned token per HSM, ask where the
// signed file is (blank: the same file), read and match it, and for an enrolment also ask for the
// new public key and check every signature against it. Any problem is one envelope and nothing
// reaches an HSM.
import { readFileSync, writeFileSync } from "node:fs";
import { parsePublicKey, verifyDigest } from "../crypto/rsa.ts";
import { fail, type Envelope } from "./envelope.ts";
import {
  MFA_TOKEN_FILE_MAX_BYTES,
  type MfaAnswer,
  type MfaChallenge,
  PUBLIC_KEY_PROMPT,
  parseSignedMfaTokens,
  renderMfaTokenFile,
  SIGNED_TOKEN_PROMPT,
} from "./mfa-token.ts";

export interface MfaPrompts {
  /** Asks for one visible line; null at the end of input. */
  ask(prompt: string): Promise<string | null>;
}

export interface MfaExchange<T> {
  readonly answers: readonly MfaAnswer<T>[];
  /** SPKI PEM of the new key (enrolment only). */
  readonly publicKeyPem: string | null;
}

const PEM_MAX_BYTES = 16 * 1024;

function readSmall(path: string, max: number, what: string): Buffer | Envelope {
  try {
    const bytes = readFileSync(path);
    return bytes.length > max ? fail(`${what} ${path} is larger than ${max} bytes`) : bytes;
  } catch (err) {
    return fail(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
}

export async function exchangeMfaTokens<T>(
  io: MfaPrompts,
  path: string,
  challenges: readonly MfaChallenge<T>[],
  options: { readonly needPublicKey: boolean },
): Promise<MfaExchange<T> | Envelope> {
  try {
    // The file holds digests only (nothing secret); it is rewritten at each login, as a daily MFA
    // login with the same --token path expects.
    writeFileSync(path, renderMfaTokenFile(challenges), { mode: 0o600 });
  } catch (err) {
    return fail(`cannot write the token file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const answer = await io.ask(SIGNED_TOKEN_PROMPT);
  if (answer === null) return fail("no signed token file given (end of input); nothing was sent");
  const signedPath = answer.trim() === "" ? path : answer.trim();
  const bytes = readSmall(signedPath, MFA_TOKEN_FILE_MAX_BYTES, "the signed token file");
  if (!Buffer.isBuffer(bytes)) return bytes;
  const parsed = parseSignedMfaTokens(bytes, challenges);
  if (!parsed.ok) return fail(parsed.message);
  if (!options.needPublicKey) return { answers: parsed.answers, publicKeyPem: null };

  const keyAnswer = await io.ask(PUBLIC_KEY_PROMPT);
  if (keyAnswer === null || keyAnswer.trim() === "") return fail("no public key file given; nothing was sent");
  const keyBytes = readSmall(keyAnswer.trim(), PEM_MAX_BYTES, "the public key file");
  if (!Buffer.isBuffer(keyBytes)) return keyBytes;
  const key = parsePublicKey(keyBytes.toString("utf8"));
  if (!key.ok)
    return fail(`Invalid public key: ${key.reason.replace(/_/g, " ")}; an RSA-2048 public key in PEM form is required`);
  const wrong = parsed.answers.find((a) => !verifyDigest(a.digest, key.key, a.signature));
  if (wrong !== undefined)
    return fail(
      "The signed token does not verify with the public key: sign each decoded unsigned token with openssl pkeyutl -sign -pkeyopt digest:sha256 and the matching private key",
    );
  return { answers: parsed.answers, publicKeyPem: key.pem };
}
