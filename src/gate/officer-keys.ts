// The officers' registered quorum keys, as the cluster's `quorum-keys` lists them, parsed once
// per evaluation (through the shared cache of src/crypto/rsa.ts) and named by fingerprint.
import type { KeyObject } from "node:crypto";
import { fingerprint, storedPublicKey } from "../crypto/rsa.ts";

export interface OfficerKey {
  readonly officer: string;
  readonly key: KeyObject;
  /** Hex SHA-256 of the SPKI. */
  readonly fingerprint: string;
}

/** Officer name (lower-case) → key. */
export type KeyRing = ReadonlyMap<string, OfficerKey>;

/**
 * `registered` maps officer names to SPKI PEM. A PEM that is not an RSA-2048 public key is left
 * out, so its officer is treated as having no key (and cannot approve) rather than breaking the
 * evaluation of everyone else.
 */
export function buildKeyRing(registered: ReadonlyMap<string, string>): KeyRing {
  const ring = new Map<string, OfficerKey>();
  for (const [name, pem] of registered) {
    const key = storedPublicKey(pem);
    if (key === null) continue;
    const officer = name.toLowerCase();
    ring.set(officer, { officer, key, fingerprint: fingerprint(key) });
  }
  return ring;
}
