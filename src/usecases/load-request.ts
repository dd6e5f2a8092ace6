// Reads what the gate judges: the policy from the base branch (never from the pull request), and
// what the pull request asks for, at the ref the caller names (the head while the PR is open, the
// merge commit once merged): either the one request file it adds, or, for a governance request,
// the policy file it changes or deletes. A PR may hold nothing but that file and its evidence;
// anything else is refused, so that approvals always cover the whole change.
import {
  evidenceFolder,
  governanceEvidenceFolder,
  GOVERNANCE_EVIDENCE_ROOT,
  isEvidencePath,
  isGovernanceEvidencePath,
  isRequestPath,
  parseGovernanceRequest,
  parsePolicy,
  parseRequest,
  POLICY_PATH,
  type GateIssue,
  type GateRequest,
  type GovernanceRequest,
  type Policy,
} from "../gate/index.ts";
import type { ChangedFile, GitHubPort, PullRequestInfo, RepoRef } from "../github/port.ts";

export type Loaded =
  | { readonly kind: "unconfigured" }
  | { readonly kind: "invalid_policy"; readonly issues: readonly GateIssue[] }
  | { readonly kind: "not_a_request"; readonly policy: Policy }
  | { readonly kind: "invalid_pull_request"; readonly policy: Policy; readonly message: string; readonly path: string }
  | {
      readonly kind: "invalid_request";
      readonly policy: Policy;
      readonly path: string;
      readonly issues: readonly GateIssue[];
    }
  | {
      readonly kind: "request";
      readonly policy: Policy;
      readonly path: string;
      readonly request: GateRequest;
      readonly digest: string;
      readonly bytes: Uint8Array;
    }
  /** A governance request whose new policy is not a valid policy. */
  | { readonly kind: "invalid_policy_change"; readonly policy: Policy; readonly issues: readonly GateIssue[] }
  /** A governance request: `policy` is the current one (base branch), `change` what the PR makes of it. */
  | { readonly kind: "governance"; readonly policy: Policy; readonly change: GovernanceRequest };

export async function loadRequest(
  github: GitHubPort,
  repo: RepoRef,
  pr: PullRequestInfo,
  requestRef: string,
): Promise<Loaded> {
  const policyBytes = await github.readFile(repo, POLICY_PATH, pr.baseSha);
  if (policyBytes === null) return { kind: "unconfigured" };
  const parsedPolicy = parsePolicy(policyBytes);
  if (!parsedPolicy.ok) return { kind: "invalid_policy", issues: parsedPolicy.issues };
  const policy = parsedPolicy.policy;

  const files = await github.listChangedFiles(repo, pr.number);
  const shape = checkShape(policy, files, pr.number);
  if (shape.kind === "none") return { kind: "not_a_request", policy };
  if (shape.kind === "bad") return { kind: "invalid_pull_request", policy, message: shape.message, path: shape.path };
  if (shape.kind === "governance") {
    // The file's content at the ref decides: present is a change, absent a deletion. Each binds
    // its own kind, so approvals of one never count for the other.
    const proposed = await github.readFile(repo, POLICY_PATH, requestRef);
    const parsed = parseGovernanceRequest(proposed, policyBytes);
    return parsed.ok
      ? { kind: "governance", policy, change: parsed.request }
      : { kind: "invalid_policy_change", policy, issues: parsed.issues };
  }

  const bytes = await github.readFile(repo, shape.path, requestRef);
  if (bytes === null)
    return {
      kind: "invalid_pull_request",
      policy,
      message: `the request file is missing at ${requestRef}`,
      path: shape.path,
    };
  const parsed = parseRequest(bytes);
  if (!parsed.ok) return { kind: "invalid_request", policy, path: shape.path, issues: parsed.issues };
  return { kind: "request", policy, path: shape.path, request: parsed.request, digest: parsed.digest, bytes };
}

type Shape =
  | { readonly kind: "none" }
  | { readonly kind: "one_request"; readonly path: string }
  | { readonly kind: "governance" }
  | { readonly kind: "bad"; readonly message: string; readonly path: string };

/**
 * Exactly one added request file plus at most its own evidence files; or the policy file, changed
 * or deleted in place, plus at most this pull request's governance evidence; nothing else.
 */
export function checkShape(policy: Policy, files: readonly ChangedFile[], pullRequest: number): Shape {
  if (files.some((f) => f.path === POLICY_PATH || f.previousPath === POLICY_PATH))
    return governanceShape(files, pullRequest);
  const governanceEvidence = files.find(
    (f) => f.path.startsWith(GOVERNANCE_EVIDENCE_ROOT) || (f.previousPath ?? "").startsWith(GOVERNANCE_EVIDENCE_ROOT),
  );
  if (governanceEvidence !== undefined) {
    return {
      kind: "bad",
      path: governanceEvidence.path,
      message: `files under ${GOVERNANCE_EVIDENCE_ROOT} change, but ${POLICY_PATH} does not; governance evidence is written by the gate, with the policy change it records`,
    };
  }
  const requests = files.filter((f) => isRequestPath(policy, f.path));
  if (requests.length === 0) {
    const touchesFolder = files.some(
      (f) => f.path.startsWith(policy.requestFolder) || (f.previousPath ?? "").startsWith(policy.requestFolder),
    );
    return touchesFolder
      ? {
          kind: "bad",
          path: policy.requestFolder,
          message: `files under ${policy.requestFolder} change, but none is a request file (one ${policy.requestFolder}<name>.yml per pull request)`,
        }
      : { kind: "none" };
  }
  if (requests.length > 1)
    return {
      kind: "bad",
      path: policy.requestFolder,
      message: `one request per pull request; this one holds ${requests.length}: ${requests.map((f) => f.path).join(", ")}`,
    };
  const request = requests[0] as ChangedFile;
  if (request.status !== "added")
    return {
      kind: "bad",
      path: request.path,
      message: `a request file is added once and never changed afterwards (${request.path} is ${request.status}); open a new request instead`,
    };
  const others = files.filter((f) => f !== request && !isEvidencePath(request.path, f.path));
  if (others.length > 0) {
    return {
      kind: "bad",
      path: request.path,
      message: `a request pull request holds only the request file and its evidence (${evidenceFolder(request.path)}); also changed: ${others
        .slice(0, 10)
        .map((f) => f.path)
        .join(", ")}`,
    };
  }
  return { kind: "one_request", path: request.path };
}

/** The policy file edited or deleted in place, and nothing else but this PR's governance evidence. */
function governanceShape(files: readonly ChangedFile[], pullRequest: number): Shape {
  const renamed = files.find(
    (f) => (f.path === POLICY_PATH || f.previousPath === POLICY_PATH) && f.status === "renamed",
  );
  if (renamed !== undefined) {
    return {
      kind: "bad",
      path: POLICY_PATH,
      message: `this pull request renames ${renamed.previousPath ?? "?"} to ${renamed.path}; the gate reads its policy from ${POLICY_PATH} only, so edit that file in place, or delete it in a pull request of its own (a governance request)`,
    };
  }
  const others = files.filter((f) => f.path !== POLICY_PATH && !isGovernanceEvidencePath(pullRequest, f.path));
  if (others.length > 0) {
    return {
      kind: "bad",
      path: POLICY_PATH,
      message: `this pull request changes ${POLICY_PATH}; policy changes are governance requests and cannot ride along with anything else (only the gate's evidence in ${governanceEvidenceFolder(pullRequest)} may join them); also changed: ${others
        .slice(0, 10)
        .map((f) => f.path)
        .join(", ")}`,
    };
  }
  return { kind: "governance" };
}
