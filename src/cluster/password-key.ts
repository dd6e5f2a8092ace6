// The gate's password key on a real cluster
// (docs/real-cluster.md, "Passwords on a real cluster"). A real HSM has no sealing key of its own
// and takes a new user's password only in the clear, so requesters seal passwords to the public
// half of a key the gate holds, and the gate opens them only inside the execution window, to
// answer the shell's password prompt. The public half lives in the cluster file
// (`backend.passwordKey`), the private half with the App or the Action, like the gate's password.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { RSA_BITS } from "../crypto/rsa.ts";

export type PasswordKeyResult =
  | { readonly ok: true; readonly key: KeyObject }
  | { readonly ok: false; readonly message: string };

/** An unencrypted RSA private key in PEM; the message never quotes the text. */
export function parsePasswordKey(pem: string): PasswordKeyResult {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    return { ok: false, message: "is not an unencrypted private key in PEM" };
  }
  if (key.asymmetricKeyType !== "rsa") return { ok: false, message: "is not an RSA key" };
  // A request's sealed password is exactly one RSA-2048 block (docs/requests.md), as for the emulator.
  if (key.asymmetricKeyDetails?.modulusLength !== RSA_BITS)
    return { ok: false, message: `is not a ${RSA_BITS}-bit RSA key` };
  return { ok: true, key };
}

/** The public half, as the cluster file's `backend.passwordKey` holds it. */
export function passwordPublicKeyPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
}
