// YAML in, a small plain tree out. Request and policy files are read with the `failsafe` schema,
// so every scalar stays the exact text that was written (no `yes` → true, no `007` → 7, no
// `1e3` → 1000); the parsers decide what a field means. Anchors, aliases and explicit tags are
// refused: they make a reviewed file mean something other than what it shows.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node as YNode } from "yaml";
import { issue, type GateIssue } from "./issues.ts";

export type YamlNode =
  | { readonly kind: "scalar"; readonly text: string; readonly line: number }
  | { readonly kind: "map"; readonly entries: ReadonlyMap<string, YamlEntry>; readonly line: number }
  | { readonly kind: "seq"; readonly items: readonly YamlNode[]; readonly line: number };

export interface YamlEntry {
  /** Line of the key. */
  readonly line: number;
  readonly value: YamlNode;
}

export type YamlTreeResult =
  | { readonly ok: true; readonly root: YamlNode }
  | { readonly ok: false; readonly issues: readonly GateIssue[] };

const MAX_DEPTH = 16;

/**
 * Decodes `bytes` as UTF-8 and parses one YAML document. Never throws: size, encoding and
 * syntax problems come back as issues with line numbers.
 */
export function parseYamlTree(bytes: Uint8Array, maxBytes: number, what: string): YamlTreeResult {
  if (bytes.byteLength > maxBytes)
    return fail(issue("too_large", "", `${what} is ${bytes.byteLength} bytes; the limit is ${maxBytes}`));
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail(issue("not_text", "", `${what} is not UTF-8 text`));
  }
  if (text.includes("\u0000")) return fail(issue("not_text", "", `${what} holds a NUL character`));
  const lines = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, {
      schema: "failsafe",
      lineCounter: lines,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
    });
  } catch {
    return fail(issue("invalid_yaml", "", `${what} could not be read as YAML`));
  }
  const lineAt = (offset: number | undefined): number => lines.linePos(offset ?? 0).line;
  const problems = [...doc.errors, ...doc.warnings].map((e) =>
    issue("invalid_yaml", "", yamlMessage(e.code, e.message), lineAt(e.pos[0])),
  );
  if (problems.length > 0) return { ok: false, issues: problems };
  const issues: GateIssue[] = [];
  const root = convert(doc.contents, "", 0, lineAt, issues);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, root };
}

function fail(i: GateIssue): YamlTreeResult {
  return { ok: false, issues: [i] };
}

/** The library's message, first line only: its pretty form quotes the source, which may hold a secret. */
function yamlMessage(code: string, message: string): string {
  const first = message.split("\n")[0] ?? "";
  return `not valid YAML (${code}): ${first.replace(/ at line \d+, column \d+.*$/, "")}`;
}

function convert(
  node: unknown,
  path: string,
  depth: number,
  lineAt: (offset: number | undefined) => number,
  issues: GateIssue[],
): YamlNode {
  if (node === null || node === undefined) return { kind: "scalar", text: "", line: 1 };
  const yn = node as YNode;
  const line = lineAt(yn.range?.[0]);
  const at = path === "" ? "the document" : path;
  if (depth > MAX_DEPTH) {
    issues.push(issue("invalid_yaml", path, `nested more than ${MAX_DEPTH} levels deep`, line));
    return { kind: "scalar", text: "", line };
  }
  if (isAlias(node) || ("anchor" in yn && yn.anchor !== undefined) || ("tag" in yn && yn.tag !== undefined)) {
    issues.push(
      issue("invalid_yaml", path, `${at} uses a YAML anchor, alias or tag; write the value out plainly`, line),
    );
    return { kind: "scalar", text: "", line };
  }
  if (isScalar(node)) {
    if (typeof node.value !== "string") {
      issues.push(issue("invalid_yaml", path, `${at} is not a plain text value`, line));
      return { kind: "scalar", text: "", line };
    }
    return { kind: "scalar", text: node.value, line };
  }
  if (isSeq(node)) {
    return {
      kind: "seq",
      items: node.items.map((item, i) => convert(item, `${path}[${i}]`, depth + 1, lineAt, issues)),
      line,
    };
  }
  if (isMap(node)) {
    const entries = new Map<string, YamlEntry>();
    for (const pair of node.items) {
      const keyNode = pair.key as YNode | null;
      const keyLine = lineAt(keyNode?.range?.[0]);
      if (
        !isScalar(keyNode) ||
        typeof keyNode.value !== "string" ||
        keyNode.tag !== undefined ||
        keyNode.anchor !== undefined
      ) {
        issues.push(issue("invalid_yaml", path, `${at} has a key that is not plain text`, keyLine));
        continue;
      }
      const key = keyNode.value;
      const child = path === "" ? key : `${path}.${key}`;
      const value =
        pair.value === null
          ? { kind: "scalar" as const, text: "", line: keyLine }
          : convert(pair.value, child, depth + 1, lineAt, issues);
      entries.set(key, { line: keyLine, value });
    }
    return { kind: "map", entries, line };
  }
  issues.push(issue("invalid_yaml", path, `${at} is not a value this file can hold`, line));
  return { kind: "scalar", text: "", line };
}
