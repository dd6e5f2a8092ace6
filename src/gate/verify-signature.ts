// One approval signature against the token file: valid, made with the right key over something
// else (stale), made with another officer's key, or neither. Signatures are RSASSA-PKCS1-v1_5
// with SHA-256 over the whole token file, exactly `openssl dgst -sha256 -sign`.
import { signedDigestOf, verifyMessage } from "../crypto/rsa.ts";
import type { KeyRing, OfficerKey } from "./officer-keys.ts";

export type SignatureCheck =
  | { readonly result: "valid" }
  | { readonly result: "stale_token" }
  | { readonly result: "not_the_officer"; readonly signer: string }
  | { readonly result: "bad_signature" };

/** Checks `signature` as `expected`'s approval of `token`; names the signer when it is someone else. */
export function checkSignature(
  token: Uint8Array,
  signature: Uint8Array,
  expected: OfficerKey,
  ring: KeyRing,
): SignatureCheck {
  if (verifyMessage(token, expected.key, signature)) return { result: "valid" };
  if (signedDigestOf(expected.key, signature) !== null) return { result: "stale_token" };
  const signer = identifySigner(token, signature, ring, expected.officer);
  return signer === null ? { result: "bad_signature" } : { result: "not_the_officer", signer };
}

/** The officer whose registered key verifies `signature` over `token`, if any (other than `except`). */
export function identifySigner(
  token: Uint8Array,
  signature: Uint8Array,
  ring: KeyRing,
  except?: string,
): string | null {
  for (const k of ring.values()) {
    if (k.officer !== except && verifyMessage(token, k.key, signature)) return k.officer;
  }
  return null;
}
