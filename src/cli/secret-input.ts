// Reading secrets (passwords, pass phrases) for the operator CLI: one line from piped stdin, or
// typed on a terminal without echo. Prompts go to stderr, so stdout stays clean for what a
// command prints (the approval comment of `sign` is meant to be piped). A secret is returned to
// the caller and never written anywhere by this module.
import { createInterface } from "node:readline";
import { Writable } from "node:stream";

/** A line longer than this is not a password; stop reading instead of buffering forever. */
export const MAX_SECRET_LINE_BYTES = 4096;

export type LineResult =
  | { readonly ok: true; readonly line: string }
  | { readonly ok: false; readonly reason: "empty" | "too_long" | "cancelled" };

/**
 * The first line of `stream` (without its `\n` or `\r\n`), or the whole input when it has no
 * newline. Stops reading after that line. `empty` when the input ends before any byte.
 */
export function readFirstLine(stream: NodeJS.ReadableStream, maxBytes = MAX_SECRET_LINE_BYTES): Promise<LineResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: LineResult): void => {
      if (settled) return;
      settled = true;
      stream.removeListener("data", onData);
      stream.removeListener("end", onEnd);
      stream.removeListener("error", onEnd);
      stream.pause();
      for (const c of chunks) c.fill(0); // best effort: the caller's string copy is what remains
      resolve(result);
    };
    const text = (): string => Buffer.concat(chunks).toString("utf8").replace(/\r$/, "");
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      const newline = bytes.indexOf(0x0a);
      const part = newline === -1 ? bytes : bytes.subarray(0, newline);
      size += part.length;
      if (size > maxBytes) {
        finish({ ok: false, reason: "too_long" });
        return;
      }
      chunks.push(part);
      if (newline !== -1) finish({ ok: true, line: text() });
    };
    const onEnd = (): void =>
      finish(size === 0 && chunks.length === 0 ? { ok: false, reason: "empty" } : { ok: true, line: text() });
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onEnd);
    stream.resume();
  });
}

export interface HiddenPrompter {
  /** Writes `prompt` to the error stream and reads one line without echo; null on end of input or Ctrl-C. */
  ask(prompt: string): Promise<string | null>;
  close(): void;
}

/**
 * Questions on a terminal whose answers are not echoed. readline in terminal mode echoes by
 * writing to its output, so that output is a gate we keep closed while the answer is typed.
 */
export function createHiddenPrompter(stdin: NodeJS.ReadableStream, stderr: NodeJS.WritableStream): HiddenPrompter {
  let muted = false;
  const gate = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (!muted) stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: stdin, output: gate, terminal: true });
  const queue: string[] = [];
  const waiters: ((line: string | null) => void)[] = [];
  let closed = false;
  rl.on("line", (line: string) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  rl.on("close", () => {
    closed = true;
    for (const waiter of waiters.splice(0)) waiter(null);
  });
  rl.on("SIGINT", () => rl.close());

  async function ask(prompt: string): Promise<string | null> {
    stderr.write(prompt);
    muted = true;
    const queued = queue.shift();
    const line =
      queued !== undefined
        ? queued
        : closed
          ? null
          : await new Promise<string | null>((resolve) => waiters.push(resolve));
    muted = false;
    stderr.write("\n");
    return line;
  }

  return { ask, close: () => rl.close() };
}

/**
 * The secret of a `--…-stdin` option: the first line of piped stdin, or, when stdin is a
 * terminal (someone typing it), one line read without echo after `prompt`.
 */
export async function readSecretLine(
  io: { readonly stdin: NodeJS.ReadableStream; readonly stderr: NodeJS.WritableStream; readonly isTTY: boolean },
  prompt: string,
): Promise<LineResult> {
  if (!io.isTTY) return readFirstLine(io.stdin);
  const prompter = createHiddenPrompter(io.stdin, io.stderr);
  const line = await prompter.ask(prompt);
  prompter.close();
  return line === null ? { ok: false, reason: "cancelled" } : { ok: true, line };
}
