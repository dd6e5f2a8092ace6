// Governance requests (docs/requests.md, "Governance requests"): a pull request that changes or
// deletes the policy file decides who may approve everything else, so it is judged by the policy
// it replaces. The *current* officers (the base branch's policy) must approve it, at least as many
// as the cluster's strictest M, under the current self-approval rule. There is no HSM operation to
// replay, but the officers still sign a cluster-issued token bound to exactly this change, with the
// same ceremony and commands as any request: a signature for one policy change (or for a request)
// can never count for another. Nodes never execute a policy change; they only issue the token,
// which they do for any 32-byte binding, and delete it after the merge.
import { sha256 } from "../crypto/rsa.ts";
import { BINDING_VERSION, canonicalJson } from "../hsm/binding.ts";
import { SERVICE_MISC_CO } from "../hsm/model.ts";
import { renderApprovalPayload, type ApprovalPayload, type Verdict } from "./approval-payload.ts";
import { decideQuorum, type Decision, type QuorumInput } from "./evaluate.ts";
import type { GateIssue } from "./issues.ts";
import { normalizeLogin } from "./login.ts";
import { buildKeyRing } from "./officer-keys.ts";
import type { QuorumValues } from "./operation.ts";
import { DEFAULT_LOCKOUT_MARGIN } from "./lockout-guard.ts";
import { DEFAULT_REJECTIONS_TO_BLOCK, parsePolicy, POLICY_PATH, type OfficerMapping, type Policy } from "./policy.ts";

export const GOVERNANCE_KINDS = ["policyChange", "policyDeletion"] as const;
export type GovernanceKind = (typeof GOVERNANCE_KINDS)[number];

/** The quorum service of a governance token: MISC_CO, the service that guards quorum values. */
export const GOVERNANCE_SERVICE = SERVICE_MISC_CO;

export type GovernanceRequest =
  /** The pull request replaces the policy with `policy`; `policyDigest` is SHA-256 of its bytes at the PR's head. */
  | { readonly kind: "policyChange"; readonly policy: Policy; readonly policyDigest: string }
  /** The pull request deletes the policy, which turns the gate off; `policyDigest` is SHA-256 of the deleted (current) bytes. */
  | { readonly kind: "policyDeletion"; readonly policyDigest: string };

export type GovernanceResult =
  | { readonly ok: true; readonly request: GovernanceRequest }
  | { readonly ok: false; readonly issues: readonly GateIssue[]; readonly digest: string };

/** What officers sign for: the kind of change and the digest of the policy bytes it names. */
export interface GovernanceOperation {
  readonly kind: GovernanceKind;
  readonly policyDigest: string;
}

/**
 * The governance request of a pull request. `proposed` is the policy file at the PR's head (or
 * merge commit), null when the PR deletes it; `current` is the policy file on the base branch.
 * A proposed policy must itself be valid: its issues are reported as for any policy file.
 */
export function parseGovernanceRequest(proposed: Uint8Array | null, current: Uint8Array): GovernanceResult {
  if (proposed === null)
    return { ok: true, request: { kind: "policyDeletion", policyDigest: sha256(current).toString("hex") } };
  const policyDigest = sha256(proposed).toString("hex");
  const parsed = parsePolicy(proposed);
  if (!parsed.ok) return { ok: false, issues: parsed.issues, digest: policyDigest };
  return { ok: true, request: { kind: "policyChange", policy: parsed.policy, policyDigest } };
}

export function governanceOperation(request: GovernanceRequest): GovernanceOperation {
  return { kind: request.kind, policyDigest: request.policyDigest };
}

/**
 * The binding digest of a governance token: SHA-256 over the canonical JSON of
 * `{v: 1, clusterId, operation: {kind, policyDigest}, context: {repository, pullRequest, requestDigest: policyDigest}}`,
 * the same document shape as a request's binding (src/hsm/binding.ts), with an operation kind no
 * node can execute, so a governance token can never authorize an HSM operation, and no request's
 * token can ever match a governance binding. `clusterId` is the current policy's cluster: the one
 * whose officers approve.
 */
export function governanceBindingDigest(
  clusterId: string,
  request: GovernanceRequest,
  repository: string,
  pullRequest: number,
): string {
  const document = {
    v: BINDING_VERSION,
    clusterId,
    operation: governanceOperation(request),
    context: { repository, pullRequest, requestDigest: request.policyDigest },
  };
  return sha256(Buffer.from(canonicalJson(document), "utf8")).toString("hex");
}

/**
 * Approvals a governance request needs: the strictest M of the cluster, `max(M(3), M(4))`, and
 * never fewer than one. A policy change can redirect every operation the gate guards, so it is
 * at least as hard to approve as the hardest of them; it is no harder than that, so a cluster
 * that runs at M = 1 (one officer decides) is not locked out of its own policy.
 */
export function governanceRequiredApprovals(m: QuorumValues): number {
  return Math.max(1, m.user, m.quorum);
}

export interface GovernanceEvaluationInput extends QuorumInput {
  /** The *current* policy, from the base branch: its officers approve, its rules apply. */
  readonly policy: Policy;
  readonly change: GovernanceRequest;
}

export interface GovernancePayloadInput {
  readonly verdict: Verdict;
  readonly change: GovernanceRequest;
  /** The current policy's cluster: the one whose officers approve. */
  readonly clusterId: string;
  readonly repository: string;
  readonly pullRequest: number;
  readonly expiresAt: string;
}

/**
 * The approval payload of a governance request: what the current officers sign on a real cluster
 * (docs/real-cluster.md, "Policy changes on a real cluster"), whose tokens live only minutes. The
 * request file is the policy file; its SHA-256 and the governance binding name exactly this change
 * in this pull request, so the signature counts for no other change and no HSM request. A policy
 * change has no reason field: the pull request's description is the place for one.
 */
export function governancePayloadOf(input: GovernancePayloadInput): ApprovalPayload {
  const { change } = input;
  return {
    verdict: input.verdict,
    clusterId: input.clusterId,
    repository: input.repository,
    pullRequest: input.pullRequest,
    requestPath: POLICY_PATH,
    requestSha256: change.policyDigest,
    bindingSha256: governanceBindingDigest(input.clusterId, change, input.repository, input.pullRequest),
    operation: { kind: change.kind },
    reason: "",
    expiresAt: input.expiresAt,
  };
}

/** The bytes an officer signs for this change with a given `until=`: what the engine, the evidence and the audit check. */
export function governancePayloadFor(
  verdict: Verdict,
  context: Omit<GovernancePayloadInput, "verdict" | "expiresAt">,
): (until: string) => Uint8Array {
  return (until) => renderApprovalPayload(governancePayloadOf({ ...context, verdict, expiresAt: until }));
}

/** The decision on a governance request: the same rules, tally and verdicts as `evaluateQuorum`. */
export function evaluateGovernance(input: GovernanceEvaluationInput): Decision {
  const { change, policy } = input;
  // On a real cluster the current officers approve the governance payload (the long clock) and
  // nothing is asked of the HSMs: a policy change runs nothing there.
  const context = { change, clusterId: policy.cluster, repository: input.repository, pullRequest: input.pullRequest };
  const payload = (verdict: Verdict) => governancePayloadFor(verdict, context);
  return decideQuorum(input, {
    binding: governanceBindingDigest(policy.cluster, change, input.repository, input.pullRequest),
    service: GOVERNANCE_SERVICE,
    required: governanceRequiredApprovals(input.quorumValues),
    digest: change.policyDigest,
    problems: [],
    ...(policy.backend === "cloudhsm-cli"
      ? { approvePayload: payload("approve"), rejectPayload: payload("reject") }
      : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// What the change does, for the people who approve it.

export interface OfficerChange {
  readonly login: string;
  readonly before: OfficerMapping;
  readonly after: OfficerMapping;
}

export interface FieldChange {
  /** The policy file's own field name, e.g. `allow_self_approval`. */
  readonly field: string;
  readonly before: string;
  readonly after: string;
}

export interface PolicyDiff {
  readonly officersAdded: readonly OfficerMapping[];
  readonly officersRemoved: readonly OfficerMapping[];
  /** Same login, another HSM officer or another key pin. */
  readonly officersChanged: readonly OfficerChange[];
  readonly fields: readonly FieldChange[];
}

/** What `next` changes in `current`, by GitHub login and by field. Empty when only layout or comments change. */
export function diffPolicies(current: Policy, next: Policy): PolicyDiff {
  const byLogin = (p: Policy) => new Map(p.officers.map((o) => [o.login, o]));
  const before = byLogin(current);
  const after = byLogin(next);
  const fields: FieldChange[] = [];
  const field = (name: string, a: string, b: string): void => {
    if (a !== b) fields.push({ field: name, before: a, after: b });
  };
  field("cluster", current.cluster, next.cluster);
  // What officers sign and how the gate reaches the cluster (docs/real-cluster.md).
  field("backend", current.backend, next.backend);
  field("request_folder", current.requestFolder, next.requestFolder);
  field("allow_self_approval", String(current.allowSelfApproval), String(next.allowSelfApproval));
  field("token_lifetime_seconds", String(current.tokenLifetimeSeconds), String(next.tokenLifetimeSeconds));
  field("approval_lifetime_seconds", String(current.approvalLifetimeSeconds), String(next.approvalLifetimeSeconds));
  // The governance rules (docs/governance.md): a loosened rule is a policy change like any other.
  field(
    "lockout_margin",
    String(current.lockoutMargin ?? DEFAULT_LOCKOUT_MARGIN),
    String(next.lockoutMargin ?? DEFAULT_LOCKOUT_MARGIN),
  );
  field(
    "rejections_to_block",
    String(current.rejectionsToBlock ?? DEFAULT_REJECTIONS_TO_BLOCK),
    String(next.rejectionsToBlock ?? DEFAULT_REJECTIONS_TO_BLOCK),
  );
  field("groups", groupsText(current), groupsText(next));
  field("operations", operationsText(current), operationsText(next));
  return {
    officersAdded: next.officers.filter((o) => !before.has(o.login)),
    officersRemoved: current.officers.filter((o) => !after.has(o.login)),
    officersChanged: next.officers.flatMap((o) => {
      const was = before.get(o.login);
      return was !== undefined && (was.officer !== o.officer || was.keyFingerprint !== o.keyFingerprint)
        ? [{ login: o.login, before: was, after: o }]
        : [];
    }),
    fields,
  };
}

function groupsText(p: Policy): string {
  return (
    [...(p.groups ?? new Map<string, readonly string[]>())]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([g, m]) => `${g}: [${[...m].sort().join(", ")}]`)
      .join("; ") || "(none)"
  );
}

function operationsText(p: Policy): string {
  return (
    Object.entries(p.operations ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(
        ([kind, r]) =>
          `${kind}: required ${r.required ?? "M"}, groups {${r.groups.map((g) => `${g.group}: ${g.count}`).join(", ")}}, delay_seconds ${r.delaySeconds}`,
      )
      .join("; ") || "(none)"
  );
}

export function isEmptyDiff(d: PolicyDiff): boolean {
  return d.officersAdded.length + d.officersRemoved.length + d.officersChanged.length + d.fields.length === 0;
}

/**
 * Consequences of the new policy worth a warning before anyone signs: a policy under which too
 * few officers can approve locks the repository out, including out of the next policy change
 * (which the *new* policy's officers would have to approve). Keys are the cluster's, as now; an
 * officer can register a key before the change merges, so these never block the change.
 */
export function governanceWarnings(
  current: Policy,
  next: Policy,
  officerKeys: ReadonlyMap<string, string>,
  m: QuorumValues,
): string[] {
  const warnings: string[] = [];
  if (next.cluster !== current.cluster) {
    warnings.push(
      `the new policy governs cluster ${next.cluster}, not ${current.cluster}: the gate must be connected to that cluster, or every request will be rejected (cluster_mismatch)`,
    );
    return warnings;
  }
  const ring = buildKeyRing(officerKeys);
  // On a real cluster the new policy's officers approve under the key it pins for them (the
  // parser requires one); CloudHSM CLI shows nobody's registered key to compare it with.
  const payloadClock = next.backend === "cloudhsm-cli";
  const usable = next.officers.filter((o) => {
    if (payloadClock) return o.publicKeyPem !== undefined;
    const key = ring.get(o.officer);
    return key !== undefined && (o.keyFingerprint === undefined || o.keyFingerprint === key.fingerprint);
  });
  const missing = next.officers.filter((o) => !usable.includes(o)).map((o) => o.officer);
  if (missing.length > 0 && !payloadClock)
    warnings.push(
      `no usable quorum key on the cluster (none registered, or not the pinned one) for: ${missing.join(", ")}; they cannot approve until one is registered`,
    );
  const requestBar = Math.max(1, m.user);
  const governanceBar = governanceRequiredApprovals(m);
  if (usable.length < governanceBar) {
    warnings.push(
      `under the new policy only ${usable.length} officer${usable.length === 1 ? "" : "s"} can approve, fewer than the ${governanceBar} a policy change needs${usable.length < requestBar ? ` and the ${requestBar} a user-management request needs` : ""}: it could not be changed again through the gate`,
    );
  }
  return warnings;
}

/**
 * The change in plain sentences, one per officer or field, for the sticky comment and the
 * evidence. Every value in them was validated by the policy parser (logins, officer names,
 * cluster ids, folders, numbers); renderers still escape them.
 */
export function describePolicyDiff(d: PolicyDiff): string[] {
  const officer = (o: OfficerMapping): string =>
    `${o.login} → officer ${o.officer}${o.keyFingerprint === undefined ? "" : ` (key pinned ${o.keyFingerprint.slice(0, 16)}…)`}`;
  const pin = (o: OfficerMapping): string =>
    o.keyFingerprint === undefined ? "no key pin" : `key pin ${o.keyFingerprint.slice(0, 16)}…`;
  return [
    ...d.officersAdded.map((o) => `officer added: ${officer(o)}`),
    ...d.officersRemoved.map((o) => `officer removed: ${officer(o)}`),
    ...d.officersChanged.map((c) => {
      const parts = [
        ...(c.before.officer === c.after.officer ? [] : [`officer ${c.before.officer} → ${c.after.officer}`]),
        ...(c.before.keyFingerprint === c.after.keyFingerprint ? [] : [`${pin(c.before)} → ${pin(c.after)}`]),
      ];
      return `officer changed: ${c.login}: ${parts.join("; ")}`;
    }),
    ...d.fields.map((f) => `${f.field}: ${f.before} → ${f.after}`),
  ];
}

/** Whether the new policy adds the PR's author as an officer (or remaps them): their approval still counts only if the current policy says so. */
export function addsAuthor(diff: PolicyDiff, prAuthor: string): boolean {
  const author = normalizeLogin(prAuthor);
  return diff.officersAdded.some((o) => o.login === author) || diff.officersChanged.some((c) => c.login === author);
}

/** `.github/quorum-gate.evidence/`: beside the policy file, one folder per governance pull request. */
export const GOVERNANCE_EVIDENCE_ROOT = `${POLICY_PATH.replace(/\.ya?ml$/, "")}.evidence/`;

/** The governance evidence folder of a pull request: one per PR, so no approval overwrites another's. */
export function governanceEvidenceFolder(pullRequest: number): string {
  return `${GOVERNANCE_EVIDENCE_ROOT}pr-${pullRequest}/`;
}

/** Whether `path` is one of the evidence files of governance pull request `pullRequest`. */
export function isGovernanceEvidencePath(pullRequest: number, path: string): boolean {
  const folder = governanceEvidenceFolder(pullRequest);
  return path.startsWith(folder) && path.length > folder.length && !path.slice(folder.length).includes("/");
}
