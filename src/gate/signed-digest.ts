// Which SHA-256 digest an RSASSA-PKCS1-v1_5 signature was made over, when it was made with `key`.
// This is how the gate tells a *stale* approval (the officer's key, but another token: an older
// one, or another PR's) from a signature that is simply wrong. Verification only, nothing secret.
// It belongs next to `verifyDigest` in src/crypto/rsa.ts; it lives here until that file takes it.
import { constants, publicDecrypt, type KeyObject } from "node:crypto";
import { SIGNATURE_BYTES } from "../crypto/rsa.ts";

/** DER prefix of the SHA-256 DigestInfo that PKCS#1 v1.5 wraps around a 32-byte digest. */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

/** The 32-byte digest `signature` carries under `key`, or null when it is no SHA-256 signature by that key. */
export function signedDigestOf(key: KeyObject, signature: Uint8Array): Buffer | null {
  if (signature.length !== SIGNATURE_BYTES) return null;
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return null;
  }
  if (recovered.length !== SHA256_DIGEST_INFO.length + 32) return null;
  if (!recovered.subarray(0, SHA256_DIGEST_INFO.length).equals(SHA256_DIGEST_INFO)) return null;
  return recovered.subarray(SHA256_DIGEST_INFO.length);
}
