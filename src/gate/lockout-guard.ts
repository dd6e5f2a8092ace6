// The lock-out guard (docs/governance.md, "Lock-out guard"): would this operation leave fewer
// officers able to sign for a quorum service than M plus a safety margin? Once M is 2 or more the
// HSM never lets it drop below 2, and the only way back from a cluster nobody can approve for is
// an older backup, so the gate and the emulated shells refuse (or warn) before that happens.
// Pure and plain data in, plain data out: the gate, the CMU shell and the CloudHSM CLI shell call
// the same function with what they know.

/** The default margin: M + 1 officers must remain able to sign, so one lost key is not a lock-out. */
export const DEFAULT_LOCKOUT_MARGIN = 1;

export const LOCKOUT_REASONS = ["lockout_delete_officer", "lockout_drop_quorum_key", "lockout_raise_m"] as const;
export type LockoutReason = (typeof LOCKOUT_REASONS)[number];

export interface GuardUser {
  /** User name; compared case-insensitively, as the HSM does. */
  readonly name: string;
  /** `CO`, `CU`, ... Only crypto officers (and the PRECO/PCO forms of them) approve quorum tokens. */
  readonly type: string;
  /** Whether the user has a registered quorum (MofN) public key. */
  readonly hasQuorumKey: boolean;
  /**
   * Whether the user has 2FA on. A password change without 2FA on a 2FA user removes the quorum
   * key too (docs/governance.md). Unknown (undefined) is treated as on: the guard errs towards
   * refusing.
   */
  readonly twoFactor?: boolean;
}

export type GuardOperation =
  | { readonly kind: "deleteUser"; readonly userType: string; readonly userName: string }
  /** `keepsQuorumKey`: the change re-enrols the key (`changePswd ... -2fa`), so it is not lost. */
  | {
      readonly kind: "changePswd";
      readonly userType: string;
      readonly userName: string;
      readonly keepsQuorumKey?: boolean;
    }
  | { readonly kind: "setMValue"; readonly service: number; readonly value: number }
  | { readonly kind: "other" };

export interface LockoutInput {
  readonly users: readonly GuardUser[];
  /** Service number → current M, e.g. `{ 3: 2, 4: 2 }`. */
  readonly mValues: Readonly<Record<number, number>>;
  readonly operation: GuardOperation;
  /** How many signers beyond M must remain; default 1 (M + 1). */
  readonly margin?: number;
}

export type LockoutResult =
  | { readonly ok: true; readonly signersBefore: number; readonly signersAfter: number }
  | {
      readonly ok: false;
      readonly reason: LockoutReason;
      /** The service whose quorum would be out of (safe) reach. */
      readonly service: number;
      /** M of that service after the operation. */
      readonly m: number;
      readonly margin: number;
      /** `m + margin`. */
      readonly needed: number;
      readonly signersBefore: number;
      readonly signersAfter: number;
      readonly message: string;
    };

const OFFICER_TYPES = ["CO", "PCO", "PRECO"];

function isSigner(u: GuardUser): boolean {
  return u.hasQuorumKey && OFFICER_TYPES.includes(u.type.toUpperCase());
}

function sameUser(u: GuardUser, type: string, name: string): boolean {
  return u.name.toLowerCase() === name.toLowerCase() && u.type.toUpperCase() === type.toUpperCase();
}

/**
 * Refuses an operation that lowers the number of officers able to sign, or raises M, so that some
 * service with M ≥ 2 would be left with fewer than M + margin signers. An operation that changes
 * neither (or only improves things) is never refused, even on a cluster already short of signers:
 * the guard must not block the repair.
 */
export function checkLockout(input: LockoutInput): LockoutResult {
  const margin = input.margin ?? DEFAULT_LOCKOUT_MARGIN;
  const before = input.users.filter(isSigner);
  const op = input.operation;
  let after = before;
  let reason: LockoutReason | null = null;
  const mAfter: Record<number, number> = { ...input.mValues };
  if (op.kind === "deleteUser") {
    after = before.filter((u) => !sameUser(u, op.userType, op.userName));
    reason = "lockout_delete_officer";
  } else if (op.kind === "changePswd") {
    const target = before.find((u) => sameUser(u, op.userType, op.userName));
    // The 2FA rule: a password change of a 2FA officer without re-enrolling drops the quorum key.
    if (target !== undefined && op.keepsQuorumKey !== true && target.twoFactor !== false)
      after = before.filter((u) => u !== target);
    reason = "lockout_drop_quorum_key";
  } else if (op.kind === "setMValue") {
    if (op.value > (input.mValues[op.service] ?? 1)) reason = "lockout_raise_m";
    mAfter[op.service] = op.value;
  }
  const ok = { ok: true, signersBefore: before.length, signersAfter: after.length } as const;
  if (reason === null || (after.length === before.length && reason !== "lockout_raise_m")) return ok;
  for (const service of Object.keys(mAfter)
    .map(Number)
    .sort((a, b) => a - b)) {
    const m = mAfter[service] ?? 1;
    if (m < 2) continue;
    if (op.kind === "setMValue" && op.service !== service) continue;
    const needed = m + margin;
    if (after.length >= needed) continue;
    return {
      ok: false,
      reason,
      service,
      m,
      margin,
      needed,
      signersBefore: before.length,
      signersAfter: after.length,
      message: lockoutMessage(reason, service, m, needed, before.length, after.length),
    };
  }
  return ok;
}

function lockoutMessage(
  reason: LockoutReason,
  service: number,
  m: number,
  needed: number,
  before: number,
  after: number,
): string {
  const cause =
    reason === "lockout_delete_officer"
      ? "deleting this officer"
      : reason === "lockout_drop_quorum_key"
        ? "this password change (it removes the officer's quorum key)"
        : `raising M of service ${service} to ${m}`;
  return `${cause} would leave ${after} officer${after === 1 ? "" : "s"} able to sign for service ${service} (now ${before}), but M is ${m} and the lock-out guard needs at least ${needed} (M + ${needed - m}); register more quorum keys first`;
}
