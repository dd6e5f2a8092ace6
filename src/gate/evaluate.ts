// The quorum decision for one pull request, re-evaluated from scratch on every event: no stored
// counters, no clock of its own, no I/O. The adapters gather the inputs (policy from the base
// branch, the request and its digest, the token file and the keys and M values from the
// cluster, the candidates from GitHub) and report the decision; the App and the Action call this
// same function.
import { approvalPayloadOf, renderApprovalPayload } from "./approval-payload.ts";
import type { ApprovalCandidate } from "./candidate.ts";
import {
  concludeExaminations,
  examineCandidate,
  MAX_SIGNER_LOOKUPS,
  pinnedKey,
  type Examination,
  type JudgeContext,
} from "./judge-candidate.ts";
import { normalizeLogin } from "./login.ts";
import { buildKeyRing, type KeyRing } from "./officer-keys.ts";
import {
  requestBindingDigest,
  requiredApprovals,
  serviceOf,
  toBindingContext,
  type QuorumValues,
} from "./operation.ts";
import { checkLockout, type GuardOperation, type LockoutResult } from "./lockout-guard.ts";
import {
  DEFAULT_REJECTIONS_TO_BLOCK,
  operationRule,
  type GroupRule,
  type OfficerMapping,
  type OperationRule,
  type Policy,
} from "./policy.ts";
import type { GateRequest, RequestOperation } from "./request.ts";
import { tally, type AcceptedCommand, type Approver, type Veto } from "./tally.ts";
import { inspectToken, type TokenSummary } from "./token.ts";
import type { Verdict } from "./verdict.ts";

export interface EvaluationInput {
  /** From the base branch, never the PR head. */
  readonly policy: Policy;
  readonly request: GateRequest;
  /** `requestDigest(bytes)` of the request file as the PR holds it. */
  readonly requestDigest: string;
  /** `owner/name`. */
  readonly repository: string;
  readonly pullRequest: number;
  /** The request file's path: with it, vetoes (`/quorum reject`) over the approval payload are judged. */
  readonly requestPath?: string;
  /** The token file the cluster issued for this request (records concatenated in node order), or null. */
  readonly tokenFile: Uint8Array | null;
  /** Officer name → SPKI PEM of the registered quorum key, from the cluster's `quorum-keys`. */
  readonly officerKeys: ReadonlyMap<string, string>;
  /** From the cluster's `quorum-values`. */
  readonly quorumValues: QuorumValues;
  /**
   * The officers with a registered quorum key, by name, where the cluster lists them without the
   * keys themselves (CloudHSM CLI's `user list`); the lock-out guard counts these. Absent: the
   * names of `officerKeys`.
   */
  readonly registeredOfficers?: readonly string[];
  /**
   * Whether a sealed password opens with the gate's password key (backend cloudhsm-cli, where the
   * gate passes the password to the HSM itself). Absent: the gate holds no such key.
   */
  readonly opensSealedPassword?: (sealedBase64: string) => boolean;
  readonly prAuthor: string;
  readonly candidates: readonly ApprovalCandidate[];
  /** Unix seconds. */
  readonly now: number;
}

export type DecisionState = "approved" | "pending" | "rejected";

export const PROBLEM_CODES = [
  "cluster_mismatch",
  "no_token",
  "bad_token_file",
  "token_binding_mismatch",
  "token_service_mismatch",
  "token_expired",
  "quorum_unreachable",
  "lockout",
  "vetoed",
  "backend_unsupported",
  "sealed_password_unreadable",
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface Problem {
  readonly code: ProblemCode;
  readonly message: string;
}

/** Problems that no approval can fix: the decision is `rejected` while one of them holds. */
const BLOCKING: readonly ProblemCode[] = [
  "cluster_mismatch",
  "bad_token_file",
  "token_binding_mismatch",
  "token_service_mismatch",
  "quorum_unreachable",
  "lockout",
  "vetoed",
  "backend_unsupported",
  "sealed_password_unreadable",
];

/** Problems that mean no token should be asked for at all: the request is refused as it stands. */
export const REFUSED_BEFORE_TOKEN: readonly ProblemCode[] = [
  "cluster_mismatch",
  "lockout",
  "quorum_unreachable",
  "backend_unsupported",
  "sealed_password_unreadable",
];

/** One AND group of the policy's rule for this request, as counted. */
export interface GroupTally extends GroupRule {
  /** Counted approvers in the group. */
  readonly have: number;
  /** Members who could still approve (eligible, not yet counted, not vetoing). */
  readonly canStill: number;
}

export interface Decision {
  readonly state: DecisionState;
  /** Distinct officers needed. */
  readonly required: number;
  readonly approvers: readonly Approver[];
  /** `required` minus the approvers counted, never negative. */
  readonly missing: number;
  /** Officers who could still approve: mapped, with a usable key, and not the author when self-approval is off. */
  readonly waitingFor: readonly OfficerMapping[];
  /** One per candidate that holds a command, in posting order. */
  readonly verdicts: readonly Verdict[];
  readonly problems: readonly Problem[];
  /** Accepted `/quorum retry` and `/quorum renew` requests, in posting order. */
  readonly commands: readonly AcceptedCommand[];
  /**
   * An officer asked for a new token after the current one was issued (or there is no usable
   * token): the adapter should get a new one. Older `renew` comments were already served.
   */
  readonly renewRequested: boolean;
  readonly token: TokenSummary | null;
  readonly bindingDigest: string;
  readonly requestDigest: string;
  /** The AND groups of the policy's rule, each with its count (empty without groups). */
  readonly groups: readonly GroupTally[];
  /** Counted vetoes and how many block the request. */
  readonly vetoes: readonly Veto[];
  readonly rejectionsToBlock: number;
  /** Cooling-off: the quorum was reached, and the request may go at this time (ISO), not before. */
  readonly coolingOffUntil: string | null;
}

/**
 * What a decision is about, whatever it is: the binding digest every record of its token must
 * carry, the quorum service the token is for, how many distinct officers must approve, the digest
 * of the file they approve, and what is wrong with it before any token or approval is looked at.
 * A request (`evaluateQuorum`) and a governance request (`evaluateGovernance`) differ only here.
 */
export interface QuorumSubject {
  /** Hex SHA-256 the token's records must carry. */
  readonly binding: string;
  readonly service: number;
  readonly required: number;
  /** Hex SHA-256 of the file the officers approve; `Decision.requestDigest`. */
  readonly digest: string;
  readonly problems: readonly Problem[];
  /** Extra rules from the policy for this kind of request: groups and cooling-off (`required` is already in `required`). */
  readonly rule?: OperationRule;
  /** The bytes a veto signs, for a given `until=`; without it `/quorum reject` does not apply. */
  readonly rejectPayload?: (until: string) => Uint8Array;
  /** The bytes a payload approval signs (backend cloudhsm-cli); without it `/quorum approve until=` does not apply. */
  readonly approvePayload?: (until: string) => Uint8Array;
}

/** Everything the decision needs besides its subject: policy, token, cluster facts, comments, time. */
export type QuorumInput = Omit<EvaluationInput, "request" | "requestDigest">;

export function evaluateQuorum(input: EvaluationInput): Decision {
  const { policy, request } = input;
  const problems: Problem[] = [];
  // The request must be for the cluster this repository governs.
  if (request.cluster !== policy.cluster) {
    problems.push({
      code: "cluster_mismatch",
      message: `the request is for cluster ${request.cluster}, but this repository governs ${policy.cluster}`,
    });
  }
  // A real HSM takes a password only in the clear, so on a real cluster the password is sealed to
  // the gate's own password key, which only the window's command opens (docs/real-cluster.md,
  // "Passwords on a real cluster"). Without that key, or sealed to another key, nothing can run.
  const op = request.operation;
  if (policy.backend === "cloudhsm-cli" && (op.kind === "createUser" || op.kind === "changePswd")) {
    const opens = input.opensSealedPassword;
    if (opens === undefined)
      problems.push({
        code: "backend_unsupported",
        message: `${op.kind} sets a password, and this gate holds no password key to pass it to a real cluster (backend cloudhsm-cli)`,
      });
    else if (!opens(op.sealedPassword))
      problems.push({
        code: "sealed_password_unreadable",
        message:
          "the password is not sealed to the gate's password key: make the request again with quorum-gate request and this cluster file",
      });
  }
  // The lock-out guard, before any token is asked for (docs/governance.md, "Lock-out guard").
  const lockout = lockoutOf(request.operation, input);
  if (!lockout.ok) problems.push({ code: "lockout", message: `${lockout.reason}: ${lockout.message}` });
  const context = toBindingContext(input.repository, input.pullRequest, input.requestDigest);
  const rule = operationRule(policy, request.operation.kind);
  const { requestPath } = input;
  return decideQuorum(input, {
    binding: requestBindingDigest(request, context),
    service: serviceOf(request.operation),
    // The HSM's M is the floor; the policy may only ask for more.
    required: Math.max(requiredApprovals(request.operation, input.quorumValues), rule.required ?? 0),
    digest: input.requestDigest,
    problems,
    rule,
    ...(requestPath === undefined
      ? {}
      : {
          rejectPayload: (until: string) =>
            renderApprovalPayload(
              approvalPayloadOf({
                verdict: "reject",
                request,
                requestDigest: input.requestDigest,
                requestPath,
                repository: input.repository,
                pullRequest: input.pullRequest,
                expiresAt: until,
              }),
            ),
          ...(policy.backend !== "cloudhsm-cli"
            ? {}
            : {
                approvePayload: (until: string) =>
                  renderApprovalPayload(
                    approvalPayloadOf({
                      verdict: "approve",
                      request,
                      requestDigest: input.requestDigest,
                      requestPath,
                      repository: input.repository,
                      pullRequest: input.pullRequest,
                      expiresAt: until,
                    }),
                  ),
              }),
        }),
  });
}

/**
 * The guard over what the gate knows of the cluster: every officer with a registered quorum key
 * can sign. The gate does not know who has 2FA, so a password change of such an officer counts
 * as dropping the key (the guard errs towards refusing).
 */
export function lockoutOf(
  op: RequestOperation,
  input: Pick<EvaluationInput, "officerKeys" | "quorumValues" | "policy" | "registeredOfficers">,
): LockoutResult {
  const names = input.registeredOfficers ?? [...input.officerKeys.keys()];
  const users = names.map((name) => ({ name, type: "CO", hasQuorumKey: true }));
  const operation: GuardOperation =
    op.kind === "deleteUser" || op.kind === "changePswd"
      ? { kind: op.kind, userType: op.userType, userName: op.userName }
      : op.kind === "setMValue"
        ? { kind: "setMValue", service: op.service, value: op.value }
        : { kind: "other" };
  return checkLockout({
    users,
    mValues: { 3: input.quorumValues.user, 4: input.quorumValues.quorum },
    operation,
    ...(input.policy.lockoutMargin === undefined ? {} : { margin: input.policy.lockoutMargin }),
  });
}

/**
 * The decision over any subject: the token must be the subject's and alive, enough officers of
 * `input.policy` must be able to approve, and each candidate is judged against that policy and
 * that token. Pure; the same rules for every kind of request.
 */
export function decideQuorum(input: QuorumInput, subject: QuorumSubject): Decision {
  const { policy } = input;
  const problems: Problem[] = [...subject.problems];
  const { binding, required } = subject;

  // The long clock of a real cluster (docs/real-cluster.md): officers approve the payload, and the
  // HSM's token exists only in the short execution window after merge, so none is asked for here.
  const longClock = policy.backend === "cloudhsm-cli" && subject.approvePayload !== undefined;

  // 1. The token must be this subject's token, and still alive.
  const token = inspectToken(input.tokenFile, {
    binding,
    service: subject.service,
    lifetimeSeconds: policy.tokenLifetimeSeconds,
    now: input.now,
  });
  if (longClock) {
    // Nothing to check: a token file (from an earlier emulator policy, say) counts for nothing.
  } else if (!token.ok) problems.push({ code: token.problem, message: token.message });
  else if (token.token.expired)
    problems.push({
      code: "token_expired",
      message: "the token has expired: an officer posts /quorum renew for a new one",
    });

  // 2. Each candidate on its own, then all of them together.
  const ring = buildKeyRing(input.officerKeys);
  const ctx: JudgeContext = {
    policy,
    ring,
    token,
    tokenBytes: token.ok ? input.tokenFile : null,
    prAuthor: input.prAuthor,
    signerLookups: { remaining: MAX_SIGNER_LOOKUPS },
    now: input.now,
    ...(subject.rejectPayload === undefined ? {} : { rejectPayload: subject.rejectPayload }),
    ...(subject.approvePayload === undefined ? {} : { approvePayload: subject.approvePayload }),
  };
  // The rules of every candidate first, then all their RSA checks in a row (judge-candidate.ts).
  const examinations: Examination[] = [];
  input.candidates.forEach((c, i) => {
    const e = examineCandidate(c, i, ctx);
    if (e !== null) examinations.push(e);
  });
  const judgements = concludeExaminations(examinations);
  const counted = tally(judgements, token.ok && token.token.expired);

  // 3. Vetoes: an officer who rejects is not counted as approving; enough vetoes block for good.
  const vetoes = counted.vetoes;
  const vetoed = (officer: string) => vetoes.some((v) => v.officer === officer);
  const rejectionsToBlock = policy.rejectionsToBlock ?? DEFAULT_REJECTIONS_TO_BLOCK;
  if (vetoes.length >= rejectionsToBlock) {
    problems.push({
      code: "vetoed",
      message: `${vetoes.length} officer${vetoes.length === 1 ? "" : "s"} rejected this request (${vetoes.map((v) => v.officer).join(", ")}); ${rejectionsToBlock} block it`,
    });
  }
  const approvers = counted.approvers.filter((a) => !vetoed(a.officer));

  // 4. Early refusal: who could still approve, and is that enough for M and for every group?
  const eligible = policy.officers.filter(
    (o) => (longClock ? canApprovePayload : canApprove)(o, ring, policy, input.prAuthor) && !vetoed(o.officer),
  );
  const unreachable: string[] = [];
  if (eligible.length < required) {
    const keyRule = longClock ? "with a pinned key the cluster does not contradict" : "with a registered key";
    unreachable.push(
      `${required} officers must approve, but only ${eligible.length} can (mapped in the policy, ${keyRule}${policy.allowSelfApproval ? "" : ", not the author"}${vetoes.length > 0 ? ", not vetoing" : ""})`,
    );
  }
  const inGroup = (group: string, login: string) => policy.groups?.get(group)?.includes(login) === true;
  const groups: GroupTally[] = (subject.rule?.groups ?? []).map((g) => {
    const have = approvers.filter((a) => inGroup(g.group, normalizeLogin(a.login))).length;
    const canStill = eligible.filter(
      (o) => inGroup(g.group, o.login) && !approvers.some((a) => a.officer === o.officer),
    ).length;
    if (have + canStill < g.count)
      unreachable.push(
        `group ${g.group} needs ${g.count} approval${g.count === 1 ? "" : "s"}, but only ${have + canStill} of its officers can give one`,
      );
    return { ...g, have, canStill };
  });
  if (unreachable.length > 0) problems.push({ code: "quorum_unreachable", message: unreachable.join("; ") });

  // 5. Cooling-off: the time the rule was first met, plus the delay.
  const metAt = firstMet(approvers, required, groups, inGroup);
  const delay = subject.rule?.delaySeconds ?? 0;
  const goAt = metAt === null || delay === 0 ? null : Math.floor(Date.parse(metAt) / 1000) + delay;
  const cooling = goAt !== null && input.now < goAt;

  // 6. The decision.
  const state: DecisionState = problems.some((p) => BLOCKING.includes(p.code))
    ? "rejected"
    : (!longClock && (!token.ok || token.token.expired)) || metAt === null || cooling
      ? "pending"
      : "approved";
  return {
    state,
    required,
    approvers,
    missing: Math.max(0, required - approvers.length),
    waitingFor: eligible.filter((o) => !approvers.some((a) => a.officer === o.officer)),
    groups,
    vetoes,
    rejectionsToBlock,
    coolingOffUntil: cooling && goAt !== null ? new Date(goAt * 1000).toISOString().replace(".000Z", "Z") : null,
    verdicts: counted.verdicts,
    problems,
    commands: counted.commands,
    renewRequested: counted.commands.some(
      (c) => c.verb === "renew" && (!token.ok || Date.parse(c.createdAt) / 1000 > issuedAt(token.token)),
    ),
    token: token.ok ? token.token : null,
    bindingDigest: binding,
    requestDigest: subject.digest,
  };
}

/**
 * When the counted approvals (in posting order) first met the count and every group; null when
 * they do not yet. The cooling-off runs from there.
 */
function firstMet(
  approvers: readonly Approver[],
  required: number,
  groups: readonly GroupRule[],
  inGroup: (group: string, login: string) => boolean,
): string | null {
  for (let n = required; n <= approvers.length; n++) {
    const prefix = approvers.slice(0, n);
    if (groups.every((g) => prefix.filter((a) => inGroup(g.group, normalizeLogin(a.login))).length >= g.count))
      return approvers[n - 1]?.createdAt ?? null;
  }
  return null;
}

/** When the token was issued: its oldest record. */
function issuedAt(token: TokenSummary): number {
  return Math.min(...token.records.map((r) => r.createdAt));
}

/**
 * With the long clock: the policy pins the officer's key, and where the cluster's registered key
 * is known it is that key (the same rule judge-candidate.ts applies to each approval).
 */
function canApprovePayload(o: OfficerMapping, ring: KeyRing, policy: Policy, prAuthor: string): boolean {
  const pinned = pinnedKey(o);
  if (pinned === null) return false;
  const registered = ring.get(o.officer);
  if (registered !== undefined && registered.fingerprint !== pinned.fingerprint) return false;
  return policy.allowSelfApproval || o.login !== normalizeLogin(prAuthor);
}

function canApprove(o: OfficerMapping, ring: KeyRing, policy: Policy, prAuthor: string): boolean {
  const key = ring.get(o.officer);
  if (key === undefined) return false;
  if (o.keyFingerprint !== undefined && o.keyFingerprint !== key.fingerprint) return false;
  return policy.allowSelfApproval || o.login !== normalizeLogin(prAuthor);
}
