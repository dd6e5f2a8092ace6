// Quorum drills (docs/governance.md, "Drills"): a fresh challenge officers sign exactly as they
// sign an approval, to learn before an emergency who can still sign. The drill document is
// domain-separated (its own title line), so a drill signature can never pass for an approval,
// and nothing is ever replayed from it. Pure: the clock and the entropy are passed in.
import { verifyMessage } from "../crypto/rsa.ts";
import { buildKeyRing } from "./officer-keys.ts";
import type { QuorumValues } from "./operation.ts";

export const DRILL_TITLE = "quorum-gate drill v1";
export const DEFAULT_DRILL_WINDOW_SECONDS = 24 * 3600;
export const MIN_DRILL_WINDOW_SECONDS = 60;
export const MAX_DRILL_WINDOW_SECONDS = 14 * 24 * 3600;
const CHALLENGE_BYTES = 32;

export interface Drill {
  readonly clusterId: string;
  /** 64 hex digits from the injected entropy. */
  readonly challenge: string;
  /** ISO 8601 UTC to the second. */
  readonly openedAt: string;
  readonly closesAt: string;
}

export const DRILL_REASONS = [
  "drill_healthy",
  "drill_below_m_plus_1",
  "drill_below_m",
  "malformed_drill",
  "bad_window",
] as const;
export type DrillReason = (typeof DRILL_REASONS)[number];

const iso = (unix: number): string => new Date(unix * 1000).toISOString().replace(".000Z", "Z");

export function openDrill(input: {
  readonly clusterId: string;
  readonly now: number;
  readonly windowSeconds: number;
  readonly entropy: (bytes: number) => Uint8Array;
}): { ok: true; drill: Drill } | { ok: false; reason: "bad_window"; message: string } {
  const w = input.windowSeconds;
  if (!Number.isInteger(w) || w < MIN_DRILL_WINDOW_SECONDS || w > MAX_DRILL_WINDOW_SECONDS) {
    return {
      ok: false,
      reason: "bad_window",
      message: `the drill window must be a whole number of seconds from ${MIN_DRILL_WINDOW_SECONDS} to ${MAX_DRILL_WINDOW_SECONDS}`,
    };
  }
  const challenge = Buffer.from(input.entropy(CHALLENGE_BYTES)).toString("hex");
  const now = Math.floor(input.now);
  return { ok: true, drill: { clusterId: input.clusterId, challenge, openedAt: iso(now), closesAt: iso(now + w) } };
}

/** The exact bytes officers sign: LF line ends, fixed order, final LF. */
export function renderDrill(d: Drill): Buffer {
  return Buffer.from(
    [
      DRILL_TITLE,
      `cluster: ${JSON.stringify(d.clusterId)}`,
      `challenge: ${d.challenge}`,
      `opened-at: ${d.openedAt}`,
      `closes-at: ${d.closesAt}`,
      "",
    ].join("\n"),
    "utf8",
  );
}

const LINE =
  /^quorum-gate drill v1\ncluster: ("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")\nchallenge: ([0-9a-f]{64})\nopened-at: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\ncloses-at: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\n$/;

/** Strict: only a document `renderDrill` would write, byte for byte. */
export function parseDrill(
  bytes: Uint8Array,
): { ok: true; drill: Drill } | { ok: false; reason: "malformed_drill"; message: string } {
  const m = LINE.exec(Buffer.from(bytes).toString("utf8"));
  const bad = {
    ok: false,
    reason: "malformed_drill",
    message: `not a drill document: it must be exactly what 'quorum-gate drill open' wrote (first line "${DRILL_TITLE}")`,
  } as const;
  if (m === null) return bad;
  const drill: Drill = { clusterId: JSON.parse(m[1]!) as string, challenge: m[2]!, openedAt: m[3]!, closesAt: m[4]! };
  if (!renderDrill(drill).equals(Buffer.from(bytes)) || !(Date.parse(drill.closesAt) > Date.parse(drill.openedAt)))
    return bad;
  return { ok: true, drill };
}

export interface DrillAnswer {
  readonly officer: string;
  readonly signature: Uint8Array;
  /** Unix seconds when the answer was given (a comment's time); the check's time when unknown. */
  readonly answeredAt?: number;
}

export interface DrillOfficer {
  readonly officer: string;
  readonly status: "answered" | "bad_signature" | "late" | "no_answer";
}

export interface ServiceHealth {
  readonly service: number;
  readonly m: number;
  readonly answered: number;
  /** `ok` at M + 1 or more; `below_m_plus_1`: one lost key from lock-out; `below_m`: locked out now. */
  readonly status: "ok" | "below_m_plus_1" | "below_m";
}

export interface DrillReport {
  readonly drill: Drill;
  readonly officers: readonly DrillOfficer[];
  readonly services: readonly ServiceHealth[];
  readonly healthy: boolean;
  readonly reason: Extract<DrillReason, "drill_healthy" | "drill_below_m_plus_1" | "drill_below_m">;
  readonly message: string;
}

/**
 * Who answered the drill with a valid signature within its window, against M and M + 1 of each
 * quorum service. Every officer with a registered key is listed; an answer from anyone else is
 * ignored, and an officer counts once.
 */
export function judgeDrill(input: {
  readonly drill: Drill;
  readonly answers: readonly DrillAnswer[];
  readonly officerKeys: ReadonlyMap<string, string>;
  readonly quorumValues: QuorumValues;
  readonly now: number;
}): DrillReport {
  const bytes = renderDrill(input.drill);
  const ring = buildKeyRing(input.officerKeys);
  const closes = Date.parse(input.drill.closesAt) / 1000;
  const opened = Date.parse(input.drill.openedAt) / 1000;
  const officers: DrillOfficer[] = [...ring.keys()].sort().map((officer) => {
    const key = ring.get(officer)!;
    const mine = input.answers.filter((a) => a.officer.toLowerCase() === officer);
    if (mine.length === 0) return { officer, status: "no_answer" };
    const valid = mine.filter((a) => verifyMessage(bytes, key.key, a.signature));
    if (valid.length === 0) return { officer, status: "bad_signature" };
    const inTime = valid.some((a) => {
      const at = a.answeredAt ?? input.now;
      return at >= opened && at <= closes;
    });
    return { officer, status: inTime ? "answered" : "late" };
  });
  const answered = officers.filter((o) => o.status === "answered").length;
  const services: ServiceHealth[] = [
    [3, input.quorumValues.user],
    [4, input.quorumValues.quorum],
  ].map(([service, m]) => ({
    service: service!,
    m: m!,
    answered,
    status: answered >= m! + 1 ? "ok" : answered >= m! ? "below_m_plus_1" : "below_m",
  }));
  const worst = services.some((s) => s.status === "below_m")
    ? "drill_below_m"
    : services.some((s) => s.status === "below_m_plus_1")
      ? "drill_below_m_plus_1"
      : "drill_healthy";
  const top = Math.max(...services.map((s) => s.m));
  const message =
    worst === "drill_healthy"
      ? `${answered} officers answered within the window: at least M + 1 (${top + 1}) for every service`
      : worst === "drill_below_m_plus_1"
        ? `${answered} officers answered within the window: enough for M (${top}) but not M + 1 (${top + 1}); one lost key would lock the cluster out`
        : `${answered} officers answered within the window, fewer than M (${top}): the quorum could not be reached today`;
  return { drill: input.drill, officers, services, healthy: worst === "drill_healthy", reason: worst, message };
}

/** Markdown for a job summary or a check run: the table of officers and the health per service. */
export function renderDrillReport(r: DrillReport): string {
  return [
    `## Quorum drill on cluster \`${r.drill.clusterId}\`: ${r.healthy ? "healthy" : "unhealthy"} (\`${r.reason}\`)`,
    "",
    `${r.message}.`,
    "",
    `Challenge \`${r.drill.challenge}\`, opened ${r.drill.openedAt}, closes ${r.drill.closesAt}. Nothing was replayed.`,
    "",
    "| Officer | Answer |",
    "|---|---|",
    ...r.officers.map((o) => `| \`${o.officer}\` | ${o.status} |`),
    "",
    "| Service | M | Answered | Status |",
    "|---|---|---|---|",
    ...r.services.map((s) => `| ${s.service} | ${s.m} | ${s.answered} | ${s.status} |`),
    "",
  ].join("\n");
}
