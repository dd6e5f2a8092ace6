// Password sealing: requests carry passwords encrypted to the cluster's sealing key
// (RSA-OAEP with SHA-256), so that only the nodes can open them.
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from "node:crypto";

export function sealSecret(publicKey: KeyObject | string, secret: string): Buffer {
  return publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
    Buffer.from(secret, "utf8"),
  );
}

/** Returns null for anything that does not open: callers turn that into a stable error code. */
export function unsealSecret(privateKey: KeyObject | string, sealed: Uint8Array): string | null {
  try {
    const plain = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      sealed,
    );
    return new TextDecoder("utf-8", { fatal: true }).decode(plain);
  } catch {
    return null;
  }
}
