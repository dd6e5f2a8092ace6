// Birth and boot of a node.
import type { CoreContext } from "./context.ts";
import { nowSeconds } from "./env.ts";
import { makeVerifier } from "./password.ts";
import { endSession } from "./sessions.ts";

/** The PRECO's factory password (docs/cloudhsm-behaviour.md, "Users"): the first password change activates the HSM. */
export const DEFAULT_PRECO_PASSWORD = "password";

/** Seeds a brand-new node as a fresh CloudHSM: PRECO `admin` (id 1) and AU `app_user` (id 2). */
export function initNode(ctx: CoreContext): void {
  if (ctx.repo.listUsers().length > 0) throw new Error("[hsm] initNode on a node that already has users");
  ctx.repo.insertUser({
    type: "PRECO",
    name: "admin",
    ...makeVerifier(ctx.env, DEFAULT_PRECO_PASSWORD),
    loginFailures: 0,
    quorumKeyPem: null,
    twoFactor: false,
  });
  // The appliance user cannot log in; its password is random and never shown.
  ctx.repo.insertUser({
    type: "AU",
    name: "app_user",
    ...makeVerifier(ctx.env, ctx.env.randomBytes(24).toString("base64")),
    loginFailures: 0,
    quorumKeyPem: null,
    twoFactor: false,
  });
  ctx.repo.appendAudit({
    at: ctx.env.now(),
    opcode: "CN_INIT",
    userName: null,
    detail: "node created",
    result: "RET_OK",
  });
}

/**
 * A process start is a dropped connection for every client: sessions end and their tokens die,
 * as on CloudHSM. Persisted token-sign tokens survive until their timeout.
 */
export function bootNode(ctx: CoreContext): void {
  for (const session of ctx.repo.listSessions()) endSession(ctx, session.id);
  for (const token of ctx.repo.listTokens()) {
    if (token.sessionId !== null) ctx.repo.deleteToken(token.id);
  }
  ctx.repo.purgeChallenges(nowSeconds(ctx.env) + 1);
}
