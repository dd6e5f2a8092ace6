// A real cluster for end-to-end tests: node processes on 127.0.0.1 and free ports, in a fresh
// temporary directory. Always pair it with `after(() => cluster.stop())`; stop() is idempotent,
// kills whatever still runs and removes the directory. Nodes also stop by themselves if the test
// process dies (they watch their stdin).
//
//   const cluster = await startTestCluster({ nodes: 2 });
//   after(() => cluster.stop());
//   const clients = cluster.endpoints.map((e) => createNodeClient(e));
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clusterEndpoints, type ClusterFile } from "../../src/cluster/cluster-file.ts";
import { startCluster } from "../../src/cluster/cluster.ts";
import type { NodeEndpoint } from "../../src/protocol/node-client.ts";

export interface TestCluster {
  readonly dataDir: string;
  /** Path of DIR/cluster.json, for the shell (`cmu --cluster <file>`). */
  readonly clusterFile: string;
  readonly file: ClusterFile;
  /** Per server index, with the CA when TLS is on. */
  readonly endpoints: readonly NodeEndpoint[];
  /** Every line the nodes wrote on stderr, prefixed with the server index. */
  readonly logs: readonly string[];
  /** Nodes that died without being asked to, as "index: how". */
  readonly crashes: readonly string[];
  /** Stops every node and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL one node (a crash) and wait until it is gone. */
  kill(index: number): Promise<void>;
  /** Start one node again on the same port, with its state. */
  restart(index: number): Promise<void>;
  /** Process id of a node, to crash it behind the cluster's back. */
  pid(index: number): number;
}

export async function startTestCluster(options: { nodes?: number; tls?: boolean } = {}): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), "qg-cluster-"));
  const logs: string[] = [];
  const crashes: string[] = [];
  let running;
  try {
    running = await startCluster({
      dataDir,
      nodes: options.nodes ?? 2,
      host: "127.0.0.1",
      basePort: 0,
      tls: options.tls ?? false,
      // A test that forgets stop() must not hang its file: the nodes die with the test process.
      unref: true,
      onLog: (i, line) => logs.push(`[server ${i}] ${line}`),
      onUnexpectedExit: (i, how) => crashes.push(`${i}: ${how}`),
    });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const cluster = running;
  let stopped: Promise<void> | undefined;
  return {
    dataDir,
    clusterFile: cluster.clusterFilePath,
    file: cluster.file,
    endpoints: clusterEndpoints(cluster.file),
    logs,
    crashes,
    stop() {
      stopped ??= cluster.stop().finally(() => rmSync(dataDir, { recursive: true, force: true }));
      return stopped;
    },
    kill: (index) => cluster.kill(index),
    restart: (index) => cluster.restart(index),
    pid: (index) => cluster.pid(index),
  };
}
