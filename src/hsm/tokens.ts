// Quorum tokens: CMU session tokens (getToken/approveToken/listTokens/delToken, docs/cloudhsm-behaviour.md, "Tokens")
// and persisted token-sign tokens (docs/cloudhsm-behaviour.md, "CloudHSM CLI", with the operation binding of docs/tokens.md).
import { storedPublicKey, verifyMessage, SIGNATURE_BYTES } from "../crypto/rsa.ts";
import type { TokenView } from "./commands.ts";
import { audit } from "./audit.ts";
import type { CoreContext } from "./context.ts";
import { nowSeconds } from "./env.ts";
import { asBody, decodeBase64, isError, optInt, reqArray, reqBase64, reqInt, reqString, type Body } from "./input.ts";
import { LIMITS, SERVICE_MISC_CO, SERVICE_USER_MGMT, isOfficer, type Session, type Token } from "./model.ts";
import { fail, ok, type HsmError, type HsmResult } from "./ret-codes.ts";
import { checkUserName } from "./rules.ts";
import { RECORD_V2_SIZE, decodeRecords, encodeRecord, type TokenRecord } from "./token-record.ts";
import { tokenExpiresAt, tokenView } from "./views.ts";

const TIMEOUT_SETTING = "token_timeout_generated";
const MAX_TOKEN_TIMEOUT = 7 * 24 * 3600;
const MAX_TOKEN_FILE = LIMITS.maxTokensPerFile * RECORD_V2_SIZE;

export function tokenTimeout(ctx: CoreContext): number {
  const stored = ctx.repo.getSetting(TIMEOUT_SETTING);
  return stored === null ? LIMITS.defaultTokenTimeoutSeconds : Number(stored);
}

function isGatedService(service: number): boolean {
  return service === SERVICE_USER_MGMT || service === SERVICE_MISC_CO;
}

export function isExpired(ctx: CoreContext, token: Token): boolean {
  return tokenExpiresAt(token) <= nowSeconds(ctx.env);
}

/**
 * Makes room in the per-node table: when it is full, the oldest expired token goes (docs/cloudhsm-behaviour.md, "Tokens").
 * Expired persisted tokens are unusable anyway, so they go first.
 */
function makeRoom(ctx: CoreContext): HsmError | null {
  const tokens = ctx.repo.listTokens();
  if (tokens.length < LIMITS.tokensPerNode) return null;
  const expired = tokens.filter((t) => isExpired(ctx, t)).sort((a, b) => tokenExpiresAt(a) - tokenExpiresAt(b));
  const victim = expired.find((t) => t.sessionId === null) ?? expired[0];
  if (victim === undefined) return fail("RET_TOKEN_TABLE_FULL");
  ctx.repo.deleteToken(victim.id);
  return null;
}

function issueToken(
  ctx: CoreContext,
  session: Session,
  service: number,
  sessionBound: boolean,
  binding: string | null,
  timeoutSeconds: number,
): HsmResult<{ record: string; token: TokenView }> {
  const full = makeRoom(ctx);
  if (full) return full;
  // One active unbound token per user per service (CloudHSM CLI admin services). A bound token
  // can authorize only its own operation, so it is exempt (docs/tokens.md).
  if (binding === null) {
    const held = ctx.repo
      .listTokens()
      .find(
        (t) =>
          t.userName === session.userName &&
          t.service === service &&
          t.binding === null &&
          !(t.sessionId === null && isExpired(ctx, t)),
      );
    if (held !== undefined) return fail("RET_TOKEN_EXISTS", `token ${held.id}; delete it with delToken first`);
  }
  const token = ctx.repo.insertToken({
    service,
    keyHandle: 0n,
    nonce: ctx.env.randomBytes(16).toString("hex"),
    userName: session.userName,
    createdAt: nowSeconds(ctx.env),
    timeoutSeconds,
    sessionId: sessionBound ? session.id : null,
    binding,
    approvers: [],
  });
  return ok({ record: encodeRecord(recordOf(ctx, token)).toString("base64"), token: tokenView(ctx, token) });
}

export function recordOf(ctx: CoreContext, token: Token): TokenRecord {
  return {
    service: token.service,
    tokenId: token.id,
    keyHandle: token.keyHandle,
    nonce: token.nonce,
    userName: token.userName,
    nodeId: ctx.repo.identity().nodeId,
    createdAt: token.createdAt,
    binding: token.binding,
  };
}

function requireTokenIssuer(session: Session, service: number): HsmError | null {
  if (session.userType === "PRECO") return fail("RET_CLUSTER_NOT_ACTIVATED");
  if (!isOfficer(session.userType)) return fail("RET_PERMISSION_DENIED", "only crypto officers hold quorum tokens");
  if (!isGatedService(service))
    return fail(
      "RET_INVALID_INPUT",
      `service ${service} has no quorum in the emulator; use 3 (USER_MGMT) or 4 (MISC_CO)`,
    );
  return null;
}

export function getToken(
  ctx: CoreContext,
  session: Session,
  body: unknown,
): HsmResult<{ record: string; token: TokenView }> {
  const b = asBody(body, ["service", "userName"]);
  if (isError(b)) return b;
  const service = reqInt(b, "service", 0, 6);
  const userName = reqString(b, "userName", 64);
  if (isError(service)) return service;
  if (isError(userName)) return userName;
  const done = (r: HsmResult<{ record: string; token: TokenView }>) =>
    audit(ctx, "CN_GET_TOKEN", session.userName, `service ${service}`, r);
  const denied = requireTokenIssuer(session, service);
  if (denied) return done(denied);
  const name = checkUserName(userName);
  if (isError(name)) return done(name);
  if (name !== session.userName)
    return done(fail("RET_PERMISSION_DENIED", "the token user must be the logged-in user"));
  return done(issueToken(ctx, session, service, true, null, tokenTimeout(ctx)));
}

export function generateToken(
  ctx: CoreContext,
  session: Session,
  body: unknown,
): HsmResult<{ record: string; token: TokenView }> {
  const b = asBody(body, ["service", "binding", "timeoutSeconds"]);
  if (isError(b)) return b;
  const service = reqInt(b, "service", 0, 6);
  const timeout = optInt(b, "timeoutSeconds", 1, MAX_TOKEN_TIMEOUT);
  if (isError(service)) return service;
  if (isError(timeout)) return timeout;
  let binding: string | null = null;
  if (b["binding"] !== undefined) {
    const s = reqString(b, "binding", 64);
    if (isError(s)) return s;
    if (!/^[0-9a-f]{64}$/.test(s)) return fail("RET_BAD_REQUEST", '"binding" must be 32 bytes of lower-case hex');
    binding = s;
  }
  const done = (r: HsmResult<{ record: string; token: TokenView }>) =>
    audit(ctx, "CN_GET_TOKEN", session.userName, `token-sign service ${service}${binding ? " bound" : ""}`, r);
  const denied = requireTokenIssuer(session, service);
  if (denied) return done(denied);
  return done(issueToken(ctx, session, service, false, binding, timeout ?? tokenTimeout(ctx)));
}

/** The stored token that this node's record in a token file names, or why there is none. */
export function findOwnToken(ctx: CoreContext, tokenData: Uint8Array): Token | HsmError {
  const decoded = decodeRecords(tokenData);
  if (!decoded.ok) return fail("RET_INVALID_INPUT", `token file: ${decoded.reason}`);
  const nodeId = ctx.repo.identity().nodeId;
  const mine = decoded.records.filter((r) => r.nodeId === nodeId);
  if (mine.length !== 1)
    return fail(
      "RET_TOKEN_NOT_FOUND",
      mine.length === 0
        ? "the token file has no record for this HSM"
        : "the token file has several records for this HSM",
    );
  const record = mine[0] as TokenRecord;
  const token = ctx.repo.getToken(record.tokenId);
  if (token === null) return fail("RET_TOKEN_NOT_FOUND", "it was used, deleted or purged");
  const stored = recordOf(ctx, token);
  const same =
    stored.nonce === record.nonce &&
    stored.service === record.service &&
    stored.userName === record.userName &&
    stored.createdAt === record.createdAt &&
    stored.keyHandle === record.keyHandle &&
    stored.binding === record.binding;
  return same ? token : fail("RET_TOKEN_NOT_FOUND", "the token file does not match the token on this HSM");
}

export interface Approval {
  readonly approverName: string;
  readonly approverType?: number;
  readonly signature: Uint8Array;
}

/**
 * Verifies approvals over the whole token file against each approver's registered key. One bad
 * approval rejects the call (nothing is recorded); an officer approving twice counts once.
 */
export function verifyApprovals(
  ctx: CoreContext,
  tokenData: Uint8Array,
  approvals: readonly Approval[],
): readonly string[] | HsmError {
  const names: string[] = [];
  for (const approval of approvals) {
    const name = checkUserName(approval.approverName);
    if (isError(name)) return name;
    if (approval.approverType !== undefined && approval.approverType !== 1 && approval.approverType !== 2) {
      return fail("RET_INVALID_USER_TYPE", `Invalid User Type ${approval.approverType} for ${name}`);
    }
    const user = ctx.repo.getUser(name);
    if (user === null) return fail("RET_INVALID_USER", name);
    if (!isOfficer(user.type) || approval.approverType === 1)
      return fail("RET_INVALID_USER_TYPE", `${name}: only crypto officers approve user-management and quorum tokens`);
    if (user.quorumKeyPem === null) return fail("RET_KEY_NOT_REGISTERED", name);
    const key = storedPublicKey(user.quorumKeyPem);
    if (key === null || !verifyMessage(tokenData, key, approval.signature))
      return fail("RET_INVALID_SIGNATURE", `approval of ${name}`);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

function readApprovals(b: Body): readonly Approval[] | HsmError {
  const list = reqArray(b, "approvals", LIMITS.maxApprovals);
  if (isError(list)) return list;
  const approvals: Approval[] = [];
  for (const item of list) {
    const a = asBody(item, ["approverType", "approverName", "signature"]);
    if (isError(a)) return a;
    const approverType = reqInt(a, "approverType", 0, 255);
    const approverName = reqString(a, "approverName", 64);
    const signature = reqBase64(a, "signature", 1024);
    if (isError(approverType)) return approverType;
    if (isError(approverName)) return approverName;
    if (isError(signature)) return signature;
    if (signature.length !== SIGNATURE_BYTES)
      return fail(
        "RET_INVALID_SIGNATURE",
        `approval of ${approverName} is ${signature.length} bytes, not ${SIGNATURE_BYTES}`,
      );
    approvals.push({ approverType, approverName, signature });
  }
  return approvals;
}

export function approveToken(ctx: CoreContext, session: Session, body: unknown): HsmResult<{ token: TokenView }> {
  const b = asBody(body, ["tokenData", "approvals"]);
  if (isError(b)) return b;
  const tokenData = reqBase64(b, "tokenData", MAX_TOKEN_FILE);
  if (isError(tokenData)) return tokenData;
  const approvals = readApprovals(b);
  if (isError(approvals)) return approvals;
  const done = (r: HsmResult<{ token: TokenView }>) =>
    audit(ctx, "CN_APPROVE_TOKEN", session.userName, `${approvals.length} approvals`, r);

  const token = findOwnToken(ctx, tokenData);
  if (isError(token)) return done(token);
  if (token.userName !== session.userName)
    return done(fail("RET_PERMISSION_DENIED", "only the token's owner approves it"));
  if (token.sessionId !== null && token.sessionId !== session.id)
    return done(fail("RET_TOKEN_NOT_FOUND", "the token belongs to another session"));
  if (token.sessionId === null && isExpired(ctx, token)) return done(fail("RET_TOKEN_EXPIRED"));
  const names = verifyApprovals(ctx, tokenData, approvals);
  if (isError(names)) return done(names);
  const merged = [...token.approvers, ...names.filter((n) => !token.approvers.includes(n))];
  ctx.repo.setTokenApprovers(token.id, merged);
  return done(ok({ token: tokenView(ctx, { ...token, approvers: merged }) }));
}

export function listTokens(ctx: CoreContext): HsmResult<{ tokens: readonly TokenView[] }> {
  return ok({ tokens: ctx.repo.listTokens().map((t) => tokenView(ctx, t)) });
}

export function deleteTokens(ctx: CoreContext, session: Session, body: unknown): HsmResult<{ deleted: number }> {
  const b = asBody(body, ["tokenData"]);
  if (isError(b)) return b;
  const done = (r: HsmResult<{ deleted: number }>) => audit(ctx, "CN_DELETE_TOKEN", session.userName, "", r);
  if (b["tokenData"] === undefined)
    return done(ok({ deleted: deleteWhere(ctx, (t) => t.userName === session.userName) }));
  const data = reqString(b, "tokenData", MAX_TOKEN_FILE * 2);
  if (isError(data)) return done(data);
  const bytes = decodeBase64(data, '"tokenData"', MAX_TOKEN_FILE);
  if (isError(bytes)) return done(bytes);
  const token = findOwnToken(ctx, bytes);
  if (isError(token)) return done(token);
  if (token.userName !== session.userName)
    return done(fail("RET_PERMISSION_DENIED", "only the token's owner deletes it"));
  ctx.repo.deleteToken(token.id);
  return done(ok({ deleted: 1 }));
}

export function tokenSignDelete(ctx: CoreContext, session: Session, body: unknown): HsmResult<{ deleted: number }> {
  const b = asBody(body, ["scope"]);
  if (isError(b)) return b;
  const scope = reqString(b, "scope", 8);
  if (isError(scope)) return scope;
  const done = (r: HsmResult<{ deleted: number }>) =>
    audit(ctx, "CN_DELETE_TOKEN", session.userName, `scope ${scope}`, r);
  if (scope === "user") return done(ok({ deleted: deleteWhere(ctx, (t) => t.userName === session.userName) }));
  if (scope !== "all") return done(fail("RET_BAD_REQUEST", '"scope" must be "user" or "all"'));
  if (!isOfficer(session.userType)) return done(fail("RET_PERMISSION_DENIED"));
  return done(ok({ deleted: deleteWhere(ctx, () => true) }));
}

function deleteWhere(ctx: CoreContext, matches: (t: Token) => boolean): number {
  let n = 0;
  for (const t of ctx.repo.listTokens()) {
    if (matches(t)) {
      ctx.repo.deleteToken(t.id);
      n += 1;
    }
  }
  return n;
}

export function setTokenTimeout(ctx: CoreContext, session: Session, body: unknown): HsmResult<{ generated: number }> {
  const b = asBody(body, ["generated"]);
  if (isError(b)) return b;
  const generated = reqInt(b, "generated", 1, MAX_TOKEN_TIMEOUT);
  if (isError(generated)) return generated;
  if (!isOfficer(session.userType)) return fail("RET_PERMISSION_DENIED");
  ctx.repo.setSetting(TIMEOUT_SETTING, String(generated));
  return audit(ctx, "CN_SET_TOKEN_TIMEOUT", session.userName, String(generated), ok({ generated }));
}
