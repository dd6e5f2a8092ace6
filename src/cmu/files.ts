// Files the user names on the command line (token files, signatures, keys, authdata). A file that
// is missing, unreadable or too big gets one clear line and the command sends nothing.
import { readFile, stat, writeFile, access, constants } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { ShellContext } from "./context.ts";

export function resolvePath(ctx: ShellContext, path: string): string {
  return resolve(ctx.cwd, path);
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  if (code === "ENOTDIR") return "a parent is not a directory";
  return err instanceof Error ? err.message : String(err);
}

export interface ReadLimits {
  readonly maxBytes: number;
  /** Refuse empty files unless told otherwise. */
  readonly allowEmpty?: boolean;
}

/** Reads a file the user named; on any problem prints why and returns null. */
export async function readUserFile(
  ctx: ShellContext,
  path: string,
  what: string,
  limits: ReadLimits,
): Promise<Buffer | null> {
  const full = resolvePath(ctx, path);
  try {
    const info = await stat(full);
    if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (info.size > limits.maxBytes) {
      ctx.print(`Cannot use ${what} "${path}": it is ${info.size} bytes, more than the ${limits.maxBytes} allowed`);
      return null;
    }
    const bytes = await readFile(full);
    if (bytes.length === 0 && limits.allowEmpty !== true) {
      ctx.print(`Cannot use ${what} "${path}": the file is empty`);
      return null;
    }
    return bytes;
  } catch (err) {
    ctx.print(`Cannot read ${what} "${path}": ${reasonOf(err)}`);
    return null;
  }
}

export async function readUserText(
  ctx: ShellContext,
  path: string,
  what: string,
  maxBytes: number,
): Promise<string | null> {
  const bytes = await readUserFile(ctx, path, what, { maxBytes });
  return bytes === null ? null : bytes.toString("utf8");
}

/** Checks up front that a file can be written, so a command does not change the HSMs and then fail to save its result. */
export async function canWrite(ctx: ShellContext, path: string, what: string): Promise<boolean> {
  const full = resolvePath(ctx, path);
  try {
    const info = await stat(full).catch(() => null);
    if (info?.isDirectory() === true) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    await access(info === null ? dirname(full) : full, constants.W_OK);
    return true;
  } catch (err) {
    ctx.print(`Cannot write ${what} "${path}": ${reasonOf(err)}`);
    return false;
  }
}

export async function writeUserFile(
  ctx: ShellContext,
  path: string,
  data: string | Uint8Array,
  what: string,
): Promise<boolean> {
  try {
    await writeFile(resolvePath(ctx, path), data, { mode: 0o600 });
    return true;
  } catch (err) {
    ctx.print(`Cannot write ${what} "${path}": ${reasonOf(err)}`);
    return false;
  }
}
