// compareNodes: per-node snapshots in, typed findings out; renderStatus: findings to text. Table-driven: each case builds a small
// cluster from a base state and one change per node, and states exactly what must be found.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterNode } from "../../src/cluster/cluster-file.ts";
import {
  compareNodes,
  serverList,
  UNLISTED_KEY,
  type NodeSnapshot,
  type NodeState,
  type UserAspect,
} from "../../src/cluster/drift.ts";
import { renderStatus } from "../../src/cluster/status-render.ts";
import type { UserView } from "../../src/protocol/messages.ts";

const CLUSTER = "cluster-aaaaaaaaaaa";
const HSM = ["hsm-aaaaaaaaaaa", "hsm-bbbbbbbbbbb", "hsm-ccccccccccc"] as const;
const FP1 = "11".repeat(32);
const FP2 = "22".repeat(32);

const node = (index: number): ClusterNode => ({
  index,
  host: "127.0.0.1",
  port: 2225 + index,
  hsmId: HSM[index]!,
  nodeId: 2 - index,
});

const user = (id: number, name: string, extra: Partial<UserView> = {}): UserView => ({
  id,
  type: "CU",
  name,
  mofnPubKey: false,
  loginFailureCnt: 0,
  twoFactor: false,
  ...extra,
});

/** Three activated users, M = 1/1: the same on every node unless a case changes it. */
function baseState(index: number): NodeState {
  return {
    clusterId: CLUSTER,
    nodeId: 2 - index,
    hsmId: HSM[index]!,
    activated: true,
    users: [
      user(1, "admin", { type: "PCO" }),
      user(2, "app_user", { type: "AU" }),
      user(3, "officer1", { type: "CO", mofnPubKey: true }),
    ],
    mValues: { 3: 1, 4: 1 },
    keyFingerprints: { officer1: FP1 },
    tokens: 0,
  };
}

type Change = (s: NodeState) => NodeState;
const same: Change = (s) => s;
const withUsers =
  (f: (users: readonly UserView[]) => UserView[]): Change =>
  (s) => ({ ...s, users: f(s.users) });
const addUser = (u: UserView): Change => withUsers((us) => [...us, u]);
const editUser = (name: string, extra: Partial<UserView>): Change =>
  withUsers((us) => us.map((u) => (u.name === name ? { ...u, ...extra } : u)));
const unreachable = "unreachable" as const;

function snapshots(changes: readonly (Change | typeof unreachable)[]): NodeSnapshot[] {
  return changes.map((change, i) =>
    change === unreachable
      ? { node: node(i), reachable: false, reason: "connection refused" }
      : { node: node(i), reachable: true, state: change(baseState(i)) },
  );
}

interface Case {
  readonly name: string;
  readonly nodes: readonly (Change | typeof unreachable)[];
  readonly users: readonly (readonly [string, readonly UserAspect[]])[];
  readonly quorum: readonly (readonly [number, readonly number[]])[];
  readonly ok: boolean;
  readonly summary: RegExp;
}

const CASES: readonly Case[] = [
  {
    name: "identical nodes",
    nodes: [same, same, same],
    users: [],
    quorum: [],
    ok: true,
    summary: /^CONSISTENT: all 3 servers answered, nothing differs$/,
  },
  {
    name: "a single node",
    nodes: [same],
    users: [],
    quorum: [],
    ok: true,
    summary: /^CONSISTENT: the only server answered/,
  },
  {
    name: "a user created on one node only",
    nodes: [addUser(user(4, "alice")), same, same],
    users: [["alice", ["presence"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT: 1 user differs between servers 0, 1 and 2$/,
  },
  {
    name: "a user missing on one node (and created in another order elsewhere)",
    nodes: [addUser(user(4, "alice")), addUser(user(5, "alice")), same],
    users: [["alice", ["presence", "id"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT: 1 user differs/,
  },
  {
    name: "a different type",
    nodes: [same, editUser("officer1", { type: "CU" }), same],
    users: [["officer1", ["type"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT/,
  },
  {
    name: "a PRECO not activated on one node",
    nodes: [editUser("admin", { type: "PRECO" }), same, same],
    users: [["admin", ["type"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT/,
  },
  {
    name: "a key registered on one node only",
    nodes: [same, same, (s) => ({ ...editUser("officer1", { mofnPubKey: false })(s), keyFingerprints: {} })],
    users: [["officer1", ["quorumKey"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT/,
  },
  {
    name: "different keys under the same name",
    nodes: [same, (s) => ({ ...s, keyFingerprints: { officer1: FP2 } }), same],
    users: [["officer1", ["quorumKey"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT/,
  },
  {
    name: "2FA on one node only",
    nodes: [editUser("officer1", { twoFactor: true }), same, same],
    users: [["officer1", ["twoFactor"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT/,
  },
  {
    name: "locked on one node",
    nodes: [same, editUser("officer1", { loginFailureCnt: 5 }), same],
    users: [["officer1", ["locked"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT/,
  },
  {
    name: "failed logins below the lockout are per node, not drift",
    nodes: [editUser("officer1", { loginFailureCnt: 4 }), editUser("officer1", { loginFailureCnt: 1 }), same],
    users: [],
    quorum: [],
    ok: true,
    summary: /^CONSISTENT/,
  },
  {
    name: "tokens are per node, not drift",
    nodes: [(s) => ({ ...s, tokens: 3 }), same, same],
    users: [],
    quorum: [],
    ok: true,
    summary: /^CONSISTENT/,
  },
  {
    name: "M(3) set on one node",
    nodes: [same, same, (s) => ({ ...s, mValues: { 3: 2, 4: 1 } })],
    users: [],
    quorum: [[3, [1, 1, 2]]],
    ok: false,
    summary: /^DRIFT: 1 quorum value differs/,
  },
  {
    name: "both M values and a user",
    nodes: [(s) => ({ ...addUser(user(4, "bob"))(s), mValues: { 3: 2, 4: 2 } }), same, same],
    users: [["bob", ["presence"]]],
    quorum: [
      [3, [2, 1, 1]],
      [4, [2, 1, 1]],
    ],
    ok: false,
    summary: /^DRIFT: 1 user and 2 quorum values differ between servers 0, 1 and 2$/,
  },
  {
    name: "several aspects of one user at once",
    nodes: [same, editUser("officer1", { id: 9, twoFactor: true, loginFailureCnt: 7 }), same],
    users: [["officer1", ["id", "twoFactor", "locked"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT/,
  },
  {
    name: "an unreachable node is left out of the comparison",
    nodes: [addUser(user(4, "alice")), addUser(user(4, "alice")), unreachable],
    users: [],
    quorum: [],
    ok: false,
    summary: /^NOT CONSISTENT: server 2 unreachable$/,
  },
  {
    name: "drift and an unreachable node",
    nodes: [addUser(user(4, "alice")), unreachable, same],
    users: [["alice", ["presence"]]],
    quorum: [],
    ok: false,
    summary: /^DRIFT: 1 user differs between servers 0 and 2; server 1 unreachable$/,
  },
  {
    name: "only one node answers",
    nodes: [same, unreachable, unreachable],
    users: [],
    quorum: [],
    ok: false,
    summary: /^NOT CONSISTENT: drift not checked: only server 0 could be compared; servers 1 and 2 unreachable$/,
  },
  {
    name: "nobody answers",
    nodes: [unreachable, unreachable],
    users: [],
    quorum: [],
    ok: false,
    summary: /no server could be compared; servers 0 and 1 unreachable$/,
  },
  {
    name: "a node of another cluster is loud and not compared",
    nodes: [same, (s) => ({ ...addUser(user(4, "mallory"))(s), clusterId: "cluster-zzzzzzzzzzz" }), same],
    users: [],
    quorum: [],
    ok: false,
    summary: /^NOT CONSISTENT: server 1 is not the node the cluster file names$/,
  },
];

describe("compareNodes", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const report = compareNodes(CLUSTER, snapshots(c.nodes));
      assert.deepEqual(
        report.users.map((u) => [u.name, u.differsIn]),
        c.users.map(([n, a]) => [n, a]),
      );
      assert.deepEqual(
        report.quorum.map((q) => [q.service, q.values.map((v) => v.value)]),
        c.quorum.map(([s, v]) => [s, v]),
      );
      assert.equal(report.verdict.ok, c.ok);
      assert.match(report.verdict.summary, c.summary);
      assert.equal(report.verdict.driftingUsers, c.users.length);
      assert.equal(report.verdict.driftingQuorumValues, c.quorum.length);
    });
  }

  it("says exactly which node holds what", () => {
    const report = compareNodes(
      CLUSTER,
      snapshots([addUser(user(4, "alice")), same, editUser("officer1", { loginFailureCnt: 5 })]),
    );
    assert.deepEqual(report.compared, [0, 1, 2]);
    assert.deepEqual(report.users[0], {
      name: "officer1",
      differsIn: ["locked"],
      holdings: [0, 1, 2].map((server) => ({
        server,
        user: {
          id: 3,
          type: "CO",
          quorumKey: FP1,
          twoFactor: false,
          locked: server === 2,
          loginFailureCnt: server === 2 ? 5 : 0,
        },
      })),
    });
    assert.deepEqual(
      report.users[1]?.holdings.map((h) => h.user?.id ?? null),
      [4, null, null],
    );
  });

  it("orders users as list-users does: by lowest id, then name", () => {
    const report = compareNodes(
      CLUSTER,
      snapshots([addUser(user(5, "zed")), addUser(user(4, "bob")), editUser("admin", { type: "PRECO" })]),
    );
    assert.deepEqual(
      report.users.map((u) => u.name),
      ["admin", "bob", "zed"],
    );
  });

  it("marks a flagged key that quorum-keys does not list", () => {
    const report = compareNodes(CLUSTER, snapshots([same, (s) => ({ ...s, keyFingerprints: {} })]));
    assert.deepEqual(report.users[0]?.differsIn, ["quorumKey"]);
    assert.deepEqual(
      report.users[0]?.holdings.map((h) => h.user?.quorumKey),
      [FP1, UNLISTED_KEY],
    );
  });

  it("reports every identity field that does not match the cluster file", () => {
    const report = compareNodes(
      CLUSTER,
      snapshots([same, (s) => ({ ...s, clusterId: "cluster-zzzzzzzzzzz", hsmId: HSM[0], nodeId: 2 })]),
    );
    const n = report.nodes[1];
    assert.ok(n !== undefined && n.status === "wrong-identity");
    assert.deepEqual(n.mismatches, [
      { field: "clusterId", expected: CLUSTER, actual: "cluster-zzzzzzzzzzz" },
      { field: "hsmId", expected: HSM[1], actual: HSM[0] },
      { field: "nodeId", expected: 1, actual: 2 },
    ]);
    assert.deepEqual(report.compared, [0]);
    assert.deepEqual(report.verdict.wrongIdentity, [1]);
  });

  it("gives counts, M values and the reason a node is unreachable", () => {
    const report = compareNodes(CLUSTER, snapshots([(s) => ({ ...s, tokens: 2 }), unreachable]));
    assert.deepEqual(report.nodes[0], {
      server: 0,
      host: "127.0.0.1",
      port: 2225,
      hsmId: HSM[0],
      nodeId: 2,
      status: "ok",
      mismatches: [],
      activated: true,
      counts: { users: 3, quorumKeys: 1, tokens: 2 },
      mValues: { 3: 1, 4: 1 },
    });
    assert.deepEqual(report.nodes[1], {
      server: 1,
      host: "127.0.0.1",
      port: 2226,
      hsmId: HSM[1],
      nodeId: 1,
      status: "unreachable",
      reason: "connection refused",
    });
    assert.deepEqual(report.verdict.unreachable, [1]);
  });
});

describe("serverList", () => {
  for (const [servers, text] of [
    [[], "no server"],
    [[2], "server 2"],
    [[0, 2], "servers 0 and 2"],
    [[0, 1, 3], "servers 0, 1 and 3"],
  ] as const) {
    it(text, () => assert.equal(serverList(servers), text));
  }
});

describe("renderStatus", () => {
  it("shows cells compactly: type, id, short key, 2FA, LOCKED, and - for missing", () => {
    const report = compareNodes(
      CLUSTER,
      snapshots([
        (s) => ({ ...editUser("officer1", { twoFactor: true })(s), activated: false }),
        (s) => ({ ...editUser("officer1", { loginFailureCnt: 5 })(s), keyFingerprints: {} }),
        addUser(user(4, "alice")),
      ]),
    );
    const lines = renderStatus(report, "c.json");
    assert.equal(lines[0], `cluster ${CLUSTER}: 3 servers (cluster file c.json)`);
    assert.match(lines.find((l) => l.startsWith("     0"))!, / {2}ok, not activated$/);
    assert.ok(
      lines.includes(
        "officer1  CO #3 key 11111111 2FA  CO #3 key ? LOCKED  CO #3 key 11111111  quorum key, 2FA, locked",
      ),
      lines.join("\n"),
    );
    assert.ok(
      lines.includes(
        "alice     -                       -                   CU #4               missing on servers 0 and 1",
      ),
      lines.join("\n"),
    );
    assert.equal(lines.at(-1), report.verdict.summary);
  });

  it("prints no drift tables when nothing could be compared", () => {
    const lines = renderStatus(compareNodes(CLUSTER, snapshots([same, unreachable])), "c.json");
    assert.ok(!lines.some((l) => l.startsWith("compared on") || l.startsWith("users that differ")));
    assert.match(lines.find((l) => l.startsWith("     1"))!, / +- +- +- +- +- {2}UNREACHABLE \(connection refused\)$/);
  });
});
