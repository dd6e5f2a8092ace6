// registerQuorumPubKey <user-type> <user-name> <registration-token> <signed-registration-token> <public-key>
// (docs/cloudhsm-behaviour.md, "CMU commands"). The officer proves possession of the key by signing the ≤245-byte registration
// file (`openssl dgst -sha256 -sign`); each HSM verifies that before it registers the key.
import { parsePublicKey } from "../../crypto/rsa.ts";
import { LIMITS } from "../../hsm/model.ts";
import { parseUserType, printUsage } from "../args.ts";
import { confirmCritical } from "../ask.ts";
import type { Command } from "../context.ts";
import { fanOutMutating } from "../fan-out.ts";
import { readUserFile, readUserText } from "../files.ts";
import { callServer } from "../session.ts";

export const registerQuorumPubKey: Command = {
  name: "registerQuorumPubKey",
  usage: "registerQuorumPubKey CO <user-name> <registration-token> <signed-registration-token> <public-key>",
  summary:
    "Register a crypto officer's RSA-2048 public key for quorum approvals, proven by a signed registration token.",
  async run(ctx, args) {
    const [typeWord, name, tokenPath, signaturePath, keyPath, ...rest] = args;
    const type = parseUserType(typeWord, ["CO", "PCO"]);
    if (
      type === null ||
      name === undefined ||
      tokenPath === undefined ||
      signaturePath === undefined ||
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
    const token = await readUserFile(ctx, tokenPath, "the registration token", {
      maxBytes: LIMITS.registrationTokenMax,
    });
    if (token === null) return "continue";
    const signature = await readUserFile(ctx, signaturePath, "the signed registration token", { maxBytes: 64 * 1024 });
    if (signature === null) return "continue";
    const keyText = await readUserText(ctx, keyPath, "the public key", 64 * 1024);
    if (keyText === null) return "continue";
    const key = parsePublicKey(keyText);
    if (!key.ok) {
      ctx.print(
        `The public key "${keyPath}" cannot be used (${key.reason.replace(/_/g, " ")}); an RSA-2048 public key in PEM form (openssl rsa -pubout) is required`,
      );
      return "continue";
    }
    if (!(await confirmCritical(ctx))) return "continue";
    const body = {
      userType: type,
      userName: name,
      registrationToken: token.toString("base64"),
      signature: signature.toString("base64"),
      publicKeyPem: key.pem,
    };
    await fanOutMutating(ctx, {
      command: "registerQuorumPubKey",
      style: "RIA",
      send: (s) => callServer(s, "register-quorum-key", body),
    });
    return "continue";
  },
};
