// The cluster's password-sealing key, fetched without logging in: `hello` and `sealing-key` are
// open on every node. Before a password is sealed, every node that answers must be the node the
// cluster file names (cluster id and HSM id) and all of them must hold the same sealing key, so a
// stale or foreign cluster file cannot make the CLI seal a password to the wrong HSMs.
//
// The gateway (src/cluster/gateway.ts) also has sealingKey(), but it is built with the gate's
// login credentials, which an operator asking for a new user does not have and does not need.
import type { KeyObject } from "node:crypto";
import { parsePublicKey } from "../crypto/rsa.ts";
import { clusterEndpoints, type ClusterFile, type ClusterNode } from "../cluster/cluster-file.ts";
import { createNodeClient, type NodeClient } from "../protocol/node-client.ts";

export interface ClusterSealingKey {
  readonly clusterId: string;
  readonly key: KeyObject;
  /** Hex SHA-256 of the key's SPKI. */
  readonly fingerprint: string;
  /** Nodes that did not answer, as `server i (host:port): why`. At least one node answered. */
  readonly unreachable: readonly string[];
}

export type SealingKeyResult =
  | { readonly ok: true; readonly value: ClusterSealingKey }
  | { readonly ok: false; readonly error: string };

type NodeAnswer =
  | {
      readonly kind: "key";
      readonly node: ClusterNode;
      readonly pem: string;
      readonly fingerprint: string;
      readonly key: KeyObject;
    }
  | { readonly kind: "unreachable"; readonly node: ClusterNode; readonly message: string }
  | { readonly kind: "wrong"; readonly node: ClusterNode; readonly message: string };

export async function fetchClusterSealingKey(
  file: ClusterFile,
  options: { readonly timeoutMs?: number } = {},
): Promise<SealingKeyResult> {
  const clients: NodeClient[] = clusterEndpoints(file).map((e) =>
    createNodeClient(e, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  );
  try {
    const answers = await Promise.all(
      file.nodes.map((node, i) => askNode(clients[i] as NodeClient, node, file.clusterId)),
    );
    const wrong = answers.filter((a) => a.kind === "wrong");
    if (wrong.length > 0) {
      return {
        ok: false,
        error: `the cluster file does not describe the cluster that answers; nothing was sealed:\n${wrong.map((w) => `  ${where(w.node)}: ${w.message}`).join("\n")}`,
      };
    }
    const keys = answers.filter((a) => a.kind === "key");
    const unreachable = answers.filter((a) => a.kind === "unreachable").map((a) => `${where(a.node)}: ${a.message}`);
    const first = keys[0];
    if (first === undefined)
      return {
        ok: false,
        error: `no node of cluster ${file.clusterId} answered:\n${unreachable.map((u) => `  ${u}`).join("\n")}`,
      };
    if (keys.some((k) => k.fingerprint !== first.fingerprint)) {
      return {
        ok: false,
        error: `the nodes disagree on the sealing key (${keys.map((k) => `${where(k.node)} ${k.fingerprint.slice(0, 16)}`).join(", ")}); nothing was sealed`,
      };
    }
    return {
      ok: true,
      value: { clusterId: file.clusterId, key: first.key, fingerprint: first.fingerprint, unreachable },
    };
  } finally {
    for (const c of clients) c.close();
  }
}

async function askNode(client: NodeClient, node: ClusterNode, clusterId: string): Promise<NodeAnswer> {
  const hello = await client.call("hello", {});
  if (!hello.ok) {
    return hello.error.code === "RET_NODE_UNREACHABLE"
      ? { kind: "unreachable", node, message: hello.error.message }
      : { kind: "wrong", node, message: `hello failed: ${hello.error.code}` };
  }
  if (hello.data.clusterId !== clusterId)
    return { kind: "wrong", node, message: `belongs to cluster ${hello.data.clusterId}, not ${clusterId}` };
  if (hello.data.hsmId !== node.hsmId)
    return { kind: "wrong", node, message: `is ${hello.data.hsmId}, not ${node.hsmId}` };
  const sealing = await client.call("sealing-key", {});
  if (!sealing.ok) {
    return sealing.error.code === "RET_NODE_UNREACHABLE"
      ? { kind: "unreachable", node, message: sealing.error.message }
      : { kind: "wrong", node, message: `sealing-key failed: ${sealing.error.code}` };
  }
  const parsed = parsePublicKey(sealing.data.publicKeyPem);
  if (!parsed.ok) return { kind: "wrong", node, message: `its sealing key is unusable (${parsed.reason})` };
  return { kind: "key", node, pem: parsed.pem, fingerprint: parsed.fingerprint, key: parsed.key };
}

function where(node: ClusterNode): string {
  return `server ${node.index} (${node.host}:${node.port})`;
}
