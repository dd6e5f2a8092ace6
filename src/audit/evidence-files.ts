// The evidence folder's files against evidence.json: the CMU approval file must name token.bin and
// exactly the folder's .sig files, one per approval, and each .sig file must be the signature
// evidence.json records. (Whether the signatures are valid is the engine's question.)
import { posix } from "node:path";
import { parseApprovalFile, tokenPathOf, APPROVER_TYPE_CO } from "../formats/approval-file.ts";
import { sha256 } from "../crypto/rsa.ts";
import { TOKEN_FILE_NAME } from "../gate/evidence.ts";
import type { EvidenceApproval, EvidenceRecord } from "../gate/evidence-document.ts";
import { failure, pass, type Check } from "./findings.ts";

const SIG_SUFFIX = ".sig";

/**
 * `approvalText` is approval.txt (null when absent); `folderFiles` the names of every file in the
 * evidence folder.
 */
export function checkApprovalFile(
  approvalText: string | null,
  approvals: readonly EvidenceApproval[],
  folderFiles: readonly string[],
): Check {
  if (approvalText === null)
    return failure("approval_file", "approval_file_mismatch", "the evidence folder has no approval.txt");
  const parsed = parseApprovalFile(approvalText);
  if (!parsed.ok)
    return failure(
      "approval_file",
      "approval_file_mismatch",
      `approval.txt does not parse as a CMU approval file: ${parsed.error}`,
    );
  const file = parsed.value;
  const tokenPath = posix.normalize(tokenPathOf(file));
  if (tokenPath !== TOKEN_FILE_NAME)
    return failure(
      "approval_file",
      "approval_file_mismatch",
      `approval.txt names the token file ${JSON.stringify(tokenPathOf(file))}, not ${TOKEN_FILE_NAME}`,
    );
  const notCo = file.approvals.find((a) => a.approverType !== APPROVER_TYPE_CO);
  if (notCo !== undefined)
    return failure(
      "approval_file",
      "approval_file_mismatch",
      `approval.txt names ${notCo.approverName} with approver type ${notCo.approverType}, not ${APPROVER_TYPE_CO} (CO)`,
    );
  const named = file.approvals
    .map((a) => `${a.approverName.toLowerCase()} → ${posix.normalize(a.approvalFile)}`)
    .sort();
  const recorded = approvals.map((a) => `${a.officer.toLowerCase()} → ${a.signatureFile}`).sort();
  if (named.join("\n") !== recorded.join("\n")) {
    return failure(
      "approval_file",
      "approval_file_mismatch",
      `approval.txt names ${describe(named)}, but evidence.json records ${describe(recorded)}`,
    );
  }
  const sigFiles = folderFiles.filter((f) => f.endsWith(SIG_SUFFIX)).sort();
  const namedFiles = [...new Set(file.approvals.map((a) => posix.normalize(a.approvalFile)))].sort();
  if (sigFiles.join("\n") !== namedFiles.join("\n")) {
    return failure(
      "approval_file",
      "approval_file_mismatch",
      `the folder holds the signature files ${describe(sigFiles)}, but approval.txt names ${describe(namedFiles)}`,
    );
  }
  return pass(
    "approval_file",
    `approval.txt names ${TOKEN_FILE_NAME} and the ${namedFiles.length} signature file${namedFiles.length === 1 ? "" : "s"} of the approvals`,
  );
}

/** token.bin (null when absent) is the token evidence.json records, by name, bytes and SHA-256. */
export function checkTokenFile(token: Uint8Array | null, evidence: EvidenceRecord): Check {
  if (token === null) return failure("token", "token_missing", `there is no ${TOKEN_FILE_NAME}`);
  const digest = sha256(token).toString("hex");
  if (
    evidence.token.file !== TOKEN_FILE_NAME ||
    digest !== evidence.token.sha256 ||
    Buffer.from(token).toString("base64") !== evidence.token.base64
  ) {
    const where = evidence.token.file === TOKEN_FILE_NAME ? "" : ` in ${JSON.stringify(evidence.token.file)}`;
    return failure(
      "token",
      "token_digest_mismatch",
      `${TOKEN_FILE_NAME} has SHA-256 ${digest}, but evidence.json records ${evidence.token.sha256}${where}`,
    );
  }
  return pass("token", `${TOKEN_FILE_NAME} SHA-256 ${digest}, as recorded`);
}

/** Each approval's .sig file holds exactly the signature evidence.json records. */
export function checkSignatureFiles(
  files: ReadonlyMap<string, Uint8Array>,
  approvals: readonly EvidenceApproval[],
): Check {
  const wrong: string[] = [];
  for (const a of approvals) {
    const bytes = files.get(a.signatureFile);
    if (a.signatureFile.includes("/") || !a.signatureFile.endsWith(SIG_SUFFIX))
      wrong.push(`${a.signatureFile}: not a signature file name`);
    else if (bytes === undefined) wrong.push(`${a.signatureFile}: missing`);
    else if (!Buffer.from(bytes).equals(Buffer.from(a.signature, "base64")))
      wrong.push(`${a.signatureFile}: differs from ${a.officer}'s signature in evidence.json`);
  }
  if (wrong.length > 0) return failure("signature_files", "signature_file_mismatch", wrong.join("; "));
  return pass(
    "signature_files",
    `${approvals.length} signature file${approvals.length === 1 ? "" : "s"}, each the signature evidence.json records`,
  );
}

function describe(list: readonly string[]): string {
  return list.length === 0 ? "none" : list.join(", ");
}
