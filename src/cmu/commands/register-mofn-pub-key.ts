// registerMofnPubKey CO <key_match_string> <user-name> <private-key.pem> (legacy, docs/cloudhsm-behaviour.md, "CMU commands").
// The vendor tool signs SHA-256 of the match string with the private key (PKCS#1 v1.5) on the
// officer's machine and sends the string, the signature and the public key; we do the same and
// register through the same node command as registerQuorumPubKey. The private key never leaves
// this process.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { RSA_BITS, isEncryptedPrivateKeyPem, signMessage } from "../../crypto/rsa.ts";
import { LIMITS } from "../../hsm/model.ts";
import { parseUserType, printUsage } from "../args.ts";
import { confirmCritical } from "../ask.ts";
import type { Command, ShellContext } from "../context.ts";
import { fanOutMutating } from "../fan-out.ts";
import { readUserText } from "../files.ts";
import { PASSPHRASE_PROMPT } from "../render.ts";
import { callServer } from "../session.ts";

export const registerMofnPubKey: Command = {
  name: "registerMofnPubKey",
  usage: "registerMofnPubKey CO <key_match_string> <user-name> <private-key.pem>",
  summary:
    "Legacy form of registerQuorumPubKey: sign a match string with the officer's private key here and register its public key.",
  async run(ctx, args) {
    const [typeWord, match, name, keyPath, ...rest] = args;
    const type = parseUserType(typeWord, ["CO", "PCO"]);
    if (
      type === null ||
      match === undefined ||
      match === "" ||
      name === undefined ||
      keyPath === undefined ||
      rest.length > 0
    ) {
      printUsage(
        ctx,
        this,
        type === null && typeWord !== undefined
          ? `Invalid user type '${typeWord}': only crypto officers (CO) register quorum keys`
          : undefined,
      );
      return "continue";
    }
    const matchBytes = Buffer.from(match, "utf8");
    if (matchBytes.length > LIMITS.registrationTokenMax) {
      ctx.print(
        `The key match string is ${matchBytes.length} bytes; at most ${LIMITS.registrationTokenMax} are allowed`,
      );
      return "continue";
    }
    const key = await loadPrivateKey(ctx, keyPath);
    if (key === null) return "continue";
    if (!(await confirmCritical(ctx))) return "continue";
    const body = {
      userType: type,
      userName: name,
      registrationToken: matchBytes.toString("base64"),
      signature: signMessage(matchBytes, key).toString("base64"),
      publicKeyPem: createPublicKey(key).export({ type: "spki", format: "pem" }).toString(),
    };
    await fanOutMutating(ctx, {
      command: "registerMofnPubKey",
      style: "RIA",
      send: (s) => callServer(s, "register-quorum-key", body),
    });
    return "continue";
  },
};

/** Reads an RSA-2048 private key, asking for the pass phrase only when the key is encrypted. */
async function loadPrivateKey(ctx: ShellContext, path: string): Promise<KeyObject | null> {
  const pem = await readUserText(ctx, path, "the private key", 64 * 1024);
  if (pem === null) return null;
  let key: KeyObject;
  if (!isEncryptedPrivateKeyPem(pem)) {
    try {
      key = createPrivateKey({ key: pem, format: "pem" });
    } catch {
      ctx.print(`The private key "${path}" cannot be read: it is not a PEM private key`);
      return null;
    }
  } else {
    const passphrase = await ctx.prompter.ask(PASSPHRASE_PROMPT, { hidden: true });
    if (passphrase === null) return null;
    try {
      key = createPrivateKey({ key: pem, format: "pem", passphrase });
    } catch {
      ctx.print(`The private key "${path}" cannot be decrypted with that pass phrase`);
      return null;
    }
  }
  if (key.asymmetricKeyType !== "rsa" || key.asymmetricKeyDetails?.modulusLength !== RSA_BITS) {
    ctx.print(`The private key "${path}" is not an RSA-2048 key`);
    return null;
  }
  return key;
}
