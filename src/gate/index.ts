// The gate engine's public surface, for the App, the Action and the CLI. Everything here is
// pure: no I/O, no clock, no GitHub SDK; time and data are passed in.
export {
  parseRequest,
  requestDigest,
  REQUEST_KINDS,
  MAX_REQUEST_BYTES,
  type GateRequest,
  type RequestOperation,
  type RequestResult,
} from "./request.ts";
export {
  parsePolicy,
  officerOfLogin,
  isRequestPath,
  POLICY_PATH,
  DEFAULT_REQUEST_FOLDER,
  type Policy,
  type OfficerMapping,
  type PolicyResult,
} from "./policy.ts";
export { ISSUE_CODES, formatIssue, type GateIssue, type IssueCode } from "./issues.ts";
export {
  toOperation,
  toBindingContext,
  requestBindingDigest,
  requiredApprovals,
  serviceOf,
  describeOperation,
  sealedPasswordFingerprint,
  type QuorumValues,
} from "./operation.ts";
export {
  parseApprovalComment,
  renderApprovalComment,
  renderCommand,
  renderCountersignComment,
  renderPayloadComment,
  COMMAND_VERBS,
  COMMAND_REASONS,
  type ApprovalCommand,
  type CommandResult,
  type CommandReason,
} from "./approval-command.ts";
export {
  approvalPayloadOf,
  checkPayloadExpiry,
  parseApprovalPayload,
  payloadExpiry,
  renderApprovalPayload,
  APPROVAL_PAYLOAD_TITLE,
  type ApprovalPayload,
  type Verdict as PayloadVerdict,
} from "./approval-payload.ts";
export { CANDIDATE_KINDS, type ApprovalCandidate, type CandidateKind } from "./candidate.ts";
export { VERDICT_REASONS, type Verdict, type VerdictKind, type VerdictReason } from "./verdict.ts";
export {
  checkLockout,
  DEFAULT_LOCKOUT_MARGIN,
  LOCKOUT_REASONS,
  type GuardOperation,
  type GuardUser,
  type LockoutInput,
  type LockoutReason,
  type LockoutResult,
} from "./lockout-guard.ts";
export {
  evaluateQuorum,
  decideQuorum,
  lockoutOf,
  PROBLEM_CODES,
  REFUSED_BEFORE_TOKEN,
  type GroupTally,
  type Decision,
  type DecisionState,
  type EvaluationInput,
  type Problem,
  type ProblemCode,
  type QuorumInput,
  type QuorumSubject,
} from "./evaluate.ts";
export {
  parseGovernanceRequest,
  evaluateGovernance,
  governanceBindingDigest,
  governanceOperation,
  governanceRequiredApprovals,
  governanceWarnings,
  diffPolicies,
  describePolicyDiff,
  isEmptyDiff,
  governanceEvidenceFolder,
  isGovernanceEvidencePath,
  GOVERNANCE_EVIDENCE_ROOT,
  GOVERNANCE_KINDS,
  GOVERNANCE_SERVICE,
  type GovernanceRequest,
  type GovernanceResult,
  type GovernanceKind,
  type GovernanceOperation,
  type GovernanceEvaluationInput,
  type PolicyDiff,
} from "./governance.ts";
export type { Approver, AcceptedCommand, Veto } from "./tally.ts";
export type { TokenSummary, TokenRecordSummary } from "./token.ts";
export {
  renderStickyComment,
  readStickyToken,
  renderIssuesComment,
  renderCheckRun,
  renderIssuesCheckRun,
  STICKY_MARKER,
  CHECK_RUN_NAME,
  type CheckRunOutput,
  type StickyInput,
} from "./render.ts";
export {
  renderGovernanceComment,
  renderGovernanceCheckRun,
  GOVERNANCE_HEADING,
  type GovernanceStickyInput,
} from "./render-governance.ts";
export {
  buildEvidence,
  buildGovernanceEvidence,
  evidenceFolder,
  isEvidencePath,
  type EvidenceDocument,
  type EvidenceFile,
  type EvidenceInput,
  type EvidenceResult,
  type GovernanceEvidenceInput,
} from "./evidence.ts";
