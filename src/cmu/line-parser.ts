// Turns one shell line into words and resolves the command name.
//
// Words are separated by blanks. A word that starts with `"` runs to the next `"`, so a path or a
// registerMofnPubKey match string may hold spaces; a quote anywhere else is an ordinary character
// (passwords may contain quotes). Command names follow CMU: a unique prefix works (`listU`).
// Exact case wins; a case-insensitive match is accepted when it is unambiguous, because typing
// `listusers` and getting "unknown command" helps nobody.

export const MAX_LINE_LENGTH = 64 * 1024;

export type TokenizeResult =
  | { readonly ok: true; readonly words: readonly string[] }
  | { readonly ok: false; readonly error: string };

export function tokenize(line: string): TokenizeResult {
  if (typeof line !== "string") return { ok: false, error: "input is not text" };
  if (line.length > MAX_LINE_LENGTH) return { ok: false, error: `line is longer than ${MAX_LINE_LENGTH} characters` };
  const words: string[] = [];
  let i = 0;
  const blank = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";
  while (i < line.length) {
    while (i < line.length && blank(line[i])) i++;
    if (i >= line.length) break;
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end === -1) return { ok: false, error: "unterminated quote" };
      if (end + 1 < line.length && !blank(line[end + 1]))
        return { ok: false, error: "a closing quote must be followed by a blank" };
      words.push(line.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    const start = i;
    while (i < line.length && !blank(line[i])) i++;
    words.push(line.slice(start, i));
  }
  return { ok: true, words };
}

export type ResolveResult =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly reason: "unknown" | "ambiguous"; readonly candidates: readonly string[] };

/** Finds the command `word` names among `names`: exact, then unique prefix, then the same ignoring case. */
export function resolveCommand(word: string, names: readonly string[]): ResolveResult {
  if (names.includes(word)) return { ok: true, name: word };
  const prefixed = names.filter((n) => n.startsWith(word));
  if (prefixed.length === 1 && prefixed[0] !== undefined) return { ok: true, name: prefixed[0] };
  if (prefixed.length > 1) return { ok: false, reason: "ambiguous", candidates: prefixed };
  const lower = word.toLowerCase();
  const exactFolded = names.filter((n) => n.toLowerCase() === lower);
  if (exactFolded.length === 1 && exactFolded[0] !== undefined) return { ok: true, name: exactFolded[0] };
  const folded = names.filter((n) => n.toLowerCase().startsWith(lower));
  if (folded.length === 1 && folded[0] !== undefined) return { ok: true, name: folded[0] };
  if (folded.length > 1) return { ok: false, reason: "ambiguous", candidates: folded };
  return { ok: false, reason: "unknown", candidates: [] };
}

export type ParsedLine =
  | { readonly kind: "empty" }
  | { readonly kind: "command"; readonly name: string; readonly args: readonly string[] }
  | { readonly kind: "error"; readonly message: string };

/** Tokenizes and resolves a whole line; never throws. */
export function parseLine(line: string, names: readonly string[]): ParsedLine {
  const tokens = tokenize(line);
  if (!tokens.ok) return { kind: "error", message: `cannot read the command: ${tokens.error}` };
  const [first, ...args] = tokens.words;
  if (first === undefined) return { kind: "empty" };
  if (first === "") return { kind: "error", message: "empty command name" };
  const resolved = resolveCommand(first, names);
  if (resolved.ok) return { kind: "command", name: resolved.name, args };
  if (resolved.reason === "ambiguous") {
    return { kind: "error", message: `ambiguous command '${first}': could be ${resolved.candidates.join(", ")}` };
  }
  return { kind: "error", message: `unknown command '${first}'; type 'help' for the list of commands` };
}
