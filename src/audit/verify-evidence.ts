// The offline verification of one evidence folder, from bytes alone (the caller reads them from
// git). The decision is the engine's own: the inputs are rebuilt from the evidence (candidates =
// the recorded approvals, author = their GitHub logins, officer keys = the keys in evidence.json
// that the judging policy pins, required = the M the gate recorded, token = token.bin, now = when
// the evidence was made) and handed to evaluateQuorum or evaluateGovernance unchanged. Around it,
// the checks only offline can make: the request file, token and signature files are the ones the
// evidence names (for payload approvals, no token: each payload file is the request's payload),
// and the binding digest recomputed is the one recorded.
import type { ApprovalCandidate } from "../gate/candidate.ts";
import { renderApprovalComment, renderPayloadComment } from "../gate/approval-command.ts";
import { approvalPayloadOf, renderApprovalPayload } from "../gate/approval-payload.ts";
import { evaluateQuorum, type Decision, type QuorumInput } from "../gate/evaluate.ts";
import { APPROVAL_FILE_NAME, EVIDENCE_FILE_NAME, evidenceFolder, TOKEN_FILE_NAME } from "../gate/evidence.ts";
import {
  evaluateGovernance,
  governanceEvidenceFolder,
  governancePayloadFor,
  parseGovernanceRequest,
} from "../gate/governance.ts";
import { formatIssue } from "../gate/issues.ts";
import { parsePolicy, POLICY_PATH, type Policy } from "../gate/policy.ts";
import { parseRequest } from "../gate/request.ts";
import { parseEvidenceDocument, type EvidenceApproval, type EvidenceRecord } from "../gate/evidence-document.ts";
import { checkApprovalFile, checkPayloadFiles, checkSignatureFiles, checkTokenFile } from "./evidence-files.ts";
import { CHECK_NAMES, failure, pass, type Check, type SignatureVerdict } from "./findings.ts";
import { isGovernanceFolder } from "./history.ts";
import { pinnedKeys, type PinResult } from "./pinned-keys.ts";
import { replayIdentity, type ReplayIdentity } from "./replay-key.ts";

export interface VerifyInput {
  /** The evidence folder, repository-relative, ending in `/`. */
  readonly folder: string;
  /** Every file directly in the folder at the landing commit: name → bytes. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /**
   * What the officers approved, at the landing commit: the request file; for a governance request
   * the policy file (null when the change deleted it).
   */
  readonly subject: Uint8Array | null;
  /** The policy at the landing commit's first parent, which judged the operation; null when there was none. */
  readonly policy: Uint8Array | null;
  /** Unix seconds: when the evidence was made. The token's expiry is judged at this time. */
  readonly now: number;
}

export interface Verification {
  readonly folder: string;
  readonly kind: "request" | "governance";
  /** Every check passed, the quorum included. */
  readonly holds: boolean;
  /** Null when evidence.json could not be read. */
  readonly evidence: EvidenceRecord | null;
  readonly checks: readonly Check[];
  /** One per approval in evidence.json, in its order. */
  readonly signatures: readonly SignatureVerdict[];
  /** Distinct officers counted by the engine. */
  readonly counted: number;
  /** M, as the gate recorded it in evidence.json (cluster state: git cannot re-read it). */
  readonly required: number | null;
  /** Unix seconds the token was judged at. */
  readonly judgedAt: number;
  /** For a request: what the gate replays it under, to ask the nodes. */
  readonly replay: ReplayIdentity | null;
  /**
   * Set when the evidence verifies as far as the engine: the policy that judged it and, for
   * payload approvals, the payload bytes of this request for an `until=`. The execution window's
   * record is verified with them (src/audit/verify-window.ts).
   */
  readonly judged?: { readonly policy: Policy; readonly payloadOf: ((until: string) => Uint8Array) | null };
}

/** The path of the file the officers approved, as evidence.json names it; null when it does not belong to `folder`. */
export function subjectPath(folder: string, evidence: EvidenceRecord): string | null {
  if (isGovernanceFolder(folder))
    return evidence.request.path === POLICY_PATH && governanceEvidenceFolder(evidence.pullRequest) === folder
      ? POLICY_PATH
      : null;
  return /\.ya?ml$/.test(evidence.request.path) && evidenceFolder(evidence.request.path) === folder
    ? evidence.request.path
    : null;
}

export function verifyEvidence(input: VerifyInput): Verification {
  const kind = isGovernanceFolder(input.folder) ? "governance" : "request";
  const checks: Check[] = [];
  const base = { folder: input.folder, kind, judgedAt: input.now } as const;
  const raw = input.files.get(EVIDENCE_FILE_NAME);
  const parsed =
    raw === undefined
      ? ({ ok: false, message: `the folder has no ${EVIDENCE_FILE_NAME}` } as const)
      : parseEvidenceDocument(raw);
  if (!parsed.ok) {
    return {
      ...base,
      holds: false,
      evidence: null,
      checks: [failure("evidence", "evidence_unreadable", parsed.message)],
      signatures: [],
      counted: 0,
      required: null,
      replay: null,
    };
  }
  const evidence = parsed.evidence;
  const path = subjectPath(input.folder, evidence);
  checks.push(
    path === null
      ? failure(
          "evidence",
          "folder_mismatch",
          `evidence.json is for ${evidence.request.path} in pull request ${evidence.pullRequest}, which does not keep its evidence in ${input.folder}`,
        )
      : pass(
          "evidence",
          `evidence.json for ${evidence.repository}#${evidence.pullRequest}: ${evidence.request.summary}`,
        ),
  );

  // The policy that judged it.
  let policy: Policy | null = null;
  if (input.policy === null)
    checks.push(
      failure("policy", "no_policy", `there was no ${POLICY_PATH} where the evidence landed: no policy judged it`),
    );
  else {
    const p = parsePolicy(input.policy);
    if (p.ok) {
      policy = p.policy;
      checks.push(
        pass(
          "policy",
          `${POLICY_PATH} of the base branch, ${policy.officers.length} officer${policy.officers.length === 1 ? "" : "s"}, cluster ${policy.cluster}`,
        ),
      );
    } else
      checks.push(
        failure(
          "policy",
          "invalid_policy",
          `${POLICY_PATH} where the evidence landed is not a valid policy: ${p.issues.slice(0, 3).map(formatIssue).join("; ")}`,
        ),
      );
  }

  // What the officers approved, and what runs the engine on it.
  const subjectName = kind === "governance" ? `the new ${POLICY_PATH}` : (path ?? evidence.request.path);
  let decide: ((input: QuorumInput) => Decision) | null = null;
  let replay: ReplayIdentity | null = null;
  let payloadOf: ((until: string) => Uint8Array) | null = null;
  const token = input.files.get(TOKEN_FILE_NAME) ?? null;
  if (kind === "request") {
    if (input.subject === null)
      checks.push(failure("request", "request_missing", `${subjectName} is not in the commit the evidence landed in`));
    else {
      const r = parseRequest(input.subject);
      if (r.digest !== evidence.request.sha256)
        checks.push(
          failure(
            "request",
            "request_digest_mismatch",
            `${subjectName} has SHA-256 ${r.digest}, but the officers approved ${evidence.request.sha256}`,
          ),
        );
      else if (r.ok) checks.push(pass("request", `${subjectName} SHA-256 ${r.digest}, as approved`));
      if (!r.ok)
        checks.push(
          failure(
            "request",
            "invalid_request",
            `${subjectName} is not a valid request: ${r.issues.slice(0, 3).map(formatIssue).join("; ")}`,
          ),
        );
      else {
        const request = r.request;
        const requestPath = path ?? evidence.request.path;
        decide = (q) => evaluateQuorum({ ...q, request, requestDigest: r.digest, requestPath });
        payloadOf = (until) =>
          renderApprovalPayload(
            approvalPayloadOf({
              verdict: "approve",
              request,
              requestDigest: r.digest,
              requestPath,
              repository: evidence.repository,
              pullRequest: evidence.pullRequest,
              expiresAt: until,
            }),
          );
        if (token !== null)
          replay = replayIdentity(request, evidence.repository, evidence.pullRequest, r.digest, token);
      }
    }
  } else if (input.policy !== null) {
    const g = parseGovernanceRequest(input.subject, input.policy);
    const digest = g.ok ? g.request.policyDigest : g.digest;
    const what = input.subject === null ? `the deleted ${POLICY_PATH}` : subjectName;
    if (digest !== evidence.request.sha256)
      checks.push(
        failure(
          "request",
          "request_digest_mismatch",
          `${what} has SHA-256 ${digest}, but the officers approved ${evidence.request.sha256}`,
        ),
      );
    else if (g.ok) checks.push(pass("request", `${what} SHA-256 ${digest}, as approved`));
    if (!g.ok)
      checks.push(
        failure(
          "request",
          "invalid_request",
          `${what} is not a valid policy: ${g.issues.slice(0, 3).map(formatIssue).join("; ")}`,
        ),
      );
    else {
      const change = g.request;
      decide = (q) => evaluateGovernance({ ...q, change });
      const judging = policy;
      if (judging?.backend === "cloudhsm-cli")
        payloadOf = governancePayloadFor("approve", {
          change,
          clusterId: judging.cluster,
          repository: evidence.repository,
          pullRequest: evidence.pullRequest,
        });
    }
  } else
    checks.push(
      failure("request", "request_missing", "without the policy it replaced, the policy change cannot be identified"),
    );

  // The token, the approval file and the signature files against evidence.json.
  checks.push(checkTokenFile(token, evidence));
  const approvalText = input.files.get(APPROVAL_FILE_NAME);
  checks.push(
    evidence.token === undefined
      ? checkPayloadFiles(input.files, evidence.approvals, payloadOf)
      : checkApprovalFile(
          approvalText === undefined ? null : Buffer.from(approvalText).toString("utf8"),
          evidence.approvals,
          [...input.files.keys()],
        ),
  );
  checks.push(checkSignatureFiles(input.files, evidence.approvals));

  // The engine.
  if (policy === null || decide === null) {
    const why = policy === null ? "there is no valid policy to judge it by" : `${subjectName} cannot be read`;
    checks.push(failure("binding", "binding_digest_mismatch", `not recomputed: ${why}`));
    checks.push(failure("quorum", "quorum_not_met", `not evaluated: ${why}`));
    const signatures = evidence.approvals.map((a) => notJudged(a, why));
    return {
      ...base,
      holds: false,
      evidence,
      checks: ordered(checks),
      signatures,
      counted: 0,
      required: evidence.required,
      replay,
    };
  }
  const { keys, pins } = pinnedKeys(policy, evidence.approvals);
  const decision = decide({
    policy,
    repository: evidence.repository,
    pullRequest: evidence.pullRequest,
    tokenFile: token,
    officerKeys: keys,
    // M is cluster state the gate read when it decided; every operation's bar is M when both values are M.
    quorumValues: { user: evidence.required, quorum: evidence.required },
    prAuthor: evidence.pullRequestAuthor,
    candidates: evidence.approvals.map(toCandidate),
    now: input.now,
  });
  checks.push(
    decision.bindingDigest === evidence.bindingDigest
      ? pass("binding", `binding digest ${decision.bindingDigest}, recomputed from ${subjectName}`)
      : failure(
          "binding",
          "binding_digest_mismatch",
          `the binding digest recomputed from ${subjectName} is ${decision.bindingDigest}, but evidence.json records ${evidence.bindingDigest}`,
        ),
  );
  const counted = decision.approvers.length;
  const problems = decision.problems.map((p) => `${p.code}: ${p.message}`);
  checks.push(
    decision.state === "approved" && decision.required === evidence.required
      ? pass("quorum", `${counted} of ${decision.required} required officers approved`)
      : failure(
          "quorum",
          "quorum_not_met",
          `${counted} of ${decision.required} required officers approved${problems.length > 0 ? `; ${problems.join("; ")}` : ""}`,
        ),
  );
  const signatures = evidence.approvals.map((a, i) => verdictOf(a, i, decision, pins[i]));
  return {
    ...base,
    holds: checks.every((c) => c.ok),
    evidence,
    checks: ordered(checks),
    signatures,
    counted,
    required: evidence.required,
    replay,
    judged: { policy, payloadOf },
  };
}

/** The recorded approval as the engine takes a comment: its command, by its author, when it was posted. */
function toCandidate(a: EvidenceApproval, index: number): ApprovalCandidate {
  return {
    id: candidateId(index),
    kind: a.kind,
    author: a.githubLogin,
    authorIsBot: false,
    body:
      a.until === undefined
        ? renderApprovalComment(Buffer.from(a.signature, "base64"))
        : renderPayloadComment("approve", a.until, Buffer.from(a.signature, "base64")),
    createdAt: a.createdAt,
  };
}

/** Unique per approval, even if evidence.json repeats a candidate id. */
function candidateId(index: number): string {
  return `evidence:${index}`;
}

function verdictOf(
  a: EvidenceApproval,
  index: number,
  decision: Decision,
  pin: PinResult | undefined,
): SignatureVerdict {
  const v = decision.verdicts.find((x) => x.candidateId === candidateId(index));
  const common = {
    officer: a.officer,
    githubLogin: a.githubLogin,
    createdAt: a.createdAt,
    signatureFile: a.signatureFile,
    keyFingerprint: pin?.fingerprint ?? null,
  };
  if (v === undefined)
    return {
      ...common,
      counted: false,
      reason: "malformed_signature",
      message: "the recorded signature is not a usable approval",
    };
  // The engine saw no key for this officer because git cannot vouch for it: say why.
  if (v.reason === "revoked_key" && pin !== undefined && pin.status !== "pinned")
    return { ...common, counted: false, reason: pin.status, message: pin.message };
  return { ...common, counted: v.verdict === "counted", reason: v.reason, message: v.message };
}

function notJudged(a: EvidenceApproval, why: string): SignatureVerdict {
  return {
    officer: a.officer,
    githubLogin: a.githubLogin,
    createdAt: a.createdAt,
    signatureFile: a.signatureFile,
    keyFingerprint: null,
    counted: false,
    reason: "not_judged",
    message: `not judged: ${why}`,
  };
}

const ORDER: readonly string[] = CHECK_NAMES;

function ordered(checks: readonly Check[]): Check[] {
  return [...checks].sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name));
}
