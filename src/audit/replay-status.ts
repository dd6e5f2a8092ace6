// The replay column of the audit. Whether a merged request was applied is not in git: each node
// keeps the outcome of `execute` under the gate's idempotency key, and the read-only `outcome`
// command tells it without applying anything. A node that recorded an outcome for another request
// under the same key is reported as such, not as applied.
import type { ClusterReader } from "../cluster/gateway.ts";
import type { ReplayIdentity } from "./replay-key.ts";
import type { WindowVerification } from "./verify-window.ts";

export type NodeReplay = {
  readonly index: number;
  readonly hsmId: string;
  /**
   * `applied`: the node recorded this request under the key; `other_request`: it recorded a
   * different request under it; `not_recorded`: it never applied it; `unreachable`; or the
   * node's error code.
   */
  readonly result: string;
  readonly approvers?: readonly string[];
};

export type ReplayColumn =
  /** A policy change: nothing is replayed to the HSMs. */
  | { readonly state: "not_applicable"; readonly reason: string }
  /** Not asked: no cluster given, no token to derive the key from, or another cluster. */
  | { readonly state: "unknown"; readonly reason: string; readonly idempotencyKey?: string }
  | { readonly state: "asked"; readonly idempotencyKey: string; readonly nodes: readonly NodeReplay[] }
  /** Run on a real cluster: the records of its execution windows in git, oldest first, each verified. */
  | { readonly state: "recorded"; readonly windows: readonly WindowVerification[] };

/** Whether a replay column says nothing false: every window record it lists verifies. */
export function replayHolds(r: ReplayColumn | null): boolean {
  return r === null || r.state !== "recorded" || r.windows.every((w) => w.holds);
}

export interface ReplaySubject {
  readonly kind: "request" | "governance";
  readonly cluster: string | null;
  readonly replay: ReplayIdentity | null;
  /** Approved over the payload (backend cloudhsm-cli): run in an execution window, with no key on any node. */
  readonly payloadApprovals?: boolean;
}

export function replayNotAsked(subject: ReplaySubject, why: string): ReplayColumn {
  if (subject.kind === "governance") return { state: "not_applicable", reason: "policy change: nothing is replayed" };
  if (subject.payloadApprovals === true)
    return {
      state: "unknown",
      reason:
        "run on a real cluster in an execution window: this clone holds no record of one (fetch refs/quorum-gate/windows/*, docs/audit.md); the pull request's quorum check run says what happened",
    };
  return subject.replay === null
    ? { state: "unknown", reason: "no token or request to derive the idempotency key from" }
    : { state: "unknown", reason: why, idempotencyKey: subject.replay.idempotencyKey };
}

export async function askReplay(reader: ClusterReader, subject: ReplaySubject): Promise<ReplayColumn> {
  if (subject.kind === "governance" || subject.replay === null) return replayNotAsked(subject, "");
  if (subject.cluster !== null && subject.cluster !== reader.clusterId) {
    return replayNotAsked(subject, `the cluster file is for ${reader.clusterId}, the operation for ${subject.cluster}`);
  }
  const { idempotencyKey, requestHash } = subject.replay;
  const outcomes = await reader.outcome(idempotencyKey);
  const nodes = outcomes.map((o): NodeReplay => {
    const at = { index: o.index, hsmId: o.hsmId };
    if (!o.ok) return { ...at, result: o.code === "RET_NODE_UNREACHABLE" ? "unreachable" : o.code };
    if (o.value.state === "not_recorded") return { ...at, result: "not_recorded" };
    return {
      ...at,
      result: o.value.requestHash === requestHash ? "applied" : "other_request",
      approvers: o.value.approvers,
    };
  });
  return { state: "asked", idempotencyKey, nodes };
}
