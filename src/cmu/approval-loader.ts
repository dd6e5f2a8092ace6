// Loads everything an approval file points at and checks it before anything is sent: the file must
// parse (docs/cloudhsm-behaviour.md, "The approval file"), the token file must be a whole number of token records, and each
// signature file must hold one RSA-2048 signature.
import { dirname } from "node:path";
import { SIGNATURE_BYTES } from "../crypto/rsa.ts";
import { parseApprovalFile, resolveApprovalPaths, tokenPathOf } from "../formats/approval-file.ts";
import { LIMITS } from "../hsm/model.ts";
import { decodeRecords, RECORD_V2_SIZE } from "../hsm/token-record.ts";
import type { ShellContext } from "./context.ts";
import { readUserFile, readUserText, resolvePath } from "./files.ts";

export interface LoadedApproval {
  /** base64 of the whole token file. */
  readonly tokenData: string;
  readonly approvals: readonly {
    readonly approverType: number;
    readonly approverName: string;
    readonly signature: string;
  }[];
}

const MAX_APPROVAL_FILE_BYTES = 64 * 1024;

export async function loadApproval(ctx: ShellContext, file: string): Promise<LoadedApproval | null> {
  const text = await readUserText(ctx, file, "the approval file", MAX_APPROVAL_FILE_BYTES);
  if (text === null) return null;
  const parsed = parseApprovalFile(text);
  if (!parsed.ok) {
    ctx.print(`The approval file "${file}" cannot be used: ${parsed.error}`);
    return null;
  }
  // Relative paths inside the approval file are taken from the file's own directory.
  const resolved = resolveApprovalPaths(parsed.value, dirname(resolvePath(ctx, file)));
  const tokenPath = tokenPathOf(resolved);
  const token = await readUserFile(ctx, tokenPath, "the token file", {
    maxBytes: LIMITS.maxTokensPerFile * RECORD_V2_SIZE,
  });
  if (token === null) return null;
  const records = decodeRecords(token);
  if (!records.ok) {
    ctx.print(`The token file "${tokenPath}" is not a token file from getToken: ${records.reason}`);
    return null;
  }
  const approvals: { approverType: number; approverName: string; signature: string }[] = [];
  for (const a of resolved.approvals) {
    const signature = await readUserFile(ctx, a.approvalFile, `the signature of ${a.approverName}`, {
      maxBytes: 64 * 1024,
    });
    if (signature === null) return null;
    if (signature.length !== SIGNATURE_BYTES) {
      ctx.print(
        `The signature file "${a.approvalFile}" of ${a.approverName} is ${signature.length} bytes; an RSA-2048 signature (openssl dgst -sha256 -sign) is ${SIGNATURE_BYTES}`,
      );
      return null;
    }
    approvals.push({
      approverType: a.approverType,
      approverName: a.approverName,
      signature: signature.toString("base64"),
    });
  }
  return { tokenData: token.toString("base64"), approvals };
}
