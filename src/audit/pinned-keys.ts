// Which officer keys an offline audit may trust. The cluster holds the officers' keys; git holds
// only what the gate wrote into evidence.json, which anyone with push access could have written
// too. A key from evidence.json is therefore used only when the policy that judged the operation
// pins it: the officer's `key_fingerprint` equals the SHA-256 of the key's SPKI. Teams that want
// offline audits pin every officer's key (docs/audit.md).
import { fingerprint, storedPublicKey } from "../crypto/rsa.ts";
import type { Policy } from "../gate/policy.ts";

export type PinResult =
  | { readonly status: "pinned"; readonly pem: string; readonly fingerprint: string }
  | {
      readonly status: "key_not_pinned" | "key_pin_mismatch" | "no_public_key";
      readonly fingerprint: string | null;
      readonly message: string;
    };

/** Whether `publicKey` (from evidence) is the key `policy` pins for `officer`. */
export function pinKey(policy: Policy, officer: string, publicKey: string | undefined): PinResult {
  const key = publicKey === undefined ? null : storedPublicKey(publicKey);
  if (publicKey === undefined || key === null) {
    return {
      status: "no_public_key",
      fingerprint: null,
      message:
        publicKey === undefined
          ? "evidence.json holds no public key for this approval"
          : "the public key in evidence.json is not an RSA-2048 public key",
    };
  }
  const fp = fingerprint(key);
  const name = officer.toLowerCase();
  const mapping = policy.officers.find((o) => o.officer === name);
  if (mapping === undefined)
    return {
      status: "key_not_pinned",
      fingerprint: fp,
      message: `officer ${name} is not in the policy that judged it, so no key of theirs is pinned`,
    };
  if (mapping.keyFingerprint === undefined)
    return {
      status: "key_not_pinned",
      fingerprint: fp,
      message: `the policy that judged it pins no key for officer ${name} (key_fingerprint), so git cannot vouch for the key in evidence.json`,
    };
  if (mapping.keyFingerprint !== fp)
    return {
      status: "key_pin_mismatch",
      fingerprint: fp,
      message: `the key in evidence.json (${fp.slice(0, 16)}…) is not the key the policy pins for officer ${name} (${mapping.keyFingerprint.slice(0, 16)}…)`,
    };
  return { status: "pinned", pem: publicKey, fingerprint: fp };
}

/** The officer keys the engine may use: officer name → PEM, for the approvals whose key is pinned. */
export function pinnedKeys(
  policy: Policy,
  approvals: readonly { readonly officer: string; readonly publicKey?: string }[],
): { readonly keys: ReadonlyMap<string, string>; readonly pins: readonly PinResult[] } {
  const keys = new Map<string, string>();
  const pins = approvals.map((a) => {
    const pin = pinKey(policy, a.officer, a.publicKey);
    const name = a.officer.toLowerCase();
    if (pin.status === "pinned" && !keys.has(name)) keys.set(name, pin.pem);
    return pin;
  });
  return { keys, pins };
}
