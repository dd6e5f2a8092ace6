// The commands of the emulated HSM's core and the shapes they exchange: what a node answers for,
// whatever carries the request (the node protocol over HTTP, docs/node-protocol.md, or a test
// calling the core directly). The core owns them; src/protocol adds the framing and re-exports
// them, so the dependency runs one way (protocol -> hsm).
import type { UserType } from "./model.ts";

// ---- shared shapes --------------------------------------------------------------------------

export interface UserView {
  readonly id: number;
  readonly type: UserType;
  readonly name: string;
  readonly mofnPubKey: boolean;
  readonly loginFailureCnt: number;
  readonly twoFactor: boolean;
}

export interface TokenView {
  readonly id: number;
  readonly service: number;
  readonly nodeId: number;
  readonly keyHandle: string; // decimal
  readonly userName: string;
  /** Seconds the token is still guaranteed to persist (never negative). */
  readonly validitySeconds: number;
  /** M of the token's service now. */
  readonly required: number;
  readonly approvers: readonly string[];
  readonly persisted: boolean; // token-sign token rather than a session token
  readonly bound: boolean;
}

/** A privileged operation, as the gate replays it. Passwords are sealed to the cluster key. */
export type Operation =
  | {
      readonly kind: "createUser";
      readonly userType: "CO" | "CU";
      readonly userName: string;
      readonly sealedPassword: string;
    }
  | { readonly kind: "deleteUser"; readonly userType: "CO" | "CU"; readonly userName: string }
  | {
      readonly kind: "changePassword";
      readonly userType: UserType;
      readonly userName: string;
      readonly sealedPassword: string;
    }
  | { readonly kind: "setMValue"; readonly service: number; readonly value: number };

/** Where an operation comes from; hashed with the operation into the token's binding digest. */
export interface BindingContext {
  readonly repository: string;
  readonly pullRequest: number;
  readonly requestDigest: string; // hex SHA-256 of the request file
}

export interface TwoFactorProof {
  readonly challengeId: string;
  /** Only for enrolment (createUser / changePswd -2fa): the key being registered. */
  readonly publicKeyPem?: string;
  /** base64 PKCS#1 v1.5 signature over the challenge digest (openssl pkeyutl -pkeyopt digest:sha256). */
  readonly signature: string;
}

/**
 * An `execute` outcome as the node stored it. `requestHash` is SHA-256 over the canonical JSON of
 * `{operation, context, tokenData}` (src/hsm/execute.ts, `executeRequestHash`): which request the
 * key was used for, so an auditor holding the request file can tell it was this one.
 */
export type RecordedOutcome =
  | {
      readonly state: "recorded";
      readonly requestHash: string;
      readonly approvers: readonly string[];
      readonly user?: UserView;
    }
  | { readonly state: "not_recorded" };

// ---- requests and responses, by op ---------------------------------------------------------

export interface Ops {
  /** No session. Identity and status of the node. */
  hello: {
    req: Record<string, never>;
    res: {
      clusterId: string;
      nodeId: number;
      hsmId: string;
      activated: boolean;
      users: number;
      tokens: number;
      firmware: string;
    };
  };

  login: {
    req: { userType: UserType; userName: string; password: string };
    res: { sessionId: string } | { challenge: { id: string; digest: string } };
  };
  "login-2fa": { req: { challengeId: string; signature: string }; res: { sessionId: string } };
  /** Session. Ends the session and deletes every token it holds. */
  logout: { req: Record<string, never>; res: Record<string, never> };
  /** Session. Who it is logged in as; RET_SESSION_INVALID once the node has forgotten it (a restart, idling out). */
  session: { req: Record<string, never>; res: { userName: string; userType: UserType } };

  "list-users": { req: Record<string, never>; res: { users: readonly UserView[] } };
  /** Session. A fresh digest to sign with a new 2FA key (createUser / changePswd -2fa). */
  "enroll-challenge": { req: Record<string, never>; res: { challengeId: string; digest: string } };
  "create-user": {
    req: {
      userType: UserType;
      userName: string;
      password?: string;
      sealedPassword?: string;
      twoFactor?: TwoFactorProof;
    };
    res: { user: UserView; undoId: string };
  };
  "delete-user": { req: { userType: UserType; userName: string }; res: { undoId: string } };
  /** Without `twoFactor` on a 2FA user, 2FA and the MofN key are removed (seed 004). */
  "change-password": {
    req: {
      userType: UserType;
      userName: string;
      password?: string;
      sealedPassword?: string;
      twoFactor?: TwoFactorProof;
    };
    res: { user: UserView; undoId: string };
  };
  "register-quorum-key": {
    req: { userType: UserType; userName: string; registrationToken: string; signature: string; publicKeyPem: string };
    res: { fingerprint: string; undoId: string };
  };

  "get-m-value": { req: { service: number }; res: { service: number; name: string; value: number } };
  "set-m-value": { req: { service: number; value: number }; res: { service: number; value: number; undoId: string } };
  /** CloudHSM CLI's list-quorum-values: M of service 3 (`user`) and 4 (`quorum`). */
  "quorum-values": { req: Record<string, never>; res: { user: number; quorum: number } };

  /** Session. CMU getToken: a token owned by this session. `record` is this node's part of the token file. */
  "get-token": { req: { service: number; userName: string }; res: { record: string; token: TokenView } };
  /** Session. CMU approveToken: `tokenData` is the whole token file; signatures cover all of it. */
  "approve-token": {
    req: { tokenData: string; approvals: readonly { approverType: number; approverName: string; signature: string }[] };
    res: { token: TokenView };
  };
  /** No session. Every token on the node, including other users' and persisted ones. */
  "list-tokens": { req: Record<string, never>; res: { tokens: readonly TokenView[] } };
  /** Session. Deletes the tokens of `tokenData` (own tokens only), or all own tokens when absent. */
  "del-token": { req: { tokenData?: string }; res: { deleted: number } };

  /** Session. Token-sign token that persists until its timeout; optionally bound to an operation. */
  "token-generate": {
    req: { service: number; binding?: string; timeoutSeconds?: number };
    res: { record: string; token: TokenView };
  };
  /** Session. scope "user": own tokens; "all": every token (CO only). */
  "token-delete": { req: { scope: "user" | "all" }; res: { deleted: number } };
  "token-timeouts": { req: Record<string, never>; res: { generated: number } };
  /** Session, CO. */
  "token-set-timeout": { req: { generated: number }; res: { generated: number } };

  /**
   * Session. Runs `operation` with an approval (token file + signatures), exactly once per
   * `idempotencyKey`: a repeat returns the recorded outcome with `replayed: true`.
   */
  execute: {
    req: {
      idempotencyKey: string;
      operation: Operation;
      context?: BindingContext;
      approval: { tokenData: string; signatures: readonly { userName: string; signature: string }[] };
    };
    res: { replayed: boolean; approvers: readonly string[]; user?: UserView };
  };

  /**
   * Session. Undoes one change this session made on this node (the `undoId` of a create-user,
   * delete-user, change-password, register-quorum-key or set-m-value answer), once, within the
   * undo window. It is how the shell's rollBack puts back the nodes where an operation already
   * succeeded when it failed on another. The consumed quorum token is not given back.
   */
  rollback: { req: { undoId: string }; res: { undone: string } };
  /**
   * Session, CO. CMU syncUser, first half (ExtractMaskedObject): the user's whole record
   * (password verifier, keys, 2FA) encrypted under the cluster's masking key, so only nodes of
   * this cluster can read it.
   */
  "export-user": { req: { userName: string }; res: { masked: string; user: UserView } };
  /**
   * Session, CO, USER_MGMT quorum like createUser. syncUser's second half (InsertMaskedObject):
   * writes the exported record on this node, replacing a user of the same name.
   */
  "import-user": { req: { masked: string }; res: { user: UserView; undoId: string } };

  /**
   * No session. Read-only: what `execute` recorded under `idempotencyKey` on this node, or
   * `not_recorded`. Never applies, consumes or changes anything; the audit's replay column.
   */
  outcome: { req: { idempotencyKey: string }; res: RecordedOutcome };

  "sealing-key": { req: Record<string, never>; res: { publicKeyPem: string; fingerprint: string } };
  "quorum-keys": {
    req: Record<string, never>;
    res: { keys: readonly { userName: string; publicKeyPem: string; fingerprint: string }[] };
  };
}

export type OpName = keyof Ops;
export type OpRequest<K extends OpName> = Ops[K]["req"];
export type OpResponse<K extends OpName> = Ops[K]["res"];

export const OP_NAMES: readonly OpName[] = [
  "hello",
  "login",
  "login-2fa",
  "logout",
  "session",
  "list-users",
  "enroll-challenge",
  "create-user",
  "delete-user",
  "change-password",
  "register-quorum-key",
  "get-m-value",
  "set-m-value",
  "quorum-values",
  "get-token",
  "approve-token",
  "list-tokens",
  "del-token",
  "token-generate",
  "token-delete",
  "token-timeouts",
  "token-set-timeout",
  "execute",
  "outcome",
  "rollback",
  "export-user",
  "import-user",
  "sealing-key",
  "quorum-keys",
];

export function isOpName(value: string): value is OpName {
  return (OP_NAMES as readonly string[]).includes(value);
}

export type ExecuteRequestBody = OpRequest<"execute">;
