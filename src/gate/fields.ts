// Reading the fields of one YAML mapping, collecting issues: shared by the request and policy
// parsers so both report unknown, missing and mistyped fields the same way.
import { issue, type GateIssue, type IssueCode } from "./issues.ts";
import type { YamlEntry, YamlNode } from "./yaml-tree.ts";

export interface Scalar {
  readonly text: string;
  readonly line: number;
  readonly path: string;
}

export interface Fields {
  readonly path: string;
  readonly line: number;
  /** The trimmed text of a scalar field; null (and an issue when `required`) when absent or empty. */
  scalar(key: string, required: boolean): Scalar | null;
  /** A nested mapping; null (and an issue when `required`) when absent. */
  map(key: string, required: boolean): Fields | null;
  /** The raw entry, for fields whose shape varies. */
  entry(key: string): YamlEntry | undefined;
  keys(): readonly string[];
  /** Reports every key not in `allowed`, except those `skip` says are reported elsewhere. */
  rejectUnknown(allowed: readonly string[], skip?: (key: string) => boolean): void;
  report(code: IssueCode, path: string, message: string, line?: number): void;
}

export function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Fields of `node`, or null after reporting `wrong_type` when it is not a mapping. */
export function fieldsOf(
  node: YamlNode,
  path: string,
  what: string,
  issues: GateIssue[],
  keyLine = node.line,
): Fields | null {
  if (node.kind !== "map") {
    issues.push(issue("wrong_type", path, `${what} must be a YAML mapping of "key: value" lines`, keyLine));
    return null;
  }
  const entries = node.entries;
  const self: Fields = {
    path,
    line: keyLine,
    scalar(key, required) {
      const e = entries.get(key);
      const p = join(path, key);
      if (e === undefined) {
        if (required) issues.push(issue("missing_field", p, `"${key}" is required`, keyLine));
        return null;
      }
      if (e.value.kind !== "scalar") {
        issues.push(
          issue(
            "wrong_type",
            p,
            `"${key}" must be a single value, not a ${e.value.kind === "map" ? "mapping" : "list"}`,
            e.line,
          ),
        );
        return null;
      }
      const text = e.value.text.trim();
      if (text === "") {
        if (required) issues.push(issue("missing_field", p, `"${key}" is empty`, e.line));
        return null;
      }
      return { text, line: e.line, path: p };
    },
    map(key, required) {
      const e = entries.get(key);
      const p = join(path, key);
      if (e === undefined) {
        if (required) issues.push(issue("missing_field", p, `"${key}" is required`, keyLine));
        return null;
      }
      return fieldsOf(e.value, p, `"${key}"`, issues, e.line);
    },
    entry: (key) => entries.get(key),
    keys: () => [...entries.keys()],
    rejectUnknown(allowed, skip) {
      for (const [key, e] of entries) {
        if (allowed.includes(key) || skip?.(key) === true) continue;
        const shown = JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
        issues.push(
          issue(
            "unknown_field",
            join(path, key),
            `unknown field ${shown}; allowed here: ${allowed.join(", ")}`,
            e.line,
          ),
        );
      }
    },
    report(code, p, message, line) {
      issues.push(issue(code, p, message, line));
    },
  };
  return self;
}

/** A decimal integer written as plain digits, or null. */
export function parseDecimal(text: string, maxDigits = 9): number | null {
  return new RegExp(`^[0-9]{1,${maxDigits}}$`).test(text) ? Number.parseInt(text, 10) : null;
}
