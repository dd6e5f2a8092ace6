// Argument parsing for commands that handle secrets (`request`, `sign`). It is node:util
// parseArgs in strict mode, with two differences in what it says about bad arguments:
//
// - an unexpected positional argument is never repeated back: it is what someone types when they
//   try `--password hunter2` or paste a pass phrase on the wrong line, and error messages end up
//   in terminals, CI logs and issue reports;
// - an option that looks like a way to pass a password gets an explanation instead of just
//   "unknown option": secrets are read from stdin or a terminal, never from argv.
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

export type ArgsResult<V> =
  | { readonly ok: true; readonly values: V; readonly positionals: readonly string[] }
  | { readonly ok: false; readonly message: string };

/** `--password`, `--pass`, `--passphrase`, `--pswd`, `--pin`... in any case, and `-p`. */
const SECRET_OPTION = /^(?:-p|--(?:pass|passwd|password|passphrase|pass-phrase|pswd|pin|secret)(?:$|=))/i;

const UNEXPECTED = "unexpected argument (not shown, in case it is a secret)";

export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: O,
  maxPositionals: number,
  /** How this command takes its secrets, e.g. "use --password-stdin or answer the prompt". */
  secretHint: string,
): ArgsResult<ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>>["values"]> {
  const secret = argv.find((a) => SECRET_OPTION.test(a));
  if (secret !== undefined) {
    const name = secret.split("=")[0] ?? secret;
    return {
      ok: false,
      message: `${name}: secrets are never taken as arguments (the shell history and the process list would keep them): ${secretHint}`,
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    // With positionals allowed, parseArgs only complains about options, and names only the option.
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  if (parsed.positionals.length > maxPositionals) return { ok: false, message: UNEXPECTED };
  return { ok: true, values: parsed.values, positionals: parsed.positionals };
}
