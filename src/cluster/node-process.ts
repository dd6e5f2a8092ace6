// One node as a child process (src/node/main.ts). The runner waits for its `listening` line to learn
// the real port, forwards its stderr line by line, and hears about it when it dies. The child
// watches its stdin, so it stops by itself if the runner is killed.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { NodeTlsFiles } from "./tls.ts";

const NODE_MAIN = fileURLToPath(new URL("../node/main.ts", import.meta.url));
const LISTENING = /^listening (.+):(\d+)$/;
const STDERR_TAIL = 20;

export interface NodeProcessSpec {
  readonly index: number;
  /**
   * When true, a running node does not keep this process's event loop alive. For test helpers:
   * a test that forgets to stop its cluster then ends anyway, and its nodes follow (their stdin
   * closes). Never for the foreground runner, which must stay up while its nodes run.
   */
  readonly unref?: boolean;
  readonly hsmId: string;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly tls: NodeTlsFiles | null;
}

export interface NodeProcessEvents {
  /** A line the node wrote on stderr. */
  readonly onLog?: (index: number, line: string) => void;
  /** The node died without being asked to. */
  readonly onUnexpectedExit?: (index: number, how: string) => void;
}

export interface RunningNode {
  readonly index: number;
  readonly pid: number;
  readonly port: number;
  /** Sends a signal and resolves once the process has exited. */
  stop(signal: NodeJS.Signals, graceMs?: number): Promise<void>;
  readonly exited: Promise<void>;
}

export function spawnNode(
  spec: NodeProcessSpec,
  events: NodeProcessEvents = {},
  readyTimeoutMs = 20_000,
): Promise<RunningNode> {
  const args = [NODE_MAIN, "--data", spec.dataDir, "--host", spec.host, "--port", String(spec.port), "--watch-stdin"];
  if (spec.tls !== null)
    args.push("--tls-cert", spec.tls.certPath, "--tls-key", spec.tls.keyPath, "--tls-ca", spec.tls.caPath);
  // Own process group: a Ctrl-C in the terminal reaches only the runner, which then stops the
  // nodes in order (and knows their exit is expected).
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
  const label = `node ${spec.index} (${spec.hsmId})`;
  const tail: string[] = [];
  let expectedExit = false;

  createInterface({ input: child.stderr! }).on("line", (line) => {
    tail.push(line);
    if (tail.length > STDERR_TAIL) tail.shift();
    events.onLog?.(spec.index, line);
  });
  // The runner never writes to the child's stdin; closing it is the child's cue to stop.
  child.stdin!.on("error", () => {});

  // 'close' rather than 'exit': it comes after the child's stdout and stderr are fully read.
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const describeExit = (code: number | null, signal: NodeJS.Signals | null): string =>
    signal !== null ? `killed by ${signal}` : `exit code ${code ?? "?"}`;

  return new Promise<RunningNode>((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      expectedExit = true;
      child.kill("SIGKILL");
      reject(new Error(`${label} did not report listening within ${readyTimeoutMs} ms${lastWords(tail)}`));
    }, readyTimeoutMs);

    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${label} could not be started: ${err.message}`));
    });

    child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (!ready) {
        reject(new Error(`${label} stopped before listening (${describeExit(code, signal)})${lastWords(tail)}`));
      } else if (!expectedExit) {
        events.onUnexpectedExit?.(spec.index, describeExit(code, signal));
      }
    });

    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = LISTENING.exec(line);
      if (ready || m === null || m[2] === undefined) return;
      ready = true;
      clearTimeout(timer);
      if (spec.unref === true) {
        child.unref();
        for (const stream of [child.stdin, child.stdout, child.stderr])
          (stream as unknown as { unref?: () => void } | null)?.unref?.();
      }
      resolve({
        index: spec.index,
        pid: child.pid!,
        port: Number(m[2]),
        exited,
        stop(signal, graceMs = 5000) {
          expectedExit = true;
          if (child.exitCode !== null || child.signalCode !== null) return exited;
          child.kill(signal);
          // A node that does not stop in time is killed: a runner must always be able to stop.
          const force = setTimeout(() => child.kill("SIGKILL"), graceMs);
          return exited.finally(() => clearTimeout(force));
        },
      });
    });
  });
}

function lastWords(tail: readonly string[]): string {
  return tail.length === 0 ? "" : `; its last output:\n  ${tail.join("\n  ")}`;
}
