// CMU syncUser: copy a user's whole record from one node to another. CloudHSM moves it as a
// "masked object", encrypted under a key only the cluster's HSMs hold; the emulator derives such
// a masking key from the cluster's sealing private key (which every node of the cluster has and
// nothing else does) and encrypts with AES-256-GCM, bound to the cluster id.
import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import type { UserView } from "./commands.ts";
import { audit } from "./audit.ts";
import type { CoreContext } from "./context.ts";
import { asBody, decodeBase64, isError, reqString } from "./input.ts";
import { isOfficer, isUserType, type Session, type User } from "./model.ts";
import { userManagementQuorum, type Authorizer } from "./quorum.ts";
import { fail, ok, type HsmError, type HsmResult } from "./ret-codes.ts";
import { checkUserName } from "./rules.ts";
import { isLoggedIn } from "./sessions.ts";
import { recordUserUndo } from "./undo.ts";
import { userView } from "./views.ts";

const MASK_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_MASKED_BYTES = 16 * 1024;

function maskingKey(ctx: CoreContext): Buffer {
  const { clusterId } = ctx.repo.identity();
  return Buffer.from(
    hkdfSync(
      "sha256",
      Buffer.from(ctx.repo.sealingPrivateKeyPem(), "utf8"),
      Buffer.from(clusterId, "utf8"),
      "quorum-gate user masking v1",
      32,
    ),
  );
}

function requireOfficer(session: Session): HsmError | null {
  if (session.userType === "PRECO") return fail("RET_CLUSTER_NOT_ACTIVATED");
  return isOfficer(session.userType) ? null : fail("RET_PERMISSION_DENIED", "only crypto officers synchronize users");
}

export function exportUser(
  ctx: CoreContext,
  session: Session,
  body: unknown,
): HsmResult<{ masked: string; user: UserView }> {
  const b = asBody(body, ["userName"]);
  if (isError(b)) return b;
  const raw = reqString(b, "userName", 64);
  if (isError(raw)) return raw;
  const done = (r: HsmResult<{ masked: string; user: UserView }>) =>
    audit(ctx, "CN_EXTRACT_MASKED_OBJECT", session.userName, raw, r);
  const denied = requireOfficer(session);
  if (denied) return done(denied);
  const name = checkUserName(raw);
  if (isError(name)) return done(name);
  const user = ctx.repo.getUser(name);
  if (user === null) return done(fail("RET_INVALID_USER"));
  if (user.type === "AU" || user.type === "PRECO")
    return done(fail("RET_PERMISSION_DENIED", `the ${user.type} user is not synchronized`));

  const { clusterId } = ctx.repo.identity();
  const iv = ctx.env.randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", maskingKey(ctx), iv);
  cipher.setAAD(Buffer.from(clusterId, "utf8"));
  const plain = Buffer.from(JSON.stringify({ v: MASK_VERSION, user }), "utf8");
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
  const masked = Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64");
  return done(ok({ masked, user: userView(user) }));
}

/** Opens a masked object; anything that is not exactly what exportUser made is refused. */
function openMasked(ctx: CoreContext, masked: Buffer): User | HsmError {
  const bad = fail("RET_INVALID_INPUT", "the masked object does not open with this cluster's key");
  if (masked.length <= IV_BYTES + TAG_BYTES) return bad;
  let plain: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", maskingKey(ctx), masked.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(ctx.repo.identity().clusterId, "utf8"));
    decipher.setAuthTag(masked.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    plain = Buffer.concat([decipher.update(masked.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    return bad;
  }
  const doc = JSON.parse(plain.toString("utf8")) as { v?: unknown; user?: Partial<User> };
  const u = doc.user;
  if (
    doc.v !== MASK_VERSION ||
    u === undefined ||
    typeof u.id !== "number" ||
    typeof u.name !== "string" ||
    typeof u.type !== "string" ||
    !isUserType(u.type) ||
    typeof u.passwordSalt !== "string" ||
    typeof u.passwordHash !== "string" ||
    typeof u.loginFailures !== "number" ||
    typeof u.twoFactor !== "boolean" ||
    !(u.quorumKeyPem === null || typeof u.quorumKeyPem === "string")
  ) {
    return bad;
  }
  return {
    id: u.id,
    type: u.type,
    name: u.name,
    passwordSalt: u.passwordSalt,
    passwordHash: u.passwordHash,
    loginFailures: u.loginFailures,
    quorumKeyPem: u.quorumKeyPem,
    twoFactor: u.twoFactor,
  };
}

/**
 * Writes an exported user on this node under USER_MGMT quorum, like createUser: a new user keeps
 * its id when that id is free here; an existing user of that name is replaced but keeps its id.
 */
export function importUser(
  ctx: CoreContext,
  session: Session,
  body: unknown,
  authorize: Authorizer,
): HsmResult<{ user: UserView; undoId: string }> {
  const b = asBody(body, ["masked"]);
  if (isError(b)) return b;
  const text = reqString(b, "masked", MAX_MASKED_BYTES * 2);
  if (isError(text)) return text;
  const bytes = decodeBase64(text, '"masked"', MAX_MASKED_BYTES);
  if (isError(bytes)) return bytes;
  const done = (r: HsmResult<{ user: UserView; undoId: string }>) =>
    audit(ctx, "CN_INSERT_MASKED_OBJECT", session.userName, r.ok ? r.value.user.name : "", r);
  const denied = requireOfficer(session);
  if (denied) return done(denied);
  const user = openMasked(ctx, bytes);
  if (isError(user)) return done(user);
  if (user.type === "AU" || user.type === "PRECO")
    return done(fail("RET_PERMISSION_DENIED", `the ${user.type} user is not synchronized`));
  const existing = ctx.repo.getUser(user.name);
  if (existing !== null && existing.name !== session.userName && isLoggedIn(ctx, existing.name))
    return done(fail("RET_USER_IN_USE"));

  const need = userManagementQuorum(ctx);
  const token = authorize(need.service, need.required);
  if (isError(token)) return done(token);
  let written: User;
  if (existing !== null) {
    written = { ...user, id: existing.id };
    ctx.repo.updateUser(written);
  } else if (ctx.repo.listUsers().some((u) => u.id === user.id)) {
    const { id: _taken, ...rest } = user;
    written = ctx.repo.insertUser(rest);
  } else {
    written = user;
    ctx.repo.putUser(written);
  }
  if (token !== null) ctx.repo.deleteToken(token.id);
  return done(ok({ user: userView(written), undoId: recordUserUndo(ctx, session, written.name, existing, written) }));
}
