// `quorum-gate cmu --cluster FILE [--timeout-ms N]`: the cloudhsm_mgmt_util-compatible shell.
// Connects to every node of the cluster file (printing CMU's connecting lines), then runs the
// aws-cloudhsm> loop on stdin. Exit codes: 0 after quit or end of input, 1 when the cluster file
// cannot be used, 2 for bad command-line arguments.
import { parseArgs } from "node:util";
import { readClusterFile } from "../cluster/cluster-file.ts";
import type { ShellContext } from "./context.ts";
import { createPrompter } from "./prompt.ts";
import { CONNECTING_HEADER, connectedLine, connectingLine } from "./render.ts";
import { callServer, closeServers, openServers, type Server } from "./session.ts";
import { runShell } from "./shell.ts";

export interface CmuIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly isTTY: boolean;
}

export const DEFAULT_CLUSTER_FILE = ".data/cluster/cluster.json";

const HELP = `Usage: quorum-gate cmu [--cluster FILE] [--timeout-ms N]

The aws-cloudhsm> management shell (compatible with cloudhsm_mgmt_util). Every command runs on
each node of the cluster file in turn and reports per server. Type 'help' inside the shell.

Options:
  --cluster FILE    cluster file written by 'quorum-gate cluster start' (default ${DEFAULT_CLUSTER_FILE})
  --timeout-ms N    give up on a node that does not answer within N ms (default 10000)
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
  let timeoutMs: number | undefined;
  const timeoutText = values["timeout-ms"];
  if (timeoutText !== undefined) {
    timeoutMs = /^[0-9]{1,7}$/.test(timeoutText) ? Number.parseInt(timeoutText, 10) : Number.NaN;
    if (!(timeoutMs >= 1)) {
      io.stderr.write(`quorum-gate cmu: --timeout-ms must be a whole number of milliseconds (1 to 9999999), got '${timeoutText}'\n`);
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
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const prompter = createPrompter(io);
  const ctx: ShellContext = {
    servers,
    prompter,
    print: (...lines) => {
      for (const line of lines) io.stdout.write(`${line}\n`);
    },
    cwd: process.cwd(),
  };
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
      ctx.print(`Could not connect to server '${server.host}': hostname '${server.host}', port ${server.port}: ${hello.error.message}`);
      continue;
    }
    ctx.print(connectedLine(server.host, server.port));
    if (hello.data.clusterId !== clusterId || hello.data.hsmId !== server.hsmId) {
      ctx.print(`Warning: server ${server.index} answers as ${hello.data.hsmId} of ${hello.data.clusterId}, but the cluster file lists ${server.hsmId} of ${clusterId}`);
    }
  }
}
