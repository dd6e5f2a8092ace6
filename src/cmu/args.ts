// Small argument readers shared by the commands. They return null for a bad value, and the command
// then prints its usage line without contacting any server.
import { isUserType, type UserType } from "../hsm/model.ts";
import type { Command, ShellContext } from "./context.ts";

/** User types are case-sensitive in CMU (docs/cloudhsm-behaviour.md, "Users"); `preCO` is the documented spelling of PRECO. */
export function parseUserType(word: string | undefined, allowed: readonly UserType[]): UserType | null {
  if (word === undefined) return null;
  const type = word === "preCO" ? "PRECO" : word;
  return isUserType(type) && allowed.includes(type) ? type : null;
}

/** A small non-negative decimal (service numbers, M values, server ids). */
export function parseSmallInt(word: string | undefined, max = 0xffff): number | null {
  if (word === undefined || !/^[0-9]{1,6}$/.test(word)) return null;
  const n = Number.parseInt(word, 10);
  return n <= max ? n : null;
}

export const HIDDEN_PASSWORD = "-hpswd";
export const TWO_FACTOR_FLAG = "-2fa";

/** `<password | -hpswd> [-2fa <file>]`: the tail shared by loginHSM, createUser and changePswd. */
export function parsePasswordTail(
  rest: readonly string[],
): { readonly password: string | null; readonly twoFactorPath: string | null } | null {
  if (rest.length !== 1 && rest.length !== 3) return null;
  const [password, flag, path] = rest;
  if (password === undefined || password === TWO_FACTOR_FLAG) return null;
  if (rest.length === 3 && (flag !== TWO_FACTOR_FLAG || path === undefined || path === "")) return null;
  return { password: password === HIDDEN_PASSWORD ? null : password, twoFactorPath: path ?? null };
}

export function printUsage(ctx: ShellContext, command: Command, why?: string): void {
  if (why !== undefined) ctx.print(why);
  ctx.print(`Usage: ${command.usage}`);
}

export interface UserCommandArgs {
  readonly type: UserType;
  readonly name: string;
  readonly password: string | null;
  readonly twoFactorPath: string | null;
}

/**
 * `<type> <name> <password | -hpswd> [-2fa <file>]`, the arguments of loginHSM, createUser and
 * changePswd. On a bad argument it prints the command's usage (naming a bad type) and returns null.
 */
export function readUserCommandArgs(
  ctx: ShellContext,
  command: Command,
  args: readonly string[],
  allowed: readonly UserType[],
): UserCommandArgs | null {
  const [typeWord, name, ...rest] = args;
  const type = parseUserType(typeWord, allowed);
  const tail = parsePasswordTail(rest);
  if (type === null || name === undefined || tail === null) {
    printUsage(ctx, command, type === null && typeWord !== undefined ? `Invalid user type '${typeWord}'` : undefined);
    return null;
  }
  return { type, name, ...tail };
}
