// `quorum-gate cluster start`: creates the cluster on first use, runs its nodes in the foreground,
// and stops them on Ctrl-C / SIGTERM.
import { resolve } from "node:path";
import {
  DEFAULT_BASE_PORT,
  DEFAULT_DATA_DIR,
  MAX_NODES,
  startCluster,
  type RunningCluster,
} from "../cluster/cluster.ts";
import { hostPort } from "../node/loopback.ts";
import { parseCommandArgs } from "./args.ts";

export interface ClusterStartIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Stops the cluster when aborted; without it, SIGINT and SIGTERM do. */
  readonly signal?: AbortSignal;
}

const HELP = `Usage: quorum-gate cluster start [options]

Runs an emulated CloudHSM cluster on this machine, one process per node. The first start in a data
directory creates the cluster (each node begins unactivated, with PRECO admin / password, as a new
CloudHSM); later starts reuse it with all its state. Runs in the foreground until Ctrl-C.

Options:
  --nodes N        number of nodes (1-${MAX_NODES}; default 2; must match an existing cluster)
  --data DIR       data directory (default ${DEFAULT_DATA_DIR})
  --host H         address the nodes listen on (default 127.0.0.1). Any address other than
                   loopback turns TLS on: the nodes get certificates from a cluster CA
  --base-port P    node i listens on P+i (default ${DEFAULT_BASE_PORT}, like CloudHSM); 0 picks free ports
  --tls            use TLS even on loopback
  -h, --help       show this help

Clients find the nodes (and the CA, with TLS) in DIR/cluster.json.
`;

interface StartArgs {
  readonly nodes: number;
  readonly dataDir: string;
  readonly host: string;
  readonly basePort: number;
  readonly tls: boolean;
}

function parseStartArgs(argv: readonly string[]): StartArgs | "help" {
  const parsed = parseCommandArgs(
    argv,
    {
      nodes: { type: "string", default: "2" },
      data: { type: "string", default: DEFAULT_DATA_DIR },
      host: { type: "string", default: "127.0.0.1" },
      "base-port": { type: "string", default: String(DEFAULT_BASE_PORT) },
      tls: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    0,
    "cluster start takes no secrets",
  );
  if (!parsed.ok) throw new Error(parsed.message);
  const { values } = parsed;
  if (values.help) return "help";
  const nodes = intArg("--nodes", values.nodes, 1, MAX_NODES);
  const basePort = intArg("--base-port", values["base-port"], 0, 65535);
  if (basePort !== 0 && basePort + nodes - 1 > 65535)
    throw new Error(`--base-port ${basePort} leaves no room for ${nodes} nodes below 65536`);
  if (values.host === "") throw new Error("--host must not be empty");
  return { nodes, dataDir: resolve(values.data), host: values.host, basePort, tls: values.tls };
}

function intArg(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}, not "${text}"`);
  return n;
}

export async function runClusterStart(argv: readonly string[], io: ClusterStartIo): Promise<number> {
  let args: StartArgs | "help";
  try {
    args = parseStartArgs(argv);
  } catch (err) {
    io.stderr.write(
      `quorum-gate cluster start: ${(err as Error).message}\nRun 'quorum-gate cluster start --help' for the options.\n`,
    );
    return 2;
  }
  if (args === "help") {
    io.stdout.write(HELP);
    return 0;
  }

  let alive = args.nodes;
  let allDead: () => void = () => {};
  const everyNodeDied = new Promise<void>((res) => (allDead = res));
  let cluster: RunningCluster | undefined;
  try {
    cluster = await startCluster({
      dataDir: args.dataDir,
      nodes: args.nodes,
      host: args.host,
      basePort: args.basePort,
      tls: args.tls,
      onLog: (i, line) => io.stderr.write(`[server ${i}] ${line}\n`),
      onUnexpectedExit: (i, how) => {
        const node = cluster?.file.nodes[i];
        io.stderr.write(
          `server ${i}${node ? ` (${node.hsmId}, ${hostPort(node.host, node.port)})` : ""} stopped unexpectedly: ${how}\n`,
        );
        if (--alive === 0) allDead();
      },
    });
  } catch (err) {
    io.stderr.write(`quorum-gate cluster start: ${(err as Error).message}\n`);
    return 1;
  }

  const { info, file } = cluster;
  io.stdout.write(
    `${cluster.created ? "created" : "started"} cluster ${info.clusterId} (${info.nodes.length} nodes) in ${info.dataDir}\n`,
  );
  for (const n of file.nodes)
    io.stdout.write(
      `server ${n.index}: ${file.ca ? "https" : "http"}://${hostPort(n.host, n.port)}  ${n.hsmId}  Node:${n.nodeId}\n`,
    );
  io.stdout.write(`cluster file: ${cluster.clusterFilePath}\n`);
  if (file.ca) io.stdout.write("TLS is on: clients verify the nodes with the CA in the cluster file\n");
  io.stdout.write("running; press Ctrl-C to stop\n");

  const why = await waitForStop(io.signal, everyNodeDied);
  io.stdout.write(why === "nodes" ? "every node has stopped; exiting\n" : "stopping the nodes...\n");
  await cluster.stop();
  io.stdout.write("stopped\n");
  return why === "nodes" ? 1 : 0;
}

function waitForStop(signal: AbortSignal | undefined, everyNodeDied: Promise<void>): Promise<"asked" | "nodes"> {
  return new Promise((res) => {
    const asked = (): void => {
      cleanup();
      res("asked");
    };
    const cleanup = (): void => {
      process.off("SIGINT", asked);
      process.off("SIGTERM", asked);
      signal?.removeEventListener("abort", asked);
    };
    if (signal !== undefined) {
      if (signal.aborted) return asked();
      signal.addEventListener("abort", asked, { once: true });
    } else {
      process.once("SIGINT", asked);
      process.once("SIGTERM", asked);
    }
    void everyNodeDied.then(() => {
      cleanup();
      res("nodes");
    });
  });
}
