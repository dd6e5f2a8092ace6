// `execute`: the gate's way to run one approved operation, exactly once. The node checks the
// token (its own record, owner, expiry, binding digest), verifies every signature itself,
// applies the operation through the same code as the CMU commands, and consumes the token, all
// in one transaction. The outcome is kept under the idempotency key, so a retry after a lost
// answer returns the first result and applies nothing (docs/architecture.md, "The path of a webhook").
import { SIGNATURE_BYTES, sha256 } from "../crypto/rsa.ts";
import type { BindingContext, Operation, OpResponse } from "./commands.ts";
import { audit } from "./audit.ts";
import { bindingDigest, canonicalJson } from "./binding.ts";
import type { CoreContext } from "./context.ts";
import { asBody, isError, reqArray, reqBase64, reqInt, reqString, reqUserType, type Body } from "./input.ts";
import { LIMITS, isOfficer, type Session } from "./model.ts";
import { applyMValue, approvedAuthorizer, setMValueQuorum, userManagementQuorum } from "./quorum.ts";
import { fail, ok, type HsmError, type HsmResult } from "./ret-codes.ts";
import { RECORD_V2_SIZE } from "./token-record.ts";
import { findOwnToken, isExpired, verifyApprovals, type Approval } from "./tokens.ts";
import { changePassword, createUser, deleteUser, openSealed } from "./users.ts";

type ExecuteResult = OpResponse<"execute">;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:@/-]{1,128}$/;

/** The `idempotencyKey` field of a body: 1 to 128 characters of `[A-Za-z0-9._:@/-]`. */
export function readIdempotencyKey(b: Body): string | HsmError {
  const key = reqString(b, "idempotencyKey", 128);
  if (isError(key)) return key;
  if (!IDEMPOTENCY_KEY.test(key))
    return fail("RET_BAD_REQUEST", '"idempotencyKey" must be 1-128 characters of [A-Za-z0-9._:@/-]');
  return key;
}

/**
 * What an outcome is stored with: SHA-256 (hex) over the canonical JSON of the operation, its
 * context (or null) and the token file (base64). A repeat must match it; an auditor who holds the
 * request file and the token can recompute it.
 */
export function executeRequestHash(
  operation: Operation,
  context: BindingContext | undefined,
  tokenData: Uint8Array,
): string {
  return sha256(
    Buffer.from(
      canonicalJson({ operation, context: context ?? null, tokenData: Buffer.from(tokenData).toString("base64") }),
    ),
  ).toString("hex");
}

export function parseOperation(value: unknown): Operation | HsmError {
  const b = asBody(value, ["kind", "userType", "userName", "sealedPassword", "service", "value"]);
  if (isError(b)) return b;
  const kind = reqString(b, "kind", 32);
  if (isError(kind)) return kind;
  const only = (keys: readonly string[]): HsmError | null => asBodyError(b, keys);
  switch (kind) {
    case "createUser":
    case "deleteUser":
    case "changePassword": {
      const bad = only(
        kind === "deleteUser" ? ["kind", "userType", "userName"] : ["kind", "userType", "userName", "sealedPassword"],
      );
      if (bad) return bad;
      const userType = reqUserType(b);
      const userName = reqString(b, "userName", 64);
      if (isError(userType)) return userType;
      if (isError(userName)) return userName;
      if (kind === "deleteUser") {
        if (userType !== "CO" && userType !== "CU") return fail("RET_INVALID_USER_TYPE", "deleteUser takes CO or CU");
        return { kind, userType, userName };
      }
      const sealedPassword = reqString(b, "sealedPassword", 4096);
      if (isError(sealedPassword)) return sealedPassword;
      if (kind === "createUser") {
        if (userType !== "CO" && userType !== "CU")
          return fail("RET_INVALID_USER_TYPE", "createUser makes CO or CU users");
        return { kind, userType, userName, sealedPassword };
      }
      return { kind, userType, userName, sealedPassword };
    }
    case "setMValue": {
      const bad = only(["kind", "service", "value"]);
      if (bad) return bad;
      const service = reqInt(b, "service", 0, 6);
      const v = reqInt(b, "value", 0, 1000);
      if (isError(service)) return service;
      if (isError(v)) return v;
      return { kind, service, value: v };
    }
    default:
      return fail("RET_BAD_REQUEST", `unknown operation kind "${kind}"`);
  }
}

function asBodyError(b: Body, keys: readonly string[]): HsmError | null {
  const r = asBody(b, keys);
  return isError(r) ? r : null;
}

export function parseContext(value: unknown): BindingContext | undefined | HsmError {
  if (value === undefined) return undefined;
  const b = asBody(value, ["repository", "pullRequest", "requestDigest"]);
  if (isError(b)) return b;
  const repository = reqString(b, "repository", 256);
  const pullRequest = reqInt(b, "pullRequest", 1, Number.MAX_SAFE_INTEGER);
  const requestDigest = reqString(b, "requestDigest", 64);
  if (isError(repository)) return repository;
  if (isError(pullRequest)) return pullRequest;
  if (isError(requestDigest)) return requestDigest;
  if (!/^[0-9a-f]{64}$/.test(requestDigest))
    return fail("RET_BAD_REQUEST", '"requestDigest" must be a SHA-256 in lower-case hex');
  return { repository, pullRequest, requestDigest };
}

/** The service an operation is gated by. */
export function operationService(operation: Operation): number {
  return operation.kind === "setMValue" ? 4 : 3;
}

export function execute(ctx: CoreContext, session: Session, body: unknown): HsmResult<ExecuteResult> {
  const b = asBody(body, ["idempotencyKey", "operation", "context", "approval"]);
  if (isError(b)) return b;
  const key = readIdempotencyKey(b);
  if (isError(key)) return key;
  const operation = parseOperation(b["operation"]);
  if (isError(operation)) return operation;
  const context = parseContext(b["context"]);
  if (isError(context)) return context;
  const approval = asBody(b["approval"], ["tokenData", "signatures"]);
  if (isError(approval)) return approval;
  const tokenData = reqBase64(approval, "tokenData", LIMITS.maxTokensPerFile * RECORD_V2_SIZE);
  if (isError(tokenData)) return tokenData;
  const signatures = readSignatures(approval);
  if (isError(signatures)) return signatures;

  const requestHash = executeRequestHash(operation, context, tokenData);
  const done = (r: HsmResult<ExecuteResult>) =>
    audit(ctx, "CN_EXECUTE", session.userName, `${operation.kind} key ${key}`, r);
  const previous = ctx.repo.getOutcome(key);
  if (previous !== null) {
    if (previous.requestHash !== requestHash)
      return done(fail("RET_INVALID_INPUT", "the idempotency key was already used for a different request"));
    return done(ok({ ...(JSON.parse(previous.outcomeJson) as ExecuteResult), replayed: true }));
  }
  if (!isOfficer(session.userType))
    return done(fail("RET_PERMISSION_DENIED", "only crypto officers execute approved operations"));

  const token = findOwnToken(ctx, tokenData);
  if (isError(token)) return done(token);
  if (token.userName !== session.userName) return done(fail("RET_PERMISSION_DENIED", "only the token's owner uses it"));
  if (token.sessionId !== null && token.sessionId !== session.id)
    return done(fail("RET_TOKEN_NOT_FOUND", "the token belongs to another session"));
  if (token.sessionId === null && isExpired(ctx, token)) return done(fail("RET_TOKEN_EXPIRED"));
  if (token.binding !== null) {
    const expected = context === undefined ? null : bindingDigest(ctx.repo.identity().clusterId, operation, context);
    if (expected !== token.binding) return done(fail("RET_TOKEN_BINDING_MISMATCH"));
  }
  const approvers = verifyApprovals(ctx, tokenData, signatures);
  if (isError(approvers)) return done(approvers);

  // Checked here as well as inside the command, because some commands (a change of one's own
  // password, an unchanged M) need no token on the CMU path, yet an approval must still be whole.
  const authorize = approvedAuthorizer(token, approvers.length);
  const need = operation.kind === "setMValue" ? setMValueQuorum(ctx, operation.service) : userManagementQuorum(ctx);
  const enough = authorize(operationService(operation), need.required);
  if (isError(enough)) return done(enough);
  const applied = applyOperation(ctx, session, operation, authorize);
  if (isError(applied)) return done(applied);
  if (ctx.repo.getToken(token.id) !== null) ctx.repo.deleteToken(token.id);
  const outcome: ExecuteResult =
    applied.user === undefined ? { replayed: false, approvers } : { replayed: false, approvers, user: applied.user };
  ctx.repo.putOutcome(key, { requestHash, outcomeJson: JSON.stringify(outcome) });
  return done(ok(outcome));
}

function readSignatures(approval: Body): readonly Approval[] | HsmError {
  const list = reqArray(approval, "signatures", LIMITS.maxApprovals);
  if (isError(list)) return list;
  const out: Approval[] = [];
  for (const item of list) {
    const s = asBody(item, ["userName", "signature"]);
    if (isError(s)) return s;
    const approverName = reqString(s, "userName", 64);
    const signature = reqBase64(s, "signature", 1024);
    if (isError(approverName)) return approverName;
    if (isError(signature)) return signature;
    if (signature.length !== SIGNATURE_BYTES)
      return fail(
        "RET_INVALID_SIGNATURE",
        `signature of ${approverName} is ${signature.length} bytes, not ${SIGNATURE_BYTES}`,
      );
    out.push({ approverName, signature });
  }
  return out;
}

function applyOperation(
  ctx: CoreContext,
  session: Session,
  operation: Operation,
  authorize: ReturnType<typeof approvedAuthorizer>,
): { user?: ExecuteResult["user"] } | HsmError {
  switch (operation.kind) {
    case "createUser": {
      const password = openSealed(ctx, operation.sealedPassword);
      if (isError(password)) return password;
      const r = createUser(
        ctx,
        session,
        { userType: operation.userType, userName: operation.userName, password },
        authorize,
      );
      return r.ok ? { user: r.value.user } : r;
    }
    case "changePassword": {
      const password = openSealed(ctx, operation.sealedPassword);
      if (isError(password)) return password;
      const r = changePassword(
        ctx,
        session,
        { userType: operation.userType, userName: operation.userName, password },
        authorize,
      );
      return r.ok ? { user: r.value.user } : r;
    }
    case "deleteUser": {
      const r = deleteUser(ctx, session, operation.userType, operation.userName, authorize);
      return r.ok ? {} : r;
    }
    case "setMValue": {
      const r = applyMValue(ctx, session, operation.service, operation.value, authorize);
      return r.ok ? {} : r;
    }
  }
}
