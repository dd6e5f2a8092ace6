// From what the gate did to what the step says: its outputs, its job summary and whether it fails.
// Pure. The step fails while quorum is not met, so that the job (and the `quorum` check run the
// gate writes on the head commit) can be a required check; it passes when there is nothing to gate.
import { escapeText, inlineCode } from "../gate/markdown.ts";
import type { GateOutcome, ReplayNodeResult } from "../usecases/deps.ts";
import type { ActionMode } from "./inputs.ts";

/** Every output the code sets, as action.yml declares it. */
export const OUTPUT_NAMES = [
  "outcome",
  "approved",
  "approvals",
  "required",
  "missing",
  "request-digest",
  "nodes",
] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export interface PullRequestOutcome {
  readonly number: number;
  readonly outcome: GateOutcome;
}

export interface StepVerdict {
  readonly outputs: Readonly<Record<OutputName, string>>;
  /** Markdown for the job summary. */
  readonly summary: string;
  /** Why the step fails, or null when it passes. */
  readonly failure: string | null;
}

export function stepVerdict(mode: ActionMode, results: readonly PullRequestOutcome[]): StepVerdict {
  const failures = results.map((r) => failureOf(mode, r)).filter((f): f is string => f !== null);
  const evaluated = results.map((r) => r.outcome).find((o) => o.code === "evaluated");
  const nodes = results.flatMap((r) => (r.outcome.code === "replayed" ? r.outcome.nodes : []));
  const outputs: Record<OutputName, string> = {
    outcome: results.map((r) => r.outcome.code).join(",") || "skipped",
    approved: String(results.length > 0 && results.every((r) => isApproved(r.outcome))),
    approvals: evaluated === undefined ? "" : String(evaluated.approvals),
    required: evaluated === undefined ? "" : String(evaluated.required),
    missing: evaluated === undefined ? "" : String(evaluated.missing),
    "request-digest": evaluated === undefined ? "" : evaluated.requestDigest,
    nodes: JSON.stringify(nodes.map((n) => ({ index: n.index, hsmId: n.hsmId, ok: n.ok, result: n.result }))),
  };
  const summary =
    results.length === 0
      ? "## HSM quorum\n\nNo merged pull request in this push: nothing to replay.\n"
      : results.map(renderResult).join("\n");
  return { outputs, summary, failure: failures.length === 0 ? null : failures.join("; ") };
}

/** Quorum holds for what this result is about. */
function isApproved(o: GateOutcome): boolean {
  return (
    (o.code === "evaluated" && o.state === "approved") ||
    (o.code === "replayed" && o.nodes.every((n) => n.ok)) ||
    (o.code === "policy_merged" && o.approved) ||
    o.code === "executed"
  );
}

function failureOf(mode: ActionMode, { number, outcome: o }: PullRequestOutcome): string | null {
  const pr = `#${number}`;
  switch (o.code) {
    case "evaluated":
      return o.state === "approved"
        ? null
        : `${pr}: quorum not met (${o.approvals} of ${o.required} approvals, ${o.state})`;
    case "invalid":
      return `${pr}: ${o.message}`;
    case "cluster_unavailable":
      return `${pr}: the HSM cluster cannot be reached (${o.message})`;
    case "replayed": {
      const failed = o.nodes.filter((n) => !n.ok);
      return failed.length === 0
        ? null
        : `${pr}: replay failed on ${failed.map((n) => `server ${n.index} (${n.result})`).join(", ")}; post /quorum retry`;
    }
    case "not_replayed":
      // Evaluate never replays, so this can only come from apply: a merge that must not stay silent.
      return mode === "apply" ? `${pr}: merged but not replayed: ${o.message}` : null;
    case "policy_merged":
      return o.approved ? null : `${pr}: ${o.message}`;
    case "window_lapsed":
      return `${pr}: the execution window lapsed, nothing ran (${o.message}); post /quorum retry`;
    case "window_open":
      // Only the App detaches a window; the Action awaits it, so this means the run ended early.
      return `${pr}: the execution window is still open`;
    case "executed":
      return null;
    case "unconfigured":
    case "not_a_request":
    case "token_deleted":
    case "ignored":
      return null;
  }
}

function renderResult({ number, outcome: o }: PullRequestOutcome): string {
  const head = (title: string): string => `## HSM quorum, pull request #${number}: ${title}\n\n`;
  switch (o.code) {
    case "evaluated":
      return `${head(o.state === "approved" ? `approved (${o.approvals} of ${o.required})` : `${o.state} (${o.approvals} of ${o.required})`)}${renderEvaluation(o)}`;
    case "replayed":
      return `${head(o.nodes.every((n) => n.ok) ? `replayed on all ${o.nodes.length} nodes` : "replay incomplete")}${renderNodes(o.nodes)}`;
    case "policy_merged":
      return `${head(o.approved ? "policy change merged with quorum" : "policy change merged without quorum")}${escapeText(o.message)}\n`;
    default:
      return `${head(o.code.replace(/_/g, " "))}${escapeText(o.message)}\n`;
  }
}

function renderEvaluation(o: Extract<GateOutcome, { code: "evaluated" }>): string {
  const lines = [
    `What will run: ${inlineCode(o.subject)}`,
    "",
    `Request SHA-256: ${inlineCode(o.requestDigest)}`,
    "",
    o.state === "approved"
      ? `Approved by ${o.approvers.map((a) => `${escapeText(a.officer)} (${escapeText(a.login)})`).join(", ")}.`
      : `${o.missing} more officer approval${o.missing === 1 ? "" : "s"} needed${o.state === "rejected" ? ", and the problems below solved" : ""}.`,
    "",
  ];
  for (const p of o.problems) lines.push(`- ${escapeText(p)}`);
  if (o.problems.length > 0) lines.push("");
  if (o.verdicts.length > 0) {
    lines.push("| GitHub user | Officer | Verdict | Reason | Detail |", "|---|---|---|---|---|");
    for (const v of o.verdicts)
      lines.push(
        `| ${escapeText(v.author)} | ${escapeText(v.officer ?? "")} | ${v.verdict} | ${inlineCode(v.reason)} | ${escapeText(v.message)} |`,
      );
    lines.push("");
  }
  return `${lines.join("\n")}`;
}

function renderNodes(nodes: readonly ReplayNodeResult[]): string {
  const rows = nodes.map(
    (n) => `| ${n.index} | ${inlineCode(n.hsmId)} | ${inlineCode(n.result)} | ${escapeText(n.message)} |`,
  );
  return ["| Server | HSM | Result | Detail |", "|---|---|---|---|", ...rows, ""].join("\n");
}
