// `quorum-gate approve <owner/repo#N> --key KEY`: the officer's one command (docs/approvals.md,
// "Signing with `quorum-gate approve`"). With the officer's own GitHub token it reads the pull
// request, the policy on its base branch and the request file at its head, checks for itself what
// the signature will approve, shows it, asks, signs and posts the comment.
//
// What is signed depends on the policy's `backend`: `emulator` signs the HSM's operation-bound
// token shown in the gate's sticky comment, after checking every record's binding against the
// request at head (src/gate/check-token-binding.ts); `cloudhsm-cli` (and any veto) signs the
// approval payload built here from the request at head (src/gate/approval-payload.ts). The sticky
// comment is only where the token is taken from: nothing else in it is read.
//
// Refusals are data: a stable reason code first in the message, exit 1 (the world is not as it
// must be for signing) or 2 (bad arguments); nothing is posted on any refusal.
import { execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { createInterface } from "node:readline";
import { Octokit } from "@octokit/rest";
import { sha256Hex } from "../crypto/rsa.ts";
import { checkTokenBinding } from "../gate/check-token-binding.ts";
import {
  approvalPayloadOf,
  CHECK_RUN_NAME,
  describeOperation,
  formatIssue,
  isRequestPath,
  officerOfLogin,
  parsePolicy,
  parseRequest,
  payloadExpiry,
  POLICY_PATH,
  readStickyToken,
  renderApprovalComment,
  renderApprovalPayload,
  renderPayloadComment,
  STICKY_MARKER,
  type GateRequest,
  type OfficerMapping,
  type Policy,
} from "../gate/index.ts";
import { describePolicyDiff, diffPolicies, governancePayloadOf, parseGovernanceRequest } from "../gate/governance.ts";
import { checkPayloadExpiry } from "../gate/approval-payload.ts";
import { renderCountersignComment } from "../gate/approval-command.ts";
import { readOpenWindow } from "../gate/render-window.ts";
import { parseCliTokenFile } from "../formats/cli-token-file.ts";
import { loadSigner, type Signer } from "./approve-signer.ts";
import { parseCommandArgs } from "./args.ts";
import type { CliIo } from "./io.ts";
import { isRefusal, refuse, type Refusal } from "./refusal.ts";

const HELP = `Usage: quorum-gate approve OWNER/REPO#N --key (FILE | pkcs11:URI) [--passphrase-file FILE]
                           [--reject] [--until UTC] [--yes | --dry-run] [--watch]

Reads pull request N of OWNER/REPO with your own GitHub token, checks what your signature will
approve from the request file at the pull request's head, shows it, asks, signs it with your
quorum key and posts the comment (/quorum approve ...). The policy's backend, on the base branch,
says what is signed: the HSM's token from the gate's sticky comment (emulator), after checking
that every record is bound to this request; or the approval payload (cloudhsm-cli), built here.
A pull request that changes the policy is signed over the gate's payload of the change on
cloudhsm-cli (the change is shown first), and refused on the emulator (use 'quorum-gate sign').

Options:
  --key FILE|URI         your quorum key: a PEM file (encrypted ones ask for the pass phrase), or a
                         PKCS#11 URI such as 'pkcs11:token=officer;object=quorum' (signed by the
                         system's openssl through the pkcs11 engine; the PIN is asked for)
  --passphrase-file FILE the key's pass phrase, or the token's PIN, on the first line of FILE
  --reject               post a veto (/quorum reject until=...) instead of an approval
  --until UTC            the payload's expires-at (2026-12-13T03:00:00Z); default: now plus the
                         policy's approval_lifetime_seconds, which also bounds it
  -y, --yes              do not ask 'Sign and post? [y/N]' (for scripts)
  --dry-run              check and sign, print the comment on stdout, post nothing
  --watch                cloudhsm-cli only: after posting the approval, wait for the execution window
                         the gate opens on merge, and countersign its HSM token once (checked: the
                         gate's own comment, a window still open, the request you approved merged)
  -h, --help             show this help

Environment: GITHUB_TOKEN (else 'gh auth token'), GITHUB_API_URL (GitHub Enterprise:
https://HOST/api/v3).

Exit status: 0 posted (or printed with --dry-run); 1 refused, with a reason code first in the
message (not_an_officer, wrong_key, token_binding_mismatch, pr_closed, watch_timeout, ...); 2 bad
arguments.
`;

const OPTIONS = {
  key: { type: "string" },
  "passphrase-file": { type: "string" },
  reject: { type: "boolean" },
  until: { type: "string" },
  yes: { type: "boolean", short: "y" },
  "dry-run": { type: "boolean" },
  watch: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Reason codes of `quorum-gate approve`, documented in docs/approvals.md. */
export const APPROVE_REASONS = [
  "bad_arguments",
  "no_github_token",
  "github_error",
  "pr_not_found",
  "pr_closed",
  "pr_merged",
  "no_policy",
  "invalid_policy",
  "not_an_officer",
  "no_request",
  "governance_request",
  "invalid_request",
  "wrong_cluster",
  "no_token",
  "bad_token_file",
  "token_binding_mismatch",
  "token_service_mismatch",
  "token_expired",
  "bad_until",
  "bad_key",
  "wrong_key",
  "pkcs11_failed",
  "cancelled",
  "not_confirmed",
  "request_changed",
  "watch_timeout",
] as const;
export type ApproveReason = (typeof APPROVE_REASONS)[number];

const TARGET = /^([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})\/([A-Za-z0-9._-]{1,100})#([1-9][0-9]{0,9})$/;
const ISO_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export interface ApproveDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** The officer's token when GITHUB_TOKEN is not set: `gh auth token`, or null. */
  readonly ghToken: () => Promise<string | null>;
  readonly openssl: string;
  /** How `--watch` waits between looks; default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How often `--watch` looks at the pull request. */
export const WATCH_POLL_MS = 10_000;

interface Plan {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly key: string;
  readonly passphraseFile: string | undefined;
  readonly reject: boolean;
  readonly until: string | undefined;
  readonly yes: boolean;
  readonly dryRun: boolean;
  readonly watch: boolean;
}

export async function runApprove(argv: string[], io: CliIo, deps: ApproveDeps = defaultDeps()): Promise<number> {
  let outcome: Refusal | "done";
  try {
    outcome = await approve(argv, io, deps);
  } catch (err) {
    outcome = refuse(1, `github_error: ${describeHttpError(err)}; nothing was posted`);
  }
  if (isRefusal(outcome)) {
    io.stderr.write(`quorum-gate approve: ${outcome.message}\n`);
    return outcome.refused;
  }
  return 0;
}

function defaultDeps(): ApproveDeps {
  return {
    env: process.env,
    now: () => Date.now(),
    ghToken: () =>
      new Promise((done) => {
        execFile("gh", ["auth", "token"], { timeout: 15_000 }, (err, stdout) =>
          done(err === null && stdout.trim() !== "" ? stdout.trim() : null),
        );
      }),
    openssl: "openssl",
  };
}

function planApprove(argv: string[]): Plan | Refusal | "help" {
  const parsed = parseCommandArgs(argv, OPTIONS, 1, "use --passphrase-file FILE, or answer the prompt on a terminal");
  if (!parsed.ok)
    return refuse(2, `bad_arguments: ${parsed.message}\nRun 'quorum-gate approve --help' for the options.`);
  const v = parsed.values;
  if (v.help === true) return "help";
  const target = parsed.positionals[0];
  const m = target === undefined ? null : TARGET.exec(target);
  if (m === null) return refuse(2, "bad_arguments: name the pull request as OWNER/REPO#N, e.g. acme/hsm#12");
  if (v.key === undefined || v.key === "")
    return refuse(2, "bad_arguments: --key is required (a PEM file or a pkcs11: URI)");
  if (v.yes === true && v["dry-run"] === true)
    return refuse(2, "bad_arguments: --yes posts, --dry-run does not: give one of them");
  if (v.watch === true && (v.reject === true || v["dry-run"] === true))
    return refuse(2, "bad_arguments: --watch countersigns after an approval: not with --reject or --dry-run");
  if (v.until !== undefined && !ISO_SECOND.test(v.until))
    return refuse(2, "bad_until: --until must be a UTC time to the second, e.g. 2026-12-13T03:00:00Z");
  return {
    owner: m[1] ?? "",
    repo: m[2] ?? "",
    number: Number(m[3]),
    key: v.key,
    passphraseFile: v["passphrase-file"],
    reject: v.reject === true,
    until: v.until,
    yes: v.yes === true,
    dryRun: v["dry-run"] === true,
    watch: v.watch === true,
  };
}

async function approve(argv: string[], io: CliIo, deps: ApproveDeps): Promise<Refusal | "done"> {
  const plan = planApprove(argv);
  if (plan === "help") {
    io.stdout.write(HELP);
    return "done";
  }
  if (isRefusal(plan)) return plan;
  const token =
    deps.env.GITHUB_TOKEN !== undefined && deps.env.GITHUB_TOKEN !== "" ? deps.env.GITHUB_TOKEN : await deps.ghToken();
  if (token === null)
    return refuse(1, "no_github_token: set GITHUB_TOKEN to your own token, or log in with 'gh auth login'");
  const octokit = new Octokit({
    auth: token,
    baseUrl: (deps.env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, ""),
    userAgent: `quorum-gate/${io.version}`,
    log: silentLog,
  });
  const repository = `${plan.owner}/${plan.repo}`;

  const me = (await octokit.rest.users.getAuthenticated()).data.login;
  const pr = await getPull(octokit, plan);
  if (isRefusal(pr)) return pr;
  if (pr.merged) return refuse(1, `pr_merged: ${repository}#${plan.number} is merged already; nothing to approve`);
  if (pr.state !== "open") return refuse(1, `pr_closed: ${repository}#${plan.number} is closed; nothing to approve`);

  const policyBytes = await readFile(octokit, plan.owner, plan.repo, POLICY_PATH, pr.base.ref);
  if (policyBytes === null)
    return refuse(1, `no_policy: ${repository} has no ${POLICY_PATH} on ${pr.base.ref}; the gate does not govern it`);
  const policyResult = parsePolicy(policyBytes);
  if (!policyResult.ok)
    return refuse(
      1,
      `invalid_policy: ${POLICY_PATH} on ${pr.base.ref} is not valid:\n${policyResult.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`,
    );
  const policy = policyResult.policy;
  const officer = officerOfLogin(policy, me);
  if (officer === undefined)
    return refuse(
      1,
      `not_an_officer: your GitHub account ${me} is not mapped to an officer in ${POLICY_PATH} on ${pr.base.ref}; the gate would not count your approval`,
    );

  const found = await readRequest(octokit, plan, policy, pr.head);
  if (isRefusal(found)) return found;
  if ("governance" in found)
    return approveGovernance(octokit, plan, policy, officer, me, pr, found.removed, policyBytes, io, deps);
  const { path: requestPath, bytes: requestBytes } = found;
  const parsed = parseRequest(requestBytes);
  if (!parsed.ok)
    return refuse(
      1,
      `invalid_request: the gate refuses ${requestPath}:\n${parsed.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`,
    );
  const request = parsed.request;
  if (request.cluster !== policy.cluster)
    return refuse(
      1,
      `wrong_cluster: ${requestPath} names cluster ${request.cluster}, but the policy governs ${policy.cluster}`,
    );

  if (plan.watch && policy.backend !== "cloudhsm-cli")
    return refuse(
      2,
      "bad_arguments: --watch is for a real cluster (backend cloudhsm-cli); with the emulator your approval is all the gate needs",
    );
  const payloadCeremony = plan.reject || policy.backend === "cloudhsm-cli";
  if (!payloadCeremony && plan.until !== undefined)
    return refuse(
      2,
      "bad_arguments: --until is for a payload approval or a veto; this policy's backend (emulator) signs the HSM's token, which carries its own expiry",
    );
  const nowMs = deps.now();

  let message: Buffer;
  let render: (signature: Buffer) => string;
  const summary = describeRequest(request, requestPath, requestBytes, repository, plan.number, officer.officer, policy);
  if (payloadCeremony) {
    const until = plan.until ?? payloadExpiry(nowMs, policy.approvalLifetimeSeconds);
    const expiry = checkPayloadExpiry(until, nowMs, policy.approvalLifetimeSeconds);
    if (expiry !== "valid") return refuse(1, badUntil(until, expiry, policy));
    const verdict = plan.reject ? "reject" : "approve";
    message = renderApprovalPayload(
      approvalPayloadOf({
        verdict,
        request,
        requestDigest: parsed.digest,
        requestPath,
        repository,
        pullRequest: plan.number,
        expiresAt: until,
      }),
    );
    render = (signature) => renderPayloadComment(verdict, until, signature);
    summary.push(...payloadLines(message, verdict, until));
  } else {
    const sticky = await stickyToken(octokit, plan);
    if (sticky === null)
      return refuse(
        1,
        `no_token: the gate's sticky comment on ${repository}#${plan.number} shows no token yet; wait for it, or post /quorum renew`,
      );
    const checked = checkTokenBinding({
      token: sticky,
      request,
      requestDigest: parsed.digest,
      repository,
      pullRequest: plan.number,
      policyCluster: policy.cluster,
      tokenLifetimeSeconds: policy.tokenLifetimeSeconds,
      now: Math.floor(nowMs / 1000),
    });
    if (!checked.ok) {
      const expected =
        checked.binding === null
          ? []
          : [`  expected binding ${checked.binding} (from ${requestPath} at ${pr.head.sha.slice(0, 12)})`];
      return refuse(
        1,
        [
          `${checked.reason}: refusing to sign the token from the sticky comment: it is not the token of this request as it stands at the pull request's head.`,
          ...expected,
          ...checked.details.map((d) => `  ${d}`),
        ].join("\n"),
      );
    }
    message = Buffer.from(sticky);
    render = (signature) => renderApprovalComment(signature);
    summary.push(
      "",
      `You sign the HSM's token: ${message.length} bytes, SHA-256 ${sha256Hex(message)}, ${checked.records.length} record(s), each bound to ${checked.binding}; it expires at ${new Date(checked.expiresAt * 1000).toISOString()}.`,
    );
  }

  const until = Date.parse(plan.until ?? payloadExpiry(nowMs, policy.approvalLifetimeSeconds));
  return signAndPost(octokit, plan, officer, me, message, render, summary, io, deps, (signer) =>
    plan.watch ? watchAndCountersign(octokit, plan, policy, parsed.digest, signer, io, deps, until) : null,
  );
}

/** Confirms, signs `message`, posts what `render` makes of the signature; then `after` (--watch) may go on. */
async function signAndPost(
  octokit: Octokit,
  plan: Plan,
  officer: OfficerMapping,
  me: string,
  message: Buffer,
  render: (signature: Buffer) => string,
  summary: string[],
  io: CliIo,
  deps: ApproveDeps,
  after: (signer: Signer) => Promise<Refusal | "done"> | null,
): Promise<Refusal | "done"> {
  const repository = `${plan.owner}/${plan.repo}`;
  const signer = await loadSigner({ key: plan.key, passphraseFile: plan.passphraseFile, openssl: deps.openssl }, io);
  if (isRefusal(signer)) return signer;
  try {
    const pinned = pinnedKeyProblem(officer, signer);
    if (pinned !== null) return refuse(1, `wrong_key: ${pinned}; nothing was signed`);
    summary.push("", `Key: ${signer.label}, fingerprint ${signer.fingerprint} (SHA-256 of its public key)`);
    io.stderr.write(`${summary.join("\n")}\n\n`);

    if (!plan.dryRun && !plan.yes) {
      if (!io.isTTY)
        return refuse(
          2,
          "not_confirmed: stdin is not a terminal, so nobody can answer 'Sign and post?': give --yes (or --dry-run)",
        );
      const answer = await askLine(io, "Sign and post? [y/N] ");
      if (answer === null || !/^y(es)?$/i.test(answer.trim()))
        return refuse(1, "not_confirmed: nothing was signed or posted");
    }
    const signature = await signer.sign(message);
    if (isRefusal(signature)) return signature;
    const comment = render(signature);
    if (plan.dryRun) {
      io.stdout.write(comment);
      io.stderr.write("dry run: nothing was posted\n");
      return "done";
    }
    const posted = await octokit.rest.issues.createComment({
      owner: plan.owner,
      repo: plan.repo,
      issue_number: plan.number,
      body: comment,
    });
    io.stdout.write(`${posted.data.html_url ?? `posted comment ${posted.data.id}`}\n`);
    io.stderr.write(`posted on ${repository}#${plan.number} as ${me} (officer ${officer.officer})\n`);
    return (await after(signer)) ?? "done";
  } finally {
    signer.close();
  }
}

/**
 * A policy change (governance request) on a real cluster: the officer signs the gate's payload of
 * the change (docs/real-cluster.md, "Policy changes on a real cluster"), built here from the
 * policy at the pull request's head (or its deletion) and the policy on the base branch.
 */
async function approveGovernance(
  octokit: Octokit,
  plan: Plan,
  policy: Policy,
  officer: OfficerMapping,
  me: string,
  pr: PullInfo,
  removed: boolean,
  currentBytes: Buffer,
  io: CliIo,
  deps: ApproveDeps,
): Promise<Refusal | "done"> {
  const repository = `${plan.owner}/${plan.repo}`;
  if (policy.backend !== "cloudhsm-cli")
    return refuse(
      1,
      `governance_request: ${repository}#${plan.number} changes ${POLICY_PATH}; with the emulator its officers sign the token in the gate's sticky comment with \`quorum-gate sign\` (docs/approvals.md, "Governance requests: approving a policy change")`,
    );
  if (plan.watch)
    return refuse(
      2,
      "bad_arguments: --watch waits for an execution window, and a policy change runs nothing on the HSMs: there is none",
    );
  const proposed = removed ? null : await readFile(octokit, pr.head.owner, pr.head.repo, POLICY_PATH, pr.head.sha);
  if (!removed && proposed === null)
    return refuse(
      1,
      `invalid_policy: ${POLICY_PATH} is not readable at the pull request's head ${pr.head.sha.slice(0, 12)}`,
    );
  const g = parseGovernanceRequest(proposed, currentBytes);
  if (!g.ok)
    return refuse(
      1,
      `invalid_policy: the new ${POLICY_PATH} is not valid, so the gate refuses it:\n${g.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`,
    );
  const nowMs = deps.now();
  const until = plan.until ?? payloadExpiry(nowMs, policy.approvalLifetimeSeconds);
  const expiry = checkPayloadExpiry(until, nowMs, policy.approvalLifetimeSeconds);
  if (expiry !== "valid") return refuse(1, badUntil(until, expiry, policy));
  const verdict = plan.reject ? "reject" : "approve";
  const change = g.request;
  const message = renderApprovalPayload(
    governancePayloadOf({
      verdict,
      change,
      clusterId: policy.cluster,
      repository,
      pullRequest: plan.number,
      expiresAt: until,
    }),
  );
  const changes =
    change.kind === "policyChange"
      ? describePolicyDiff(diffPolicies(policy, change.policy))
      : ["the policy is deleted: the gate stops guarding this repository"];
  const summary = [
    `${repository}#${plan.number}: ${change.kind} of ${POLICY_PATH} on cluster ${policy.cluster} (backend ${policy.backend})`,
    `  ${change.kind === "policyChange" ? "new policy" : "deleted policy"} SHA-256 ${change.policyDigest} (read at the pull request's head and base)`,
    ...(changes.length === 0
      ? ["  changes: none in effect (only layout or comments)"]
      : changes.map((c) => `  change: ${c}`)),
    `  you sign as officer ${officer.officer} of the current policy`,
    ...payloadLines(message, verdict, until),
  ];
  return signAndPost(
    octokit,
    plan,
    officer,
    me,
    message,
    (signature) => renderPayloadComment(verdict, until, signature),
    summary,
    io,
    deps,
    () => null,
  );
}

/** The payload as the officer reads it before signing: every byte, indented. */
function payloadLines(payload: Buffer, verdict: "approve" | "reject", until: string): string[] {
  return [
    "",
    `You sign this approval payload (${verdict === "reject" ? "a veto" : "an approval"} until ${until}):`,
    "",
    ...payload
      .toString("utf8")
      .trimEnd()
      .split("\n")
      .map((l) => `    ${l}`),
  ];
}

function badUntil(until: string, expiry: string, policy: Policy): string {
  return `bad_until: ${until} is ${expiry === "expired" ? "in the past" : expiry === "too_far" ? `further ahead than the policy's approval_lifetime_seconds (${policy.approvalLifetimeSeconds})` : "not a valid time"}`;
}

/**
 * `--watch`: waits until the gate's sticky comment shows an open execution window on the merged
 * pull request, then signs the HSM token's approval_data and posts `/quorum countersign` once.
 * The HSM token binds no arguments (docs/real-cluster.md), so before signing the tool checks
 * what it can: the comment is the gate's (the app that writes the `quorum` check), the window is
 * still open, and the request file that was merged is the one this officer approved.
 */
async function watchAndCountersign(
  octokit: Octokit,
  plan: Plan,
  policy: Policy,
  approvedDigest: string,
  signer: Signer,
  io: CliIo,
  deps: ApproveDeps,
  untilMs: number,
): Promise<Refusal | "done"> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const repository = `${plan.owner}/${plan.repo}`;
  io.stderr.write(`waiting for the execution window on ${repository}#${plan.number} (Ctrl-C stops waiting)\n`);
  for (;;) {
    if (deps.now() > untilMs)
      return refuse(1, `watch_timeout: your approval lapsed before ${repository}#${plan.number} opened a window`);
    await sleep(WATCH_POLL_MS);
    const { data: pr } = await octokit.rest.pulls.get({ owner: plan.owner, repo: plan.repo, pull_number: plan.number });
    if (pr.state === "closed" && pr.merged !== true)
      return refuse(1, `pr_closed: ${repository}#${plan.number} was closed without merge; nothing to countersign`);
    if (pr.merged !== true || pr.merge_commit_sha === null) continue;
    const window = await openWindowOf(octokit, plan, pr.head.sha, Math.floor(deps.now() / 1000));
    if (window === null) continue;
    const merged = await readRequest(octokit, plan, policy, {
      sha: pr.merge_commit_sha,
      owner: plan.owner,
      repo: plan.repo,
    });
    if (isRefusal(merged)) return merged;
    if ("governance" in merged)
      return refuse(1, "request_changed: the merged pull request holds no request file any more");
    const digest = parseRequest(merged.bytes).digest;
    if (digest !== approvedDigest)
      return refuse(
        1,
        `request_changed: the request file merged (SHA-256 ${digest}) is not the one you approved (${approvedDigest}); nothing was countersigned`,
      );
    const signature = await signer.sign(window.approvalData);
    if (isRefusal(signature)) return signature;
    const posted = await octokit.rest.issues.createComment({
      owner: plan.owner,
      repo: plan.repo,
      issue_number: plan.number,
      body: renderCountersignComment(signature),
    });
    io.stdout.write(`${posted.data.html_url ?? `posted comment ${posted.data.id}`}\n`);
    io.stderr.write(
      `countersigned the HSM token of the window open until ${new Date(window.deadline * 1000).toISOString()}\n`,
    );
    return "done";
  }
}

/** The open window the gate's own sticky comment shows, with its token's approval_data; else null. */
async function openWindowOf(
  octokit: Octokit,
  plan: Plan,
  headSha: string,
  now: number,
): Promise<{ readonly approvalData: Buffer; readonly deadline: number } | null> {
  // The gate is the app that writes the quorum check: only its comment is believed.
  const checks = await octokit.rest.checks.listForRef({
    owner: plan.owner,
    repo: plan.repo,
    ref: headSha,
    check_name: CHECK_RUN_NAME,
    per_page: 100,
  });
  const slugs = new Set(checks.data.check_runs.flatMap((c) => (c.app?.slug ? [`${c.app.slug}[bot]`] : [])));
  if (slugs.size !== 1) return null;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: plan.owner,
    repo: plan.repo,
    issue_number: plan.number,
    per_page: 100,
  });
  const sticky = comments.find(
    (c) => c.user !== null && slugs.has(c.user.login) && (c.body ?? "").startsWith(STICKY_MARKER),
  );
  const body = sticky?.body ?? "";
  const window = readOpenWindow(body);
  if (window === null || now > window.deadline) return null;
  const json = /```json\n([\s\S]*?)\n```/.exec(body)?.[1];
  const file = json === undefined ? null : parseCliTokenFile(Buffer.from(json));
  return file === null || !file.ok ? null : { approvalData: file.approvalData, deadline: window.deadline };
}

const silentLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface PullInfo {
  readonly state: string;
  readonly merged: boolean;
  readonly base: { readonly ref: string };
  readonly head: { readonly sha: string; readonly owner: string; readonly repo: string };
}

async function getPull(octokit: Octokit, plan: Plan): Promise<PullInfo | Refusal> {
  try {
    const { data } = await octokit.rest.pulls.get({ owner: plan.owner, repo: plan.repo, pull_number: plan.number });
    const headRepo = data.head.repo;
    return {
      state: data.state,
      merged: data.merged === true,
      base: { ref: data.base.ref },
      head: { sha: data.head.sha, owner: headRepo?.owner.login ?? plan.owner, repo: headRepo?.name ?? plan.repo },
    };
  } catch (err) {
    if (statusOf(err) === 404)
      return refuse(
        1,
        `pr_not_found: no pull request ${plan.owner}/${plan.repo}#${plan.number} (or your token cannot read it)`,
      );
    throw err;
  }
}

/** A file's bytes at `ref`, or null when there is none. */
async function readFile(
  octokit: Octokit,
  owner: string,
  repo: string,
  path: string,
  ref: string,
): Promise<Buffer | null> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref });
    if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return null;
    if (data.encoding === "base64") return Buffer.from(data.content, "base64");
    // Over the contents API's inline limit: the blob API still has it.
    const blob = await octokit.rest.git.getBlob({ owner, repo, file_sha: data.sha });
    return Buffer.from(blob.data.content, "base64");
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

/** The one request file the pull request adds, read at its head commit (the gate's shape rule, docs/requests.md). */
async function readRequest(
  octokit: Octokit,
  plan: Plan,
  policy: Policy,
  head: PullInfo["head"],
): Promise<{ path: string; bytes: Buffer } | { governance: true; removed: boolean } | Refusal> {
  const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
    owner: plan.owner,
    repo: plan.repo,
    pull_number: plan.number,
    per_page: 100,
  });
  const requests = files.filter((f) => isRequestPath(policy, f.filename));
  // A policy change has no request file: it is judged as a governance request.
  const policyFile = files.find((f) => f.filename === POLICY_PATH);
  if (requests.length === 0 && policyFile !== undefined)
    return { governance: true, removed: policyFile.status === "removed" };
  if (requests.length === 0)
    return refuse(
      1,
      `no_request: ${plan.owner}/${plan.repo}#${plan.number} adds no request file under ${policy.requestFolder}`,
    );
  if (requests.length > 1)
    return refuse(1, `invalid_request: one request per pull request; this one holds ${requests.length}`);
  const file = requests[0];
  if (file === undefined || file.status !== "added")
    return refuse(
      1,
      `invalid_request: ${file?.filename ?? "the request"} is ${file?.status ?? "?"}; a request file is added once`,
    );
  const bytes = await readFile(octokit, head.owner, head.repo, file.filename, head.sha);
  if (bytes === null) return refuse(1, `no_request: ${file.filename} is not readable at ${head.sha}`);
  return { path: file.filename, bytes };
}

/**
 * The token of the gate's sticky comment: the newest comment by a bot that starts with the marker.
 * Its author is not checked further, because the token is checked against the request anyway.
 */
async function stickyToken(octokit: Octokit, plan: Plan): Promise<Uint8Array | null> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: plan.owner,
    repo: plan.repo,
    issue_number: plan.number,
    per_page: 100,
  });
  for (const c of [...comments].reverse()) {
    if (c.user?.type !== "Bot" || typeof c.body !== "string" || !c.body.startsWith(STICKY_MARKER)) continue;
    const token = readStickyToken(c.body);
    if (token !== null && token.byteLength > 0) return token;
  }
  return null;
}

/** Null when the key is the one the policy pins for this officer (or it pins none). */
function pinnedKeyProblem(
  officer: { readonly officer: string; readonly keyFingerprint?: string },
  signer: Signer,
): string | null {
  if (officer.keyFingerprint !== undefined && officer.keyFingerprint !== signer.fingerprint) {
    return `the policy pins officer ${officer.officer} to the key ${officer.keyFingerprint}, but ${signer.label} is ${signer.fingerprint}`;
  }
  // A pinned public key (PEM), where the policy has one: compared by fingerprint as well.
  const pem = (officer as { readonly publicKey?: unknown }).publicKey;
  if (typeof pem === "string" && pem !== "") {
    try {
      const pinnedFp = sha256Hex(createPublicKey(pem).export({ type: "spki", format: "der" }));
      if (pinnedFp !== signer.fingerprint)
        return `the policy pins officer ${officer.officer} to another public key (${pinnedFp}) than ${signer.label} (${signer.fingerprint})`;
    } catch {
      return `the policy's public key for officer ${officer.officer} cannot be read`;
    }
  }
  return null;
}

function describeRequest(
  request: GateRequest,
  path: string,
  bytes: Buffer,
  repository: string,
  number: number,
  officer: string,
  policy: Policy,
): string[] {
  return [
    `${repository}#${number}: ${describeOperation(request.operation)} on cluster ${request.cluster} (backend ${policy.backend})`,
    `  request file ${path}, SHA-256 ${sha256Hex(bytes)} (read at the pull request's head)`,
    `  reason: ${JSON.stringify(request.reason)}`,
    `  you sign as officer ${officer}`,
  ];
}

function askLine(io: CliIo, prompt: string): Promise<string | null> {
  return new Promise((done) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
    let answered = false;
    io.stderr.write(prompt);
    rl.once("line", (line) => {
      answered = true;
      rl.close();
      done(line);
    });
    rl.once("close", () => {
      if (!answered) done(null);
    });
  });
}

function statusOf(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "status" in err && typeof err.status === "number"
    ? err.status
    : undefined;
}

function describeHttpError(err: unknown): string {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (status === 401) return "GitHub refused the token (401): is GITHUB_TOKEN yours and still valid?";
  return status === undefined ? message : `GitHub answered ${status}: ${message}`;
}
