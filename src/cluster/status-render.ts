// `cluster status` as text for people: the nodes, identity alarms, the drift tables, one verdict
// line. Pure: a DriftReport in, lines out. The JSON form is the report itself (status.ts).
import {
  COMPARED_SERVICES,
  serverList,
  UNLISTED_KEY,
  type DriftReport,
  type NodeReport,
  type UserAspect,
  type UserCell,
  type UserDrift,
} from "./drift.ts";
import { hostPort } from "../node/loopback.ts";

/** Enough of a fingerprint to tell keys apart at a glance; --json has the whole of it. */
const FINGERPRINT_CHARS = 8;

export function renderStatus(report: DriftReport, clusterFile: string): string[] {
  const lines = [
    `cluster ${report.clusterId}: ${report.nodes.length} ${report.nodes.length === 1 ? "server" : "servers"} (cluster file ${clusterFile})`,
    "",
  ];
  lines.push(
    ...table(
      [
        ["server", "address", "hsm id", "Node", "users", "keys", "tokens", "M(3)", "M(4)", "state"],
        ...report.nodes.map(nodeRow),
      ],
      [0, 3, 4, 5, 6, 7, 8],
    ),
  );
  for (const n of report.nodes) lines.push(...identityAlarm(n));

  lines.push("");
  if (report.compared.length >= 2) {
    lines.push(
      `compared on ${serverList(report.compared)}: users (presence, type, id, quorum key, 2FA, locked) and M values; passwords cannot be compared`,
    );
    if (report.users.length === 0 && report.quorum.length === 0) lines.push("no differences");
    if (report.users.length > 0) lines.push("", "users that differ:", ...usersTable(report));
    if (report.quorum.length > 0) lines.push("", "quorum values that differ:", ...quorumTable(report));
    lines.push("");
  }
  lines.push(report.verdict.summary);
  return lines;
}

function nodeRow(n: NodeReport): string[] {
  const head = [String(n.server), hostPort(n.host, n.port), n.hsmId, String(n.nodeId)];
  if (n.status === "unreachable") return [...head, "-", "-", "-", "-", "-", `UNREACHABLE (${n.reason})`];
  const state = n.status === "wrong-identity" ? "WRONG NODE (see below)" : n.activated ? "ok" : "ok, not activated";
  return [
    ...head,
    String(n.counts.users),
    String(n.counts.quorumKeys),
    String(n.counts.tokens),
    String(n.mValues[3]),
    String(n.mValues[4]),
    state,
  ];
}

function identityAlarm(n: NodeReport): string[] {
  if (n.status !== "wrong-identity") return [];
  return [
    "",
    `!!! server ${n.server} at ${hostPort(n.host, n.port)} is not the node the cluster file names:`,
    ...n.mismatches.map((m) => `!!!   ${m.field}: the cluster file says ${m.expected}, the node says ${m.actual}`),
    "!!! its users were not compared. Is the cluster file from another start, or is another cluster on that port?",
  ];
}

function usersTable(report: DriftReport): string[] {
  const head = ["user", ...report.compared.map((s) => `server ${s}`), "differs in"];
  return table(
    [head, ...report.users.map((u) => [u.name, ...u.holdings.map((h) => cellText(h.user)), differsText(u)])],
    [],
  );
}

function cellText(user: UserCell | null): string {
  if (user === null) return "-";
  const parts = [`${user.type} #${user.id}`];
  if (user.quorumKey !== null)
    parts.push(user.quorumKey === UNLISTED_KEY ? "key ?" : `key ${user.quorumKey.slice(0, FINGERPRINT_CHARS)}`);
  if (user.twoFactor) parts.push("2FA");
  if (user.locked) parts.push("LOCKED");
  return parts.join(" ");
}

const ASPECT_TEXT: Readonly<Record<Exclude<UserAspect, "presence">, string>> = {
  type: "type",
  id: "id",
  quorumKey: "quorum key",
  twoFactor: "2FA",
  locked: "locked",
};

function differsText(u: UserDrift): string {
  return u.differsIn
    .map((aspect) =>
      aspect === "presence"
        ? `missing on ${serverList(u.holdings.filter((h) => h.user === null).map((h) => h.server))}`
        : ASPECT_TEXT[aspect],
    )
    .join(", ");
}

function quorumTable(report: DriftReport): string[] {
  const head = ["service", ...report.compared.map((s) => `server ${s}`)];
  const rows = COMPARED_SERVICES.flatMap((service) => {
    const q = report.quorum.find((x) => x.service === service);
    return q === undefined ? [] : [[`M(${service}) ${q.name}`, ...q.values.map((v) => String(v.value))]];
  });
  return table(
    [head, ...rows],
    report.compared.map((_, i) => i + 1),
  );
}

/** Columns two spaces apart; the listed columns right-aligned; no trailing blanks. */
function table(rows: readonly (readonly string[])[], rightAligned: readonly number[]): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) =>
    row
      .map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}
