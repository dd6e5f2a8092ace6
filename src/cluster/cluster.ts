// An emulated CloudHSM cluster on this machine: N independent nodes, each a child process with its
// own SQLite database under DIR/node-<i>/hsm.db, sharing only the cluster id and the password
// sealing key (as real HSMs of one cluster share a cluster certificate, not state).
//
//   DIR/layout.json      written last when the cluster is created: its presence means "complete"
//   DIR/node-<i>/hsm.db  one node's state
//   DIR/tls/             CA and node certificates, when the nodes speak TLS
//   DIR/cluster.json     where the nodes listen now (see cluster-file.ts), written at each start
//   DIR/runner.pid       held while a runner serves this directory
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_CORE_CONFIG } from "../hsm/context.ts";
import type { Env } from "../hsm/env.ts";
import { initNode } from "../hsm/init.ts";
import { isLoopbackHost } from "../node/loopback.ts";
import { createNodeDatabase, NODE_DB_FILE, openNodeDatabase } from "../node/sqlite-repository.ts";
import { systemEnv } from "../node/system-env.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { CLUSTER_FILE, writeClusterFile, type ClusterFile } from "./cluster-file.ts";
import { spawnNode, type NodeProcessEvents, type RunningNode } from "./node-process.ts";
import { acquireRunnerLock } from "./runner-lock.ts";
import { ensureClusterTls, type NodeTlsFiles } from "./tls.ts";

export { CLUSTER_FILE, DEFAULT_CLUSTER_FILE, DEFAULT_DATA_DIR } from "./cluster-file.ts";
export const LAYOUT_FILE = "layout.json";
/** A token file holds at most 32 records, one per node (docs/cloudhsm-behaviour.md, "The approval file"). */
export const MAX_NODES = 32;
export const DEFAULT_BASE_PORT = 2225;

export interface ClusterNodeInfo {
  readonly index: number;
  readonly hsmId: string;
  readonly nodeId: number;
  readonly dir: string;
}

export interface ClusterInfo {
  readonly dataDir: string;
  readonly clusterId: string;
  readonly nodes: readonly ClusterNodeInfo[];
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** `count` random lowercase base32 characters (256 is a multiple of 32: no bias). */
function base32(count: number): string {
  return [...randomBytes(count)].map((b) => BASE32[b % 32]).join("");
}

export const nodeDir = (dataDir: string, index: number): string => join(dataDir, `node-${index}`);

/**
 * Creates a brand-new cluster in `dataDir` (which may exist but must not hold a cluster): a random
 * cluster id, one RSA-2048 sealing key pair shared by all nodes, and per node a seeded database.
 * Node ids count down (N-1-index), so on a 2-node cluster server 0 shows `Node:1` as in the docs.
 */
export function createCluster(dataDir: string, nodes: number, env: Env = systemEnv): ClusterInfo {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES)
    throw new Error(`a cluster has 1 to ${MAX_NODES} nodes, not ${nodes}`);
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(join(dir, LAYOUT_FILE))) throw new Error(`${dir} already holds a cluster`);
  const leftovers = readdirSync(dir).filter((name) => /^node-\d+$/.test(name));
  if (leftovers.length > 0) {
    throw new Error(
      `${dir} holds node directories (${leftovers.join(", ")}) but no complete cluster; remove them or choose another directory`,
    );
  }

  const clusterId = `cluster-${base32(11)}`;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const hsmIds = new Set<string>();
  while (hsmIds.size < nodes) hsmIds.add(`hsm-${base32(11)}`);

  const infos = [...hsmIds].map(
    (hsmId, index): ClusterNodeInfo => ({ index, hsmId, nodeId: nodes - 1 - index, dir: nodeDir(dir, index) }),
  );
  for (const node of infos) {
    mkdirSync(node.dir, { mode: 0o700 });
    const repo = createNodeDatabase(
      join(node.dir, NODE_DB_FILE),
      { clusterId, nodeId: node.nodeId, hsmId: node.hsmId, sealingPublicKeyPem: publicKey },
      privateKey,
    );
    try {
      repo.transaction(() => initNode({ repo, env, config: DEFAULT_CORE_CONFIG }));
    } finally {
      repo.close();
    }
  }
  writeFileAtomic(join(dir, LAYOUT_FILE), `${JSON.stringify({ version: 1, clusterId, nodes })}\n`);
  return { dataDir: dir, clusterId, nodes: infos };
}

/** Reads an existing cluster back from its node databases; null when `dataDir` holds none. */
export function loadCluster(dataDir: string): ClusterInfo | null {
  const dir = resolve(dataDir);
  const layoutPath = join(dir, LAYOUT_FILE);
  if (!existsSync(layoutPath)) return null;
  let layout: { clusterId?: unknown; nodes?: unknown };
  try {
    layout = JSON.parse(readFileSync(layoutPath, "utf8")) as typeof layout;
  } catch {
    throw new Error(`${layoutPath} is not valid JSON`);
  }
  const count = layout.nodes;
  if (typeof layout.clusterId !== "string" || typeof count !== "number" || !Number.isInteger(count) || count < 1)
    throw new Error(`${layoutPath} is damaged`);
  const nodes: ClusterNodeInfo[] = [];
  for (let index = 0; index < count; index++) {
    const ndir = nodeDir(dir, index);
    const repo = openNodeDatabase(join(ndir, NODE_DB_FILE));
    try {
      const id = repo.identity();
      if (id.clusterId !== layout.clusterId)
        throw new Error(`${ndir} belongs to ${id.clusterId}, not to ${layout.clusterId}`);
      nodes.push({ index, hsmId: id.hsmId, nodeId: id.nodeId, dir: ndir });
    } finally {
      repo.close();
    }
  }
  return { dataDir: dir, clusterId: layout.clusterId, nodes };
}

export interface StartClusterOptions extends NodeProcessEvents {
  readonly dataDir: string;
  readonly nodes: number;
  readonly host: string;
  /** Node i listens on basePort + i; 0 lets every node pick a free port. */
  readonly basePort: number;
  /** Speak TLS even on loopback (TLS is always on for any other address). */
  readonly tls?: boolean;
  /** Nodes do not keep this process alive (test helpers; see NodeProcessSpec.unref). */
  readonly unref?: boolean;
}

export interface RunningCluster {
  readonly info: ClusterInfo;
  readonly created: boolean;
  readonly clusterFilePath: string;
  readonly file: ClusterFile;
  /** SIGTERM to every node, then waits for all of them (SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** SIGKILL one node and wait until it is gone (a crash, for tests). */
  kill(index: number): Promise<void>;
  /** Starts one node again on the same port (stopping it first if it still runs). */
  restart(index: number): Promise<void>;
  /** Process id of a node (the last one started for that index). */
  pid(index: number): number;
}

/** Creates the cluster on first use, then runs one child process per node. */
export async function startCluster(options: StartClusterOptions): Promise<RunningCluster> {
  const { host } = options;
  if (options.basePort !== 0 && options.basePort + options.nodes - 1 > 65535)
    throw new Error(`ports ${options.basePort}..${options.basePort + options.nodes - 1} do not fit below 65536`);
  const dir = resolve(options.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = acquireRunnerLock(dir);
  const running: (RunningNode | null)[] = [];
  try {
    const existing = loadCluster(dir);
    if (existing !== null && existing.nodes.length !== options.nodes) {
      throw new Error(
        `${dir} holds a cluster of ${existing.nodes.length} nodes, not ${options.nodes}; use --nodes ${existing.nodes.length} or another data directory`,
      );
    }
    const info = existing ?? createCluster(dir, options.nodes);
    const useTls = options.tls === true || !isLoopbackHost(host);
    const tls = useTls
      ? ensureClusterTls(
          dir,
          info.clusterId,
          info.nodes.map((n) => ({ host, hsmId: n.hsmId })),
        )
      : null;
    const tlsFor = (i: number): NodeTlsFiles | null => tls?.nodes[i] ?? null;
    const events: NodeProcessEvents = {
      ...(options.onLog ? { onLog: options.onLog } : {}),
      ...(options.onUnexpectedExit ? { onUnexpectedExit: options.onUnexpectedExit } : {}),
    };
    const spawnAt = (n: ClusterNodeInfo, port: number): Promise<RunningNode> =>
      spawnNode(
        {
          index: n.index,
          hsmId: n.hsmId,
          dataDir: n.dir,
          host,
          port,
          tls: tlsFor(n.index),
          unref: options.unref === true,
        },
        events,
      );

    const started = await Promise.allSettled(
      info.nodes.map((n) => spawnAt(n, options.basePort === 0 ? 0 : options.basePort + n.index)),
    );
    for (const s of started) running.push(s.status === "fulfilled" ? s.value : null);
    const failures = started.flatMap((s) => (s.status === "rejected" ? [(s.reason as Error).message] : []));
    if (failures.length > 0) throw new Error(failures.join("\n"));

    const ports = running.map((r) => r!.port);
    const file: ClusterFile = {
      version: 1,
      clusterId: info.clusterId,
      nodes: info.nodes.map((n) => ({ index: n.index, host, port: ports[n.index]!, hsmId: n.hsmId, nodeId: n.nodeId })),
      ...(tls ? { ca: tls.caPem } : {}),
    };
    const clusterFilePath = join(dir, CLUSTER_FILE);
    writeClusterFile(clusterFilePath, file);

    const nodeAt = (index: number): ClusterNodeInfo => {
      const n = info.nodes[index];
      if (n === undefined) throw new Error(`no node ${index} in a cluster of ${info.nodes.length}`);
      return n;
    };
    let stopping: Promise<void> | undefined;
    return {
      info,
      created: existing === null,
      clusterFilePath,
      file,
      stop() {
        stopping ??= Promise.all(running.map((r) => r?.stop("SIGTERM"))).then(() => lock.release());
        return stopping;
      },
      async kill(index) {
        nodeAt(index);
        await running[index]?.stop("SIGKILL");
      },
      pid(index) {
        nodeAt(index);
        const r = running[index];
        if (r === null || r === undefined) throw new Error(`node ${index} is not running`);
        return r.pid;
      },
      async restart(index) {
        const n = nodeAt(index);
        await running[index]?.stop("SIGTERM");
        running[index] = null;
        running[index] = await spawnAt(n, ports[index]!);
      },
    };
  } catch (err) {
    await Promise.all(running.map((r) => r?.stop("SIGTERM")));
    lock.release();
    throw err;
  }
}
