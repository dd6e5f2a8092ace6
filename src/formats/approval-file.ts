// The CMU token approval file (`approveToken <file>`), docs/cloudhsm-behaviour.md, "The approval file"
//
// The vendor parser is line based and forgiving in odd ways, and users copy the AWS example, so we
// follow its rules rather than inventing a stricter grammar:
// - a field counts only when the line *starts* with its exact name (leading spaces break it);
// - every other line (comments, blanks, unknown keys) is ignored;
// - the value starts after any run of spaces, `:` or `=`, and ends at `;` or end of line, which
//   is why `Approver Type = 2; # 2 for CO, 1 for CU` works;
// - phase 1 reads the three header fields in any order (the `Token File Path` line is required
//   even when empty); phase 2 reads `Number of Approvals` blocks of three fields in any order.
// Bad input is returned as data with the vendor's message where one is known; nothing throws.
import { isAbsolute, resolve } from "node:path";
import { LIMITS } from "../hsm/model.ts";

export const APPROVER_TYPE_CU = 1;
export const APPROVER_TYPE_CO = 2;

export interface Approver {
  readonly approverType: 1 | 2;
  readonly approverName: string;
  /** As written in the file; see `resolveApprovalPaths`. */
  readonly approvalFile: string;
}

export interface ApprovalFile {
  readonly multiTokenFilePath: string;
  /** May be empty: the line is required, its value is not. */
  readonly tokenFilePath: string;
  readonly approvals: readonly Approver[];
}

export type ApprovalFileResult =
  | { readonly ok: true; readonly value: ApprovalFile }
  | { readonly ok: false; readonly error: string };

const MULTI_TOKEN = "Multi Token File Path";
const SINGLE_TOKEN = "Token File Path";
const COUNT = "Number of Approvals";
const HEADER_FIELDS = [MULTI_TOKEN, SINGLE_TOKEN, COUNT] as const;

const TYPE = "Approver Type";
const NAME = "Approver Name";
const FILE = "Approval File";
const APPROVER_FIELDS = [TYPE, NAME, FILE] as const;

/** Returns the field a line starts with, and its value, or null when the line is not one of `fields`. */
function matchField<F extends string>(line: string, fields: readonly F[]): { field: F; value: string } | null {
  for (const field of fields) {
    if (!line.startsWith(field)) continue;
    const rest = line.slice(field.length);
    // `Token File Path` must not match `Token File Pathx = ...`: the name ends at a separator.
    if (rest.length > 0 && !/^[ \t:=;]/.test(rest)) continue;
    const start = /^[ \t:=]*/.exec(rest)?.[0].length ?? 0;
    const semicolon = rest.indexOf(";", start);
    const raw = semicolon === -1 ? rest.slice(start) : rest.slice(start, semicolon);
    // Trailing blanks (and the \r of CRLF files) are not part of a path or a name.
    return { field, value: raw.replace(/[ \t\r]+$/, "") };
  }
  return null;
}

/** Decimal or 0x-hex, as the vendor's strtol(…, 0) accepts; the whole value must be a number. */
export function parseCount(value: string): number | null {
  if (/^[0-9]{1,9}$/.test(value)) return Number.parseInt(value, 10);
  if (/^0[xX][0-9a-fA-F]{1,8}$/.test(value)) return Number.parseInt(value.slice(2), 16);
  return null;
}

export function parseApprovalFile(text: string): ApprovalFileResult {
  if (typeof text !== "string") return { ok: false, error: "approval file is not text" };
  if (text.includes("\u0000")) return { ok: false, error: "approval file is not a text file" };
  const lines = text.split("\n");
  let index = 0;

  // Phase 1: the header.
  const header = new Map<string, string>();
  for (; index < lines.length && header.size < HEADER_FIELDS.length; index++) {
    const hit = matchField(lines[index] ?? "", HEADER_FIELDS);
    if (hit === null) continue;
    if (header.has(hit.field))
      return { ok: false, error: `line ${index + 1}: "${hit.field}" appears twice in the header` };
    header.set(hit.field, hit.value);
  }
  const missing = HEADER_FIELDS.filter((f) => !header.has(f));
  if (missing.length > 0)
    return {
      ok: false,
      error: `Failed to read token file details: missing ${missing.map((m) => `"${m}"`).join(", ")} line`,
    };

  const countText = header.get(COUNT) ?? "";
  const count = parseCount(countText);
  if (count === null) return { ok: false, error: `"${COUNT}" must be a decimal or 0x-hex number, got "${countText}"` };
  if (count > LIMITS.maxApprovals)
    return { ok: false, error: `number of approvals in the file is more than ${LIMITS.maxApprovals}` };
  if (count < 1) return { ok: false, error: "number of approvals must be at least 1" };

  const multiTokenFilePath = header.get(MULTI_TOKEN) ?? "";
  const tokenFilePath = header.get(SINGLE_TOKEN) ?? "";
  if (multiTokenFilePath === "" && tokenFilePath === "")
    return { ok: false, error: `no token file: "${MULTI_TOKEN}" is empty` };

  // Phase 2: `count` approver blocks of three fields each, in any order within a block.
  const approvals: Approver[] = [];
  let block = new Map<string, { value: string; line: number }>();
  for (; index < lines.length && approvals.length < count; index++) {
    const hit = matchField(lines[index] ?? "", APPROVER_FIELDS);
    if (hit === null) continue;
    if (block.has(hit.field))
      return {
        ok: false,
        error: `Failed to read Approver Details: line ${index + 1} repeats "${hit.field}" before approver ${approvals.length + 1} is complete`,
      };
    block.set(hit.field, { value: hit.value, line: index + 1 });
    if (block.size < APPROVER_FIELDS.length) continue;
    const approver = toApprover(block);
    if (typeof approver === "string") return { ok: false, error: approver };
    approvals.push(approver);
    block = new Map();
  }
  if (approvals.length < count)
    return { ok: false, error: `Could only read ${approvals.length}/${count} approvers info` };
  return { ok: true, value: { multiTokenFilePath, tokenFilePath, approvals } };
}

function toApprover(block: ReadonlyMap<string, { value: string; line: number }>): Approver | string {
  const typeText = block.get(TYPE)?.value ?? "";
  const approverName = block.get(NAME)?.value ?? "";
  const approvalFile = block.get(FILE)?.value ?? "";
  const type = parseCount(typeText);
  if (type === null)
    return `Failed to read Approver Details: "${TYPE}" must be a number, got "${typeText}" (line ${block.get(TYPE)?.line ?? 0})`;
  if (type !== APPROVER_TYPE_CU && type !== APPROVER_TYPE_CO) return `Invalid User Type ${type} for ${approverName}`;
  if (approverName === "")
    return `Failed to read Approver Details: empty "${NAME}" (line ${block.get(NAME)?.line ?? 0})`;
  if (approvalFile === "") return `Failed to read Approver Details: empty "${FILE}" for ${approverName}`;
  return { approverType: type, approverName, approvalFile };
}

/** Paths in the file are relative to the file's own directory, so a ceremony folder can move as a whole. */
export function resolveApprovalPaths(file: ApprovalFile, baseDir: string): ApprovalFile {
  const at = (p: string): string => (p === "" || isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    multiTokenFilePath: at(file.multiTokenFilePath),
    tokenFilePath: at(file.tokenFilePath),
    approvals: file.approvals.map((a) => ({ ...a, approvalFile: at(a.approvalFile) })),
  };
}

/** The token file approveToken sends: the multi-token file, or the single-token file when that is all there is. */
export function tokenPathOf(file: ApprovalFile): string {
  return file.multiTokenFilePath !== "" ? file.multiTokenFilePath : file.tokenFilePath;
}

/**
 * Renders an approval file that `parseApprovalFile` (and CMU) reads back, in the layout of the AWS
 * example: header, then one commented block per approver. Values must not hold `;` or newlines.
 */
export function renderApprovalFile(file: ApprovalFile): string {
  const lines = [
    "# Token approval file for approveToken.",
    "# The token file holds one token record per HSM (written by getToken).",
    '# The "Token File Path" line must be present even when it is empty.',
    `${MULTI_TOKEN} = ${file.multiTokenFilePath};`,
    `${SINGLE_TOKEN} = ${file.tokenFilePath};`,
    "",
    "# How many approver blocks follow",
    `${COUNT} = ${file.approvals.length};`,
  ];
  file.approvals.forEach((a, i) => {
    lines.push(
      "",
      `# Approver ${i + 1}: type, user name, and the file holding the signature`,
      `${TYPE} = ${a.approverType}; # 2 for CO, 1 for CU`,
      `${NAME} = ${a.approverName};`,
      `${FILE} = ${a.approvalFile};`,
    );
  });
  return `${lines.join("\n")}\n`;
}
