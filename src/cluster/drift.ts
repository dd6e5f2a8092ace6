// Drift between the nodes of a cluster, as pure data. CloudHSM does not synchronize its HSMs: an
// operation that succeeded on one node and failed on another leaves them different, and only an
// operator can tell which side is right. This module only says *what* differs and *where*; it
// fetches nothing (snapshot.ts does) and prints nothing (status-render.ts does).
//
// Compared: the users (presence, type, id, quorum key fingerprint, 2FA flag, locked or not) and
// the M values of services 3 and 4. Not compared, on purpose:
//   - passwords: nodes never reveal their verifiers, so a password difference cannot be seen;
//   - login failure counts below the lockout: CloudHSM counts them per server;
//   - tokens: they belong to one node's session (or one token-sign run) by design.
import { LIMITS, SERVICES, SERVICE_MISC_CO, SERVICE_USER_MGMT, type UserType } from "../hsm/model.ts";
import type { UserView } from "../protocol/messages.ts";
import type { ClusterNode } from "./cluster-file.ts";

/** The services whose M values are compared, in display order. */
export const COMPARED_SERVICES = [SERVICE_USER_MGMT, SERVICE_MISC_CO] as const;
export type ComparedService = (typeof COMPARED_SERVICES)[number];

/** What one reachable node told us (no secrets: nodes expose none of these). */
export interface NodeState {
  readonly clusterId: string;
  readonly nodeId: number;
  readonly hsmId: string;
  readonly activated: boolean;
  readonly users: readonly UserView[];
  readonly mValues: Readonly<Record<ComparedService, number>>;
  /** Quorum key fingerprint (hex SHA-256 of the SPKI) by user name. */
  readonly keyFingerprints: Readonly<Record<string, string>>;
  readonly tokens: number;
}

/** One entry of the cluster file together with what its node answered, or why it did not. */
export type NodeSnapshot =
  | { readonly node: ClusterNode; readonly reachable: true; readonly state: NodeState }
  | { readonly node: ClusterNode; readonly reachable: false; readonly reason: string };

type Reachable = Extract<NodeSnapshot, { readonly reachable: true }>;

export type IdentityField = "clusterId" | "hsmId" | "nodeId";

export interface IdentityMismatch {
  readonly field: IdentityField;
  readonly expected: string | number;
  readonly actual: string | number;
}

export interface NodeCounts {
  readonly users: number;
  readonly quorumKeys: number;
  readonly tokens: number;
}

interface NodeReportBase {
  readonly server: number;
  readonly host: string;
  readonly port: number;
  /** From the cluster file. */
  readonly hsmId: string;
  readonly nodeId: number;
}

/**
 * Per node: `ok` (answered, and is the node the cluster file names), `wrong-identity` (answered
 * as some other node: left out of the comparison, because its users say nothing about this
 * cluster), or `unreachable`.
 */
export type NodeReport =
  | (NodeReportBase & { readonly status: "unreachable"; readonly reason: string })
  | (NodeReportBase & {
      readonly status: "ok" | "wrong-identity";
      readonly mismatches: readonly IdentityMismatch[];
      readonly activated: boolean;
      readonly counts: NodeCounts;
      readonly mValues: Readonly<Record<ComparedService, number>>;
    });

export type UserAspect = "presence" | "type" | "id" | "quorumKey" | "twoFactor" | "locked";

/** A user as one node holds it, reduced to what is compared. */
export interface UserCell {
  readonly id: number;
  readonly type: UserType;
  /** Fingerprint of the registered quorum key; `UNLISTED_KEY` when flagged but not listed; null when none. */
  readonly quorumKey: string | null;
  readonly twoFactor: boolean;
  readonly locked: boolean;
  readonly loginFailureCnt: number;
}

/** list-users says the user has a key, but quorum-keys did not list it (an unreadable key). */
export const UNLISTED_KEY = "unlisted";

export interface UserDrift {
  readonly name: string;
  readonly differsIn: readonly UserAspect[];
  /** One entry per compared server, in server order; `user` null where the node lacks it. */
  readonly holdings: readonly { readonly server: number; readonly user: UserCell | null }[];
}

export interface QuorumDrift {
  readonly service: ComparedService;
  readonly name: string;
  readonly values: readonly { readonly server: number; readonly value: number }[];
}

export interface Verdict {
  /** True only when every node answered as itself and nothing differs. */
  readonly ok: boolean;
  readonly unreachable: readonly number[];
  readonly wrongIdentity: readonly number[];
  readonly driftingUsers: number;
  readonly driftingQuorumValues: number;
  /** One line for people. */
  readonly summary: string;
}

export interface DriftReport {
  readonly clusterId: string;
  readonly nodes: readonly NodeReport[];
  /** Servers whose state was compared (reachable and the right node). */
  readonly compared: readonly number[];
  readonly users: readonly UserDrift[];
  readonly quorum: readonly QuorumDrift[];
  readonly verdict: Verdict;
}

/** Compares the snapshots of every node named in a cluster file (`clusterId` is the file's). */
export function compareNodes(clusterId: string, snapshots: readonly NodeSnapshot[]): DriftReport {
  const nodes = snapshots.map((s) => nodeReport(clusterId, s));
  const comparable = snapshots.filter((_s, i): _s is Reachable => nodes[i]?.status === "ok");
  const compared = comparable.map((s) => s.node.index);
  const users = comparable.length < 2 ? [] : userDrift(comparable);
  const quorum = comparable.length < 2 ? [] : quorumDrift(comparable);
  return { clusterId, nodes, compared, users, quorum, verdict: verdict(nodes, compared, users, quorum) };
}

function nodeReport(clusterId: string, s: NodeSnapshot): NodeReport {
  const base: NodeReportBase = {
    server: s.node.index,
    host: s.node.host,
    port: s.node.port,
    hsmId: s.node.hsmId,
    nodeId: s.node.nodeId,
  };
  if (!s.reachable) return { ...base, status: "unreachable", reason: s.reason };
  const st = s.state;
  const mismatches: IdentityMismatch[] = [];
  if (st.clusterId !== clusterId) mismatches.push({ field: "clusterId", expected: clusterId, actual: st.clusterId });
  if (st.hsmId !== s.node.hsmId) mismatches.push({ field: "hsmId", expected: s.node.hsmId, actual: st.hsmId });
  if (st.nodeId !== s.node.nodeId) mismatches.push({ field: "nodeId", expected: s.node.nodeId, actual: st.nodeId });
  return {
    ...base,
    status: mismatches.length === 0 ? "ok" : "wrong-identity",
    mismatches,
    activated: st.activated,
    counts: { users: st.users.length, quorumKeys: Object.keys(st.keyFingerprints).length, tokens: st.tokens },
    mValues: st.mValues,
  };
}

function cellOf(user: UserView, state: NodeState): UserCell {
  const fingerprint = Object.hasOwn(state.keyFingerprints, user.name) ? state.keyFingerprints[user.name]! : null;
  return {
    id: user.id,
    type: user.type,
    quorumKey: user.mofnPubKey ? (fingerprint ?? UNLISTED_KEY) : null,
    twoFactor: user.twoFactor,
    locked: user.loginFailureCnt >= LIMITS.lockoutAfter,
    loginFailureCnt: user.loginFailureCnt,
  };
}

const ASPECTS: readonly { readonly aspect: Exclude<UserAspect, "presence">; readonly of: (c: UserCell) => unknown }[] =
  [
    { aspect: "type", of: (c) => c.type },
    { aspect: "id", of: (c) => c.id },
    { aspect: "quorumKey", of: (c) => c.quorumKey },
    { aspect: "twoFactor", of: (c) => c.twoFactor },
    { aspect: "locked", of: (c) => c.locked },
  ];

function userDrift(nodes: readonly Reachable[]): UserDrift[] {
  // User names are unique per node (stored lower-case), so the name is the key across nodes.
  const names = new Set(nodes.flatMap((n) => n.state.users.map((u) => u.name)));
  const drift: UserDrift[] = [];
  for (const name of names) {
    const holdings = nodes.map((n) => {
      const user = n.state.users.find((u) => u.name === name);
      return { server: n.node.index, user: user === undefined ? null : cellOf(user, n.state) };
    });
    const present = holdings.flatMap((h) => (h.user === null ? [] : [h.user]));
    const differsIn: UserAspect[] = present.length < holdings.length ? ["presence"] : [];
    for (const { aspect, of } of ASPECTS) {
      if (new Set(present.map(of)).size > 1) differsIn.push(aspect);
    }
    if (differsIn.length > 0) drift.push({ name, differsIn, holdings });
  }
  // The order of list-users: by the lowest id any node gives the user, then by name.
  const lowestId = (d: UserDrift): number =>
    Math.min(...d.holdings.flatMap((h) => (h.user === null ? [] : [h.user.id])));
  return drift.sort((a, b) => lowestId(a) - lowestId(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function quorumDrift(nodes: readonly Reachable[]): QuorumDrift[] {
  return COMPARED_SERVICES.flatMap((service) => {
    const values = nodes.map((n) => ({ server: n.node.index, value: n.state.mValues[service] }));
    return new Set(values.map((v) => v.value)).size > 1
      ? [{ service, name: SERVICES[service] ?? String(service), values }]
      : [];
  });
}

function verdict(
  nodes: readonly NodeReport[],
  compared: readonly number[],
  users: readonly UserDrift[],
  quorum: readonly QuorumDrift[],
): Verdict {
  const unreachable = nodes.filter((n) => n.status === "unreachable").map((n) => n.server);
  const wrongIdentity = nodes.filter((n) => n.status === "wrong-identity").map((n) => n.server);
  const ok = unreachable.length === 0 && wrongIdentity.length === 0 && users.length === 0 && quorum.length === 0;
  const problems: string[] = [];
  if (users.length > 0 || quorum.length > 0) {
    const parts = [
      ...(users.length > 0 ? [plural(users.length, "user", "users")] : []),
      ...(quorum.length > 0 ? [plural(quorum.length, "quorum value", "quorum values")] : []),
    ];
    problems.push(
      `${parts.join(" and ")} ${users.length + quorum.length === 1 ? "differs" : "differ"} between ${serverList(compared)}`,
    );
  } else if (compared.length < 2 && nodes.length > 1) {
    problems.push(
      compared.length === 0
        ? "no server could be compared"
        : `drift not checked: only ${serverList(compared)} could be compared`,
    );
  }
  if (wrongIdentity.length > 0)
    problems.push(
      `${serverList(wrongIdentity)} ${wrongIdentity.length === 1 ? "is" : "are"} not the node the cluster file names`,
    );
  if (unreachable.length > 0) problems.push(`${serverList(unreachable)} unreachable`);
  const summary = ok
    ? `CONSISTENT: ${nodes.length === 1 ? "the only server answered" : `all ${nodes.length} servers answered`}, nothing differs`
    : `${users.length > 0 || quorum.length > 0 ? "DRIFT" : "NOT CONSISTENT"}: ${problems.join("; ")}`;
  return { ok, unreachable, wrongIdentity, driftingUsers: users.length, driftingQuorumValues: quorum.length, summary };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "server 1", "servers 0 and 2", "servers 0, 1 and 2". */
export function serverList(servers: readonly number[]): string {
  if (servers.length === 0) return "no server";
  if (servers.length === 1) return `server ${servers[0]}`;
  const head = servers.slice(0, -1).join(", ");
  return `servers ${head} and ${servers[servers.length - 1]}`;
}
