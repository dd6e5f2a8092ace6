// User management: createUser, deleteUser, changePswd, registerQuorumPubKey and the 2FA
// enrolment challenge (docs/cloudhsm-behaviour.md, "CMU commands" and "Two-factor authentication"; seed 004 for the 2FA/MofN coupling).
import { parsePublicKey, verifyDigest, verifyMessage } from "../crypto/rsa.ts";
import { unsealSecret } from "../crypto/seal.ts";
import type { TwoFactorProof, UserView } from "./commands.ts";
import { audit } from "./audit.ts";
import type { CoreContext } from "./context.ts";
import { asBody, decodeBase64, isError, optString, reqBase64, reqString, reqUserType, type Body } from "./input.ts";
import { LIMITS, isOfficer, type Session, type User, type UserType } from "./model.ts";
import { makeVerifier } from "./password.ts";
import { userManagementQuorum, type Authorizer } from "./quorum.ts";
import { fail, ok, type HsmError, type HsmResult } from "./ret-codes.ts";
import { checkPassword, checkUserName } from "./rules.ts";
import { isLoggedIn, newChallenge, takeChallenge, typeMatches } from "./sessions.ts";
import { recordUserUndo } from "./undo.ts";
import { userView } from "./views.ts";

export function listUsers(ctx: CoreContext): HsmResult<{ users: readonly UserView[] }> {
  return ok({ users: ctx.repo.listUsers().map(userView) });
}

export function enrollChallenge(
  ctx: CoreContext,
  session: Session,
): HsmResult<{ challengeId: string; digest: string }> {
  const challenge = newChallenge(ctx, "enroll", session.userName, session.id);
  if (isError(challenge)) return challenge;
  return ok({ challengeId: challenge.id, digest: Buffer.from(challenge.digest, "hex").toString("base64") });
}

// ---- argument parsing shared by the CMU commands and the gate's execute ----------------------

/** Either a plain password (CMU, loopback or TLS) or one sealed to the cluster key (requests). */
export function readPassword(ctx: CoreContext, body: Body): string | HsmError {
  const plain = optString(body, "password", 256);
  const sealed = optString(body, "sealedPassword", 4096);
  if (isError(plain)) return plain;
  if (isError(sealed)) return sealed;
  if ((plain === undefined) === (sealed === undefined))
    return fail("RET_BAD_REQUEST", 'give exactly one of "password" and "sealedPassword"');
  if (plain !== undefined) return plain;
  return openSealed(ctx, sealed ?? "");
}

export function openSealed(ctx: CoreContext, sealedBase64: string): string | HsmError {
  const bytes = decodeBase64(sealedBase64, "sealedPassword", 1024);
  if (isError(bytes)) return bytes;
  const plain = unsealSecret(ctx.repo.sealingPrivateKeyPem(), bytes);
  return plain ?? fail("RET_SEALED_SECRET_INVALID");
}

export function readTwoFactor(body: Body): TwoFactorProof | undefined | HsmError {
  const v = body["twoFactor"];
  if (v === undefined) return undefined;
  const b = asBody(v, ["challengeId", "publicKeyPem", "signature"]);
  if (isError(b)) return b;
  const challengeId = reqString(b, "challengeId", 64);
  const signature = reqString(b, "signature", 2048);
  const publicKeyPem = optString(b, "publicKeyPem", 8192);
  if (isError(challengeId)) return challengeId;
  if (isError(signature)) return signature;
  if (isError(publicKeyPem)) return publicKeyPem;
  return publicKeyPem === undefined ? { challengeId, signature } : { challengeId, signature, publicKeyPem };
}

/** Checks a 2FA enrolment: the new key signed this session's challenge. Returns the key's PEM. */
function proveEnrolment(ctx: CoreContext, session: Session, proof: TwoFactorProof): string | HsmError {
  if (proof.publicKeyPem === undefined) return fail("RET_2FA_FAILURE", "the authdata file has no PublicKey");
  const key = parsePublicKey(proof.publicKeyPem);
  if (!key.ok) return fail("RET_INVALID_KEY", key.reason);
  const signature = decodeBase64(proof.signature, "the 2FA signature", 1024);
  if (isError(signature)) return signature;
  const challenge = takeChallenge(ctx, proof.challengeId, "enroll", session.id);
  if (isError(challenge)) return challenge;
  if (!verifyDigest(Buffer.from(challenge.digest, "hex"), key.key, signature))
    return fail("RET_2FA_FAILURE", "the signature does not match the digest and public key");
  return key.pem;
}

function requireOfficer(session: Session): HsmError | null {
  if (session.userType === "PRECO") return fail("RET_CLUSTER_NOT_ACTIVATED");
  return isOfficer(session.userType) ? null : fail("RET_PERMISSION_DENIED", "only crypto officers manage users");
}

// ---- createUser ---------------------------------------------------------------------------

/** The arguments of createUser and changePswd, which take the same four fields. */
export interface UserArgs {
  readonly userType: UserType;
  readonly userName: string;
  readonly password: string;
  readonly twoFactor?: TwoFactorProof | undefined;
}

function readUserArgs(ctx: CoreContext, body: unknown): UserArgs | HsmError {
  const b = asBody(body, ["userType", "userName", "password", "sealedPassword", "twoFactor"]);
  if (isError(b)) return b;
  const userType = reqUserType(b);
  const userName = reqString(b, "userName", 64);
  const password = readPassword(ctx, b);
  const twoFactor = readTwoFactor(b);
  if (isError(userType)) return userType;
  if (isError(userName)) return userName;
  if (isError(password)) return password;
  if (isError(twoFactor)) return twoFactor;
  return { userType, userName, password, twoFactor };
}

export function createUserCommand(
  ctx: CoreContext,
  session: Session,
  body: unknown,
  authorize: Authorizer,
): HsmResult<{ user: UserView; undoId: string }> {
  const args = readUserArgs(ctx, body);
  return isError(args) ? args : createUser(ctx, session, args, authorize);
}

export function createUser(
  ctx: CoreContext,
  session: Session,
  args: UserArgs,
  authorize: Authorizer,
): HsmResult<{ user: UserView; undoId: string }> {
  const done = (r: HsmResult<{ user: UserView; undoId: string }>) =>
    audit(ctx, "CN_CREATE_USER", session.userName, `${args.userName}(${args.userType})`, r);
  const denied = requireOfficer(session);
  if (denied) return done(denied);
  if (args.userType !== "CO" && args.userType !== "CU")
    return done(fail("RET_INVALID_USER_TYPE", "createUser makes CO or CU users"));
  const name = checkUserName(args.userName);
  if (isError(name)) return done(name);
  const badPassword = checkPassword(args.password);
  if (badPassword) return done(badPassword);
  if (ctx.repo.getUser(name) !== null) return done(fail("RET_USER_EXISTS", name));
  if (args.twoFactor !== undefined && args.userType !== "CO")
    return done(fail("RET_INVALID_INPUT", "2FA is available for crypto officers only"));

  const need = userManagementQuorum(ctx);
  const token = authorize(need.service, need.required);
  if (isError(token)) return done(token);
  let keyPem: string | null = null;
  if (args.twoFactor !== undefined) {
    const proven = proveEnrolment(ctx, session, args.twoFactor);
    if (isError(proven)) return done(proven);
    keyPem = proven;
  }
  const user = ctx.repo.insertUser({
    type: args.userType,
    name,
    ...makeVerifier(ctx.env, args.password),
    loginFailures: 0,
    quorumKeyPem: keyPem,
    twoFactor: keyPem !== null,
  });
  if (token !== null) ctx.repo.deleteToken(token.id);
  return done(ok({ user: userView(user), undoId: recordUserUndo(ctx, session, name, null, user) }));
}

// ---- deleteUser ---------------------------------------------------------------------------

export function deleteUserCommand(
  ctx: CoreContext,
  session: Session,
  body: unknown,
  authorize: Authorizer,
): HsmResult<{ undoId: string }> {
  const b = asBody(body, ["userType", "userName"]);
  if (isError(b)) return b;
  const userType = reqUserType(b);
  const userName = reqString(b, "userName", 64);
  if (isError(userType)) return userType;
  if (isError(userName)) return userName;
  return deleteUser(ctx, session, userType, userName, authorize);
}

export function deleteUser(
  ctx: CoreContext,
  session: Session,
  userType: UserType,
  userName: string,
  authorize: Authorizer,
): HsmResult<{ undoId: string }> {
  const done = (r: HsmResult<{ undoId: string }>) =>
    audit(ctx, "CN_DELETE_USER", session.userName, `${userName}(${userType})`, r);
  const denied = requireOfficer(session);
  if (denied) return done(denied);
  const name = checkUserName(userName);
  if (isError(name)) return done(name);
  const target = ctx.repo.getUser(name);
  if (target === null) return done(fail("RET_INVALID_USER"));
  if (!typeMatches(userType, target.type)) return done(fail("RET_INVALID_USER_TYPE", `${name} is a ${target.type}`));
  if (target.type === "AU" || target.type === "PRECO" || target.type === "PCO")
    return done(fail("RET_PERMISSION_DENIED", `the ${target.type} user cannot be deleted`));
  if (isLoggedIn(ctx, name)) return done(fail("RET_USER_IN_USE"));

  const need = userManagementQuorum(ctx);
  const token = authorize(need.service, need.required);
  if (isError(token)) return done(token);
  for (const t of ctx.repo.listTokens()) {
    if (t.userName === name) ctx.repo.deleteToken(t.id);
  }
  ctx.repo.deleteUser(name);
  if (token !== null) ctx.repo.deleteToken(token.id);
  return done(ok({ undoId: recordUserUndo(ctx, session, name, target, null) }));
}

// ---- changePswd ---------------------------------------------------------------------------

export function changePasswordCommand(
  ctx: CoreContext,
  session: Session,
  body: unknown,
  authorize: Authorizer,
): HsmResult<{ user: UserView; undoId: string }> {
  const args = readUserArgs(ctx, body);
  return isError(args) ? args : changePassword(ctx, session, args, authorize);
}

/**
 * Anyone may change their own password without a token; officers may change anyone's under
 * USER_MGMT quorum. The PRECO's own change activates the HSM (docs/cloudhsm-behaviour.md, "Users"). A change without
 * 2FA on a 2FA user removes 2FA and the MofN registration with it (seed 004).
 */
export function changePassword(
  ctx: CoreContext,
  session: Session,
  args: UserArgs,
  authorize: Authorizer,
): HsmResult<{ user: UserView; undoId: string }> {
  const done = (r: HsmResult<{ user: UserView; undoId: string }>) =>
    audit(ctx, "CN_CHANGE_PSWD", session.userName, `${args.userName}(${args.userType})`, r);
  const name = checkUserName(args.userName);
  if (isError(name)) return done(name);
  const target = ctx.repo.getUser(name);
  if (target === null) return done(fail("RET_INVALID_USER"));
  if (!typeMatches(args.userType, target.type))
    return done(fail("RET_INVALID_USER_TYPE", `${name} is a ${target.type}`));
  const self = target.name === session.userName;
  if (!self) {
    const denied = requireOfficer(session);
    if (denied) return done(denied);
    if (target.type === "AU")
      return done(fail("RET_PERMISSION_DENIED", "the appliance user's password cannot be changed"));
    if (isLoggedIn(ctx, name)) return done(fail("RET_USER_IN_USE"));
  }
  const badPassword = checkPassword(args.password);
  if (badPassword) return done(badPassword);
  if (args.twoFactor !== undefined && !isOfficer(target.type))
    return done(fail("RET_INVALID_INPUT", "2FA is available for crypto officers only"));

  let token = null;
  if (!self) {
    const need = userManagementQuorum(ctx);
    const granted = authorize(need.service, need.required);
    if (isError(granted)) return done(granted);
    token = granted;
  }
  let next: User = { ...target, ...makeVerifier(ctx.env, args.password), loginFailures: 0 };
  if (args.twoFactor !== undefined) {
    const proven = proveEnrolment(ctx, session, args.twoFactor);
    if (isError(proven)) return done(proven);
    next = { ...next, twoFactor: true, quorumKeyPem: proven };
  } else if (target.twoFactor) {
    next = { ...next, twoFactor: false, quorumKeyPem: null };
  }
  if (target.type === "PRECO") next = { ...next, type: "PCO" };
  ctx.repo.updateUser(next);
  if (token !== null) ctx.repo.deleteToken(token.id);
  return done(ok({ user: userView(next), undoId: recordUserUndo(ctx, session, name, target, next) }));
}

// ---- registerQuorumPubKey -----------------------------------------------------------------

/** Proof of possession: the key must verify a signature over the registration token. */
export function registerQuorumKey(
  ctx: CoreContext,
  session: Session,
  body: unknown,
): HsmResult<{ fingerprint: string; undoId: string }> {
  const b = asBody(body, ["userType", "userName", "registrationToken", "signature", "publicKeyPem"]);
  if (isError(b)) return b;
  const userType = reqUserType(b);
  const userName = reqString(b, "userName", 64);
  const tokenBytes = reqBase64(b, "registrationToken", 4096);
  const signature = reqBase64(b, "signature", 1024);
  const pem = reqString(b, "publicKeyPem", 8192);
  if (isError(userType)) return userType;
  if (isError(userName)) return userName;
  if (isError(tokenBytes)) return tokenBytes;
  if (isError(signature)) return signature;
  if (isError(pem)) return pem;
  const done = (r: HsmResult<{ fingerprint: string; undoId: string }>) =>
    audit(ctx, "CN_REGISTER_QUORUM_PUBKEY", session.userName, userName, r);

  const denied = requireOfficer(session);
  if (denied) return done(denied);
  if (userType !== "CO" && userType !== "PCO")
    return done(fail("RET_INVALID_USER_TYPE", "only crypto officers register quorum keys"));
  const name = checkUserName(userName);
  if (isError(name)) return done(name);
  if (name !== session.userName)
    return done(fail("RET_PERMISSION_DENIED", "log in as the officer whose key is registered"));
  const user = ctx.repo.getUser(name);
  if (user === null) return done(fail("RET_INVALID_USER"));
  if (user.twoFactor) return done(fail("RET_POLICY_VIOLATION", "a 2FA officer's key is rotated with changePswd -2fa"));
  if (tokenBytes.length === 0 || tokenBytes.length > LIMITS.registrationTokenMax) {
    return done(fail("RET_INVALID_INPUT", `the registration token must be 1 to ${LIMITS.registrationTokenMax} bytes`));
  }
  const key = parsePublicKey(pem);
  if (!key.ok) return done(fail("RET_INVALID_KEY", key.reason));
  if (!verifyMessage(tokenBytes, key.key, signature))
    return done(fail("RET_INVALID_SIGNATURE", "the signed registration token does not verify with this public key"));
  const next = { ...user, quorumKeyPem: key.pem };
  ctx.repo.updateUser(next);
  return done(ok({ fingerprint: key.fingerprint, undoId: recordUserUndo(ctx, session, name, user, next) }));
}
