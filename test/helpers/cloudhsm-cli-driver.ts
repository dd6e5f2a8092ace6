// Drives `quorum-gate cloudhsm-cli` as a program drives the real binary (docs/cloudhsm-cli.md,
// "Driving the shell from a program"): interactive mode through a pipe, one command at a time,
// framing each answer as the lines from `{` to the next `}` in column 0; or one process per
// command in single command mode.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { compileCacheEnv } from "./compile-cache.ts";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

export interface Answer {
  readonly error_code: number;
  readonly data: unknown;
}

export interface CliChild {
  /** Sends one line (and the answers to its prompts, such as the password) and waits for the envelope. */
  send(line: string, ...answers: string[]): Promise<Answer>;
  /** Writes lines without waiting (the answers to prompts that come after a file is written). */
  type(...lines: string[]): void;
  /** Waits until the shell prints `text` after the last answer read (a prompt, say). */
  waitFor(text: string): Promise<void>;
  /** The next envelope, after `type`. */
  answer(): Promise<Answer>;
  /** Everything the shell printed so far. */
  readonly transcript: () => string;
  close(): Promise<number | null>;
}

export function startInteractive(clusterFile: string, cwd: string): CliChild {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [CLI, "cloudhsm-cli", "--cluster", clusterFile, "interactive"],
    { cwd, stdio: "pipe" },
  );
  let out = "";
  let consumed = 0;
  let wake: (() => void) | null = null;
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString("utf8");
    wake?.();
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  async function nextEnvelope(): Promise<Answer> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rest = out.slice(consumed);
      const start = rest.search(/^\{$/m);
      const end = start === -1 ? -1 : rest.slice(start).search(/^\}$/m);
      if (start !== -1 && end !== -1) {
        const text = rest.slice(start, start + end + 1);
        consumed += start + end + 2;
        return JSON.parse(text) as Answer;
      }
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`no answer from the shell; it printed:\n${out}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }
  return {
    async send(line: string, ...answers: string[]) {
      child.stdin.write([line, ...answers].map((l) => `${l}\n`).join(""));
      return nextEnvelope();
    },
    type(...lines: string[]) {
      child.stdin.write(lines.map((l) => `${l}\n`).join(""));
    },
    async waitFor(text: string) {
      const deadline = Date.now() + 20_000;
      while (!out.slice(consumed).includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`the shell did not print ${JSON.stringify(text)}; it printed:\n${out}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
      }
    },
    answer: () => nextEnvelope(),
    transcript: () => out,
    async close() {
      child.stdin.end("quit\n");
      return exited;
    },
  };
}

/** Runs one command in single command mode; `env` adds CLOUDHSM_ROLE / CLOUDHSM_PIN. */
export function runSingle(
  clusterFile: string,
  cwd: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number; answer: Answer; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, "cloudhsm-cli", "--cluster", clusterFile, ...args],
      { cwd, env: { PATH: process.env["PATH"] ?? "", ...compileCacheEnv(), ...env }, timeout: 30_000 },
      (err, stdout) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        try {
          resolve({ code, answer: JSON.parse(stdout) as Answer, stdout });
        } catch {
          reject(new Error(`not one envelope (exit ${code}):\n${stdout}\n${err?.message ?? ""}`));
        }
      },
    );
  });
}
