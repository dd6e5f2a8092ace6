// What is wrong with a request or policy file, as data: a stable code for machines, a path into
// the file and a sentence for the person who wrote it. Parsers collect every issue they find
// instead of stopping at the first, so one push can fix them all.

/** Stable snake_case codes; adapters and tests match on these, never on the message. */
export const ISSUE_CODES = [
  "too_large",
  "not_text",
  "invalid_yaml",
  "wrong_type",
  "unknown_field",
  "missing_field",
  "unsupported_version",
  "bad_cluster",
  "unknown_operation",
  "bad_user_type",
  "bad_name",
  "plaintext_password",
  "bad_sealed_password",
  "bad_service",
  "bad_value",
  "bad_reason",
  "bad_login",
  "bad_folder",
  "bad_backend",
  "bad_boolean",
  "bad_lifetime",
  "bad_fingerprint",
  "bad_public_key",
  "missing_public_key",
  "backend_mismatch",
  "duplicate_login",
  "duplicate_officer",
  "no_officers",
  "too_many_officers",
  "bad_count",
  "bad_group",
  "unknown_group",
] as const;
export type IssueCode = (typeof ISSUE_CODES)[number];

export interface GateIssue {
  readonly code: IssueCode;
  /** Dotted path of the field, e.g. `operation.name`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the file, when known. */
  readonly line?: number;
}

export function issue(code: IssueCode, path: string, message: string, line?: number): GateIssue {
  return line === undefined ? { code, path, message } : { code, path, message, line };
}

/** `path: message (line n)`, for logs and the sticky comment. */
export function formatIssue(i: GateIssue): string {
  const where = i.path === "" ? "" : `${i.path}: `;
  const line = i.line === undefined ? "" : ` (line ${i.line})`;
  return `${where}${i.message}${line}`;
}

/** For sorting: a plaintext password first (it is already disclosed), then file order. */
export function byLine(a: GateIssue, b: GateIssue): number {
  const urgent = (i: GateIssue): number => (i.code === "plaintext_password" ? 0 : 1);
  return urgent(a) - urgent(b) || (a.line ?? 0) - (b.line ?? 0);
}
