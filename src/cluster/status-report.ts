// What `cluster status` reports: every node's snapshot (snapshot.ts), compared (drift.ts).
import { clusterEndpoints, type ClusterFile } from "./cluster-file.ts";
import { compareNodes, type DriftReport } from "./drift.ts";
import { createNodeClient } from "../protocol/node-client.ts";
import { fetchSnapshot } from "./snapshot.ts";

/** Asks all nodes at once, so a dead node costs one timeout, not one per node. */
export async function gatherReport(file: ClusterFile, timeoutMs: number): Promise<DriftReport> {
  const clients = clusterEndpoints(file).map((e) => createNodeClient(e, { timeoutMs }));
  try {
    const snapshots = await Promise.all(file.nodes.map((node, i) => fetchSnapshot(node, clients[i]!)));
    return compareNodes(file.clusterId, snapshots);
  } finally {
    for (const c of clients) c.close();
  }
}
