// What the gate shows: the one sticky comment it keeps on the pull request, and the `quorum`
// check run. Pure text from a decision. No secret is ever printed: a sealed password appears
// only as the SHA-256 of its ciphertext.
import { SERVICES } from "../hsm/model.ts";
import { REFUSED_BEFORE_TOKEN, type Decision, type DecisionState } from "./evaluate.ts";
import { formatIssue, type GateIssue } from "./issues.ts";
import { escapeText, fencedBlock, inlineCode, wrap } from "./markdown.ts";
import { describeOperation, sealedPasswordFingerprint, serviceOf } from "./operation.ts";
import type { Policy } from "./policy.ts";
import type { GateRequest } from "./request.ts";

/** First line of every sticky comment. Adapters find the comment by it, among the app's own comments only. */
export const STICKY_MARKER = "<!-- quorum-gate:sticky v1 -->";
export const CHECK_RUN_NAME = "quorum";

export interface StickyInput {
  readonly decision: Decision;
  readonly request: GateRequest;
  readonly requestPath: string;
  readonly policy: Policy;
  /** `owner/repo#N`, for the commands the comment shows. */
  readonly target?: string;
}

export interface CheckRunOutput {
  readonly name: typeof CHECK_RUN_NAME;
  readonly status: "in_progress" | "completed";
  readonly conclusion?: "success" | "failure";
  readonly title: string;
  readonly summary: string;
  readonly text: string;
}

const AUTHORITY_NOTE =
  "_Only this comment, written and updated by the quorum-gate app, is authoritative. A copy of it posted by anyone else counts for nothing; approvals count only from the officers' own accounts._";

/**
 * Second line of the sticky comment while there is a token: the token file, so that a gate with
 * no database finds it again on the next event (`readStickyToken`). Not secret.
 */
const TOKEN_LINE = /^<!-- quorum-gate:token ([A-Za-z0-9+/]+={0,2}) -->$/;

export function renderStickyComment(input: StickyInput): string {
  return renderStickyFrame(input.decision, "HSM quorum", requestSection(input), {
    payload: input.policy.backend === "cloudhsm-cli" ? "request" : null,
    ...(input.target === undefined ? {} : { target: input.target }),
  });
}

export interface FrameOptions {
  /**
   * On a real cluster (backend cloudhsm-cli) officers sign the gate's approval payload instead of
   * a token: what for (a request, which then runs in an execution window, or a policy change).
   */
  readonly payload?: "request" | "governance" | null;
  /** `owner/repo#N`, for the commands the comment shows; a placeholder without it. */
  readonly target?: string;
}

/**
 * The sticky comment around what is being approved (`subject`, a section of its own): the marker
 * and token lines, the headline, the problems, then the subject, the token to sign, the tally and
 * the commands. Requests and governance requests share everything but the subject.
 */
export function renderStickyFrame(
  decision: Decision,
  heading: string,
  subject: readonly string[],
  options: FrameOptions = {},
): string {
  return [
    STICKY_MARKER,
    ...(decision.token === null ? [] : [`<!-- quorum-gate:token ${decision.token.base64} -->`]),
    `## ${escapeText(heading)}: ${headline(decision)}`,
    "",
    AUTHORITY_NOTE,
    "",
    ...problemsSection(decision),
    ...subject,
    ...(options.payload === undefined || options.payload === null
      ? tokenSection(decision)
      : payloadSection(decision, options.payload, options.target ?? "<owner>/<repo>#<number>")),
    ...tallySection(decision),
    "### Commands",
    "",
    "Post a new comment (or review) whose first line is the command: `/quorum approve <signature>`, `/quorum reject until=<UTC> <signature>` (vetoes the request, signed over its reject payload; see docs/governance.md), `/quorum withdraw` (takes back your earlier approvals and vetoes), `/quorum renew` (asks for a new token; everyone signs again), `/quorum retry` (after a merge, retries the nodes that failed). Edited comments do not approve. See docs/approvals.md.",
    "",
  ].join("\n");
}

/**
 * The token file recorded in a sticky comment, or null. Only the second line is read, so nothing
 * quoted further down (a request's reason) can plant one. Callers pass only the app's own
 * comment, never a look-alike; the token is checked against the request anyway (`inspectToken`).
 */
export function readStickyToken(body: string): Uint8Array | null {
  const lines = body.split(/\r\n|\n/, 3);
  if (lines[0] !== STICKY_MARKER) return null;
  const m = TOKEN_LINE.exec(lines[1] ?? "");
  return m?.[1] === undefined ? null : Buffer.from(m[1], "base64");
}

/** The sticky comment when the request (or the policy) cannot be read: what to fix, nothing else. */
export function renderIssuesComment(what: string, path: string, issues: readonly GateIssue[]): string {
  return [
    STICKY_MARKER,
    `## HSM quorum: ${escapeText(what)} is not valid`,
    "",
    AUTHORITY_NOTE,
    "",
    `${inlineCode(path)} has ${issues.length} problem${issues.length === 1 ? "" : "s"}:`,
    "",
    ...issueLines(issues),
    "",
  ].join("\n");
}

export function renderCheckRun(input: StickyInput): CheckRunOutput {
  const lead = `**${escapeText(describeOperation(input.request.operation))}** on cluster ${inlineCode(input.request.cluster)}`;
  return renderCheckRunFrame(input.decision, lead, requestSection(input));
}

/** The check run of a decision: `lead` (Markdown) names what is approved; `subject` is its section. */
export function renderCheckRunFrame(decision: Decision, lead: string, subject: readonly string[]): CheckRunOutput {
  const summary = [
    `${lead}: ${headline(decision)}.`,
    "",
    ...decision.problems.map((p) => `- ${inlineCode(p.code)}: ${escapeText(p.message)}`),
  ].join("\n");
  return withState(decision.state, {
    title: titleOf(decision),
    summary,
    text: [...subject, ...tallySection(decision)].join("\n"),
  });
}

export function renderIssuesCheckRun(what: string, path: string, issues: readonly GateIssue[]): CheckRunOutput {
  return withState("rejected", {
    title: `${what} is not valid`,
    summary: `${inlineCode(path)} has ${issues.length} problem${issues.length === 1 ? "" : "s"}.`,
    text: issueLines(issues).join("\n"),
  });
}

function withState(state: DecisionState, body: { title: string; summary: string; text: string }): CheckRunOutput {
  if (state === "pending") return { name: CHECK_RUN_NAME, status: "in_progress", ...body };
  return {
    name: CHECK_RUN_NAME,
    status: "completed",
    conclusion: state === "approved" ? "success" : "failure",
    ...body,
  };
}

function issueLines(issues: readonly GateIssue[]): string[] {
  return issues.map((i) => `- ${inlineCode(i.code)} ${escapeText(formatIssue(i))}`);
}

function headline(d: Decision): string {
  const count = `${d.approvers.length} of ${d.required} officer${d.required === 1 ? "" : "s"}`;
  if (d.state === "approved") return `approved (${count})`;
  if (d.state === "rejected") return `rejected (${d.problems.map((p) => p.code).join(", ")})`;
  if (d.coolingOffUntil !== null) return `cooling off until ${d.coolingOffUntil} (${count})`;
  return `pending (${count})`;
}

function titleOf(d: Decision): string {
  if (d.state === "approved") return `Approved by ${d.approvers.length} of ${d.required} officers`;
  if (d.state === "rejected") return `Rejected: ${d.problems.map((p) => p.code).join(", ")}`;
  if (d.coolingOffUntil !== null)
    return `Cooling off: may go at ${d.coolingOffUntil} (${d.approvers.length} of ${d.required})`;
  if (d.token === null || d.token.expired) return `Waiting for a token (${d.approvers.length} of ${d.required})`;
  return `Waiting for ${d.missing} more officer${d.missing === 1 ? "" : "s"} (${d.approvers.length} of ${d.required})`;
}

function problemsSection(d: Decision): string[] {
  if (d.problems.length === 0) return [];
  return ["### Problems", "", ...d.problems.map((p) => `- ${inlineCode(p.code)}: ${escapeText(p.message)}`), ""];
}

function requestSection({ decision, request, requestPath, policy }: StickyInput): string[] {
  const op = request.operation;
  const rows: [string, string][] = [
    ["Operation", inlineCode(describeOperation(op))],
    ["Cluster", inlineCode(request.cluster)],
    ["Quorum service", `${serviceOf(op)} (${SERVICES[serviceOf(op)] ?? "?"})`],
    ["Approvals required (M)", `${decision.required} distinct crypto officer${decision.required === 1 ? "" : "s"}`],
    ["Self-approval", policy.allowSelfApproval ? "allowed (as on the HSM)" : "not allowed"],
    ["Request file", `${inlineCode(requestPath)}, SHA-256 ${inlineCode(decision.requestDigest)}`],
    ["Binding digest", inlineCode(decision.bindingDigest)],
  ];
  if (op.kind === "createUser" || op.kind === "changePswd") {
    rows.splice(1, 0, [
      "Password",
      `sealed to the cluster key; ciphertext SHA-256 ${inlineCode(sealedPasswordFingerprint(op.sealedPassword))}`,
    ]);
  }
  if (request.requestedBy !== undefined) rows.push(["Requested by (as stated)", inlineCode(request.requestedBy)]);
  return [
    "### What will run",
    "",
    "| | |",
    "|---|---|",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "Reason, as written in the request:",
    "",
    fencedBlock(request.reason, "text"),
    "",
  ];
}

/** What an officer signs on a real cluster: the payload, with the officer's tool or by hand. */
function payloadSection(d: Decision, what: "request" | "governance", target: string): string[] {
  if (d.problems.some((p) => REFUSED_BEFORE_TOKEN.includes(p.code)))
    return ["### Approval payload", "", "Nothing to sign: the request is refused as it stands (see Problems).", ""];
  const after =
    what === "request"
      ? "The HSM's own token comes only after the merge, in the execution window, where the approvers countersign it (docs/real-cluster.md)."
      : "A policy change runs nothing on the HSMs: no HSM token takes part, before or after the merge.";
  return [
    "### Approval payload to sign",
    "",
    `On a real cluster (backend ${inlineCode("cloudhsm-cli")}) you approve the gate's approval payload of this pull request, not an HSM token. ${after}`,
    "",
    "The officer's tool reads the pull request's head itself, shows the payload, signs it and posts the comment:",
    "",
    fencedBlock(`quorum-gate approve ${target} --key officer.key`, "sh"),
    "",
    'By hand: write the payload as docs/approvals.md ("The approval payload") describes, sign it with `openssl dgst -sha256 -sign officer.key -out officer.sig payload.txt`, and post `/quorum approve until=<expires-at> <base64 of officer.sig>`.',
    "",
  ];
}

function tokenSection(d: Decision): string[] {
  const t = d.token;
  if (t === null && d.problems.some((p) => REFUSED_BEFORE_TOKEN.includes(p.code)))
    return [
      "### Token",
      "",
      "No token: the request is refused as it stands (see Problems), so there is nothing to sign.",
      "",
    ];
  if (t === null)
    return ["### Token", "", "No valid token yet: the gate asks the cluster for one bound to this request.", ""];
  const nodes = t.records.map((r) => `node ${r.nodeId} token ${r.tokenId}`).join(", ");
  const expiry = `${new Date(t.expiresAt * 1000).toISOString()}${t.expired ? " (expired: post `/quorum renew`)" : ""}`;
  return [
    "### Token to sign",
    "",
    `${t.bytes} bytes, ${t.records.length} record${t.records.length === 1 ? "" : "s"} (${escapeText(nodes)}); SHA-256 ${inlineCode(t.sha256)}; valid until ${expiry}.`,
    "",
    "Sign it with your officer key; the key never leaves your machine:",
    "",
    fencedBlock(
      [
        "base64 -d > token.bin <<'EOF'",
        wrap(t.base64),
        "EOF",
        `sha256sum token.bin   # must print ${t.sha256}`,
        "openssl dgst -sha256 -sign officer.key -out officer.sig token.bin",
        "base64 -w0 officer.sig   # macOS: openssl base64 -A -in officer.sig",
      ].join("\n"),
      "sh",
    ),
    "",
    "Then post a comment whose first line is `/quorum approve ` followed by that base64 (one line). Or let the CLI print the whole comment:",
    "",
    fencedBlock("quorum-gate sign --key officer.key --token-file token.bin", "sh"),
    "",
  ];
}

function tallySection(d: Decision): string[] {
  const rows = [
    ...d.approvers.map(
      (a) =>
        `| ${inlineCode(a.officer)} | ${inlineCode(a.login)} | signed (${linked(a.candidateId, a.url)}, key ${inlineCode(a.keyFingerprint.slice(0, 16))}) |`,
    ),
    ...d.waitingFor.map((o) => `| ${inlineCode(o.officer)} | ${inlineCode(o.login)} | waiting |`),
  ];
  const rejected = d.verdicts.filter((v) => v.verdict === "rejected");
  const noted = d.verdicts.filter((v) => v.verdict === "noted");
  const out = ["### Tally", "", `${d.approvers.length} of ${d.required} counted; ${d.missing} missing.`, ""];
  if (d.groups.length > 0) {
    out.push(
      "Groups (each must be met as well as the count):",
      "",
      "| Group | Needed | Counted | Can still approve |",
      "|---|---|---|---|",
    );
    out.push(...d.groups.map((g) => `| ${inlineCode(g.group)} | ${g.count} | ${g.have} | ${g.canStill} |`), "");
  }
  if (d.vetoes.length > 0) {
    out.push(
      `Vetoes: ${d.vetoes.length} (${d.rejectionsToBlock} block${d.rejectionsToBlock === 1 ? "s" : ""} the request):`,
      "",
    );
    out.push(
      ...d.vetoes.map(
        (v) => `- ${inlineCode(v.officer)} (${inlineCode(v.login)}) rejected, ${linked(v.candidateId, v.url)}`,
      ),
      "",
    );
  }
  if (d.coolingOffUntil !== null)
    out.push(
      `Cooling-off: the quorum is met; the request may go at ${d.coolingOffUntil}, not before. Then re-run the \`quorum\` check (or its workflow job) to let it go.`,
      "",
    );
  if (rows.length > 0) out.push("| Officer | GitHub | Status |", "|---|---|---|", ...rows, "");
  if (rejected.length > 0) {
    out.push("Not counted:", "", "| Comment | Author | Reason |", "|---|---|---|");
    out.push(
      ...latest(rejected).map(
        (v) =>
          `| ${linked(v.candidateId, v.url)} | ${inlineCode(v.author)} | ${inlineCode(v.reason)} ${escapeText(v.message)} |`,
      ),
      "",
    );
    if (rejected.length > MAX_LISTED) out.push(`…and ${rejected.length - MAX_LISTED} earlier ones.`, "");
  }
  if (noted.length > 0) {
    out.push(
      "Commands:",
      "",
      ...latest(noted).map(
        (v) => `- ${linked(v.candidateId, v.url)} ${inlineCode(v.author)}: ${escapeText(v.message)}`,
      ),
      "",
    );
    if (noted.length > MAX_LISTED) out.push(`…and ${noted.length - MAX_LISTED} earlier ones.`, "");
  }
  return out;
}

/**
 * Rows listed per table. GitHub caps a comment at 65,536 characters, and anyone can post many
 * bad commands; the newest ones are the ones people look for.
 */
export const MAX_LISTED = 40;

function latest<T>(items: readonly T[]): readonly T[] {
  return items.slice(-MAX_LISTED);
}

/** The candidate id, linked to the comment when the adapter gave a URL (checked when judged). */
function linked(candidateId: string, url: string | undefined): string {
  return url === undefined ? inlineCode(candidateId) : `[${inlineCode(candidateId)}](${url})`;
}
