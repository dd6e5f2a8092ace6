// The `--approval` file: a version 2.0 token file (docs/cloudhsm-cli.md, "Token files") with the
// approvers' signatures filled in. Each signature is RSASSA-PKCS1-v1_5 over the 32 bytes of `token`
// (`openssl pkeyutl -sign -pkeyopt digest:sha256`), which is the same signature as `openssl dgst
// -sha256 -sign` over `approval_data`: what every HSM verifies for itself. Parsing only checks the
// shape; the HSMs judge the signatures.
import { parseCliTokenFile } from "../formats/cli-token-file.ts";
import { decodeLenientBase64 } from "../formats/lenient-base64.ts";

export interface CliApproval {
  readonly approvalData: Buffer;
  readonly signatures: readonly { readonly username: string; readonly signature: Buffer }[];
}

export type ApprovalResult =
  | { readonly ok: true; readonly approval: CliApproval }
  | { readonly ok: false; readonly message: string };

export function parseApprovalFile(bytes: Uint8Array): ApprovalResult {
  const file = parseCliTokenFile(bytes);
  if (!file.ok) return { ok: false, message: `Invalid approval file: ${file.reason}` };
  const doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
  const list = doc["signatures"];
  if (!Array.isArray(list)) return { ok: false, message: "Invalid approval file: signatures must be a list" };
  const signatures: { username: string; signature: Buffer }[] = [];
  for (const [i, entry] of list.entries()) {
    const e = entry as Record<string, unknown> | null;
    const username = typeof e?.["username"] === "string" ? e["username"].toLowerCase() : null;
    const text = typeof e?.["signature"] === "string" ? e["signature"] : null;
    if (username === null || text === null)
      return { ok: false, message: `Invalid approval file: signatures[${i}] needs a username and a signature` };
    if (text === "") continue; // an approver who has not signed yet
    const sig = decodeLenientBase64(text);
    if (!sig.ok || sig.bytes.length !== 256)
      return {
        ok: false,
        message: `Invalid approval file: the signature of ${username.slice(0, 32)} is not a base64 RSA-2048 signature`,
      };
    if (signatures.some((s) => s.username === username))
      return { ok: false, message: `Invalid approval file: ${username.slice(0, 32)} signed twice` };
    signatures.push({ username, signature: sig.bytes });
  }
  if (signatures.length === 0) return { ok: false, message: "No token signatures provided" };
  return { ok: true, approval: { approvalData: file.approvalData, signatures } };
}

/** An unsigned token file as `quorum token-sign generate` writes it. */
export function renderTokenFile(approvalData: Buffer, sha256: Buffer): string {
  return `${JSON.stringify({ version: "2.0", approval_data: approvalData.toString("base64"), token: sha256.toString("base64"), signatures: [] }, null, 2)}\n`;
}
