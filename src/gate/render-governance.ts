// What the gate shows on a governance request: the same sticky comment and check run as for a
// request (token, signing commands, tally, commands), around a section that says plainly that
// this pull request changes who may approve and how many, with the change officer by officer and
// field by field, and warnings about a policy that would lock the repository out.
import type { Decision } from "./evaluate.ts";
import {
  addsAuthor,
  describePolicyDiff,
  diffPolicies,
  GOVERNANCE_SERVICE,
  governanceEvidenceFolder,
  isEmptyDiff,
  type GovernanceRequest,
} from "./governance.ts";
import { escapeText, inlineCode } from "./markdown.ts";
import { POLICY_PATH, type Policy } from "./policy.ts";
import { renderCheckRunFrame, renderStickyFrame, type CheckRunOutput } from "./render.ts";

export const GOVERNANCE_HEADING = "Policy change";

export interface GovernanceStickyInput {
  readonly decision: Decision;
  readonly change: GovernanceRequest;
  /** The current policy, from the base branch. */
  readonly policy: Policy;
  readonly pullRequest: number;
  readonly prAuthor: string;
  /** From `governanceWarnings`: consequences of the new policy, shown before anyone signs. */
  readonly warnings: readonly string[];
  /** `owner/repo#N`, for the commands the comment shows. */
  readonly target?: string;
  /** After the merge: a heading of its own and what happened, shown before the change (Markdown the gate wrote). */
  readonly merged?: { readonly heading: string; readonly lines: readonly string[] };
}

export function renderGovernanceComment(input: GovernanceStickyInput): string {
  const merged = input.merged === undefined ? [] : [...input.merged.lines, ""];
  return renderStickyFrame(
    input.decision,
    input.merged?.heading ?? GOVERNANCE_HEADING,
    [...merged, ...governanceSection(input)],
    {
      payload: input.policy.backend === "cloudhsm-cli" ? "governance" : null,
      ...(input.target === undefined ? {} : { target: input.target }),
    },
  );
}

export function renderGovernanceCheckRun(input: GovernanceStickyInput): CheckRunOutput {
  const what =
    input.change.kind === "policyChange"
      ? "**Policy change** (who may approve and how many)"
      : "**Policy deletion** (turns the gate off)";
  return renderCheckRunFrame(
    input.decision,
    `${what} for cluster ${inlineCode(input.policy.cluster)}`,
    governanceSection(input),
  );
}

function governanceSection({
  decision,
  change,
  policy,
  pullRequest,
  prAuthor,
  warnings,
}: GovernanceStickyInput): string[] {
  const intro =
    change.kind === "policyChange"
      ? `**This pull request changes the policy: who may approve and how many.** It is a governance request: it merges only with the approval of the officers of the *current* policy (the base branch), under the current rules. The new policy judges the pull requests evaluated after the merge.`
      : `**This pull request deletes the policy: the gate stops guarding this repository.** Pull requests evaluated after the merge are not gated at all. It is a governance request: it merges only with the approval of the officers of the *current* policy.`;
  const rows: [string, string][] = [
    [
      "Change",
      change.kind === "policyChange"
        ? `${inlineCode(POLICY_PATH)} replaced, new SHA-256 ${inlineCode(change.policyDigest)}`
        : `${inlineCode(POLICY_PATH)} deleted (its SHA-256 ${inlineCode(change.policyDigest)})`,
    ],
    [
      "Approved by",
      policy.backend === "cloudhsm-cli"
        ? "the officers of the current policy (base branch), each under the `public_key` it pins for them"
        : "the officers of the current policy (base branch), with their keys registered on the cluster",
    ],
    ["Cluster", inlineCode(policy.cluster)],
    [
      "Quorum service",
      policy.backend === "cloudhsm-cli"
        ? "none: the officers sign the gate's approval payload of this change; nothing is run on the HSMs"
        : `${GOVERNANCE_SERVICE} (MISC_CO); nothing is run on the HSMs`,
    ],
    [
      "Approvals required (M)",
      `${decision.required} distinct crypto officer${decision.required === 1 ? "" : "s"}: the higher of M(3) and M(4)`,
    ],
    ["Self-approval", policy.allowSelfApproval ? "allowed (current policy)" : "not allowed (current policy)"],
    ["Binding digest", inlineCode(decision.bindingDigest)],
    ["Evidence folder", inlineCode(governanceEvidenceFolder(pullRequest))],
  ];
  const out = [
    "### What will change",
    "",
    intro,
    "",
    "| | |",
    "|---|---|",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    "",
  ];
  if (change.kind === "policyChange") {
    const diff = diffPolicies(policy, change.policy);
    out.push("Changes, as the new policy reads:", "");
    if (isEmptyDiff(diff)) out.push("- none in effect: only layout or comments change", "");
    else out.push(...describePolicyDiff(diff).map((line) => `- ${escapeText(line)}`), "");
    if (addsAuthor(diff, prAuthor)) {
      out.push(
        `The new policy maps this pull request's author (${inlineCode(prAuthor)}) to an officer. That counts only from the merge on: here, the current policy decides who approves.`,
        "",
      );
    }
  }
  if (warnings.length > 0) out.push("**Warnings**", "", ...warnings.map((w) => `- ⚠️ ${escapeText(w)}`), "");
  return out;
}
