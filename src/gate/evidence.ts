// The evidence the gate adds to an approved pull request, so that the merge carries the whole
// approval into git history: the token file, one signature file per officer, the CMU approval
// file that names them (a CMU user can run `approveToken approval.txt` from that folder), and
// a JSON document that ties request, token, keys, signatures and decision together. Nothing in
// it is secret; the sealed password appears only as the SHA-256 of its ciphertext. On a real
// cluster (payload approvals, no token before the merge) the folder holds each approval's signed
// payload beside its signature instead of a token and an approval file (docs/audit.md,
// "Evidence of payload approvals").
//
// The document also carries what an offline audit needs and git does not otherwise hold: each
// approving officer's public key, as the cluster had it registered (keys live on the HSMs, not
// in the repository), and the pull request's author (who may not approve when self-approval is
// off). `quorum-gate verify` re-runs the engine from these (docs/audit.md). The document's type and
// its validating reader live in evidence-document.ts, so the gate and the audit share one definition.
import { fingerprint, storedPublicKey } from "../crypto/rsa.ts";
import { renderApprovalFile, APPROVER_TYPE_CO } from "../formats/approval-file.ts";
import { approvalPayloadOf, renderApprovalPayload } from "./approval-payload.ts";
import type { Decision } from "./evaluate.ts";
import {
  describePolicyDiff,
  diffPolicies,
  governanceEvidenceFolder,
  governanceOperation,
  governancePayloadFor,
  type GovernanceRequest,
} from "./governance.ts";
import { describeOperation, sealedPasswordFingerprint } from "./operation.ts";
import { POLICY_PATH, type Policy } from "./policy.ts";
import type { GateRequest, RequestOperation } from "./request.ts";
import {
  APPROVAL_FILE_NAME,
  EVIDENCE_FILE_NAME,
  EVIDENCE_FORMAT,
  EVIDENCE_VERSION,
  PAYLOAD_SUFFIX,
  TOKEN_FILE_NAME,
  type EvidenceDocument,
} from "./evidence-document.ts";

export {
  APPROVAL_FILE_NAME,
  EVIDENCE_FILE_NAME,
  EVIDENCE_FORMAT,
  EVIDENCE_VERSION,
  PAYLOAD_SUFFIX,
  TOKEN_FILE_NAME,
  type EvidenceDocument,
} from "./evidence-document.ts";

export interface EvidenceInput {
  readonly decision: Decision;
  readonly request: GateRequest;
  readonly requestPath: string;
  readonly repository: string;
  readonly pullRequest: number;
  /**
   * The exact token file the decision was made over; null when the officers approved the payload
   * (backend cloudhsm-cli), whose evidence has no token.
   */
  readonly tokenFile: Uint8Array | null;
  /** The officer keys the decision was made with (officer name → SPKI PEM, the cluster's `quorum-keys`). */
  readonly officerKeys: ReadonlyMap<string, string>;
  /** The policy that judged it: a payload approval is verified against the key it pins (`public_key`). */
  readonly policy?: Policy;
  /** The pull request's author, as the decision saw it. */
  readonly pullRequestAuthor: string;
  /** Unix seconds. */
  readonly now: number;
}

/** A governance request's evidence: the same files, in `.github/quorum-gate.evidence/pr-<n>/`. */
export interface GovernanceEvidenceInput {
  readonly decision: Decision;
  readonly change: GovernanceRequest;
  /** The current policy (base branch): its officers approved. */
  readonly policy: Policy;
  readonly repository: string;
  readonly pullRequest: number;
  /** Null only when there is none, which the evidence then refuses (a governance request has no payload approvals). */
  readonly tokenFile: Uint8Array | null;
  /** The officer keys the decision was made with (officer name → SPKI PEM, the cluster's `quorum-keys`). */
  readonly officerKeys: ReadonlyMap<string, string>;
  /** The pull request's author, as the decision saw it. */
  readonly pullRequestAuthor: string;
  /** Unix seconds. */
  readonly now: number;
}

export interface EvidenceFile {
  /** Repository-relative, `/`-separated. */
  readonly path: string;
  readonly content: Uint8Array;
}

export type EvidenceResult =
  | {
      readonly ok: true;
      readonly folder: string;
      readonly files: readonly EvidenceFile[];
      readonly document: EvidenceDocument;
    }
  | {
      readonly ok: false;
      readonly reason: "not_approved" | "token_mismatch" | "key_mismatch";
      readonly message: string;
    };

/** `hsm-requests/app7.yml` → `hsm-requests/app7.evidence/`. */
export function evidenceFolder(requestPath: string): string {
  return `${requestPath.replace(/\.ya?ml$/, "")}.evidence/`;
}

/** Whether `path` is one of the evidence files of the request at `requestPath`. */
export function isEvidencePath(requestPath: string, path: string): boolean {
  const folder = evidenceFolder(requestPath);
  return path.startsWith(folder) && !path.slice(folder.length).includes("/") && path.length > folder.length;
}

export function buildEvidence(input: EvidenceInput): EvidenceResult {
  const { decision, request } = input;
  const payloadOf = (until: string): Uint8Array =>
    renderApprovalPayload(
      approvalPayloadOf({
        verdict: "approve",
        request,
        requestDigest: decision.requestDigest,
        requestPath: input.requestPath,
        repository: input.repository,
        pullRequest: input.pullRequest,
        expiresAt: until,
      }),
    );
  return assemble({ ...input, payloadOf }, evidenceFolder(input.requestPath), request.cluster, {
    path: input.requestPath,
    sha256: decision.requestDigest,
    summary: describeOperation(request.operation),
    operation: publicOperation(request.operation),
    reason: request.reason,
    ...(request.requestedBy === undefined ? {} : { requestedBy: request.requestedBy }),
  });
}

/** The evidence of an approved governance request; the document names the policy digest and the changes. */
export function buildGovernanceEvidence(input: GovernanceEvidenceInput): EvidenceResult {
  const { change } = input;
  // On a real cluster the current officers approved the governance payload (governancePayloadFor).
  const payloadOf =
    input.policy.backend === "cloudhsm-cli"
      ? governancePayloadFor("approve", {
          change,
          clusterId: input.policy.cluster,
          repository: input.repository,
          pullRequest: input.pullRequest,
        })
      : undefined;
  return assemble(
    { ...input, ...(payloadOf === undefined ? {} : { payloadOf }) },
    governanceEvidenceFolder(input.pullRequest),
    input.policy.cluster,
    {
      path: POLICY_PATH,
      sha256: change.policyDigest,
      summary:
        change.kind === "policyChange"
          ? "policyChange: who may approve and how many"
          : "policyDeletion: the gate is turned off",
      operation: { ...governanceOperation(change) },
      policyChanges:
        change.kind === "policyChange"
          ? describePolicyDiff(diffPolicies(input.policy, change.policy))
          : [`${POLICY_PATH} deleted`],
    },
  );
}

type EvidenceCommon = Pick<
  EvidenceInput,
  "decision" | "repository" | "pullRequest" | "tokenFile" | "officerKeys" | "policy" | "pullRequestAuthor" | "now"
> & {
  /** The payload bytes an approval with this `until=` signs (backend cloudhsm-cli). */
  readonly payloadOf?: (until: string) => Uint8Array;
};

function assemble(
  input: EvidenceCommon,
  folder: string,
  cluster: string,
  subject: EvidenceDocument["request"],
): EvidenceResult {
  const { decision } = input;
  if (decision.state !== "approved")
    return { ok: false, reason: "not_approved", message: `the decision is ${decision.state}, not approved` };
  const token = decision.token;
  // The long clock (docs/real-cluster.md): approvals of the gate's payload, and no token yet.
  const payloadOf = input.payloadOf;
  const longClock =
    token === null &&
    input.tokenFile === null &&
    payloadOf !== undefined &&
    decision.approvers.length > 0 &&
    decision.approvers.every((a) => a.until !== undefined);
  if (
    !longClock &&
    (token === null || input.tokenFile === null || Buffer.from(input.tokenFile).toString("base64") !== token.base64)
  ) {
    return { ok: false, reason: "token_mismatch", message: "the token file is not the one the decision was made over" };
  }
  const publicKeys = new Map<string, string>();
  for (const a of decision.approvers) {
    const pem =
      a.until === undefined
        ? registeredKey(input.officerKeys, a.officer, a.keyFingerprint)
        : pinnedPem(input.policy, a.officer, a.keyFingerprint);
    if (pem === null)
      return {
        ok: false,
        reason: "key_mismatch",
        message:
          a.until === undefined
            ? `the officer keys hold no key of officer ${a.officer} with the fingerprint the decision counted`
            : `the policy pins no key of officer ${a.officer} with the fingerprint the decision counted`,
      };
    publicKeys.set(a.officer, pem);
  }
  const sigFile = (officer: string): string => `${officer}.sig`;
  const payloadFile = (officer: string): string => `${officer}${PAYLOAD_SUFFIX}`;
  const approvalFile = renderApprovalFile({
    multiTokenFilePath: TOKEN_FILE_NAME,
    tokenFilePath: "",
    approvals: decision.approvers.map((a) => ({
      approverType: APPROVER_TYPE_CO,
      approverName: a.officer,
      approvalFile: sigFile(a.officer),
    })),
  });
  const document: EvidenceDocument = {
    format: EVIDENCE_FORMAT,
    version: EVIDENCE_VERSION,
    repository: input.repository,
    pullRequest: input.pullRequest,
    pullRequestAuthor: input.pullRequestAuthor,
    cluster,
    request: subject,
    bindingDigest: decision.bindingDigest,
    ...(token === null
      ? {}
      : {
          token: {
            file: TOKEN_FILE_NAME,
            base64: token.base64,
            sha256: token.sha256,
            expiresAt: iso(token.expiresAt),
            records: token.records,
          },
        }),
    required: decision.required,
    approvals: decision.approvers.map((a) => ({
      officer: a.officer,
      githubLogin: a.login,
      candidateId: a.candidateId,
      kind: a.kind,
      createdAt: a.createdAt,
      keyFingerprint: a.keyFingerprint,
      publicKey: publicKeys.get(a.officer) ?? "",
      signatureFile: sigFile(a.officer),
      signature: a.signature,
      ...(a.until === undefined ? {} : { until: a.until, payloadFile: payloadFile(a.officer) }),
    })),
    decision: {
      state: decision.state,
      missing: decision.missing,
      verdicts: decision.verdicts.map((v) => ({
        candidateId: v.candidateId,
        author: v.author,
        ...(v.officer === undefined ? {} : { officer: v.officer }),
        verdict: v.verdict,
        reason: v.reason,
      })),
    },
    evaluatedAt: iso(input.now),
  };
  const text = (s: string): Uint8Array => Buffer.from(s, "utf8");
  const signatures: EvidenceFile[] = decision.approvers.map((a) => ({
    path: `${folder}${sigFile(a.officer)}`,
    content: Buffer.from(a.signature, "base64"),
  }));
  const evidenceFile = {
    path: `${folder}${EVIDENCE_FILE_NAME}`,
    content: text(`${JSON.stringify(document, null, 2)}\n`),
  };
  // A payload approval's evidence is the payload and its signature, which `openssl dgst -verify`
  // checks as they stand; there is no token and no CMU approval file to go with them.
  const files: EvidenceFile[] =
    longClock && payloadOf !== undefined
      ? [
          ...signatures,
          ...decision.approvers.map((a) => ({
            path: `${folder}${payloadFile(a.officer)}`,
            content: Buffer.from(payloadOf(a.until ?? "")),
          })),
          evidenceFile,
        ]
      : [
          { path: `${folder}${TOKEN_FILE_NAME}`, content: Buffer.from(input.tokenFile ?? new Uint8Array()) },
          ...signatures,
          { path: `${folder}${APPROVAL_FILE_NAME}`, content: text(approvalFile) },
          evidenceFile,
        ];
  return { ok: true, folder, files, document };
}

/** The PEM the policy pins for `officer`, if it is the key with `keyFingerprint`. */
function pinnedPem(policy: Policy | undefined, officer: string, keyFingerprint: string): string | null {
  const mapping = policy?.officers.find((o) => o.officer === officer.toLowerCase());
  return mapping?.publicKeyPem !== undefined && mapping.keyFingerprint === keyFingerprint ? mapping.publicKeyPem : null;
}

/** The PEM of `officer` (names compare without case, as on the HSM), if it is the key with `keyFingerprint`. */
function registeredKey(keys: ReadonlyMap<string, string>, officer: string, keyFingerprint: string): string | null {
  for (const [name, pem] of keys) {
    if (name.toLowerCase() !== officer) continue;
    const key = storedPublicKey(pem);
    if (key !== null && fingerprint(key) === keyFingerprint) return pem;
  }
  return null;
}

/** The operation without the sealed password, which is replaced by its ciphertext's SHA-256. */
function publicOperation(op: RequestOperation): Readonly<Record<string, string | number>> {
  switch (op.kind) {
    case "createUser":
    case "changePswd":
      return {
        kind: op.kind,
        type: op.userType,
        name: op.userName,
        sealedPasswordSha256: sealedPasswordFingerprint(op.sealedPassword),
      };
    case "deleteUser":
      return { kind: op.kind, type: op.userType, name: op.userName };
    case "setMValue":
      return { kind: op.kind, service: op.service, value: op.value };
  }
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}
