// What the decision needs from the cluster: the officers' registered keys and the M values.
// A key that differs between nodes is not used (an approval must verify on every HSM).
import type { QuorumValues } from "../gate/index.ts";
import type { GateDeps } from "./deps.ts";

export type ClusterFacts =
  | {
      readonly ok: true;
      readonly keys: ReadonlyMap<string, string>;
      readonly quorumValues: QuorumValues;
      readonly drift: readonly string[];
      /** Who holds a quorum key, where the cluster names them without keys (cloudhsm-cli). */
      readonly registered?: readonly string[];
    }
  | { readonly ok: false; readonly message: string };

export async function gatherCluster(deps: GateDeps): Promise<ClusterFacts> {
  const [keys, quorumValues] = await Promise.all([deps.cluster.officerKeys(), deps.cluster.quorumValues()]);
  const failures = [
    ...("failures" in keys ? keys.failures : []),
    ...("failures" in quorumValues ? quorumValues.failures : []),
  ];
  if (failures.length > 0 || "failures" in keys || "failures" in quorumValues) {
    const seen = new Set<string>();
    const parts = failures
      .map((f) => `server ${f.index} (${f.hsmId}): ${f.code}`)
      .filter((p) => !seen.has(p) && seen.add(p) !== undefined);
    return { ok: false, message: `the gate needs every node; ${parts.join(", ")}` };
  }
  if (keys.drift.length > 0) deps.log(`officer keys differ between nodes for: ${keys.drift.join(", ")}`);
  return {
    ok: true,
    keys: keys.keys,
    quorumValues,
    drift: keys.drift,
    ...(keys.registered === undefined ? {} : { registered: keys.registered }),
  };
}
