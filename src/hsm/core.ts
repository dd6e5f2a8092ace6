// The node's command dispatcher: one entry point from a parsed protocol message to the core.
// The adapter runs each call inside one database transaction and commits whatever the command
// wrote, including on an error result (a failed login must still count).
import { fingerprint, parsePublicKey } from "../crypto/rsa.ts";
import type { OpName } from "./commands.ts";
import type { CoreContext } from "./context.ts";
import { execute } from "./execute.ts";
import { asBody, isError } from "./input.ts";
import { recordedOutcome } from "./outcome.ts";
import { getMValue, quorumValues, sessionAuthorizer, setMValue } from "./quorum.ts";
import { fail, ok, type HsmResult } from "./ret-codes.ts";
import { currentSession, login, loginSecondFactor, logout } from "./sessions.ts";
import { exportUser, importUser } from "./sync-user.ts";
import { rollback } from "./undo.ts";
import {
  approveToken,
  deleteTokens,
  generateToken,
  getToken,
  listTokens,
  setTokenTimeout,
  tokenSignDelete,
  tokenTimeout,
} from "./tokens.ts";
import {
  changePasswordCommand,
  createUserCommand,
  deleteUserCommand,
  enrollChallenge,
  listUsers,
  registerQuorumKey,
} from "./users.ts";
import { createPublicKey } from "node:crypto";

export const FIRMWARE = "quorum-gate-emulator 1";

export function handleCommand(
  ctx: CoreContext,
  op: OpName,
  sessionId: string | null,
  body: unknown,
): HsmResult<unknown> {
  // Commands that need no login.
  switch (op) {
    case "hello":
      return noFields(body, () => hello(ctx));
    case "login":
      return login(ctx, body);
    case "login-2fa":
      return loginSecondFactor(ctx, body);
    case "logout":
      return noFields(body, () => logout(ctx, sessionId));
    case "list-users":
      return noFields(body, () => listUsers(ctx));
    case "get-m-value":
      return getMValue(ctx, body);
    case "quorum-values":
      return noFields(body, () => quorumValues(ctx));
    case "list-tokens":
      return noFields(body, () => listTokens(ctx));
    case "token-timeouts":
      return noFields(body, () => ok({ generated: tokenTimeout(ctx) }));
    case "sealing-key":
      return noFields(body, () => sealingKey(ctx));
    case "quorum-keys":
      return noFields(body, () => quorumKeys(ctx));
    case "outcome":
      return recordedOutcome(ctx, body);
    default:
      break;
  }
  const session = currentSession(ctx, sessionId);
  if (isError(session)) return session;
  switch (op) {
    case "session":
      return noFields(body, () => ok({ userName: session.userName, userType: session.userType }));
    case "enroll-challenge":
      return noFields(body, () => enrollChallenge(ctx, session));
    case "create-user":
      return createUserCommand(ctx, session, body, sessionAuthorizer(ctx, session));
    case "delete-user":
      return deleteUserCommand(ctx, session, body, sessionAuthorizer(ctx, session));
    case "change-password":
      return changePasswordCommand(ctx, session, body, sessionAuthorizer(ctx, session));
    case "register-quorum-key":
      return registerQuorumKey(ctx, session, body);
    case "set-m-value":
      return setMValue(ctx, session, body, sessionAuthorizer(ctx, session));
    case "get-token":
      return getToken(ctx, session, body);
    case "approve-token":
      return approveToken(ctx, session, body);
    case "del-token":
      return deleteTokens(ctx, session, body);
    case "token-generate":
      return generateToken(ctx, session, body);
    case "token-delete":
      return tokenSignDelete(ctx, session, body);
    case "token-set-timeout":
      return setTokenTimeout(ctx, session, body);
    case "execute":
      return execute(ctx, session, body);
    case "rollback":
      return rollback(ctx, session, body);
    case "export-user":
      return exportUser(ctx, session, body);
    case "import-user":
      return importUser(ctx, session, body, sessionAuthorizer(ctx, session));
    default:
      return fail("RET_BAD_REQUEST", `unknown command ${op}`);
  }
}

function noFields<T>(body: unknown, run: () => HsmResult<T>): HsmResult<T> {
  const b = asBody(body, []);
  return isError(b) ? b : run();
}

function hello(ctx: CoreContext) {
  const id = ctx.repo.identity();
  const users = ctx.repo.listUsers();
  return ok({
    clusterId: id.clusterId,
    nodeId: id.nodeId,
    hsmId: id.hsmId,
    activated: !users.some((u) => u.type === "PRECO"),
    users: users.length,
    tokens: ctx.repo.listTokens().length,
    firmware: FIRMWARE,
  });
}

function sealingKey(ctx: CoreContext) {
  const pem = ctx.repo.identity().sealingPublicKeyPem;
  return ok({ publicKeyPem: pem, fingerprint: fingerprint(createPublicKey(pem)) });
}

function quorumKeys(ctx: CoreContext) {
  const keys = [];
  for (const user of ctx.repo.listUsers()) {
    if (user.quorumKeyPem === null) continue;
    const key = parsePublicKey(user.quorumKeyPem);
    if (key.ok) keys.push({ userName: user.name, publicKeyPem: key.pem, fingerprint: key.fingerprint });
  }
  return ok({ keys });
}
