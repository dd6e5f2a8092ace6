// `quorum-gate keygen`: an officer's RSA-2048 key pair, in the files OpenSSL and the seeds use:
// PKCS#8 PEM private key (mode 0600) and SPKI PEM public key (what `openssl rsa -pubout` writes).
import { generateKeyPairSync } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fingerprint } from "../crypto/rsa.ts";
import type { CliIo } from "./io.ts";

const HELP = `Usage: quorum-gate keygen --out NAME [--force]

Writes NAME.key (private key, readable by you only) and NAME.pub (public key) for a crypto
officer. The same key serves quorum approvals (registerQuorumPubKey) and 2FA, as on CloudHSM.

Options:
  --out NAME   file name prefix (required)
  --force      overwrite existing files
  --help       show this help
`;

export async function runKeygen(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { out: { type: "string" }, force: { type: "boolean" }, help: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`quorum-gate keygen: ${err instanceof Error ? err.message : String(err)}\n${HELP}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values.out === undefined || values.out === "") {
    io.stderr.write(`quorum-gate keygen: --out is required\n${HELP}`);
    return 2;
  }
  const keyFile = `${values.out}.key`;
  const pubFile = `${values.out}.pub`;
  if (values.force !== true && (existsSync(keyFile) || existsSync(pubFile))) {
    io.stderr.write(`quorum-gate keygen: ${keyFile} or ${pubFile} exists; use --force to overwrite\n`);
    return 1;
  }
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 0x10001 });
  writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(pubFile, publicKey.export({ type: "spki", format: "pem" }), { mode: 0o644 });
  io.stdout.write(
    `wrote ${keyFile} and ${pubFile}\nfingerprint (SHA-256 of the public key): ${fingerprint(publicKey)}\n`,
  );
  return 0;
}
