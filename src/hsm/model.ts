// The state of one emulated HSM, as plain readonly data. The rules behind it: docs/cloudhsm-behaviour.md
// ("Users", "Quorum services and M", "Tokens", "Two-factor authentication").

/** CMU user types with their numeric codes (docs/cloudhsm-behaviour.md, "Users"). */
export const USER_TYPES = ["CU", "CO", "PCO", "AU", "PRECO"] as const;
export type UserType = (typeof USER_TYPES)[number];
export const USER_TYPE_CODE: Readonly<Record<UserType, number>> = { CU: 1, CO: 2, PCO: 3, AU: 5, PRECO: 6 };

export function isUserType(value: string): value is UserType {
  return (USER_TYPES as readonly string[]).includes(value);
}

/** A crypto officer in the quorum sense: PCO is functionally a CO (docs/cloudhsm-behaviour.md, "Users"). */
export function isOfficer(type: UserType): boolean {
  return type === "CO" || type === "PCO";
}

export interface User {
  readonly id: number;
  readonly type: UserType;
  /** Stored lower-case: CloudHSM user names are not case-sensitive (docs/cloudhsm-behaviour.md, "Users"). */
  readonly name: string;
  /** hex salt and hex verifier, see `password.ts`. */
  readonly passwordSalt: string;
  readonly passwordHash: string;
  readonly loginFailures: number;
  /** SPKI PEM of the registered quorum (MofN) key, or null. */
  readonly quorumKeyPem: string | null;
  /** 2FA uses the same key as quorum (seed 004): when true, quorumKeyPem holds it. */
  readonly twoFactor: boolean;
}

/** Quorum services of CMU (docs/cloudhsm-behaviour.md, "Quorum services and M"). Only 3 and 4 gate anything in the emulator. */
export const SERVICES: Readonly<Record<number, string>> = {
  0: "BACKUP_BY_CU",
  1: "BACKUP_BY_CO",
  2: "CLONING",
  3: "USER_MGMT",
  4: "MISC_CO",
  5: "USE_KEY",
  6: "MANAGE_KEY",
};
export const SERVICE_USER_MGMT = 3;
export const SERVICE_MISC_CO = 4;

/** Limits (docs/cloudhsm-behaviour.md, "Limits and rules" and "The approval file"). */
export const LIMITS = {
  minQuorum: 2,
  maxQuorum: 8,
  tokensPerNode: 1024,
  maxApprovals: 20,
  maxTokensPerFile: 32,
  lockoutAfter: 5,
  registrationTokenMax: 245,
  defaultTokenTimeoutSeconds: 600,
  nameMax: 31,
  passwordMin: 7,
  passwordMax: 32,
} as const;

export interface Token {
  /** Per node, counted from 1 (seed: `Id:1`). */
  readonly id: number;
  readonly service: number;
  readonly keyHandle: bigint;
  readonly nonce: string; // hex, 16 bytes
  readonly userName: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly timeoutSeconds: number;
  /**
   * The login session that owns the token (CMU getToken), or null for a persisted token-sign token
   * that lives until its timeout (docs/cloudhsm-behaviour.md, "CloudHSM CLI", docs/tokens.md).
   */
  readonly sessionId: string | null;
  /** hex SHA-256 of the operation the token may authorize, or null for an unbound token. */
  readonly binding: string | null;
  /** Names of distinct officers whose signatures verified, in the order they were approved. */
  readonly approvers: readonly string[];
}

export interface Session {
  readonly id: string;
  readonly userName: string;
  readonly userType: UserType;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

/** A pending 2FA challenge: a random digest the officer must sign with their key. */
export interface Challenge {
  readonly id: string;
  readonly digest: string; // hex, 32 bytes
  /** What the challenge is for: finishing a login, or proving a new key for createUser/changePswd. */
  readonly purpose: "login" | "enroll";
  readonly userName: string;
  /** The session that asked (enroll) or null (login, which has no session yet). */
  readonly sessionId: string | null;
  readonly createdAt: number;
}

/** Identity of a node, fixed when its database is created. */
export interface NodeIdentity {
  readonly clusterId: string;
  /** The HSM's node id as shown by getToken (`Node:1`). */
  readonly nodeId: number;
  /** Like `hsm-lgavqitns2a` (docs/cloudhsm-behaviour.md, "Two-factor authentication"). */
  readonly hsmId: string;
  /** SPKI PEM of the cluster's password-sealing key. */
  readonly sealingPublicKeyPem: string;
}

export interface AuditEntry {
  readonly seq: number;
  readonly at: number;
  readonly opcode: string; // CN_CREATE_USER, CN_LOGIN, ...
  readonly userName: string | null;
  readonly detail: string;
  readonly result: string; // RET_OK or a RET_ code
}
