// Quorum values (M per service) and the check every gated command makes before it runs.
// Rules: docs/cloudhsm-behaviour.md, "Quorum services and M" and "Limits and rules".
import { audit } from "./audit.ts";
import type { CoreContext } from "./context.ts";
import { asBody, isError, reqInt } from "./input.ts";
import { LIMITS, SERVICES, SERVICE_MISC_CO, SERVICE_USER_MGMT, isOfficer, type Session, type Token } from "./model.ts";
import { fail, ok, type HsmError, type HsmResult } from "./ret-codes.ts";
import { recordMValueUndo } from "./undo.ts";

/**
 * Decides whether a gated command may run and names the token it then consumes. The CMU shell
 * authorizes with the session's approved token; the gate's `execute` with a token it has
 * already verified. `null` means no token is needed (quorum off for that service).
 */
export type Authorizer = (service: number, required: number) => Token | null | HsmError;

/** CMU: the session's own approved token for the service, if it has enough approvals. */
export function sessionAuthorizer(ctx: CoreContext, session: Session): Authorizer {
  return (service, required) => {
    if (required <= 1) return null;
    const token = ctx.repo
      .listTokens()
      .find(
        (t) =>
          t.sessionId === session.id && t.service === service && t.binding === null && t.approvers.length >= required,
      );
    return token ?? fail("RET_MXN_AUTH_FAILED");
  };
}

/** The gate: one token whose signatures were verified just now, with `approvals` distinct officers. */
export function approvedAuthorizer(token: Token, approvals: number): Authorizer {
  return (service, required) => {
    if (token.service !== service)
      return fail(
        "RET_MXN_AUTH_FAILED",
        `the token is for service ${token.service}, the operation needs service ${service}`,
      );
    if (approvals < Math.max(1, required)) return fail("RET_MXN_AUTH_FAILED", `${approvals} of ${required} approvals`);
    return token;
  };
}

/** The service and approvals a user-management command needs. */
export function userManagementQuorum(ctx: CoreContext): { service: number; required: number } {
  return { service: SERVICE_USER_MGMT, required: ctx.repo.getMValue(SERVICE_USER_MGMT) };
}

/**
 * Changing M of a service needs a MISC_CO token with at least the current M of that service
 * (and of MISC_CO itself), unless quorum is still off for it (first-time setup).
 */
export function setMValueQuorum(ctx: CoreContext, service: number): { service: number; required: number } {
  const current = ctx.repo.getMValue(service);
  if (current <= 1) return { service: SERVICE_MISC_CO, required: 1 };
  return { service: SERVICE_MISC_CO, required: Math.max(current, ctx.repo.getMValue(SERVICE_MISC_CO)) };
}

export function countOfficers(ctx: CoreContext): number {
  return ctx.repo.listUsers().filter((u) => isOfficer(u.type)).length;
}

export function parseService(body: ReturnType<typeof asBody>, key = "service"): number | HsmError {
  if (isError(body)) return body;
  return reqInt(body, key, 0, 6);
}

export function getMValue(
  ctx: CoreContext,
  body: unknown,
): HsmResult<{ service: number; name: string; value: number }> {
  const service = parseService(asBody(body, ["service"]));
  if (isError(service)) return service;
  return ok({ service, name: SERVICES[service] ?? "UNKNOWN", value: ctx.repo.getMValue(service) });
}

export function quorumValues(ctx: CoreContext): HsmResult<{ user: number; quorum: number }> {
  return ok({ user: ctx.repo.getMValue(SERVICE_USER_MGMT), quorum: ctx.repo.getMValue(SERVICE_MISC_CO) });
}

export function setMValue(
  ctx: CoreContext,
  session: Session,
  body: unknown,
  authorize: Authorizer,
): HsmResult<{ service: number; value: number; undoId: string }> {
  const b = asBody(body, ["service", "value"]);
  if (isError(b)) return b;
  const service = parseService(b);
  const value = reqInt(b, "value", 0, 1000);
  if (isError(service)) return service;
  if (isError(value)) return value;
  return applyMValue(ctx, session, service, value, authorize);
}

export function applyMValue(
  ctx: CoreContext,
  session: Session,
  service: number,
  value: number,
  authorize: Authorizer,
): HsmResult<{ service: number; value: number; undoId: string }> {
  const detail = `service ${service} to ${value}`;
  const done = (r: HsmResult<{ service: number; value: number; undoId: string }>) =>
    audit(ctx, "CN_SET_M_VALUE", session.userName, detail, r);
  if (session.userType === "PRECO") return done(fail("RET_CLUSTER_NOT_ACTIVATED"));
  if (!isOfficer(session.userType)) return done(fail("RET_PERMISSION_DENIED"));
  if (service !== SERVICE_USER_MGMT && service !== SERVICE_MISC_CO) {
    return done(
      fail("RET_INVALID_INPUT", `service ${service} has no quorum in the emulator; use 3 (USER_MGMT) or 4 (MISC_CO)`),
    );
  }
  const current = ctx.repo.getMValue(service);
  if (value < LIMITS.minQuorum || value > LIMITS.maxQuorum)
    return done(fail("RET_INVALID_M_VALUE", `M must be between ${LIMITS.minQuorum} and ${LIMITS.maxQuorum}`));
  const officers = countOfficers(ctx);
  if (value > officers) return done(fail("RET_INVALID_M_VALUE", `M cannot exceed the ${officers} crypto officers`));
  if (value === current)
    return done(ok({ service, value, undoId: recordMValueUndo(ctx, session, service, current, value) }));

  const need = setMValueQuorum(ctx, service);
  const token = authorize(need.service, need.required);
  if (isError(token)) return done(token);
  ctx.repo.setMValue(service, value);
  if (token !== null) ctx.repo.deleteToken(token.id);
  return done(ok({ service, value, undoId: recordMValueUndo(ctx, session, service, current, value) }));
}
