// What every `quorum-gate` command gets from the process: its streams, whether stdin is a
// terminal, and the version. A file of its own so that the router and the commands it loads both
// depend on it, and never on each other.
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly isTTY: boolean;
  readonly version: string;
}
