// The evidence folder's files against evidence.json: the CMU approval file must name token.bin and
// exactly the folder's .sig files, one per approval, and each .sig file must be the signature
// evidence.json records; payload approvals instead have one .payload file each. (Whether the
// signatures are valid is the engine's question.)
import { posix } from "node:path";
import { parseApprovalFile, tokenPathOf, APPROVER_TYPE_CO } from "../formats/approval-file.ts";
import { sha256 } from "../crypto/rsa.ts";
import { APPROVAL_FILE_NAME, PAYLOAD_SUFFIX, TOKEN_FILE_NAME } from "../gate/evidence.ts";
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

/**
 * token.bin (null when absent) is the token evidence.json records, by name, bytes and SHA-256.
 * Evidence of payload approvals records no token, and then there must be no token.bin either.
 */
export function checkTokenFile(token: Uint8Array | null, evidence: EvidenceRecord): Check {
  const recorded = evidence.token;
  if (recorded === undefined)
    return token === null
      ? pass("token", "no token: the officers approved the gate's payload, and the HSM token exists only at execution")
      : failure(
          "token",
          "token_digest_mismatch",
          `the folder holds a ${TOKEN_FILE_NAME}, but evidence.json records payload approvals and no token`,
        );
  if (token === null) return failure("token", "token_missing", `there is no ${TOKEN_FILE_NAME}`);
  const digest = sha256(token).toString("hex");
  if (
    recorded.file !== TOKEN_FILE_NAME ||
    digest !== recorded.sha256 ||
    Buffer.from(token).toString("base64") !== recorded.base64
  ) {
    const where = recorded.file === TOKEN_FILE_NAME ? "" : ` in ${JSON.stringify(recorded.file)}`;
    return failure(
      "token",
      "token_digest_mismatch",
      `${TOKEN_FILE_NAME} has SHA-256 ${digest}, but evidence.json records ${recorded.sha256}${where}`,
    );
  }
  return pass("token", `${TOKEN_FILE_NAME} SHA-256 ${digest}, as recorded`);
}

/**
 * Payload approvals (no token): no CMU approval file, since there is no token for it to name; and
 * each approval's .payload file holds exactly the payload the engine rebuilds from the request and
 * its `until=`, so that `openssl dgst -sha256 -verify` on the folder checks what the gate checked.
 */
export function checkPayloadFiles(
  files: ReadonlyMap<string, Uint8Array>,
  approvals: readonly EvidenceApproval[],
  payloadOf: ((until: string) => Uint8Array) | null,
): Check {
  if (files.has(APPROVAL_FILE_NAME))
    return failure(
      "approval_file",
      "approval_file_mismatch",
      `the folder holds an ${APPROVAL_FILE_NAME}, but payload approvals have no token for it to name`,
    );
  const wrong: string[] = [];
  for (const a of approvals) {
    const name = a.payloadFile ?? "";
    const bytes = files.get(name);
    if (name.includes("/") || !name.endsWith(PAYLOAD_SUFFIX))
      wrong.push(`${name || a.officer}: not a payload file name`);
    else if (bytes === undefined) wrong.push(`${name}: missing`);
    else if (payloadOf !== null && !Buffer.from(bytes).equals(Buffer.from(payloadOf(a.until ?? ""))))
      wrong.push(`${name}: is not the approval payload of the request until=${a.until}`);
  }
  if (wrong.length > 0) return failure("approval_file", "approval_file_mismatch", wrong.join("; "));
  return pass(
    "approval_file",
    `${approvals.length} payload file${approvals.length === 1 ? "" : "s"}, each the approval payload ${payloadOf === null ? "evidence.json names" : "of the request"}`,
  );
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
