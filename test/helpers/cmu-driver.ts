// Drives the real shell (`node src/cli/main.ts cmu --cluster FILE`) as a child process with piped
// stdin, the way a person at a terminal would: it writes one line only after the shell has asked
// for it, so an answer can depend on what the shell printed (the 2FA authdata file must be filled
// in before `Enter filename:` is answered). Also: the seeds' openssl commands, and a check that a
// seed transcript's lines appear in order in the shell output.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { constants, createSign, privateEncrypt, type KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** Every question the shell can end its output with while waiting for a line. */
const PROMPTS = [
  "aws-cloudhsm>",
  "Do you want to continue(y/n)?",
  "Retry/Ignore/Abort?(R/I/A):",
  "Retry/rollBack/Ignore?(R/B/I):",
  "Enter filename:",
  "Enter password:",
  "Re-enter password:",
  "Enter PEM pass phrase:",
] as const;
export type Prompt = (typeof PROMPTS)[number];
const SHELL: Prompt = "aws-cloudhsm>";
/** Server mode's prompt (`server0>`) ends a command like the shell prompt; the driver reports it as SHELL. */
const SERVER_MODE_PROMPT = /server\d+>$/;

/** Where the prompt that `text` ends with starts, and which it is (server mode counts as SHELL). */
function endingPrompt(text: string): { readonly prompt: Prompt; readonly length: number } | null {
  const prompt = PROMPTS.find((p) => text.endsWith(p));
  if (prompt !== undefined) return { prompt, length: prompt.length };
  const mode = SERVER_MODE_PROMPT.exec(text);
  return mode === null ? null : { prompt: SHELL, length: mode[0].length };
}

/** An answer, or a function that prepares files and then gives the answer. */
export type Answer = string | (() => string | Promise<string>);

export interface CmuChild {
  /** All stdout so far. */
  output(): string;
  stderr(): string;
  /** Runs one command and answers its questions in order; returns the transcript of that command. */
  run(command: string, ...answers: Answer[]): Promise<string>;
  /** Runs one command and answers whatever it asks with `answer(prompt)`. */
  runAnswering(command: string, answer: (prompt: Prompt) => string): Promise<string>;
  /** quit, and the exit code. */
  quit(): Promise<number>;
  /** Closes stdin (EOF) and returns the exit code. */
  eof(): Promise<number>;
  /** Kills the child if it is still running. */
  kill(): void;
}

export async function startCmu(
  clusterFile: string,
  cwd: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<CmuChild> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      CLI,
      "cmu",
      "--cluster",
      clusterFile,
      ...(options.timeoutMs === undefined ? [] : ["--timeout-ms", String(options.timeoutMs)]),
    ],
    {
      cwd,
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  let exitCode: number | null = null;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number>((resolve) =>
    child.on("exit", (code, signal) => {
      exitCode = code ?? (signal === null ? -1 : 128);
      notify();
      resolve(exitCode);
    }),
  );

  /** Where the last shell prompt (aws-cloudhsm> or server mode's) began. */
  let shellPromptAt = 0;

  /** Waits until the output (past `from`) ends with a prompt; returns which. */
  function nextPrompt(from: number, timeoutMs = 30_000): Promise<Prompt> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const tail = out.slice(from);
        const ending = endingPrompt(tail);
        if (ending !== null) {
          if (ending.prompt === SHELL) shellPromptAt = out.length - ending.length;
          const prompt = ending.prompt;
          finish(() => resolve(prompt));
        } else if (exitCode !== null)
          finish(() =>
            reject(
              new Error(
                `the shell exited (${exitCode}) while a prompt was expected; output:\n${out.slice(-3000)}\nstderr:\n${err}`,
              ),
            ),
          );
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`no prompt within ${timeoutMs} ms; output so far:\n${out.slice(-3000)}\nstderr:\n${err}`)),
          ),
        timeoutMs,
      );
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        then();
      };
      listeners.add(check);
      check();
    });
  }

  let mark = 0;
  const first = await nextPrompt(0);
  assert.equal(first, SHELL, `the shell did not start with its prompt:\n${out}\n${err}`);
  mark = out.length;

  async function run(command: string, ...answers: Answer[]): Promise<string> {
    const start = shellPromptAt;
    child.stdin.write(`${command}\n`);
    let from = mark;
    for (const answer of answers) {
      // The echo of the previous line moves the output on; wait for the next question after it.
      const prompt = await nextPrompt(from + 1);
      if (prompt === SHELL) {
        mark = out.length; // keep later commands' transcripts clean
        throw new Error(`'${command}' finished before all answers were used; transcript:\n${out.slice(start)}`);
      }
      const line = typeof answer === "string" ? answer : await answer();
      from = out.length;
      child.stdin.write(`${line}\n`);
    }
    const last = await nextPrompt(from + 1);
    if (last !== SHELL)
      throw new Error(`'${command}' asked '${last}' but no answer was given; transcript:\n${out.slice(start)}`);
    const transcript = out.slice(start, shellPromptAt);
    mark = out.length;
    return transcript;
  }

  async function runAnswering(command: string, answer: (prompt: Prompt) => string): Promise<string> {
    const start = shellPromptAt;
    child.stdin.write(`${command}\n`);
    let from = mark;
    for (let asked = 0; ; asked++) {
      const prompt = await nextPrompt(from + 1);
      if (prompt === SHELL) break;
      if (asked > 50) throw new Error(`'${command}' keeps asking; transcript:\n${out.slice(start)}`);
      from = out.length;
      child.stdin.write(`${answer(prompt)}\n`);
    }
    const transcript = out.slice(start, shellPromptAt);
    mark = out.length;
    return transcript;
  }

  return {
    output: () => out,
    stderr: () => err,
    run,
    runAnswering,
    async quit() {
      child.stdin.write("quit\n");
      return exited;
    },
    async eof() {
      child.stdin.end();
      return exited;
    },
    kill() {
      if (exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Runs openssl as the seeds do, in `cwd`; throws with openssl's message on failure. */
export function openssl(cwd: string, ...args: string[]): Buffer {
  return execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a shell pipeline from the seeds verbatim (`openssl pkeyutl ... | base64`). */
export function sh(cwd: string, script: string): string {
  return execFileSync("sh", ["-c", script], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Makes seed text and shell output comparable: addresses differ, validity counts down. */
export function normalize(line: string): string {
  return line
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, "IP")
    .replace(/^Token Validity: \d+ sec$/, "Token Validity: N sec");
}

/** Asserts that `expected` lines occur in `output` in this order (other lines may come between). */
export function assertLinesInOrder(output: string, expected: readonly string[], label = "seed"): void {
  const lines = output.split("\n").map(normalize);
  let at = 0;
  for (const [i, want] of expected.map(normalize).entries()) {
    const found = lines.indexOf(want, at);
    if (found === -1) {
      assert.fail(
        `${label}: line ${i + 1} ${JSON.stringify(want)} not found in order after output line ${at + 1}.\n--- output from there:\n${lines.slice(Math.max(0, at - 3), at + 40).join("\n")}`,
      );
    }
    at = found + 1;
  }
}

/** The lines a command printed after its echo line, up to (not including) the next prompt. */
export function bodyOf(transcript: string): string[] {
  const lines = transcript.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(1);
}

/**
 * Fills in an authdata file the shell wrote (2FA), as an officer would with openssl pkeyutl, but
 * with node:crypto for speed: each Digest signed with `key`, and the public key when enrolling.
 */
export function fillAuthData(
  path: string,
  key: { readonly privateKey: KeyObject; readonly publicPem: string },
  withPublicKey: boolean,
): void {
  const doc = JSON.parse(readFileSync(path, "utf8")) as {
    Version: string;
    PublicKey: string;
    Data: { HsmId: string; Digest: string; Signature: string }[];
  };
  for (const entry of doc.Data) {
    const digest = Buffer.from(entry.Digest, "base64");
    entry.Signature = privateEncrypt(
      { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, digest]),
    ).toString("base64");
  }
  doc.PublicKey = withPublicKey ? key.publicPem : "";
  writeFileSync(path, JSON.stringify(doc, null, 4));
}

const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

/** `openssl dgst -sha256 -sign key -out sig file`, with node:crypto. */
export function signFile(dir: string, file: string, key: KeyObject, out: string): void {
  writeFileSync(
    join(dir, out),
    createSign("sha256")
      .update(readFileSync(join(dir, file)))
      .sign(key),
  );
}

/** The registration files of registerQuorumPubKey for `name`: NAME.reg, NAME.reg.sig, NAME.pub. */
export function writeRegistrationFiles(
  dir: string,
  name: string,
  key: { readonly privateKey: KeyObject; readonly publicPem: string },
): string {
  writeFileSync(join(dir, `${name}.reg`), "token to be signed\n");
  signFile(dir, `${name}.reg`, key.privateKey, `${name}.reg.sig`);
  writeFileSync(join(dir, `${name}.pub`), key.publicPem);
  return `${name}.reg ${name}.reg.sig ${name}.pub`;
}
