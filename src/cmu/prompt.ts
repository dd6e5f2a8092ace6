// Reads answers for the shell, one line per question, from a terminal or from piped stdin.
//
// With a terminal, readline echoes what the user types. With piped stdin nothing is echoed, so we
// echo each answer after its prompt ourselves: a piped session then reads exactly like the seed
// transcripts (`aws-cloudhsm>getToken 3 officer1 officer1.token`, `Do you want to continue(y/n)?y`).
// Hidden answers (`-hpswd`) are never echoed in either mode.
// Lines are taken from the stream only when a question is asked, so a test (or a person) can write
// the next answer after seeing the prompt, e.g. after filling in the 2FA authdata file.
import { createInterface, type Interface } from "node:readline";
import { Writable } from "node:stream";

export interface Prompter {
  /** Writes `prompt`, waits for one line; null at end of input. */
  ask(prompt: string, options?: { readonly hidden?: boolean }): Promise<string | null>;
  /** True once the input has ended and every buffered line was read. */
  readonly ended: boolean;
  close(): void;
}

export interface PromptIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly isTTY: boolean;
}

export function createPrompter(io: PromptIo): Prompter {
  const queue: string[] = [];
  const waiters: ((line: string | null) => void)[] = [];
  let inputClosed = false;

  // On a terminal, readline writes the prompt and the echo through this gate, which we close while
  // a hidden answer is typed.
  let muted = false;
  const gate = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (!muted) io.stdout.write(chunk);
      done();
    },
  });

  const rl: Interface = io.isTTY
    ? createInterface({ input: io.stdin, output: gate, terminal: true })
    : createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });

  rl.on("line", (line: string) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  rl.on("close", () => {
    inputClosed = true;
    for (const waiter of waiters.splice(0)) waiter(null);
  });
  // A terminal's Ctrl-C ends the shell like EOF does, after the usual logout.
  rl.on("SIGINT", () => rl.close());

  function nextLine(): Promise<string | null> {
    const line = queue.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (inputClosed) return Promise.resolve(null);
    return new Promise((resolve) => waiters.push(resolve));
  }

  async function ask(prompt: string, options: { readonly hidden?: boolean } = {}): Promise<string | null> {
    const hidden = options.hidden === true;
    if (io.isTTY) {
      rl.setPrompt(prompt);
      rl.prompt();
      muted = hidden;
      const line = await nextLine();
      muted = false;
      if (hidden || line === null) io.stdout.write("\n");
      return line;
    }
    io.stdout.write(prompt);
    const line = await nextLine();
    io.stdout.write(line === null || hidden ? "\n" : `${line}\n`);
    return line;
  }

  return {
    ask,
    get ended() {
      return inputClosed && queue.length === 0;
    },
    close: () => rl.close(),
  };
}
