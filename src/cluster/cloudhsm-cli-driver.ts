// The gate's driver of the `cloudhsm-cli` binary (Client SDK 5) on a real cluster
// (docs/real-cluster.md): one child process in interactive mode, logged in as the gate's own
// admin account, one command at a time, each answer framed as docs/cloudhsm-cli.md ("Driving the
// shell from a program") describes: the lines from a line `{` to the next line `}`.
//
// Why interactive mode and one long-lived process: an HSM token is valid only in the login
// session that generated it, so generating a token and running the approved command must happen
// in one session; single command mode would make each call a session of its own.
//
// Every outcome is data with a stable reason code; nothing here throws at its caller. The
// password goes to the child's stdin only after its `Enter password:` prompt, never on a command
// line, in the environment or in a message.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

export const CLI_FAILURE_REASONS = [
  /** The binary could not be started (missing, not executable). */
  "spawn_failed",
  /** No complete answer within the time allowed; the process is stopped, the session is gone. */
  "timeout",
  /** The framed answer is not a CloudHSM CLI envelope; the process is stopped (framing is lost). */
  "malformed_output",
  /** The process ended before answering; the session is gone. */
  "session_closed",
  /** The envelope's `error_code` is 1; `message` is its `data`. The session is still usable. */
  "command_failed",
  /** The login was refused; the process is stopped. */
  "login_failed",
  /** A word of the command cannot be sent on one line (a newline or NUL in it), or nothing to send. */
  "bad_command",
] as const;
export type CliFailureReason = (typeof CLI_FAILURE_REASONS)[number];

export type CliOutcome =
  | { readonly ok: true; readonly data: unknown }
  | { readonly ok: false; readonly reason: CliFailureReason; readonly message: string };

export interface CloudhsmCliOptions {
  /** The binary, e.g. /opt/cloudhsm/bin/cloudhsm-cli. */
  readonly binary: string;
  /** Words before `interactive`. */
  readonly args?: readonly string[];
  /** The gate's admin account (docs/real-cluster.md, "Prerequisites"). */
  readonly credentials: { readonly userName: string; readonly password: string };
  /** Working directory: where relative token and approval file names land. */
  readonly cwd?: string;
  /** How long one command may take, login included; default 30 s. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface CloudhsmCliSession {
  /**
   * Runs one command (its words, quoted here as the shell needs) and returns its envelope as data.
   * `secrets` answer the command's password prompts (`Enter password:`, `Confirm password:`) in
   * order, so that a password never stands on a command line.
   */
  run(words: readonly string[], options?: { readonly secrets?: readonly string[] }): Promise<CliOutcome>;
  /** False once the process has ended or been stopped: the login session, and its tokens, are gone. */
  readonly alive: () => boolean;
  /** Logs out, leaves the shell and waits for the process; stops it if it does not leave in time. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** The prompts of a command that sets a password, as the shell writes them. */
const PASSWORD_PROMPT = /^(?:Enter|Confirm) password:/m;
/** What a failure message may quote of the shell's output: enough to diagnose, never a transcript. */
const QUOTE_LIMIT = 200;

/** Starts the shell and logs in. On failure the process is already stopped. */
export async function openCloudhsmCliSession(
  options: CloudhsmCliOptions,
): Promise<
  | { readonly ok: true; readonly session: CloudhsmCliSession }
  | { readonly ok: false; readonly reason: CliFailureReason; readonly message: string }
> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const user = options.credentials.userName;
  if (!isSendable(user) || !isSendable(options.credentials.password))
    return { ok: false, reason: "bad_command", message: "the gate's user name and password must be one line each" };
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(options.binary, [...(options.args ?? []), "interactive"], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: "pipe",
    });
  } catch (err) {
    return {
      ok: false,
      reason: "spawn_failed",
      message: `cannot start ${options.binary}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    };
  }
  const pipe = new Pipe(child);
  const started = await pipe.started;
  if (started !== null)
    return { ok: false, reason: "spawn_failed", message: `cannot start ${options.binary}: ${started}` };

  child.stdin.write(`login --username ${quoteWord(user)} --role admin\n`);
  const asked = await pipe.waitFor(/^Enter password:/m, timeoutMs);
  if (!asked.ok) {
    await pipe.stop();
    return asked;
  }
  child.stdin.write(`${options.credentials.password}\n`);
  const login = await pipe.nextEnvelope(timeoutMs);
  if (!login.ok) {
    await pipe.stop();
    return login.reason === "command_failed"
      ? { ok: false, reason: "login_failed", message: `login as ${user} refused: ${login.message}` }
      : login;
  }
  let loggedIn = true;
  let queue: Promise<unknown> = Promise.resolve();
  const session: CloudhsmCliSession = {
    run(words, runOptions = {}) {
      const secrets = runOptions.secrets ?? [];
      // One command at a time: answers are framed in order, so a second caller waits its turn.
      const next = queue.then(async (): Promise<CliOutcome> => {
        if (words.length === 0 || !words.every(isSendable))
          return { ok: false, reason: "bad_command", message: "a command is one or more words without newlines" };
        if (!secrets.every(isSendable)) return { ok: false, reason: "bad_command", message: "a password is one line" };
        if (!pipe.alive()) return { ok: false, reason: "session_closed", message: pipe.exitDescription() };
        child.stdin.write(`${words.map(quoteWord).join(" ")}\n`);
        // Each prompt gets its secret; a command that answers before prompting (bad arguments,
        // say) leaves the rest unsent.
        for (const secret of secrets) {
          const asked = await pipe.waitForPrompt(PASSWORD_PROMPT, timeoutMs);
          if (asked === "answered") break;
          if (asked !== "prompted") {
            await pipe.stop();
            return asked;
          }
          child.stdin.write(`${secret}\n`);
        }
        const answer = await pipe.nextEnvelope(timeoutMs);
        if (!answer.ok && answer.reason !== "command_failed") await pipe.stop();
        return answer;
      });
      queue = next;
      return next;
    },
    alive: () => pipe.alive(),
    async close() {
      await queue;
      if (pipe.alive() && loggedIn) {
        loggedIn = false;
        child.stdin.write("logout\n");
        await pipe.nextEnvelope(timeoutMs);
      }
      if (pipe.alive()) {
        child.stdin.end("quit\n");
        if (!(await pipe.exitedWithin(timeoutMs))) await pipe.stop();
      }
    },
  };
  return { ok: true, session };
}

/** The child's output as a stream of framed answers. */
class Pipe {
  readonly started: Promise<string | null>;
  private out = "";
  private consumed = 0;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exitPromise: Promise<void>;
  private waiters: (() => void)[] = [];
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    child.stdout.on("data", (c: Buffer) => {
      this.out += c.toString("utf8");
      this.wake();
    });
    // Stderr holds the shell's human lines (warnings); it is not part of any answer.
    child.stderr.resume();
    // A write after the child has gone fails with EPIPE, and a late error event must not crash
    // the gate: the exit is what reports it.
    child.on("error", () => undefined);
    child.stdin.on("error", () => undefined);
    this.started = new Promise((resolve) => {
      child.once("spawn", () => resolve(null));
      child.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    this.exitPromise = new Promise((resolve) =>
      child.once("close", (code, signal) => {
        this.exited = { code, signal };
        this.wake();
        resolve();
      }),
    );
  }

  alive(): boolean {
    return this.exited === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  exitDescription(): string {
    const e = this.exited;
    return e === null
      ? "the shell has stopped"
      : e.signal !== null
        ? `the shell was stopped by ${e.signal}`
        : `the shell exited with status ${e.code}`;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private wait(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async waitFor(
    pattern: RegExp,
    timeoutMs: number,
  ): Promise<
    { readonly ok: true } | { readonly ok: false; readonly reason: CliFailureReason; readonly message: string }
  > {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.out.slice(this.consumed);
      const m = pattern.exec(rest);
      if (m !== null) {
        this.consumed += m.index + m[0].length;
        return { ok: true };
      }
      if (this.exited !== null) return { ok: false, reason: "session_closed", message: this.exitDescription() };
      if (Date.now() >= deadline)
        return { ok: false, reason: "timeout", message: `no prompt from the shell within ${timeoutMs} ms` };
      await this.wait(deadline);
    }
  }

  /**
   * Waits for `prompt` (consumed) or for the start of an answer (left for `nextEnvelope`),
   * whichever the shell writes first.
   */
  async waitForPrompt(
    prompt: RegExp,
    timeoutMs: number,
  ): Promise<
    "prompted" | "answered" | { readonly ok: false; readonly reason: CliFailureReason; readonly message: string }
  > {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.out.slice(this.consumed);
      const m = prompt.exec(rest);
      const envelope = rest.search(/^\{$/m);
      if (m !== null && (envelope === -1 || m.index < envelope)) {
        this.consumed += m.index + m[0].length;
        return "prompted";
      }
      if (envelope !== -1) return "answered";
      if (this.exited !== null) return { ok: false, reason: "session_closed", message: this.exitDescription() };
      if (Date.now() >= deadline)
        return { ok: false, reason: "timeout", message: `no prompt from the shell within ${timeoutMs} ms` };
      await this.wait(deadline);
    }
  }

  async nextEnvelope(timeoutMs: number): Promise<CliOutcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.out.slice(this.consumed);
      const start = rest.search(/^\{$/m);
      const end = start === -1 ? -1 : rest.slice(start).search(/^\}$/m);
      if (start !== -1 && end !== -1) {
        const text = rest.slice(start, start + end + 1);
        this.consumed += start + end + 1;
        return parseEnvelope(text);
      }
      if (this.exited !== null)
        return { ok: false, reason: "session_closed", message: `${this.exitDescription()} before answering` };
      if (Date.now() >= deadline)
        return { ok: false, reason: "timeout", message: `no answer from the shell within ${timeoutMs} ms` };
      await this.wait(deadline);
    }
  }

  async exitedWithin(timeoutMs: number): Promise<boolean> {
    if (this.exited !== null) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([this.exitPromise.then(() => true), timedOut]);
    clearTimeout(timer);
    return done;
  }

  /** Stops the process (the login session with it) and waits for it to be gone. */
  async stop(): Promise<void> {
    if (this.exited !== null) return;
    this.child.stdin.destroy();
    this.child.kill("SIGKILL");
    await this.exitPromise;
  }
}

/** An envelope is `{"error_code": 0, "data": ...}` or `{"error_code": 1, "data": "<message>"}` (docs/cloudhsm-cli.md, "Output"). */
export function parseEnvelope(text: string): CliOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {
      ok: false,
      reason: "malformed_output",
      message: `the shell's answer is not JSON: ${text.slice(0, QUOTE_LIMIT)}`,
    };
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    Array.isArray(parsed) ||
    !("error_code" in parsed) ||
    !("data" in parsed)
  ) {
    return {
      ok: false,
      reason: "malformed_output",
      message: `the shell's answer is not an envelope: ${text.slice(0, QUOTE_LIMIT)}`,
    };
  }
  const e = parsed as { error_code: unknown; data: unknown };
  if (e.error_code === 0) return { ok: true, data: e.data };
  if (e.error_code === 1)
    return {
      ok: false,
      reason: "command_failed",
      message: typeof e.data === "string" ? e.data : JSON.stringify(e.data).slice(0, QUOTE_LIMIT),
    };
  return {
    ok: false,
    reason: "malformed_output",
    message: `the shell's answer has error_code ${JSON.stringify(e.error_code).slice(0, 20)}`,
  };
}

function isSendable(word: string): boolean {
  return !/[\r\n\0]/.test(word);
}

/** Quotes a word for the shell's line grammar (single quotes; a single quote inside goes in double quotes). */
export function quoteWord(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return word
    .split("'")
    .map((part) => `'${part}'`)
    .join(`"'"`);
}
