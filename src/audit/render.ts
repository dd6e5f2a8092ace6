// What `verify` and `audit` print: plain text for people (a block per operation, a table for the
// audit) and one JSON document for machines. Every value shown is data from git or the nodes;
// reasons are the stable codes of findings.ts and the engine's verdicts.
import type { AuditEntry } from "./audit-log.ts";
import type { Check, SignatureVerdict } from "./findings.ts";
import { replayHolds, type ReplayColumn } from "./replay-status.ts";
import type { ApprovalFileVerification } from "./verify-approval-file.ts";
import type { LandedVerification } from "./verify-landing.ts";

export const REQUIRED_NOTE = "M as the gate recorded it in evidence.json: M is cluster state, which git does not hold";

const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");
const short = (oid: string): string => oid.slice(0, 12);

// ---- verify -------------------------------------------------------------------------------------

/** `windows`: the execution windows recorded on this landing (a real cluster's), when there are any. */
export function renderVerification(v: LandedVerification, windows?: ReplayColumn): string {
  const e = v.evidence;
  const l = v.landing;
  const lines = [`${v.folder}${e === null ? "" : `  ${e.repository}#${e.pullRequest}  ${e.request.summary}`}`];
  const how = l.isMerge ? "merge" : "single-parent commit (squash or rebase)";
  lines.push(
    `  landed in      ${short(l.commit)} (${how}, ${iso(l.committedAt)}); judged by the policy at its first parent ${l.firstParent === null ? "(none: a root commit)" : short(l.firstParent)}`,
  );
  lines.push(
    `  ${v.evidence !== null && v.evidence.token === undefined ? "judged        " : "token judged  "} at ${iso(v.judgedAt)}, when ${short(v.evidenceCommit.commit)} made the evidence (committer time)`,
  );
  if (e !== null) lines.push(`  requested by   ${requester(e.pullRequestAuthor, e.request.requestedBy)}`);
  if (v.required !== null)
    lines.push(`  required       ${v.required} officer${v.required === 1 ? "" : "s"}: ${REQUIRED_NOTE}`);
  lines.push("  checks");
  lines.push(...table(v.checks.map(checkRow), "    "));
  if (v.signatures.length > 0) {
    lines.push("  signatures");
    lines.push(...table(v.signatures.map(signatureRow), "    "));
  }
  lines.push(`  verdict        ${verdictLine(v.holds, v.checks, v.counted, v.required)}`);
  if (windows !== undefined && windows.state === "recorded") {
    lines.push("  execution windows (refs/quorum-gate/windows/)");
    for (const w of windows.windows) {
      lines.push(`    ${replayCell({ state: "recorded", windows: [w] })}  ${w.ref} ${short(w.commit)}`);
      lines.push(...w.failures.map((f) => `      FAIL  ${f.code}  ${f.message}`));
    }
  } else if (windows !== undefined && windows.state === "unknown") lines.push(`  execution windows  ${windows.reason}`);
  return `${lines.map(printable).join("\n")}\n`;
}

export function verificationJson(v: LandedVerification, windows?: ReplayColumn): Record<string, unknown> {
  const e = v.evidence;
  return {
    folder: v.folder,
    kind: v.kind,
    holds: v.holds,
    repository: e?.repository ?? null,
    pullRequest: e?.pullRequest ?? null,
    operation: e?.request.summary ?? null,
    requestPath: e?.request.path ?? null,
    pullRequestAuthor: e?.pullRequestAuthor ?? null,
    requestedBy: e?.request.requestedBy ?? null,
    commit: v.landing.commit,
    merge: v.landing.isMerge,
    landedAt: iso(v.landing.committedAt),
    policyCommit: v.landing.firstParent,
    evidenceCommit: v.evidenceCommit.commit,
    judgedAt: iso(v.judgedAt),
    required: v.required,
    requiredSource: REQUIRED_NOTE,
    counted: v.counted,
    checks: v.checks,
    signatures: v.signatures,
    idempotencyKey: v.replay?.idempotencyKey ?? null,
    ...(windows === undefined ? {} : { windows }),
  };
}

// ---- verify --approval-file ---------------------------------------------------------------------

export function renderApprovalFileVerification(
  path: string,
  v: ApprovalFileVerification,
  requiredSource: string,
): string {
  const lines = [
    `${path}  (CMU approval file)`,
    `  required       ${v.required} officer${v.required === 1 ? "" : "s"}: ${requiredSource}`,
    "  checks",
    ...table(v.checks.map(checkRow), "    "),
  ];
  if (v.approvers.length > 0) {
    lines.push("  approvals");
    lines.push(
      ...table(
        v.approvers.map((a) => [
          a.counted ? "counted" : "rejected",
          a.officer,
          a.approvalFile,
          a.reason,
          keyNote(a.keyFingerprint),
          a.message,
        ]),
        "    ",
      ),
    );
  }
  lines.push(`  verdict        ${verdictLine(v.holds, v.checks, v.counted, v.required)}`);
  lines.push(
    "  not checked    the token's binding, expiry and request: an approval file alone does not say what the token was for (verify the evidence in git for that)",
  );
  return `${lines.map(printable).join("\n")}\n`;
}

// ---- audit --------------------------------------------------------------------------------------

export function renderAuditTable(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return "no operation landed on this history (no evidence folder of the gate)\n";
  const header = ["COMMIT", "DATE", "PULL REQUEST", "OPERATION", "REQUESTED BY", "APPROVED BY", "VERIFIES", "REPLAY"];
  const rows = entries.map(({ verification: v, replay }) => {
    const e = v.evidence;
    return [
      short(v.landing.commit),
      iso(v.landing.committedAt).slice(0, 10),
      e === null ? v.folder : `${e.repository}#${e.pullRequest}`,
      e === null ? "?" : e.request.summary,
      e === null ? "?" : requester(e.pullRequestAuthor, e.request.requestedBy),
      v.signatures.length === 0 ? "-" : v.signatures.map(approvedBy).join(", "),
      !v.holds
        ? `NO (${failures(v.checks).join(", ")})`
        : replayHolds(replay)
          ? "yes"
          : "NO (an execution window's record)",
      replayCell(replay),
    ];
  });
  const failing = entries.filter((x) => !x.verification.holds || !replayHolds(x.replay)).length;
  const summary = `${entries.length} operation${entries.length === 1 ? "" : "s"}: ${entries.length - failing} verif${entries.length - failing === 1 ? "ies" : "y"}, ${failing} do${failing === 1 ? "es" : ""} not. Required counts are ${REQUIRED_NOTE}.`;
  return `${table([header, ...rows], "").join("\n")}\n\n${summary}\n`;
}

export function auditJson(entries: readonly AuditEntry[]): Record<string, unknown>[] {
  return entries.map(({ verification, replay }) => ({ ...verificationJson(verification), replay }));
}

// ---- pieces -------------------------------------------------------------------------------------

function requester(author: string, requestedBy: string | undefined): string {
  return requestedBy === undefined || requestedBy.toLowerCase() === author.toLowerCase()
    ? author
    : `${author} (for ${requestedBy})`;
}

function approvedBy(s: SignatureVerdict): string {
  const when = Number.isNaN(Date.parse(s.createdAt))
    ? s.createdAt
    : new Date(s.createdAt).toISOString().slice(0, 16).replace("T", " ");
  return `${s.officer} (${s.githubLogin}, ${when})${s.counted ? "" : ` [${s.reason}]`}`;
}

function replayCell(r: ReplayColumn): string {
  switch (r.state) {
    case "not_applicable":
      return "n/a (policy change)";
    case "unknown":
      return `unknown (${r.reason})`;
    case "asked":
      return r.nodes.map((n) => `server ${n.index}: ${n.result}`).join(", ");
    case "recorded":
      return r.windows
        .map((w) => {
          const when = w.openedAt === null ? w.ref : `window ${w.openedAt}`;
          if (!w.holds)
            return `${when}: RECORD DOES NOT VERIFY (${[...new Set(w.failures.map((f) => f.code))].join(", ")})`;
          const by = w.countersignedBy.length === 0 ? "" : ` by ${w.countersignedBy.join(", ")}`;
          return `${when}: ${w.result}${w.code === null || w.result === "lapsed" ? "" : ` (${w.code})`}${by}`;
        })
        .join("; ");
  }
}

function checkRow(c: Check): string[] {
  return [c.ok ? "ok" : "FAIL", c.name, c.ok ? "" : c.code, c.message];
}

function signatureRow(s: SignatureVerdict): string[] {
  return [
    s.counted ? "counted" : "rejected",
    s.officer,
    s.githubLogin,
    s.createdAt,
    s.reason,
    keyNote(s.keyFingerprint),
    s.message,
  ];
}

function keyNote(fp: string | null): string {
  return fp === null ? "no key" : `key ${fp.slice(0, 16)}…`;
}

function failures(checks: readonly Check[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => c.code);
}

function verdictLine(holds: boolean, checks: readonly Check[], counted: number, required: number | null): string {
  const tally = required === null ? "" : ` (${counted} of ${required} required officers)`;
  return holds ? `quorum holds${tally}` : `does NOT hold${tally}: ${failures(checks).join(", ")}`;
}

/** Left-aligned columns; the last column is not padded. Control characters are shown escaped. */
function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const clean = rows.map((r) => r.map(printable));
  const widths: number[] = [];
  for (const r of clean)
    r.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return clean.map((r) =>
    `${indent}${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")}`.trimEnd(),
  );
}

/** Text from git is data: no terminal escapes, no line breaks inside a cell. */
function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
