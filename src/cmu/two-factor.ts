// The authdata exchange of CMU 2FA (docs/cloudhsm-behaviour.md, "Two-factor authentication", seed 2fa-crypto-officers.zh.md), shared by
// loginHSM, createUser and changePswd -2fa:
//   1. write the authdata file with one digest per HSM,
//   2. print where it is and what to do, ask `Enter filename:` (blank = the same file),
//   3. read the edited file and match each answer to its HSM by digest.
// Every problem with the edited file is reported here and nothing is sent to any HSM.
import type { KeyObject } from "node:crypto";
import { parsePublicKey, SIGNATURE_BYTES, verifyDigest } from "../crypto/rsa.ts";
import { parseAuthData, renderAuthData } from "../formats/authdata.ts";
import type { ShellContext } from "./context.ts";
import { readUserText, writeUserFile } from "./files.ts";
import { AUTHDATA_INSTRUCTIONS, authDataWrittenLine, FILENAME_PROMPT } from "./render.ts";
import type { Server } from "./session.ts";

export interface DigestRequest {
  readonly server: Server;
  /** Node challenge id; null for an entry CMU shows but the HSM did not ask for (ignored, docs/cloudhsm-behaviour.md, "CMU commands"). */
  readonly challengeId: string | null;
  /** base64 of the 32-byte digest. */
  readonly digest: string;
}

export interface Proof {
  readonly server: Server;
  readonly challengeId: string;
  readonly signature: string; // base64
}

export interface ProofSet {
  readonly proofs: readonly Proof[];
  /** SPKI PEM of the new key, for enrolment only. */
  readonly publicKeyPem: string | null;
}

const MAX_AUTHDATA_BYTES = 256 * 1024;

export async function exchangeAuthData(
  ctx: ShellContext,
  path: string,
  requests: readonly DigestRequest[],
  options: { readonly needPublicKey: boolean },
): Promise<ProofSet | null> {
  const initial = renderAuthData(requests.map((r) => ({ hsmId: r.server.hsmId, digest: r.digest })));
  if (!(await writeUserFile(ctx, path, initial, "the authentication data file"))) return null;
  ctx.print(authDataWrittenLine(path), ...AUTHDATA_INSTRUCTIONS);
  const answer = await ctx.prompter.ask(FILENAME_PROMPT);
  if (answer === null) {
    ctx.print("No file name given (end of input); nothing was sent.");
    return null;
  }
  const chosen = answer.trim() === "" ? path : answer.trim();
  const text = await readUserText(ctx, chosen, "the authentication data file", MAX_AUTHDATA_BYTES);
  if (text === null) return null;
  const checked = checkAuthData(text, requests, options.needPublicKey);
  if (typeof checked === "string") {
    ctx.print(`The authentication data file "${chosen}" cannot be used: ${checked}`, "Nothing was sent.");
    return null;
  }
  return checked;
}

/** Matches the edited file against what we asked for; returns the proofs or the reason they are unusable. */
export function checkAuthData(
  text: string,
  requests: readonly DigestRequest[],
  needPublicKey: boolean,
): ProofSet | string {
  const parsed = parseAuthData(text);
  if (!parsed.ok) return parsed.error;
  let key: KeyObject | null = null;
  let publicKeyPem: string | null = null;
  if (needPublicKey) {
    if (parsed.value.publicKey === "") return '"PublicKey" is empty: paste the PEM public key of the new 2FA key';
    const pub = parsePublicKey(parsed.value.publicKey);
    if (!pub.ok)
      return `"PublicKey" is not usable (${pub.reason.replace(/_/g, " ")}); an RSA-2048 public key in PEM form is required`;
    key = pub.key;
    publicKeyPem = pub.pem;
  }
  const proofs: Proof[] = [];
  for (const request of requests) {
    const entry = parsed.value.entries.find((e) => e.digest.replace(/=+$/, "") === request.digest.replace(/=+$/, ""));
    if (entry === undefined)
      return `no entry carries the digest written for ${request.server.hsmId}; sign the digests of the file written just now`;
    if (entry.hsmId !== request.server.hsmId)
      return `the digest of ${request.server.hsmId} is filed under HsmId "${entry.hsmId}"`;
    if (request.challengeId === null) continue;
    if (entry.signatureBytes === null) return `"Signature" of ${entry.hsmId} is empty`;
    if (entry.signatureBytes.length !== SIGNATURE_BYTES) {
      return `"Signature" of ${entry.hsmId} is ${entry.signatureBytes.length} bytes; an RSA-2048 signature is ${SIGNATURE_BYTES}`;
    }
    if (key !== null && !verifyDigest(entry.digestBytes, key, entry.signatureBytes)) {
      return `"Signature" of ${entry.hsmId} does not verify with "PublicKey" (sign the decoded digest with openssl pkeyutl -pkeyopt digest:sha256)`;
    }
    proofs.push({
      server: request.server,
      challengeId: request.challengeId,
      signature: entry.signatureBytes.toString("base64"),
    });
  }
  return { proofs, publicKeyPem };
}
