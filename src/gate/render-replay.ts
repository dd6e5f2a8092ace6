// The replay section of the sticky comment and its check run. The last line records when the
// gate last replayed, so a later `/quorum retry` is told from one that was already served.
// Node answers are not the gate's own text: they are escaped like anything a pull request brings.
import { escapeText, inlineCode } from "./markdown.ts";

/** What one node answered to a replay. */
export interface ReplayNodeResult {
  readonly index: number;
  readonly hsmId: string;
  readonly ok: boolean;
  /** `applied`, `already_applied` (an earlier delivery did it), or the node's RET_ code. */
  readonly result: string;
  readonly message: string;
}

const REPLAYED_AT = /^<!-- quorum-gate:replayed-at (\d{1,12}) -->$/m;

export function renderReplaySection(nodes: readonly ReplayNodeResult[], at: number): string {
  const done = nodes.filter((n) => n.ok).length;
  const rows = nodes.map(
    (n) =>
      `| ${n.index} | ${inlineCode(n.hsmId)} | ${n.ok ? "✅" : "❌"} ${inlineCode(n.result)} | ${n.ok ? "" : escapeCell(n.message)} |`,
  );
  return [
    "",
    `### Replay: applied on ${done} of ${nodes.length} nodes`,
    "",
    "| server | HSM | result | detail |",
    "|---|---|---|---|",
    ...rows,
    "",
    done === nodes.length
      ? "Every node holds the change."
      : "An officer posts `/quorum retry` to replay on the nodes that failed; nodes that already applied it answer with their recorded result, so nothing is applied twice.",
    "",
    replayedAtMarker(at),
  ].join("\n");
}

/** The hidden last line that records when the gate last acted on a merged pull request. */
export function replayedAtMarker(at: number): string {
  return `<!-- quorum-gate:replayed-at ${at} -->`;
}

export function readReplayedAt(stickyBody: string): number | null {
  const m = REPLAYED_AT.exec(stickyBody);
  return m?.[1] === undefined ? null : Number(m[1]);
}

function escapeCell(text: string): string {
  return escapeText(text.slice(0, 200));
}

/** Whether an officer asked for `/quorum retry` after the gate last replayed (or re-checked). */
export function hasNewRetry(
  commands: readonly { readonly verb: string; readonly createdAt: string }[],
  stickyBody: string | null,
): boolean {
  const last = stickyBody === null ? 0 : (readReplayedAt(stickyBody) ?? 0);
  return commands.some((c) => c.verb === "retry" && Date.parse(c.createdAt) / 1000 > last);
}
