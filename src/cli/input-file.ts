// Reading a file a user named on the command line (a key, a token, a request, an approval file):
// bounded in size, so a wrong path to something huge fails at once, and every failure one sentence
// with the errno code, never a stack trace.
import { readFileSync, statSync } from "node:fs";
import { refuse, type Refusal } from "./refusal.ts";

export interface InputFileOptions {
  readonly maxBytes: number;
  /** The exit code for a file that is missing or unreadable (commands differ: usage error or not). */
  readonly unreadableExit: 1 | 2;
}

export function readInputFile(path: string, what: string, options: InputFileOptions): Buffer | Refusal {
  try {
    const size = statSync(path).size;
    if (size > options.maxBytes) return refuse(1, `${path} is ${size} bytes, too large for ${what}`);
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return refuse(
      options.unreadableExit,
      code === "ENOENT" ? `no ${what} at ${path}` : `cannot read ${what} ${path}: ${code ?? "error"}`,
    );
  }
}
