// An open pull request with a valid request (or governance request): gather the inputs, decide
// from scratch, make sure a token exists for exactly what is being approved, and report. Nothing
// is counted between events: the token lives in the app's sticky comment and the cluster, the
// approvals in the PR's comments.
import {
  buildEvidence,
  describeOperation,
  evaluateQuorum,
  readStickyToken,
  renderCheckRun,
  REFUSED_BEFORE_TOKEN,
  renderStickyComment,
  serviceOf,
  STICKY_MARKER,
  type CheckRunOutput,
  type Decision,
  type EvidenceResult,
  type GateRequest,
  type Policy,
  type QuorumInput,
} from "../gate/index.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { EvaluationDetail, GateDeps, GateOutcome } from "./deps.ts";
import { placeEvidence, type PlacedEvidence } from "./evidence.ts";
import { underClaim } from "./claim.ts";
import { gatherCluster } from "./gather-cluster.ts";
import { quorumInput } from "./quorum-input.ts";
import { report, reportCheckOnly } from "./report.ts";

export interface OpenRequest {
  readonly policy: Policy;
  readonly path: string;
  readonly request: GateRequest;
  readonly digest: string;
}

/**
 * What the open flow needs to know about what is being approved; everything else (token,
 * renewals, evidence, reporting) is the same for a request and a governance request.
 */
export interface OpenSubject {
  /** The current policy, from the base branch: its officers approve. */
  readonly policy: Policy;
  /** The quorum service of the token to ask for. */
  readonly service: number;
  /** Names the subject in evidence commits and logs, e.g. the request file's path. */
  readonly label: string;
  /** What will run, in one line, for outputs and summaries. */
  readonly summary: string;
  decide(input: QuorumInput): Decision;
  render(decision: Decision, input: QuorumInput): { readonly sticky: string; readonly check: CheckRunOutput };
  /** `input` is what the decision was made from: its officer keys and author go into the evidence. */
  /** `tokenFile` is null for approvals of the payload (backend cloudhsm-cli), which have no token. */
  evidence(decision: Decision, input: QuorumInput, tokenFile: Uint8Array | null, now: number): EvidenceResult;
}

/** Problems a new token cures: none yet, a broken one, or one bound to another version of the subject. */
function needsNewToken(decision: Decision): boolean {
  return (
    decision.renewRequested ||
    decision.problems.some(
      (p) =>
        p.code === "no_token" ||
        p.code === "bad_token_file" ||
        p.code === "token_binding_mismatch" ||
        p.code === "token_service_mismatch",
    )
  );
}

export async function evaluateOpen(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  open: OpenRequest,
): Promise<GateOutcome> {
  const repository = `${repo.owner}/${repo.repo}`;
  return runOpen(deps, repo, pr, {
    policy: open.policy,
    service: serviceOf(open.request.operation),
    label: open.path,
    summary: describeOperation(open.request.operation),
    decide: (input) =>
      evaluateQuorum({ ...input, request: open.request, requestDigest: open.digest, requestPath: open.path }),
    render: (decision) => {
      const view = {
        decision,
        request: open.request,
        requestPath: open.path,
        policy: open.policy,
        target: `${repository}#${pr.number}`,
      };
      return { sticky: renderStickyComment(view), check: renderCheckRun(view) };
    },
    evidence: (decision, input, tokenFile, now) =>
      buildEvidence({
        decision,
        request: open.request,
        requestPath: open.path,
        repository,
        pullRequest: pr.number,
        tokenFile,
        officerKeys: input.officerKeys,
        policy: open.policy,
        pullRequestAuthor: input.prAuthor,
        now,
      }),
  });
}

/** Fresh looks after losing a claim, before the gate goes on without one (a claim that keeps changing hands). */
const CLAIM_ATTEMPTS = 3;

export async function runOpen(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  subject: OpenSubject,
  attempt = 0,
): Promise<GateOutcome> {
  const sticky = await deps.github.findStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin);
  const tokenFile = sticky === null ? null : readStickyToken(sticky.body);
  const cluster = await gatherCluster(deps);
  if (!cluster.ok) {
    await reportCheckOnly(
      deps,
      repo,
      pr,
      "failure",
      "The HSM cluster cannot be reached",
      cluster.message,
      "The gate re-evaluates on the next event: re-run the `quorum` check, or post a `/quorum` command.",
    );
    return { code: "cluster_unavailable", message: cluster.message };
  }
  const input = await quorumInput(deps, repo, pr, subject.policy, tokenFile, cluster);
  const decision = subject.decide(input);

  // A request refused as it stands (another cluster, a lock-out, M out of reach) gets no token:
  // nothing to sign, and no token on the nodes that could never be used.
  if (!needsNewToken(decision) || decision.problems.some((p) => REFUSED_BEFORE_TOKEN.includes(p.code)))
    return finish(deps, repo, pr, subject, input, decision, tokenFile, false);
  if (attempt >= CLAIM_ATTEMPTS) return issueAndFinish(deps, repo, pr, subject, input, decision, tokenFile, false);

  // Issuing a token and writing the sticky comment that carries it happen once per need, whichever
  // process gets there first (src/usecases/claim.ts); the others then read that token.
  const claimed = await underClaim(deps, repo, `pr-${pr.number}`, pr.headSha, async () => {
    const again = await deps.github.findStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin);
    const current = again === null ? null : readStickyToken(again.body);
    if (!sameToken(current, tokenFile)) return null;
    return issueAndFinish(deps, repo, pr, subject, input, decision, tokenFile, true);
  });
  if (claimed.kind === "done" && claimed.value !== null) return claimed.value;
  return runOpen(deps, repo, pr, subject, attempt + 1);
}

function sameToken(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : Buffer.from(a).equals(Buffer.from(b));
}

async function issueAndFinish(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  subject: OpenSubject,
  input: QuorumInput,
  decision: Decision,
  oldToken: Uint8Array | null,
  /** Under the pull request's claim: the check run needs no claim of its own. */
  exclusive: boolean,
): Promise<GateOutcome> {
  const issued = await deps.cluster.issueToken(
    subject.service,
    decision.bindingDigest,
    subject.policy.tokenLifetimeSeconds,
  );
  if (!issued.ok) {
    const message = issued.failures.map((f) => `server ${f.index}: ${f.code}`).join(", ");
    await reportCheckOnly(
      deps,
      repo,
      pr,
      "failure",
      "No token could be issued for this request",
      `The cluster refused or did not answer: ${message}.`,
    );
    return { code: "cluster_unavailable", message };
  }
  // The old token can no longer authorize anything useful; take it off the nodes.
  if (oldToken !== null) await deps.cluster.deleteToken(oldToken);
  const tokenFile = issued.tokenData;
  deps.log(`issued a token for ${repo.owner}/${repo.repo}#${pr.number}`);
  return finish(deps, repo, pr, subject, input, subject.decide({ ...input, tokenFile }), tokenFile, exclusive);
}

/** Evidence at M, then the one report. `exclusive`: under the pull request's claim already. */
async function finish(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  subject: OpenSubject,
  input: QuorumInput,
  decision: Decision,
  tokenFile: Uint8Array | null,
  exclusive: boolean,
): Promise<GateOutcome> {
  let evidence: PlacedEvidence = { state: "none", note: "" };
  // On a real cluster the approvals are of the payload and there is no token yet: the evidence
  // holds the payloads and their signatures (docs/audit.md, "Evidence of payload approvals").
  const payloadApprovals = subject.policy.backend === "cloudhsm-cli" && decision.token === null;
  if (decision.state === "approved" && (tokenFile !== null || payloadApprovals)) {
    evidence = await placeEvidence(
      deps,
      repo,
      pr,
      subject.evidence(decision, input, payloadApprovals ? null : tokenFile, deps.now()),
      subject.label,
    );
  }
  const rendered = subject.render(decision, { ...input, tokenFile });
  const check = rendered.check;
  const withEvidence =
    evidence.state === "check_run_only"
      ? {
          ...check,
          text: `${check.text}\n\nEvidence could not be committed: ${evidence.note}. The approvals above are the evidence; on merge the gate judges them again.`,
        }
      : check;
  // The evidence commit is the new head. The App's own push comes back as a `synchronize` that
  // reports on it (and in the App every write costs a second of Probot's write pacing); in the
  // Action a push with the workflow's token starts no workflow, so the check goes there now.
  const newHead = evidence.state === "committed" && !deps.ownPushesNotify ? evidence.newHead : null;
  await report(deps, repo, pr, rendered.sticky, withEvidence, newHead, { exclusive });
  return {
    code: "evaluated",
    state: decision.state,
    approvals: decision.approvers.length,
    required: decision.required,
    evidence: evidence.state,
    ...detailOf(decision, subject.summary),
  };
}

function detailOf(decision: Decision, subject: string): EvaluationDetail {
  return {
    missing: decision.missing,
    requestDigest: decision.requestDigest,
    subject,
    approvers: decision.approvers.map((a) => ({ officer: a.officer, login: a.login, createdAt: a.createdAt })),
    verdicts: decision.verdicts.map((v) => ({
      author: v.author,
      ...(v.officer === undefined ? {} : { officer: v.officer }),
      verdict: v.verdict,
      reason: v.reason,
      message: v.message,
    })),
    problems: decision.problems.map((p) => p.message),
  };
}
