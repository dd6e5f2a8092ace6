// Logins and sessions. A session stands for CMU's connection to one HSM: its tokens die with it
// (docs/cloudhsm-behaviour.md, "Tokens"), whether it ends by logout, by idling out, or by a node restart.
import { storedPublicKey, verifyDigest } from "../crypto/rsa.ts";
import { audit } from "./audit.ts";
import type { CoreContext } from "./context.ts";
import { nowSeconds } from "./env.ts";
import { asBody, isError, reqBase64, reqString, reqUserType } from "./input.ts";
import { LIMITS, type Challenge, type Session, type User, type UserType } from "./model.ts";
import { checkPassword } from "./password.ts";
import { fail, ok, type HsmError, type HsmResult } from "./ret-codes.ts";
import { checkUserName } from "./rules.ts";

/** How many unanswered 2FA challenges one session (or all logins together) may hold. */
const MAX_OPEN_CHALLENGES = 64;

/** The session behind a request, or why there is none. Idle sessions end here. */
export function currentSession(ctx: CoreContext, sessionId: string | null): Session | HsmError {
  if (sessionId === null) return fail("RET_NOT_LOGGED_IN");
  const session = ctx.repo.getSession(sessionId);
  if (session === null) return fail("RET_SESSION_INVALID");
  const now = nowSeconds(ctx.env);
  if (now - session.lastSeenAt > ctx.config.sessionIdleSeconds) {
    endSession(ctx, session.id);
    return fail("RET_SESSION_INVALID", "the session idled out");
  }
  // The user's record, not the login, decides what the session may do: activation turns the
  // PRECO into the PCO mid-session, and a deleted user's session must not live on.
  const user = ctx.repo.getUser(session.userName);
  if (user === null) {
    endSession(ctx, session.id);
    return fail("RET_SESSION_INVALID", "the user no longer exists");
  }
  // Idle time is counted in whole seconds, so a second write within the same second says nothing.
  if (session.lastSeenAt !== now) ctx.repo.touchSession(session.id, now);
  return { ...session, userType: user.type, lastSeenAt: now };
}

export function endSession(ctx: CoreContext, sessionId: string): void {
  for (const token of ctx.repo.listTokens()) {
    if (token.sessionId === sessionId) ctx.repo.deleteToken(token.id);
  }
  ctx.repo.deleteSession(sessionId);
}

/** CMU logs a CO in with `CO` even when the user is the primary CO. */
export function typeMatches(requested: UserType, actual: UserType): boolean {
  return requested === actual || (requested === "CO" && actual === "PCO");
}

/**
 * Whether the user holds a live session on this node. A session idle past the limit stands for a
 * dropped connection: it is ended here, so it cannot block a delete or a password reset forever.
 */
export function isLoggedIn(ctx: CoreContext, userName: string): boolean {
  const oldest = nowSeconds(ctx.env) - ctx.config.sessionIdleSeconds;
  let live = false;
  for (const s of ctx.repo.listSessions()) {
    if (s.userName !== userName) continue;
    if (s.lastSeenAt < oldest) endSession(ctx, s.id);
    else live = true;
  }
  return live;
}

export function login(
  ctx: CoreContext,
  body: unknown,
): HsmResult<{ sessionId: string } | { challenge: { id: string; digest: string } }> {
  const b = asBody(body, ["userType", "userName", "password"]);
  if (isError(b)) return b;
  const type = reqUserType(b);
  const rawName = reqString(b, "userName", 64);
  const password = reqString(b, "password", 256);
  if (isError(type)) return type;
  if (isError(rawName)) return rawName;
  if (isError(password)) return password;
  const name = checkUserName(rawName);
  if (isError(name)) return name;

  const user = ctx.repo.getUser(name);
  if (user === null) return audit(ctx, "CN_LOGIN", name, "unknown user", fail("RET_INVALID_USER"));
  if (user.type === "AU" || !typeMatches(type, user.type))
    return audit(ctx, "CN_LOGIN", name, `as ${type}`, fail("RET_INVALID_USER_TYPE"));
  if (user.loginFailures >= LIMITS.lockoutAfter) return audit(ctx, "CN_LOGIN", name, "locked", fail("RET_USER_LOCKED"));
  if (!checkPassword(user, password))
    return audit(ctx, "CN_LOGIN", name, "wrong password", recordFailure(ctx, user, "RET_USER_LOGIN_FAILURE"));

  if (user.twoFactor) {
    const challenge = newChallenge(ctx, "login", user.name, null);
    if (isError(challenge)) return challenge;
    return ok({ challenge: { id: challenge.id, digest: Buffer.from(challenge.digest, "hex").toString("base64") } });
  }
  return audit(ctx, "CN_LOGIN", name, "password", ok({ sessionId: openSession(ctx, user) }));
}

export function loginSecondFactor(ctx: CoreContext, body: unknown): HsmResult<{ sessionId: string }> {
  const b = asBody(body, ["challengeId", "signature"]);
  if (isError(b)) return b;
  const challengeId = reqString(b, "challengeId", 64);
  const signature = reqBase64(b, "signature", 1024);
  if (isError(challengeId)) return challengeId;
  if (isError(signature)) return signature;

  const challenge = takeChallenge(ctx, challengeId, "login", null);
  if (isError(challenge)) return challenge;
  const user = ctx.repo.getUser(challenge.userName);
  if (user === null || !user.twoFactor || user.quorumKeyPem === null)
    return fail("RET_2FA_FAILURE", "the user no longer has 2FA");
  const key = storedPublicKey(user.quorumKeyPem);
  if (key === null || !verifyDigest(Buffer.from(challenge.digest, "hex"), key, signature)) {
    return audit(ctx, "CN_LOGIN", user.name, "2FA signature", recordFailure(ctx, user, "RET_2FA_FAILURE"));
  }
  return audit(ctx, "CN_LOGIN", user.name, "password+2FA", ok({ sessionId: openSession(ctx, user) }));
}

export function logout(ctx: CoreContext, sessionId: string | null): HsmResult<Record<string, never>> {
  const session = currentSession(ctx, sessionId);
  if (isError(session)) return session;
  endSession(ctx, session.id);
  return audit(ctx, "CN_LOGOUT", session.userName, "", ok({}));
}

function openSession(ctx: CoreContext, user: User): string {
  if (user.loginFailures !== 0) ctx.repo.updateUser({ ...user, loginFailures: 0 });
  const now = nowSeconds(ctx.env);
  const id = ctx.env.randomBytes(32).toString("hex");
  ctx.repo.insertSession({ id, userName: user.name, userType: user.type, createdAt: now, lastSeenAt: now });
  return id;
}

function recordFailure(ctx: CoreContext, user: User, code: "RET_USER_LOGIN_FAILURE" | "RET_2FA_FAILURE"): HsmError {
  const failures = user.loginFailures + 1;
  ctx.repo.updateUser({ ...user, loginFailures: failures });
  return failures >= LIMITS.lockoutAfter ? fail(code, `${failures} failed logins: the user is now locked`) : fail(code);
}

/** A new 2FA challenge; bounded per session so that nobody can fill the table. */
export function newChallenge(
  ctx: CoreContext,
  purpose: Challenge["purpose"],
  userName: string,
  sessionId: string | null,
): Challenge | HsmError {
  const now = nowSeconds(ctx.env);
  ctx.repo.purgeChallenges(now - ctx.config.challengeTtlSeconds);
  if (ctx.repo.countChallenges(sessionId) >= MAX_OPEN_CHALLENGES)
    return fail("RET_2FA_FAILURE", "too many open 2FA challenges; answer or let them expire");
  const challenge: Challenge = {
    id: ctx.env.randomBytes(16).toString("hex"),
    digest: ctx.env.randomBytes(32).toString("hex"),
    purpose,
    userName,
    sessionId,
    createdAt: now,
  };
  ctx.repo.insertChallenge(challenge);
  return challenge;
}

/** Looks a challenge up and removes it: a challenge answers once, right or wrong. */
export function takeChallenge(
  ctx: CoreContext,
  id: string,
  purpose: Challenge["purpose"],
  sessionId: string | null,
): Challenge | HsmError {
  const challenge = ctx.repo.getChallenge(id);
  if (challenge === null || challenge.purpose !== purpose || challenge.sessionId !== sessionId)
    return fail("RET_2FA_FAILURE", "unknown 2FA challenge");
  ctx.repo.deleteChallenge(id);
  if (nowSeconds(ctx.env) - challenge.createdAt > ctx.config.challengeTtlSeconds)
    return fail("RET_2FA_FAILURE", "the 2FA challenge expired");
  return challenge;
}
