// First pass of the evaluation: one candidate on its own. Is it a command, who posted it, does
// the author map to an officer, does the signature verify under that officer's key over this
// token? Rules that need the other candidates (withdrawals, duplicates) come in `tally.ts`.
import { parseRsaPublicKeyAtLeast, RSA_BITS, verifyMessage } from "../crypto/rsa.ts";
import { checkPayloadExpiry } from "./approval-payload.ts";
import { parseApprovalComment, type ApprovalCommand, type CommandResult } from "./approval-command.ts";
import type { ApprovalCandidate } from "./candidate.ts";
import { normalizeLogin } from "./login.ts";
import type { KeyRing, OfficerKey } from "./officer-keys.ts";
import { officerOfLogin, type OfficerMapping, type Policy } from "./policy.ts";
import type { TokenCheck } from "./token.ts";
import { checkSignature, identifySigner, type SignatureCheck } from "./verify-signature.ts";
import type { Verdict, VerdictKind, VerdictReason } from "./verdict.ts";

export interface JudgeContext {
  readonly policy: Policy;
  readonly ring: KeyRing;
  readonly token: TokenCheck;
  readonly tokenBytes: Uint8Array | null;
  readonly prAuthor: string;
  /**
   * How many approvals from unmapped accounts may still be traced to an officer's key (one RSA
   * check per key each) only to say whose signature was reposted. Anyone can comment, so this
   * courtesy is bounded per evaluation; past it the verdict stays `unknown_officer`, unexplained.
   */
  readonly signerLookups: { remaining: number };
  /**
   * The approval payload with `verdict: reject` and the given `expires-at`, the bytes a veto signs
   * (docs/governance.md, "Veto"); absent where vetoes do not apply.
   */
  readonly rejectPayload?: (until: string) => Uint8Array;
  /**
   * The approval payload with `verdict: approve` and the given `expires-at`, what an officer signs
   * with `backend: cloudhsm-cli` (docs/real-cluster.md, "The long clock"); absent elsewhere.
   */
  readonly approvePayload?: (until: string) => Uint8Array;
  /** Unix seconds, to check a veto's `until=`. */
  readonly now?: number;
}

/** The bound of `signerLookups` per evaluation. */
export const MAX_SIGNER_LOOKUPS = 8;

/** A verdict plus what the tally needs: when it was posted and, for approvals, the signer's key. */
export interface Judgement {
  readonly verdict: Verdict;
  /** As the candidate gave it, and parsed (milliseconds). */
  readonly createdAt: string;
  readonly time: number;
  readonly order: number;
  readonly command: ApprovalCommand | null;
  readonly mapping?: OfficerMapping;
  readonly key?: OfficerKey;
  readonly edited: boolean;
}

/** What one rule decided; the key only for a counted approval. */
interface Outcome {
  readonly verdict: VerdictKind;
  readonly reason: VerdictReason;
  readonly message: string;
  readonly key?: OfficerKey;
}

/** A rule's outcome, or the RSA check still to run that gives it (see `examineCandidate`). */
type Ruling = Outcome | (() => Outcome);

const reject = (reason: VerdictReason, message: string): Outcome => ({ verdict: "rejected", reason, message });

/** One candidate judged up to its RSA check, if it needs one. */
export interface Examination {
  readonly candidate: ApprovalCandidate;
  readonly order: number;
  readonly command: ApprovalCommand | null;
  readonly mapping: OfficerMapping | undefined;
  readonly time: number;
  readonly ruling: Ruling;
}

/** Null when the candidate holds no command at all: ordinary discussion is not shown. */
export function judgeCandidate(c: ApprovalCandidate, order: number, ctx: JudgeContext): Judgement | null {
  const examination = examineCandidate(c, order, ctx);
  return examination === null ? null : (concludeExaminations([examination])[0] ?? null);
}

/**
 * Every rule of the first pass except the RSA work (signature check, signer lookup), which it
 * leaves to `concludeExaminations`. An evaluation examines all its candidates first and then
 * concludes them, so that its RSA checks run back to back: interleaved with the grammar's string
 * work, each check measured several microseconds slower (docs/performance.md). The bounded signer
 * lookups are still counted here, in candidate order, exactly as if each candidate were judged
 * whole.
 */
export function examineCandidate(c: ApprovalCandidate, order: number, ctx: JudgeContext): Examination | null {
  const parsed = parseApprovalComment(c.body);
  if (!parsed.ok && parsed.reason === "not_a_command") return null;
  const mapping = officerOfLogin(ctx.policy, c.author);
  const time = Date.parse(c.createdAt);
  const ruling = Number.isNaN(time)
    ? reject("invalid_candidate", "the comment has no valid creation time")
    : judge(c, parsed, mapping, ctx);
  return { candidate: c, order, command: parsed.ok ? parsed.command : null, mapping, time, ruling };
}

/**
 * Runs the examinations' RSA checks, in order and back to back, then gives their judgements in
 * the same order.
 */
export function concludeExaminations(examinations: readonly Examination[]): Judgement[] {
  const outcomes = examinations.map((e) => (typeof e.ruling === "function" ? e.ruling() : e.ruling));
  return examinations.map((e, i) => toJudgement(e, outcomes[i]!));
}

function toJudgement(e: Examination, outcome: Outcome): Judgement {
  const { candidate: c, command, mapping } = e;
  return {
    verdict: toVerdict(c, command, mapping, outcome),
    createdAt: c.createdAt,
    time: e.time,
    order: e.order,
    command,
    edited: c.edited === true,
    ...(mapping === undefined ? {} : { mapping }),
    ...(outcome.key === undefined ? {} : { key: outcome.key }),
  };
}

function judge(
  c: ApprovalCandidate,
  parsed: CommandResult,
  mapping: OfficerMapping | undefined,
  ctx: JudgeContext,
): Ruling {
  if (c.deleted === true) return reject("deleted", "the comment was deleted; it counts for nothing");
  if (c.authorIsBot) return reject("bot_author", "posted by a bot; only officers' own accounts approve");
  if (!parsed.ok) return reject(parsed.reason === "not_a_command" ? "unknown_command" : parsed.reason, parsed.message);
  const command = parsed.command;
  // An edit or a dismissal can only take away: a withdraw still withdraws, nothing else counts.
  if (c.dismissed === true && command.verb !== "withdraw")
    return reject("dismissed", "the review was dismissed; post the approval again if it still stands");
  if (c.unknownReviewState !== undefined && command.verb !== "withdraw")
    return reject(
      "unknown_review_state",
      `the review's state ${JSON.stringify(c.unknownReviewState)} is not one the gate knows; it is not counted as an approval`,
    );
  if (c.edited === true && command.verb !== "withdraw")
    return reject("edited", "the comment was edited after it was posted; post a new comment instead");
  if (mapping === undefined) return unknownOfficer(c, command, ctx);
  if (command.verb === "withdraw" || command.verb === "retry" || command.verb === "renew") {
    return { verdict: "noted", reason: command.verb, message: notedMessage(command.verb, mapping.officer) };
  }
  if (command.verb === "reject" && command.until !== undefined && ctx.rejectPayload !== undefined)
    return judgeVeto(command.bytes, command.until, mapping, ctx);
  if (
    command.verb === "approve" &&
    command.until !== undefined &&
    ctx.approvePayload !== undefined &&
    ctx.policy.backend === "cloudhsm-cli"
  ) {
    return judgePayloadApproval(c, command.bytes, command.until, mapping, ctx);
  }
  // Payload approvals, vetoes, countersignatures and `execute` belong to rules and backends that
  // judge them elsewhere; against the emulator's token they would only fail as bad signatures.
  if (command.verb !== "approve" || command.until !== undefined) {
    return reject(
      "not_applicable",
      `/quorum ${command.verb}${command.verb === "approve" ? " until=" : ""} does not apply to this request`,
    );
  }
  return judgeApproval(c, command.bytes, mapping, ctx);
}

/** An approval from a mapped officer's account: self-approval, the officer's key, the signature. */
function judgeApproval(c: ApprovalCandidate, signature: Buffer, mapping: OfficerMapping, ctx: JudgeContext): Ruling {
  const officer = mapping.officer;
  if (!ctx.policy.allowSelfApproval && normalizeLogin(c.author) === normalizeLogin(ctx.prAuthor)) {
    return reject("self_approval", "the pull request's author may not approve it (allow_self_approval is false)");
  }
  const key = ctx.ring.get(officer);
  if (key === undefined) return reject("revoked_key", `officer ${officer} has no registered quorum key on the cluster`);
  if (mapping.keyFingerprint !== undefined && mapping.keyFingerprint !== key.fingerprint) {
    return reject(
      "revoked_key",
      `officer ${officer}'s registered key (${short(key.fingerprint)}) is not the key the policy pins (${short(mapping.keyFingerprint)})`,
    );
  }
  const token = ctx.tokenBytes;
  if (!ctx.token.ok || token === null)
    return reject("no_token", "there is no valid token to check the signature against");
  return () => signatureOutcome(c, checkSignature(token, signature, key, ctx.ring), mapping, key);
}

const pinnedKeys = new WeakMap<OfficerMapping, PinnedKey | null>();
type PinnedKey = Extract<ReturnType<typeof parseRsaPublicKeyAtLeast>, { ok: true }>;

/**
 * The officer's key as the policy pins it (`public_key`), parsed once per policy; null when the
 * policy pins none or one the gate cannot use.
 */
export function pinnedKey(mapping: OfficerMapping): PinnedKey | null {
  if (mapping.publicKeyPem === undefined) return null;
  let known = pinnedKeys.get(mapping);
  if (known === undefined) {
    const parsed = parseRsaPublicKeyAtLeast(mapping.publicKeyPem, RSA_BITS);
    known = parsed.ok ? parsed : null;
    pinnedKeys.set(mapping, known);
  }
  return known;
}

/**
 * An approval of the payload on a real cluster (docs/real-cluster.md, "The long clock"): the HSM
 * never sees it, so the gate verifies it against the key the policy pins for the officer. Where
 * the cluster's registered key is known and is another key, the officer could not countersign at
 * execution, so the approval is refused now rather than at merge.
 */
function judgePayloadApproval(
  c: ApprovalCandidate,
  signature: Buffer,
  until: string,
  mapping: OfficerMapping,
  ctx: JudgeContext,
): Ruling {
  const officer = mapping.officer;
  if (!ctx.policy.allowSelfApproval && normalizeLogin(c.author) === normalizeLogin(ctx.prAuthor)) {
    return reject("self_approval", "the pull request's author may not approve it (allow_self_approval is false)");
  }
  const pinned = pinnedKey(mapping);
  if (pinned === null) return reject("revoked_key", `the policy pins no public_key for officer ${officer}`);
  const registered = ctx.ring.get(officer);
  if (registered !== undefined && registered.fingerprint !== pinned.fingerprint) {
    return reject(
      "revoked_key",
      `officer ${officer}'s registered key (${short(registered.fingerprint)}) is not the key the policy pins (${short(pinned.fingerprint)})`,
    );
  }
  const expiry = checkPayloadExpiry(until, (ctx.now ?? 0) * 1000, ctx.policy.approvalLifetimeSeconds);
  if (expiry === "expired") return reject("expired", `the approval's until=${until} has passed`);
  if (expiry !== "valid")
    return reject(
      "malformed_until",
      `until=${until} lies more than approval_lifetime_seconds (${ctx.policy.approvalLifetimeSeconds}) ahead`,
    );
  const payload = ctx.approvePayload!(until);
  const key: OfficerKey = { officer, key: pinned.key, fingerprint: pinned.fingerprint };
  return () =>
    verifyMessage(payload, key.key, signature)
      ? { verdict: "counted", reason: "valid", message: `officer ${officer} approves the payload until ${until}`, key }
      : reject(
          "bad_signature",
          `the signature does not verify under ${officer}'s pinned key (${short(key.fingerprint)}) over this request's approval payload until=${until}`,
        );
}

/**
 * A veto: the officer's registered key over the reject payload. Self-approval does not matter
 * (an author may always stop their own request); an expired or too-distant `until=` does.
 */
function judgeVeto(signature: Buffer, until: string, mapping: OfficerMapping, ctx: JudgeContext): Ruling {
  const officer = mapping.officer;
  const key = ctx.ring.get(officer);
  if (key === undefined) return reject("revoked_key", `officer ${officer} has no registered quorum key on the cluster`);
  if (mapping.keyFingerprint !== undefined && mapping.keyFingerprint !== key.fingerprint) {
    return reject(
      "revoked_key",
      `officer ${officer}'s registered key (${short(key.fingerprint)}) is not the key the policy pins (${short(mapping.keyFingerprint)})`,
    );
  }
  const expiry = checkPayloadExpiry(until, (ctx.now ?? 0) * 1000, ctx.policy.approvalLifetimeSeconds);
  if (expiry === "expired") return reject("expired", `the veto's until=${until} has passed`);
  if (expiry !== "valid")
    return reject(
      "malformed_until",
      `until=${until} lies more than approval_lifetime_seconds (${ctx.policy.approvalLifetimeSeconds}) ahead`,
    );
  const payload = ctx.rejectPayload!(until);
  return () =>
    verifyMessage(payload, key.key, signature)
      ? { verdict: "noted", reason: "reject", message: `officer ${officer} vetoes this request`, key }
      : reject(
          "bad_signature",
          `the veto does not verify under ${officer}'s registered key (${short(key.fingerprint)}) over this request's reject payload`,
        );
}

function signatureOutcome(
  c: ApprovalCandidate,
  check: SignatureCheck,
  mapping: OfficerMapping,
  key: OfficerKey,
): Outcome {
  const officer = mapping.officer;
  switch (check.result) {
    case "valid":
      return { verdict: "counted", reason: "valid", message: `signed by officer ${officer}`, key };
    case "stale_token":
      return reject(
        "stale_token",
        `made with ${officer}'s key, but over another token (an older one, or another pull request's): sign the current token`,
      );
    case "not_the_officer":
      return reject(
        "not_the_officer",
        `the signature is officer ${check.signer}'s, but ${c.author} is mapped to ${officer}`,
      );
    case "bad_signature":
      return reject(
        "bad_signature",
        `the signature does not verify under ${officer}'s registered key (${short(key.fingerprint)})`,
      );
  }
}

function toVerdict(
  c: ApprovalCandidate,
  command: ApprovalCommand | null,
  mapping: OfficerMapping | undefined,
  outcome: Outcome,
): Verdict {
  return {
    candidateId: c.id,
    kind: c.kind,
    author: c.author,
    ...(mapping === undefined ? {} : { officer: mapping.officer }),
    command: command?.verb ?? null,
    verdict: outcome.verdict,
    reason: outcome.reason,
    message: outcome.message,
    ...(c.url !== undefined && isPlainHttpsUrl(c.url) ? { url: c.url } : {}),
  };
}

/** An account outside the policy; a reposted approval is traced to its officer while lookups remain. */
function unknownOfficer(c: ApprovalCandidate, command: ApprovalCommand, ctx: JudgeContext): Ruling {
  const base = `${c.author} is not an officer in the policy`;
  const token = ctx.tokenBytes;
  if (command.verb !== "approve" || !ctx.token.ok || token === null || ctx.signerLookups.remaining <= 0)
    return reject("unknown_officer", base);
  ctx.signerLookups.remaining -= 1;
  return () => {
    const signer = identifySigner(token, command.bytes, ctx.ring);
    return reject(
      "unknown_officer",
      signer === null
        ? base
        : `${base}; the signature is officer ${signer}'s, and only ${signer}'s own mapped account can post it`,
    );
  };
}

function notedMessage(verb: "withdraw" | "retry" | "renew", officer: string): string {
  switch (verb) {
    case "withdraw":
      return `officer ${officer} withdraws every earlier approval`;
    case "retry":
      return `officer ${officer} asks to retry the nodes that failed`;
    case "renew":
      return `officer ${officer} asks for a new token`;
  }
}

/** Only URLs that cannot break out of a Markdown link: https, no blanks, brackets or quotes. */
function isPlainHttpsUrl(url: string): boolean {
  return /^https:\/\/[^\s()<>[\]"'`|]+$/.test(url) && url.length <= 512;
}

/** First 16 hex digits of a fingerprint, enough to tell keys apart in a message. */
export function short(fp: string): string {
  return `${fp.slice(0, 16)}…`;
}
