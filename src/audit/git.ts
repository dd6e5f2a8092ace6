// Git access for the offline audit: `git` subprocesses started with execFile/spawn (never a
// shell), bytes read from objects (binary-safe, never from the working tree), and one long-lived
// `git cat-file --batch` per run, so that reading thousands of small files costs one process
// rather than one per file.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

export interface GitRepo {
  /** The directory `git -C` runs in. */
  readonly dir: string;
}

export class GitError extends Error {
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.name = "GitError";
    this.stderr = stderr;
  }
}

/** Output of a whole history fits here; a log of 10,000 operations is a few MB. */
const MAX_OUTPUT_BYTES = 1024 * 1024 * 1024;

/** Runs `git -C dir <args>` and returns stdout as bytes; a non-zero exit is a GitError with git's message. */
export function runGit(repo: GitRepo, args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      ["-C", repo.dir, ...args],
      { encoding: "buffer", maxBuffer: MAX_OUTPUT_BYTES, env: gitEnv() },
      (err, stdout, stderr) => {
        if (err !== null) {
          const text = Buffer.from(stderr).toString("utf8").trim();
          const code = (err as NodeJS.ErrnoException).code;
          reject(
            new GitError(
              code === "ENOENT" ? "the git binary was not found on PATH" : text.split("\n")[0] || err.message,
              text,
            ),
          );
          return;
        }
        resolve(Buffer.from(stdout));
      },
    );
  });
}

/** Git in a fixed, predictable mode: no pager, no localisation of messages, no replace refs. */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_PAGER: "cat", LC_ALL: "C", GIT_NO_REPLACE_OBJECTS: "1", GIT_TERMINAL_PROMPT: "0" };
}

/** The repository at `dir`, or a sentence saying why it is not one. */
export async function openRepository(
  dir: string,
): Promise<{ readonly ok: true; readonly repo: GitRepo } | { readonly ok: false; readonly message: string }> {
  const repo = { dir };
  try {
    await runGit(repo, ["rev-parse", "--git-dir"]);
    return { ok: true, repo };
  } catch (err) {
    return {
      ok: false,
      message: err instanceof GitError ? `${dir} is not a git repository (${err.message})` : String(err),
    };
  }
}

/** The full object id of a revision (`HEAD`, a branch, a commit), or null when it names no commit. */
export async function resolveCommit(repo: GitRepo, rev: string): Promise<string | null> {
  if (rev.startsWith("-") || rev.includes("\n")) return null;
  try {
    return (
      (await runGit(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]))
        .toString("utf8")
        .trim() || null
    );
  } catch {
    return null;
  }
}

export interface GitObject {
  readonly oid: string;
  readonly type: string;
  readonly content: Buffer;
}

/**
 * One `git cat-file --batch` process: `read(oid)` (or any name git resolves, such as
 * `<commit>:<path>`) answers with the object, or null when there is none. Requests are pipelined: any number may be in flight, answered in order.
 */
export class ObjectReader {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #waiting: { resolve: (o: GitObject | null) => void; reject: (e: Error) => void }[] = [];
  #chunks: Buffer[] = [];
  #buffered = 0;
  #header: { oid: string; type: string; size: number } | null = null;
  #failed: Error | null = null;
  #pending: string[] = [];

  constructor(repo: GitRepo) {
    this.#proc = spawn("git", ["-C", repo.dir, "cat-file", "--batch"], {
      env: gitEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#proc.stdout.on("data", (chunk: Buffer) => this.#take(chunk));
    let stderr = "";
    this.#proc.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    this.#proc.on("error", (err) => this.#fail(new GitError(`git cat-file: ${err.message}`, "")));
    this.#proc.on("close", (code) => {
      if (this.#waiting.length > 0)
        this.#fail(new GitError(`git cat-file exited (${code ?? "signal"}) with requests pending`, stderr.trim()));
    });
    // Writes after an early exit must not crash the process; the pending reads are failed above.
    this.#proc.stdin.on("error", () => {});
  }

  read(spec: string): Promise<GitObject | null> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    // A name with a newline cannot be asked for on a line-based protocol, so it names nothing.
    if (spec.includes("\n")) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      // Names asked for in the same tick go to git in one write.
      if (this.#pending.length === 0) queueMicrotask(() => this.#flush());
      this.#pending.push(spec);
    });
  }

  #flush(): void {
    const names = this.#pending;
    this.#pending = [];
    if (names.length > 0) this.#proc.stdin.write(`${names.join("\n")}\n`);
  }

  close(): void {
    this.#proc.stdin.end();
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const w of this.#waiting.splice(0)) w.reject(err);
  }

  #take(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#header === null) {
        const data = this.#joined();
        const eol = data.indexOf(0x0a);
        if (eol < 0) return;
        const line = data.toString("utf8", 0, eol);
        this.#consume(eol + 1);
        if (line.endsWith(" missing") || line.endsWith(" ambiguous")) {
          this.#waiting.shift()?.resolve(null);
          continue;
        }
        const [oid, type, size] = line.split(" ");
        if (oid === undefined || type === undefined || size === undefined || !/^[0-9]+$/.test(size)) {
          this.#fail(new GitError(`git cat-file answered an unexpected line: ${line.slice(0, 200)}`, ""));
          this.#proc.kill();
          return;
        }
        this.#header = { oid, type, size: Number(size) };
      }
      const header = this.#header;
      // The content, then one newline.
      if (this.#buffered < header.size + 1) return;
      const data = this.#joined();
      const content = Buffer.from(data.subarray(0, header.size));
      this.#consume(header.size + 1);
      this.#header = null;
      this.#waiting.shift()?.resolve({ oid: header.oid, type: header.type, content });
    }
  }

  #joined(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  #consume(n: number): void {
    const data = this.#joined();
    const rest = data.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
  }
}
