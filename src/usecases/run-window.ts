// A merged request on a real cluster (backend cloudhsm-cli): the short clock (docs/real-cluster.md,
// "The short clock: the execution window"). The long clock is judged again from the merge commit;
// if M payload approvals still count, one process opens a CloudHSM CLI session, generates the
// HSM's token, shows it in the sticky comment with its deadline, and reads the pull request's
// comments itself until M of those approvers have countersigned (the deliveries of their comments
// may reach any replica) or the window lapses. At M it runs the command with `--approval` in the
// same session and reports what the cluster answered.
//
// Once only: the process that opens a window holds a claim named for what opened it (the merge, or
// one `/quorum retry`), so replicas receiving the same delivery open one window between them; and
// before it runs anything it reads from the cluster whether the operation has taken effect already.
import { evaluateQuorum, renderStickyComment, STICKY_MARKER, type Decision } from "../gate/index.ts";
import { judgeWindow, renderApprovalFile, type Countersigner, type ExecutionWindow } from "../gate/execution-window.ts";
import { readOpenWindow, renderWindowSection, type RecordNote, type WindowView } from "../gate/render-window.ts";
import { buildWindowRecord, windowRecordRef, type WindowResult } from "../gate/window-record.ts";
import { hasNewRetry } from "../gate/render-replay.ts";
import { parseApprovalComment } from "../gate/approval-command.ts";
import type { WindowSession } from "../cluster/gateway.ts";
import type { PullRequestInfo, RepoRef } from "../github/port.ts";
import type { GateDeps, GateOutcome, Trigger } from "./deps.ts";
import type { OpenRequest } from "./evaluate-open.ts";
import { describeError } from "./describe-error.ts";
import { gatherCluster } from "./gather-cluster.ts";
import { quorumInput } from "./quorum-input.ts";
import { plainCheck, report } from "./report.ts";
import { mergedWithoutCluster, mergedWithoutQuorum } from "./merged-without.ts";

/** The HSM token must still live when the command reaches it: the window closes this much earlier. */
export const WINDOW_MARGIN_SECONDS = 5;
export const DEFAULT_WINDOW_POLL_SECONDS = 10;

export async function runWindow(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  merged: OpenRequest,
  trigger: Trigger,
): Promise<GateOutcome> {
  const isMerge = trigger.kind === "pull_request" && trigger.action === "closed";
  if (trigger.kind === "pull_request" && !isMerge)
    return { code: "ignored", message: `pull_request.${trigger.action} on a merged pull request` };
  const sticky = await deps.github.findStickyComment(repo, pr.number, STICKY_MARKER, deps.botLogin);
  const open = sticky === null ? null : readOpenWindow(sticky.body);
  // Countersignatures are read by the process that holds the window, not by their deliveries.
  if (!isMerge && open !== null && deps.now() <= open.deadline)
    return { code: "ignored", message: "an execution window is open: its holder reads the comments" };
  // A comment on a merged pull request opens a window only with a /quorum retry newer than the
  // last window: look for one in the comments before logging in to the cluster for nothing.
  if (!isMerge) {
    const commands = (await deps.github.listCandidates(repo, pr.number)).flatMap((c) => {
      const parsed = parseApprovalComment(c.body);
      return parsed.ok ? [{ verb: parsed.command.verb, createdAt: c.createdAt }] : [];
    });
    if (!hasNewRetry(commands, sticky?.body ?? null))
      return { code: "ignored", message: "no new /quorum retry on a merged pull request" };
  }
  const window = deps.cluster.window;
  if (window === undefined)
    return { code: "not_replayed", message: "this gate's cluster backend has no execution window" };

  const cluster = await gatherCluster(deps);
  if (!cluster.ok) return mergedWithoutCluster(deps, repo, pr, cluster.message);
  const input = await quorumInput(deps, repo, pr, merged.policy, null, cluster);
  const decision = evaluateQuorum({
    ...input,
    request: merged.request,
    requestDigest: merged.digest,
    requestPath: merged.path,
  });
  const retry = newestRetry(decision, sticky?.body ?? null);
  if (!isMerge && retry === null) return { code: "ignored", message: "no new /quorum retry on a merged pull request" };
  const stickyInput = { decision, request: merged.request, requestPath: merged.path, policy: merged.policy };
  if (decision.state !== "approved") return mergedWithoutQuorum(deps, repo, pr, stickyInput, "run");

  // One window per opening event, whichever replica got it (src/github/claim.ts).
  const claimName = `window-${pr.number}-${retry === null ? "merge" : `retry-${retry}`}`;
  const claimed = await deps.github.claim(repo, claimName, pr.mergeCommitSha ?? pr.headSha);
  if (claimed === "held") return { code: "ignored", message: "another process holds this execution window" };
  const release = async (): Promise<void> => {
    if (claimed !== "claimed") return;
    try {
      await deps.github.releaseClaim(repo, claimName);
    } catch (err) {
      // A claim left behind only blocks this one opening event; a new /quorum retry has its own name.
      deps.log(`could not release claim ${claimName}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const sticky0 = renderStickyComment(stickyInput);
  const say = (view: WindowView, conclusion: "success" | "failure", title: string, summary: string) =>
    report(
      deps,
      repo,
      pr,
      `${sticky0}\n${renderWindowSection(view)}`,
      plainCheck("completed", conclusion, title, summary),
    );

  const opened = await window.open();
  if (!opened.ok) {
    await say(
      {
        state: "failed",
        at: deps.now(),
        code: opened.code,
        message: `the gate's CloudHSM CLI session: ${opened.message}`,
      },
      "failure",
      "Merged, but the gate could not open its CloudHSM CLI session",
      `${opened.code}: post \`/quorum retry\` once the cluster is reachable`,
    );
    await release();
    return { code: "cluster_unavailable", message: `${opened.code}: ${opened.message}` };
  }
  const session = opened.session;
  let cleaned: Promise<void> | null = null;
  // The session (and the token in it) ends with the window, however the window ends.
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      await session.close().catch(() => undefined);
      await release();
    })());
  const done = async (outcome: GateOutcome): Promise<GateOutcome> => {
    await cleanup();
    return outcome;
  };

  try {
    const op = merged.request.operation;
    const before = await session.operationState(op);
    if (before.state === "applied") {
      await say(
        { state: "already_applied", at: deps.now(), message: before.message },
        "success",
        "The cluster already shows this change",
        before.message,
      );
      return await done({ code: "executed", result: "already_applied", message: before.message });
    }
    if (before.state === "partial" || (before.state === "unknown" && op.kind !== "changePswd")) {
      await say(
        { state: "failed", at: deps.now(), code: `state_${before.state}`, message: before.message },
        "failure",
        "Nothing run: the cluster's state needs an operator",
        before.message,
      );
      return await done({ code: "not_replayed", message: `state_${before.state}: ${before.message}` });
    }
    const generated = await session.generateToken(op);
    if (!generated.ok) {
      await say(
        { state: "failed", at: deps.now(), code: generated.code, message: generated.message },
        "failure",
        "The HSM issued no quorum token",
        `${generated.code}: post \`/quorum retry\` to try again`,
      );
      return await done({ code: "cluster_unavailable", message: `${generated.code}: ${generated.message}` });
    }
    const openedAt = deps.now();
    const hold = deps.windowHold ?? {};
    const seconds = Math.min(generated.lifetimeSeconds, hold.maxSeconds ?? generated.lifetimeSeconds);
    const execWindow: ExecutionWindow = {
      tokenFile: generated.tokenFile,
      openedAt,
      deadline: openedAt + Math.max(1, seconds - WINDOW_MARGIN_SECONDS),
    };
    const loginOf = new Map(decision.approvers.map((a) => [a.officer, a.login]));
    await report(
      deps,
      repo,
      pr,
      `${sticky0}\n${renderWindowSection({
        state: "open",
        tokenFile: execWindow.tokenFile,
        openedAt,
        deadline: execWindow.deadline,
        waitingFor: decision.approvers.map((a) => a.login),
        counted: 0,
        required: decision.required,
      })}`,
      plainCheck(
        "in_progress",
        undefined,
        `Execution window open until ${new Date(execWindow.deadline * 1000).toISOString()}`,
        `${decision.required} of the approvers countersign the HSM's token; then the gate runs the command.`,
      ),
    );
    deps.log(`opened an execution window for ${repo.owner}/${repo.repo}#${pr.number} until ${execWindow.deadline}`);

    const holdWindow = async (): Promise<GateOutcome> => {
      try {
        return await watch(deps, repo, pr, merged, decision, session, execWindow, say, loginOf);
      } finally {
        await cleanup();
      }
    };
    if (hold.detach !== undefined) {
      hold.detach(holdWindow);
      return { code: "window_open", deadline: execWindow.deadline, message: "the gate holds the window" };
    }
    return await holdWindow();
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Reads the comments until M countersignatures count or the window lapses; then runs, or says why not. */
async function watch(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  merged: OpenRequest,
  decision: Decision,
  session: WindowSession,
  window: ExecutionWindow,
  say: (view: WindowView, conclusion: "success" | "failure", title: string, summary: string) => Promise<void>,
  loginOf: ReadonlyMap<string, string>,
): Promise<GateOutcome> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pollMs = (deps.windowHold?.pollSeconds ?? DEFAULT_WINDOW_POLL_SECONDS) * 1000;
  const op = merged.request.operation;
  let counted = 0;
  let signers: readonly Countersigner[] = [];
  // Every end of an opened window is recorded in git first, then reported with where it went.
  const record = (
    state: WindowResult,
    at: number,
    code: string | null,
    message: string,
    approvalFile: Uint8Array | null,
  ): Promise<RecordNote> =>
    recordWindow(deps, repo, pr, merged, decision, window, signers, approvalFile, { state, at, code, message });
  for (;;) {
    await sleep(pollMs);
    const now = deps.now();
    const lapse = async (why: string): Promise<GateOutcome> => {
      const note = await record("lapsed", now, "window_lapsed", why, null);
      await say(
        { state: "lapsed", at: now, counted, required: decision.required, why, record: note },
        "failure",
        "The execution window lapsed: nothing ran",
        `${counted} of ${decision.required} countersignatures. Post \`/quorum retry\` for a new window.`,
      );
      return { code: "window_lapsed", message: why };
    };
    if (!session.alive()) return lapse("The gate's CloudHSM CLI session ended before the window closed.");
    let candidates: Awaited<ReturnType<typeof deps.github.listCandidates>>;
    try {
      candidates = await deps.github.listCandidates(repo, pr.number);
    } catch (err) {
      // One failed read (a GitHub hiccup, a rate limit) must not end a window the HSM still holds:
      // the next poll reads again, and the deadline still bounds the wait.
      if (now > window.deadline) return lapse("The window's deadline passed.");
      deps.log(`could not read the comments of ${repo.owner}/${repo.repo}#${pr.number}: ${describeError(err)}`);
      continue;
    }
    const judged = judgeWindow({
      window,
      policy: merged.policy,
      approvers: decision.approvers,
      required: decision.required,
      candidates,
      now,
    });
    if (!judged.ok) return lapse(judged.message);
    counted = judged.signers.length;
    signers = judged.signers;
    if (judged.state === "lapsed") return lapse("The window's deadline passed.");
    if (judged.state === "open") continue;

    // Ready: one more look at the cluster, then the command, in the session that holds the token.
    const before = await session.operationState(op);
    if (before.state === "applied") {
      const note = await record("already_applied", now, null, before.message, null);
      await say(
        { state: "already_applied", at: now, message: before.message, record: note },
        "success",
        "The cluster already shows this change",
        before.message,
      );
      return { code: "executed", result: "already_applied", message: before.message };
    }
    const approvalFile = renderApprovalFile(window.tokenFile, judged.signers);
    const ran = await session.run(op, approvalFile);
    const at = deps.now();
    const by = judged.signers.map((s) => loginOf.get(s.officer) ?? s.officer).join(", ");
    if (!ran.ok) {
      const note = await record("refused", at, ran.code, ran.message, approvalFile);
      await say(
        { state: "failed", at, code: ran.code, message: ran.message, record: note },
        "failure",
        "The cluster refused the approved command",
        `${ran.code}: ${ran.message.slice(0, 200)}`,
      );
      return { code: "not_replayed", message: `${ran.code}: ${ran.message}` };
    }
    const message = `${ran.message} (countersigned by ${by})`;
    const note = await record("applied", at, null, message, approvalFile);
    await say({ state: "applied", at, message, record: note }, "success", "Applied on the cluster", message);
    deps.log(`ran ${op.kind} for ${repo.owner}/${repo.repo}#${pr.number} on the cluster`);
    return { code: "executed", result: "applied", message };
  }
}

/**
 * Writes the window's record (src/gate/window-record.ts) as a commit on top of the merge, reachable
 * from its own ref. A failure is reported, never thrown: the cluster has answered already, and
 * the sticky comment and the check run must still say what it answered.
 */
async function recordWindow(
  deps: GateDeps,
  repo: RepoRef,
  pr: PullRequestInfo,
  merged: OpenRequest,
  decision: Decision,
  window: ExecutionWindow,
  signers: readonly Countersigner[],
  approvalFile: Uint8Array | null,
  result: { readonly state: WindowResult; readonly at: number; readonly code: string | null; readonly message: string },
): Promise<RecordNote> {
  const mergeCommit = pr.mergeCommitSha;
  if (mergeCommit === null) return { ok: false, reason: "no_merge_commit" };
  const built = buildWindowRecord({
    repository: `${repo.owner}/${repo.repo}`,
    pullRequest: pr.number,
    requestPath: merged.path,
    requestDigest: merged.digest,
    mergeCommit,
    openedAt: window.openedAt,
    deadline: window.deadline,
    required: decision.required,
    tokenFile: window.tokenFile,
    countersignatures: signers.flatMap((s) => {
      // Only approvers' countersignatures count (judgeWindow), so each has its approval here.
      const approval = decision.approvers.find((a) => a.officer === s.officer);
      if (approval?.until === undefined) return [];
      return [
        {
          officer: s.officer,
          githubLogin: s.author,
          candidateId: s.candidateId,
          createdAt: s.createdAt,
          signature: s.signature.toString("base64"),
          approval: {
            candidateId: approval.candidateId,
            createdAt: approval.createdAt,
            until: approval.until,
            signature: approval.signature,
          },
        },
      ];
    }),
    approvalFile,
    result,
  });
  const ref = windowRecordRef(pr.number, window.openedAt);
  const message = `quorum-gate: execution window of #${pr.number}, ${result.state}\n\nThe HSM token, the countersignatures and the cluster's answer of the window opened at ${new Date(window.openedAt * 1000).toISOString()}.`;
  try {
    const written = await deps.github.commitOnRef(repo, ref, mergeCommit, built.files, message);
    if (!written.ok) {
      deps.log(`could not record the window of ${repo.owner}/${repo.repo}#${pr.number} in git: ${written.reason}`);
      return { ok: false, reason: written.reason };
    }
    return { ok: true, ref, commit: written.sha };
  } catch (err) {
    deps.log(`could not record the window of ${repo.owner}/${repo.repo}#${pr.number} in git: ${describeError(err)}`);
    return { ok: false, reason: "github_error" };
  }
}

/** The creation time (unix seconds) of the newest `/quorum retry` the gate has not served yet, or null. */
function newestRetry(decision: Decision, stickyBody: string | null): number | null {
  if (!hasNewRetry(decision.commands, stickyBody)) return null;
  const times = decision.commands
    .filter((c) => c.verb === "retry")
    .map((c) => Math.floor(Date.parse(c.createdAt) / 1000));
  return Math.max(...times);
}
