// The argument grammar of CloudHSM CLI commands: words, then `--flag value` pairs and boolean
// flags. Quoting follows a shell's basic rules (single and double quotes, backslash) so that an
// interactive line and a single-command argv read the same. Unknown flags are refused by name.

export type Flags = ReadonlyMap<string, string | true>;
export type ParsedLine =
  | { readonly ok: true; readonly words: readonly string[]; readonly flags: Flags }
  | { readonly ok: false; readonly message: string };

/** Splits an interactive line into arguments; null when a quote is not closed. */
export function splitLine(line: string): string[] | null {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) cur += line.charAt(++i);
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line.charAt(++i);
      has = true;
    } else if (c === " " || c === "\t") {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote !== null) return null;
  if (has) out.push(cur);
  return out;
}

/**
 * Splits arguments into the command words (before the first flag) and flags. `valued` flags take
 * the next argument; `booleans` take none; `between` are words allowed among the flags (login's
 * `mfa-token-sign`, which the real tool takes after `--username` and `--role`). Anything else is
 * an error naming the flag.
 */
export function parseFlags(
  args: readonly string[],
  valued: readonly string[],
  booleans: readonly string[] = [],
  between: readonly string[] = [],
): ParsedLine {
  const words: string[] = [];
  const flags = new Map<string, string | true>();
  let i = 0;
  for (; i < args.length && !(args[i] ?? "").startsWith("--"); i++) words.push(args[i] ?? "");
  for (; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (between.includes(arg) && !words.includes(arg)) {
      words.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) return { ok: false, message: `unexpected argument '${arg.slice(0, 40)}'` };
    const name = arg.slice(2);
    if (flags.has(name)) return { ok: false, message: `the argument '--${name}' was provided more than once` };
    if (booleans.includes(name)) {
      flags.set(name, true);
      continue;
    }
    if (!valued.includes(name)) return { ok: false, message: `unexpected argument '--${name.slice(0, 40)}' found` };
    const value = args[i + 1];
    if (value === undefined || value.startsWith("--"))
      return { ok: false, message: `a value is required for '--${name}'` };
    flags.set(name, value);
    i++;
  }
  return { ok: true, words, flags };
}

export function flag(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  return typeof v === "string" ? v : undefined;
}
