// The quorum decision for one pull request, re-evaluated from scratch on every event: no stored
// counters, no clock of its own, no I/O. The adapters gather the inputs (policy from the base
// branch, the request and its digest, the token file and the keys and M values from the
// cluster, the candidates from GitHub) and report the decision; the App and the Action call this
// same function.
import type { ApprovalCandidate } from "./candidate.ts";
import { concludeExaminations, examineCandidate, MAX_SIGNER_LOOKUPS, type Examination, type JudgeContext } from "./judge-candidate.ts";
import { normalizeLogin } from "./login.ts";
import { buildKeyRing, type KeyRing } from "./officer-keys.ts";
import { requestBindingDigest, requiredApprovals, serviceOf, toBindingContext, type QuorumValues } from "./operation.ts";
import type { OfficerMapping, Policy } from "./policy.ts";
import type { GateRequest } from "./request.ts";
import { tally, type AcceptedCommand, type Approver } from "./tally.ts";
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
  /** The token file the cluster issued for this request (records concatenated in node order), or null. */
  readonly tokenFile: Uint8Array | null;
  /** Officer name → SPKI PEM of the registered quorum key, from the cluster's `quorum-keys`. */
  readonly officerKeys: ReadonlyMap<string, string>;
  /** From the cluster's `quorum-values`. */
  readonly quorumValues: QuorumValues;
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
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface Problem {
  readonly code: ProblemCode;
  readonly message: string;
}

/** Problems that no approval can fix: the decision is `rejected` while one of them holds. */
const BLOCKING: readonly ProblemCode[] = ["cluster_mismatch", "bad_token_file", "token_binding_mismatch", "token_service_mismatch", "quorum_unreachable"];

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
}

/** Everything the decision needs besides its subject: policy, token, cluster facts, comments, time. */
export type QuorumInput = Omit<EvaluationInput, "request" | "requestDigest">;

export function evaluateQuorum(input: EvaluationInput): Decision {
  const { policy, request } = input;
  const problems: Problem[] = [];
  // The request must be for the cluster this repository governs.
  if (request.cluster !== policy.cluster) {
    problems.push({ code: "cluster_mismatch", message: `the request is for cluster ${request.cluster}, but this repository governs ${policy.cluster}` });
  }
  const context = toBindingContext(input.repository, input.pullRequest, input.requestDigest);
  return decideQuorum(input, {
    binding: requestBindingDigest(request, context),
    service: serviceOf(request.operation),
    required: requiredApprovals(request.operation, input.quorumValues),
    digest: input.requestDigest,
    problems,
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

  // 1. The token must be this subject's token, and still alive.
  const token = inspectToken(input.tokenFile, { binding, service: subject.service, lifetimeSeconds: policy.tokenLifetimeSeconds, now: input.now });
  if (!token.ok) problems.push({ code: token.problem, message: token.message });
  else if (token.token.expired) problems.push({ code: "token_expired", message: "the token has expired: an officer posts /quorum renew for a new one" });

  // 2. Who could approve at all, and is that enough?
  const ring = buildKeyRing(input.officerKeys);
  const eligible = policy.officers.filter((o) => canApprove(o, ring, policy, input.prAuthor));
  if (eligible.length < required) {
    problems.push({
      code: "quorum_unreachable",
      message: `${required} officers must approve, but only ${eligible.length} can (mapped in the policy, with a registered key${policy.allowSelfApproval ? "" : ", and not the author"})`,
    });
  }

  // 3. Each candidate on its own, then all of them together.
  const ctx: JudgeContext = { policy, ring, token, tokenBytes: token.ok ? input.tokenFile : null, prAuthor: input.prAuthor, signerLookups: { remaining: MAX_SIGNER_LOOKUPS } };
  // The rules of every candidate first, then all their RSA checks in a row (judge-candidate.ts).
  const examinations: Examination[] = [];
  input.candidates.forEach((c, i) => {
    const e = examineCandidate(c, i, ctx);
    if (e !== null) examinations.push(e);
  });
  const judgements = concludeExaminations(examinations);
  const counted = tally(judgements, token.ok && token.token.expired);

  // 4. The decision.
  const approvers = counted.approvers;
  const state: DecisionState = problems.some((p) => BLOCKING.includes(p.code))
    ? "rejected"
    : !token.ok || token.token.expired || approvers.length < required
      ? "pending"
      : "approved";
  return {
    state,
    required,
    approvers,
    missing: Math.max(0, required - approvers.length),
    waitingFor: eligible.filter((o) => !approvers.some((a) => a.officer === o.officer)),
    verdicts: counted.verdicts,
    problems,
    commands: counted.commands,
    renewRequested: counted.commands.some((c) => c.verb === "renew" && (!token.ok || Date.parse(c.createdAt) / 1000 > issuedAt(token.token))),
    token: token.ok ? token.token : null,
    bindingDigest: binding,
    requestDigest: subject.digest,
  };
}

/** When the token was issued: its oldest record. */
function issuedAt(token: TokenSummary): number {
  return Math.min(...token.records.map((r) => r.createdAt));
}

function canApprove(o: OfficerMapping, ring: KeyRing, policy: Policy, prAuthor: string): boolean {
  const key = ring.get(o.officer);
  if (key === undefined) return false;
  if (o.keyFingerprint !== undefined && o.keyFingerprint !== key.fingerprint) return false;
  return policy.allowSelfApproval || o.login !== normalizeLogin(prAuthor);
}
