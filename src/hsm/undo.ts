// The undo journal behind CMU's rollBack. CloudHSM does not synchronize its HSMs, so a command
// that succeeded on some servers and failed on another leaves them divergent; rollBack puts the
// servers where it succeeded back as they were. Each mutating command records what it changed;
// `rollback` restores it for the same session, once, within a short window, and only while
// nothing else has changed the same user or M value since (so it never clobbers a newer change).
import { audit } from "./audit.ts";
import { canonicalJson } from "./binding.ts";
import type { CoreContext } from "./context.ts";
import { nowSeconds } from "./env.ts";
import { asBody, isError, reqString } from "./input.ts";
import type { Session, User } from "./model.ts";
import { fail, ok, type HsmResult } from "./ret-codes.ts";
import { isLoggedIn } from "./sessions.ts";

export const UNDO_WINDOW_SECONDS = 600;

export function recordUserUndo(
  ctx: CoreContext,
  session: Session,
  name: string,
  before: User | null,
  after: User | null,
): string {
  return record(ctx, session, `user:${name}`, canonicalJson(before), canonicalJson(after));
}

export function recordMValueUndo(
  ctx: CoreContext,
  session: Session,
  service: number,
  before: number,
  after: number,
): string {
  return record(ctx, session, `mvalue:${service}`, canonicalJson(before), canonicalJson(after));
}

function record(ctx: CoreContext, session: Session, subject: string, beforeJson: string, afterJson: string): string {
  const now = nowSeconds(ctx.env);
  ctx.repo.purgeUndo(now - UNDO_WINDOW_SECONDS);
  const id = ctx.env.randomBytes(16).toString("hex");
  ctx.repo.insertUndo({ id, sessionId: session.id, createdAt: now, subject, beforeJson, afterJson });
  return id;
}

export function rollback(ctx: CoreContext, session: Session, body: unknown): HsmResult<{ undone: string }> {
  const b = asBody(body, ["undoId"]);
  if (isError(b)) return b;
  const undoId = reqString(b, "undoId", 64);
  if (isError(undoId)) return undoId;
  const done = (r: HsmResult<{ undone: string }>) => audit(ctx, "CN_ROLLBACK", session.userName, undoId, r);
  const entry = ctx.repo.getUndo(undoId);
  if (entry === null || entry.sessionId !== session.id) return done(fail("RET_UNDO_UNAVAILABLE"));
  if (entry.createdAt < nowSeconds(ctx.env) - UNDO_WINDOW_SECONDS)
    return done(fail("RET_UNDO_UNAVAILABLE", "older than the undo window"));
  const [kind, subject = ""] = splitOnce(entry.subject);

  if (kind === "mvalue") {
    const service = Number(subject);
    if (ctx.repo.getMValue(service) !== (JSON.parse(entry.afterJson) as number))
      return done(fail("RET_UNDO_UNAVAILABLE", "the M value changed since"));
    ctx.repo.setMValue(service, JSON.parse(entry.beforeJson) as number);
  } else {
    const before = JSON.parse(entry.beforeJson) as User | null;
    const after = JSON.parse(entry.afterJson) as User | null;
    const current = ctx.repo.getUser(subject);
    // Canonical JSON: the same record must compare equal whatever order its fields were built in.
    if (canonicalJson(current) !== canonicalJson(after))
      return done(fail("RET_UNDO_UNAVAILABLE", "the user changed since"));
    if (current !== null && current.name !== session.userName && isLoggedIn(ctx, current.name))
      return done(fail("RET_USER_IN_USE"));
    if (before === null) {
      for (const t of ctx.repo.listTokens()) {
        if (t.userName === subject) ctx.repo.deleteToken(t.id);
      }
      ctx.repo.deleteUser(subject);
    } else if (current === null) {
      if (ctx.repo.listUsers().some((u) => u.id === before.id))
        return done(fail("RET_UNDO_UNAVAILABLE", `user id ${before.id} was given to another user since`));
      ctx.repo.putUser(before);
    } else {
      ctx.repo.updateUser({ ...before, id: current.id });
    }
  }
  ctx.repo.deleteUndo(undoId);
  return done(ok({ undone: entry.subject }));
}

function splitOnce(text: string): [string, string] {
  const i = text.indexOf(":");
  return i === -1 ? [text, ""] : [text.slice(0, i), text.slice(i + 1)];
}
