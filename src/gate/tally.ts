// Second pass: the candidates against each other, in the order they were posted. A withdrawal
// cancels the officer's approvals posted at or before it (an edited withdrawal cancels them all);
// an expired token counts nothing; each officer counts once, with their earliest valid approval.
import type { CandidateKind } from "./candidate.ts";
import type { Judgement } from "./judge-candidate.ts";
import type { Verdict, VerdictReason } from "./verdict.ts";

export interface Approver {
  readonly officer: string;
  readonly login: string;
  readonly candidateId: string;
  readonly kind: CandidateKind;
  readonly createdAt: string;
  /** Canonical base64 of the signature. */
  readonly signature: string;
  readonly keyFingerprint: string;
  /** A payload approval's `until=` (backend cloudhsm-cli): with it, the signed bytes can be rebuilt. */
  readonly until?: string;
  readonly url?: string;
}

export interface AcceptedCommand {
  readonly verb: "retry" | "renew";
  readonly candidateId: string;
  readonly officer: string;
  readonly login: string;
  /** ISO 8601: commands stay in the thread, so the adapter acts only on ones newer than its last action. */
  readonly createdAt: string;
}

/** A valid `/quorum reject`: the officer vetoes the request (docs/governance.md, "Veto"). */
export interface Veto {
  readonly officer: string;
  readonly login: string;
  readonly candidateId: string;
  readonly createdAt: string;
  readonly url?: string;
}

export interface Tally {
  /** In posting order. */
  readonly verdicts: readonly Verdict[];
  readonly approvers: readonly Approver[];
  /** One per officer, earliest first; a later `/quorum withdraw` lifts the officer's veto. */
  readonly vetoes: readonly Veto[];
  readonly commands: readonly AcceptedCommand[];
}

/** By creation time, then by id, so the answer never depends on the order the adapter listed them in. */
export function byPostingOrder(a: Judgement, b: Judgement): number {
  const ia = a.verdict.candidateId;
  const ib = b.verdict.candidateId;
  return a.time - b.time || (ia < ib ? -1 : ia > ib ? 1 : 0) || a.order - b.order;
}

export function tally(judgements: readonly Judgement[], tokenExpired: boolean): Tally {
  const sorted = [...judgements].sort(byPostingOrder);
  const withdrawnUntil = new Map<string, number>();
  for (const j of sorted) {
    if (j.verdict.verdict !== "noted" || j.command?.verb !== "withdraw" || j.mapping === undefined) continue;
    const until = j.edited ? Number.POSITIVE_INFINITY : j.time;
    withdrawnUntil.set(
      j.mapping.officer,
      Math.max(until, withdrawnUntil.get(j.mapping.officer) ?? Number.NEGATIVE_INFINITY),
    );
  }

  const verdicts: Verdict[] = [];
  const approvers: Approver[] = [];
  const commands: AcceptedCommand[] = [];
  const vetoes: Veto[] = [];
  for (const j of sorted) {
    const v = j.verdict;
    if (v.verdict === "noted" && j.mapping !== undefined && j.command?.verb === "reject") {
      const officer = j.mapping.officer;
      if ((withdrawnUntil.get(officer) ?? Number.NEGATIVE_INFINITY) >= j.time) {
        verdicts.push({
          ...v,
          verdict: "rejected",
          reason: "withdrawn",
          message: `officer ${officer} withdrew this veto`,
        });
      } else if (vetoes.some((x) => x.officer === officer)) {
        verdicts.push({
          ...v,
          verdict: "rejected",
          reason: "duplicate",
          message: `officer ${officer}'s veto is already counted once`,
        });
      } else {
        verdicts.push(v);
        vetoes.push({
          officer,
          login: v.author,
          candidateId: v.candidateId,
          createdAt: j.createdAt,
          ...(v.url === undefined ? {} : { url: v.url }),
        });
      }
      continue;
    }
    if (
      v.verdict === "noted" &&
      j.mapping !== undefined &&
      (j.command?.verb === "retry" || j.command?.verb === "renew")
    ) {
      commands.push({
        verb: j.command.verb,
        candidateId: v.candidateId,
        officer: j.mapping.officer,
        login: v.author,
        createdAt: j.createdAt,
      });
    }
    if (v.verdict !== "counted" || j.mapping === undefined || j.key === undefined || j.command?.verb !== "approve") {
      verdicts.push(v);
      continue;
    }
    const officer = j.mapping.officer;
    const reject = (reason: VerdictReason, message: string) =>
      verdicts.push({ ...v, verdict: "rejected", reason, message });
    if ((withdrawnUntil.get(officer) ?? Number.NEGATIVE_INFINITY) >= j.time) {
      reject("withdrawn", `officer ${officer} withdrew this approval`);
    } else if (tokenExpired) {
      reject("expired", "the token has expired: an officer posts /quorum renew, then everyone signs the new token");
    } else if (approvers.some((a) => a.officer === officer)) {
      reject("duplicate", `officer ${officer} is already counted once`);
    } else {
      verdicts.push(v);
      approvers.push({
        officer,
        login: v.author,
        candidateId: v.candidateId,
        kind: v.kind,
        createdAt: j.createdAt,
        signature: j.command.signature,
        keyFingerprint: j.key.fingerprint,
        ...(j.command.until === undefined ? {} : { until: j.command.until }),
        ...(v.url === undefined ? {} : { url: v.url }),
      });
    }
  }
  return { verdicts, approvers, vetoes, commands };
}
