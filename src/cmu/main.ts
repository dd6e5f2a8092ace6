// `quorum-gate cmu --cluster FILE [--timeout-ms N]`: the cloudhsm_mgmt_util-compatible shell.
// Connects to every node of the cluster file (printing CMU's connecting lines), then runs the
// aws-cloudhsm> loop on stdin. Exit codes: 0 after quit, end of input, or when whoever reads the
// output goes away (EPIPE: the shell then stops asking, logs out and ends quietly); 1 when the
// cluster file cannot be used; 2 for bad command-line arguments.
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { readClusterFile } from "../cluster/cluster-file.ts";
import { createShellContext, type ShellContext } from "./context.ts";
import { createPrompter } from "./prompt.ts";
import { CONNECTING_HEADER, connectedLine, connectingLine } from "./render.ts";
import { callServer, closeServers, openServers, type Server } from "./session.ts";
import { runShell } from "./shell.ts";
import { DEFAULT_CLUSTER_FILE } from "../cluster/cluster-file.ts";

export interface CmuIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly isTTY: boolean;
}

/** Bounds of --timeout-ms: below 100 ms a busy but healthy node looks dead; above 2 minutes a dead one hangs the shell. */
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 120_000;
export const DEFAULT_TIMEOUT_MS = 10_000;

const HELP = `Usage: quorum-gate cmu [--cluster FILE] [--timeout-ms N]

The aws-cloudhsm> management shell (compatible with cloudhsm_mgmt_util). Every command runs on
each node of the cluster file in turn and reports per server. Type 'help' inside the shell.

Options:
  --cluster FILE    cluster file written by 'quorum-gate cluster start' (default ${DEFAULT_CLUSTER_FILE})
  --timeout-ms N    give up on a node that does not answer within N ms
                    (${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}, default ${DEFAULT_TIMEOUT_MS})
  -h, --help        show this help

With piped stdin the shell echoes each command and answer, so the output reads like a session.
`;

export async function runCmu(argv: readonly string[], io: CmuIo): Promise<number> {
  let values: { cluster?: string | undefined; "timeout-ms"?: string | undefined; help?: boolean | undefined };
  try {
    values = parseArgs({
      args: [...argv],
      options: { cluster: { type: "string" }, "timeout-ms": { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    io.stderr.write(`quorum-gate cmu: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  const timeoutText = values["timeout-ms"];
  if (timeoutText !== undefined) {
    timeoutMs = /^[0-9]{1,9}$/.test(timeoutText) ? Number.parseInt(timeoutText, 10) : Number.NaN;
    if (!(timeoutMs >= MIN_TIMEOUT_MS && timeoutMs <= MAX_TIMEOUT_MS)) {
      io.stderr.write(
        `quorum-gate cmu: --timeout-ms must be a whole number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}, got '${timeoutText}'\n`,
      );
      return 2;
    }
  }
  const clusterPath = values.cluster ?? DEFAULT_CLUSTER_FILE;
  const cluster = readClusterFile(clusterPath);
  if (!cluster.ok) {
    io.stderr.write(`quorum-gate cmu: ${cluster.error}\n`);
    return 1;
  }

  const servers = openServers(cluster.value.nodes, {
    ...(cluster.value.ca === undefined ? {} : { ca: cluster.value.ca }),
    timeoutMs,
  });
  // If the reader of our output goes away (`quorum-gate cmu | head`), stop asking: the shell then
  // ends as at end of input, logging out of every server, instead of dying on EPIPE.
  let prompter: ReturnType<typeof createPrompter> | null = null;
  const stdout = guardOutput(io.stdout, () => prompter?.close());
  io.stderr.on("error", () => {}); // nowhere left to report it
  prompter = createPrompter({ stdin: io.stdin, stdout, isTTY: io.isTTY });
  const ctx: ShellContext = createShellContext({
    allServers: servers,
    prompter,
    print: (...lines) => {
      for (const line of lines) stdout.write(`${line}\n`);
    },
    cwd: process.cwd(),
  });
  try {
    await connect(ctx, servers, cluster.value.clusterId);
    await runShell(ctx);
  } finally {
    prompter.close();
    closeServers(servers);
  }
  return 0;
}

/** CMU's start-up lines for each server; a node that does not answer stays listed and reports per command. */
async function connect(ctx: ShellContext, servers: readonly Server[], clusterId: string): Promise<void> {
  ctx.print(...CONNECTING_HEADER);
  for (const server of servers) {
    ctx.print(connectingLine(server.host, server.port));
    const hello = await callServer(server, "hello", {}, false);
    if (!hello.ok) {
      ctx.print(
        `Could not connect to server '${server.host}': hostname '${server.host}', port ${server.port}: ${hello.error.message}`,
      );
      continue;
    }
    ctx.print(connectedLine(server.host, server.port));
    if (hello.data.clusterId !== clusterId || hello.data.hsmId !== server.hsmId) {
      ctx.print(
        `Warning: server ${server.index} answers as ${hello.data.hsmId} of ${hello.data.clusterId}, but the cluster file lists ${server.hsmId} of ${clusterId}`,
      );
    }
  }
}

/**
 * Passes writes through to `out` until it fails (EPIPE when the reading end closed, or any other
 * write error); then calls `onClosed` once and drops everything written after.
 */
export function guardOutput(out: NodeJS.WritableStream, onClosed: () => void): Writable {
  let closed = false;
  const fail = (): void => {
    if (closed) return;
    closed = true;
    onClosed();
  };
  out.on("error", fail);
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (!closed) {
        try {
          out.write(chunk, (err?: Error | null) => {
            if (err) fail();
          });
        } catch {
          fail();
        }
      }
      done();
    },
  });
}
