// Every result a node can return, in one table. Names marked `documented` appear in CloudHSM
// sources (docs/cloudhsm-behaviour.md, "Return codes and the audit log"); the others are the emulator's own and are listed in docs/emulator-fidelity.md.

export const RET_CODES = {
  RET_OK: { documented: true, message: "HSM Return: SUCCESS" },
  RET_MXN_AUTH_FAILED: { documented: true, message: "quorum authentication failed or no approved token" },
  RET_USER_LOGIN_FAILURE: { documented: true, message: "login failed" },
  RET_INVALID_USER: { documented: true, message: "user isn't initialized or user with this name doesn't exist" },
  RET_INVALID_USER_TYPE: { documented: true, message: "Invalid User Type" },
  RET_POLICY_VIOLATION: { documented: true, message: "This operation violates the current configured/FIPS policies" },
  RET_USER_LOCKED: {
    documented: false,
    message: "user is locked after too many failed logins; a crypto officer must reset the password",
  },
  RET_NOT_LOGGED_IN: { documented: false, message: "no user is logged in on this session" },
  RET_ALREADY_LOGGED_IN: { documented: false, message: "this session is already logged in; log out first" },
  RET_PERMISSION_DENIED: { documented: false, message: "the logged-in user may not run this command" },
  RET_CLUSTER_NOT_ACTIVATED: {
    documented: false,
    message: "the HSM is not activated: change the PRECO password first",
  },
  RET_USER_EXISTS: { documented: false, message: "a user with this name already exists" },
  RET_USER_IN_USE: { documented: false, message: "the user is logged in and cannot be changed or deleted" },
  RET_INVALID_INPUT: { documented: false, message: "invalid argument" },
  RET_INVALID_M_VALUE: { documented: false, message: "invalid M value" },
  RET_TOKEN_NOT_FOUND: { documented: false, message: "no such token on this HSM" },
  RET_TOKEN_EXPIRED: { documented: false, message: "the token has expired" },
  RET_TOKEN_EXISTS: { documented: false, message: "this user already holds a token for this service" },
  RET_TOKEN_TABLE_FULL: { documented: false, message: "the token table is full and no expired token can be purged" },
  RET_TOKEN_BINDING_MISMATCH: { documented: false, message: "the token is bound to a different operation" },
  RET_INVALID_SIGNATURE: { documented: false, message: "a signature does not verify against the registered key" },
  RET_KEY_NOT_REGISTERED: { documented: false, message: "the approver has no registered quorum key" },
  RET_INVALID_KEY: { documented: false, message: "the public key is not an RSA-2048 key" },
  RET_2FA_FAILURE: { documented: false, message: "two-factor authentication failed" },
  RET_SEALED_SECRET_INVALID: {
    documented: false,
    message: "the sealed password cannot be opened with this cluster's sealing key",
  },
  RET_UNDO_UNAVAILABLE: {
    documented: false,
    message:
      "nothing to roll back: the change is unknown, already rolled back, too old, made by another session, or changed since",
  },
  RET_SESSION_INVALID: { documented: false, message: "the session is unknown or has expired" },
  RET_BAD_REQUEST: { documented: false, message: "the request is malformed" },
  RET_INTERNAL: { documented: false, message: "internal error" },
} as const;

export type RetCode = keyof typeof RET_CODES;
export type ErrorCode = Exclude<RetCode, "RET_OK">;

/** An expected failure, returned as data; `message` adds the specific cause to the code. */
export interface HsmError {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: string;
}

export type HsmResult<T> = { readonly ok: true; readonly value: T } | HsmError;

export function fail(code: ErrorCode, detail?: string): HsmError {
  const base = RET_CODES[code].message;
  return { ok: false, code, message: detail === undefined ? base : `${base}: ${detail}` };
}

export function ok<T>(value: T): HsmResult<T> {
  return { ok: true, value };
}

export function isRetCode(value: string): value is RetCode {
  return Object.hasOwn(RET_CODES, value);
}
