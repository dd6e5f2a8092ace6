// What an officer does with the token from the sticky comment: write it to a file, sign it with
// the real openssl binary (`openssl dgst -sha256 -sign <key> -out <sig> <token>`), and paste the
// signature as base64. The key is `<dir>/<officer>.key`.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function opensslSign(dir: string, officer: string, token: Uint8Array): string {
  const tokenFile = join(dir, `token-${officer}.bin`);
  const sigFile = join(dir, `${officer}.sig`);
  writeFileSync(tokenFile, token);
  execFileSync("openssl", ["dgst", "-sha256", "-sign", join(dir, `${officer}.key`), "-out", sigFile, tokenFile]);
  return readFileSync(sigFile).toString("base64");
}
