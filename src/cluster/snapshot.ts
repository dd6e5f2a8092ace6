// What one node says about itself, fetched with the commands that need no login (hello,
// list-users, quorum-values, quorum-keys, list-tokens). Any failure, transport or HSM error,
// turns the whole node into "unreachable, because ...": half a picture of a node would make
// drift.ts report differences that are not there.
import type { OpRequest, OpResponse } from "../protocol/messages.ts";
import type { ClusterNode } from "./cluster-file.ts";
import type { NodeSnapshot } from "./drift.ts";
import type { NodeClient } from "../protocol/node-client.ts";

class Unusable extends Error {}

/** The five commands asked; none takes arguments or a session. */
type NoArgOp = "hello" | "list-users" | "quorum-values" | "quorum-keys" | "list-tokens";

export async function fetchSnapshot(node: ClusterNode, client: NodeClient): Promise<NodeSnapshot> {
  const ask = async <K extends NoArgOp>(op: K): Promise<OpResponse<K>> => {
    const r = await client.call(op, {} as OpRequest<K>);
    if (r.ok) return r.data;
    // RET_NODE_UNREACHABLE carries the transport's own words (refused, timed out, TLS ...).
    throw new Unusable(r.error.code === "RET_NODE_UNREACHABLE" ? r.error.message : `${op} answered ${r.error.code}`);
  };
  try {
    // hello first: a node that does not answer it is not asked anything else.
    const hello = await ask("hello");
    const [users, quorum, keys, tokens] = await Promise.all([
      ask("list-users"),
      ask("quorum-values"),
      ask("quorum-keys"),
      ask("list-tokens"),
    ]);
    return {
      node,
      reachable: true,
      state: {
        clusterId: hello.clusterId,
        nodeId: hello.nodeId,
        hsmId: hello.hsmId,
        activated: hello.activated,
        users: users.users,
        mValues: { 3: quorum.user, 4: quorum.quorum },
        keyFingerprints: Object.fromEntries(keys.keys.map((k) => [k.userName, k.fingerprint])),
        tokens: tokens.tokens.length,
      },
    };
  } catch (err) {
    if (err instanceof Unusable) return { node, reachable: false, reason: err.message };
    throw err;
  }
}
