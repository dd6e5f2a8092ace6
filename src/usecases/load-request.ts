// Reads what the gate judges: the policy from the base branch (never from the pull request), and
// the one request file the pull request adds, at the ref the caller names (the head while the PR
// is open, the merge commit once merged). A PR may hold nothing but that request file and its
// evidence; anything else is refused, so that approvals always cover the whole change.
import { evidenceFolder, isEvidencePath, isRequestPath, parsePolicy, parseRequest, POLICY_PATH, type GateIssue, type GateRequest, type Policy } from "../gate/index.ts";
import type { ChangedFile, GitHubPort, PullRequestInfo, RepoRef } from "../github/port.ts";

export type Loaded =
  | { readonly kind: "unconfigured" }
  | { readonly kind: "invalid_policy"; readonly issues: readonly GateIssue[] }
  | { readonly kind: "not_a_request"; readonly policy: Policy }
  | { readonly kind: "invalid_pull_request"; readonly policy: Policy; readonly message: string; readonly path: string }
  | { readonly kind: "invalid_request"; readonly policy: Policy; readonly path: string; readonly issues: readonly GateIssue[] }
  | { readonly kind: "request"; readonly policy: Policy; readonly path: string; readonly request: GateRequest; readonly digest: string; readonly bytes: Uint8Array };

export async function loadRequest(github: GitHubPort, repo: RepoRef, pr: PullRequestInfo, requestRef: string): Promise<Loaded> {
  const policyBytes = await github.readFile(repo, POLICY_PATH, pr.baseSha);
  if (policyBytes === null) return { kind: "unconfigured" };
  const parsedPolicy = parsePolicy(policyBytes);
  if (!parsedPolicy.ok) return { kind: "invalid_policy", issues: parsedPolicy.issues };
  const policy = parsedPolicy.policy;

  const files = await github.listChangedFiles(repo, pr.number);
  const shape = checkShape(policy, files);
  if (shape.kind !== "one_request") return shape.kind === "none" ? { kind: "not_a_request", policy } : { kind: "invalid_pull_request", policy, message: shape.message, path: shape.path };

  const bytes = await github.readFile(repo, shape.path, requestRef);
  if (bytes === null) return { kind: "invalid_pull_request", policy, message: `the request file is missing at ${requestRef}`, path: shape.path };
  const parsed = parseRequest(bytes);
  if (!parsed.ok) return { kind: "invalid_request", policy, path: shape.path, issues: parsed.issues };
  return { kind: "request", policy, path: shape.path, request: parsed.request, digest: parsed.digest, bytes };
}

type Shape = { readonly kind: "none" } | { readonly kind: "one_request"; readonly path: string } | { readonly kind: "bad"; readonly message: string; readonly path: string };

/** Exactly one added request file, plus at most its own evidence files; nothing else. */
export function checkShape(policy: Policy, files: readonly ChangedFile[]): Shape {
  if (files.some((f) => f.path === POLICY_PATH || f.previousPath === POLICY_PATH)) {
    return { kind: "bad", path: POLICY_PATH, message: `this pull request changes ${POLICY_PATH}; policy changes are governance requests and cannot ride along with anything else, nor be approved by the gate yet` };
  }
  const requests = files.filter((f) => isRequestPath(policy, f.path));
  if (requests.length === 0) {
    const touchesFolder = files.some((f) => f.path.startsWith(policy.requestFolder) || (f.previousPath ?? "").startsWith(policy.requestFolder));
    return touchesFolder ? { kind: "bad", path: policy.requestFolder, message: `files under ${policy.requestFolder} change, but none is a request file (one ${policy.requestFolder}<name>.yml per pull request)` } : { kind: "none" };
  }
  if (requests.length > 1) return { kind: "bad", path: policy.requestFolder, message: `one request per pull request; this one holds ${requests.length}: ${requests.map((f) => f.path).join(", ")}` };
  const request = requests[0] as ChangedFile;
  if (request.status !== "added") return { kind: "bad", path: request.path, message: `a request file is added once and never changed afterwards (${request.path} is ${request.status}); open a new request instead` };
  const others = files.filter((f) => f !== request && !isEvidencePath(request.path, f.path));
  if (others.length > 0) {
    return { kind: "bad", path: request.path, message: `a request pull request holds only the request file and its evidence (${evidenceFolder(request.path)}); also changed: ${others.slice(0, 10).map((f) => f.path).join(", ")}` };
  }
  return { kind: "one_request", path: request.path };
}
