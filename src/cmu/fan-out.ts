// Running one command on every server, in index order, the way CMU reports it: a success line or
// two failure lines per server. Mutating commands then ask what to do about a failed server
// (R/I/A or R/B/I, docs/cloudhsm-behaviour.md, "The CMU shell"); read-only commands just report and go on.
//
// CloudHSM does not synchronize its HSMs, so a mutating command that ends on some servers only
// leaves the cluster divergent. The fan-out therefore keeps track of where the change is:
//   - applied: the node answered success (and gave an undo id for rollBack);
//   - missing: the node refused (an answer with an error code), the connection was refused, the
//     server was not tried (Abort), or rollBack undid it;
//   - unknown: the request went out and its answer was lost (timeout, reset), so the node may
//     still apply it. A retry that is then refused asks the command whether the lost attempt had
//     landed after all (`landed`), e.g. createUser answered "user exists";
//   - already: the node refused, but it is in the wanted state anyway (createUser of a user it
//     already has). It counts as having the change, without an undo id.
// rollBack undoes the applied servers, newest first, with the node's `rollback` command. Whenever
// the command ends with the change on some servers only, a warning names them and says how to
// repair (quorum-gate cluster status, server mode, syncUser).
import type { CallResult } from "../protocol/node-client.ts";
import { RET_CODES, isRetCode } from "../hsm/ret-codes.ts";
import { askRecovery, type RecoveryStyle } from "./ask.ts";
import type { ShellContext } from "./context.ts";
import { failedCodeLine, failedOnServerLine, serverRef, successLine } from "./render.ts";
import { callServer, CONNECTION_REFUSED, type Server } from "./session.ts";

export type Failure = { readonly code: string; readonly message: string };

/**
 * The node's code, plus its message when the code is one of the emulator's own: documented codes
 * print exactly as CMU does (`createUser failed: RET_MXN_AUTH_FAILED`), ours need the explanation.
 */
export function failureCodeText(error: Failure): string {
  const documented = isRetCode(error.code) && RET_CODES[error.code].documented;
  return documented || error.message === "" ? error.code : `${error.code} (${error.message})`;
}

/** True when the request may have reached the node although no answer came back. */
export function answerLost(error: Failure): boolean {
  return error.code === "RET_NODE_UNREACHABLE" && error.message !== CONNECTION_REFUSED;
}

export function printFailure(ctx: ShellContext, command: string, server: Server, error: Failure, where?: string): void {
  ctx.print(failedCodeLine(command, failureCodeText(error)), where ?? failedOnServerLine(command, server));
  if (error.code === "RET_SESSION_INVALID") {
    // Happens after a node restart or a dropped connection; only a new login helps.
    ctx.print(
      `(server ${server.index} has ended this login session, and its quorum tokens with it: run loginHSM again)`,
    );
  } else if (server.sessionDropped) {
    server.sessionDropped = false;
    ctx.print(
      `(server ${server.index} is down, and this login session ended with it, quorum tokens included: run loginHSM again once it is back)`,
    );
  }
}

export interface MutatingSpec<T> {
  readonly command: string;
  readonly style: RecoveryStyle;
  /** The servers to run on, in order; default: the servers in scope. */
  readonly servers?: readonly Server[];
  /** Servers in scope that an earlier step of the command dropped (ignored): they lack the change. */
  readonly skipped?: readonly Server[];
  send(server: Server): Promise<CallResult<T>>;
  /** Prints the success line by default. */
  onSuccess?(server: Server, data: T): void;
  /** The second failure line, when the command's standard one does not fit. */
  failedOn?(server: Server): string;
  /**
   * Whether the server is in the state the command wants (createUser: the user exists), asked
   * when it refused. After an attempt whose answer was lost, a refused retry then means the lost
   * attempt landed; otherwise the server had the change before. Omit when it cannot be seen from
   * outside (a password).
   */
  landed?(server: Server): Promise<boolean>;
  /** How to repair a divergent cluster after this command (lines of prose); a default names syncUser. */
  readonly repair?: readonly string[];
  /** False for a preparatory step that changes nothing (2FA challenges): no divergence report. */
  readonly changes?: boolean;
}

export interface FanOutOutcome {
  /** False when the user stopped the command (Abort, rollBack, end of input). */
  readonly completed: boolean;
  /** Servers that hold the change at the end (after a rollBack: those it could not undo). */
  readonly applied: readonly Server[];
  /** Servers that refused but were already in the wanted state. */
  readonly already: readonly Server[];
  /** Servers that do not: refused, not tried, or rolled back. */
  readonly missing: readonly Server[];
  /** Servers whose answer was lost: they may or may not have the change. */
  readonly unknown: readonly Server[];
}

type Applied =
  | { readonly server: Server; readonly undoId: string }
  /** No undo id: the success was inferred after a lost answer, or the node gave none. */
  | { readonly server: Server; readonly undoId: null; readonly why: string };

export const DEFAULT_REPAIR: readonly string[] = [
  "copy the user from a server that is right: 'server <n>', then 'syncUser <user ID> <server ID>';",
  "or run the command again in server mode on the servers without the change.",
];

export async function fanOutMutating<T>(ctx: ShellContext, spec: MutatingSpec<T>): Promise<FanOutOutcome> {
  const targets = spec.servers ?? ctx.servers;
  const applied: Applied[] = [];
  const missing: Server[] = [...(spec.skipped ?? [])];
  const unknown: Server[] = [];
  const already: Server[] = [];
  let stop: "abort" | "rollback" | null = null;

  for (const [i, server] of targets.entries()) {
    // True while an attempt on this server may have landed without our knowing.
    let uncertain = false;
    for (;;) {
      const result = await spec.send(server);
      if (result.ok) {
        if (spec.onSuccess) spec.onSuccess(server, result.data);
        else ctx.print(successLine(spec.command, server));
        const undoId = undoIdOf(result.data);
        applied.push(
          undoId === null ? { server, undoId, why: "the server's answer carried no undo id" } : { server, undoId },
        );
        break;
      }
      if (uncertain && !answerLost(result.error) && spec.landed !== undefined) {
        if (await spec.landed(server)) {
          ctx.print(`(${serverRef(server)} had applied the earlier attempt after all; only its answer was lost)`);
          ctx.print(successLine(spec.command, server));
          applied.push({
            server,
            undoId: null,
            why: "the server's answer was lost, so the shell holds no undo id for it",
          });
          break;
        }
        uncertain = false;
      }
      if (answerLost(result.error)) uncertain = true;
      printFailure(ctx, spec.command, server, result.error, spec.failedOn?.(server));
      ctx.print("");
      const choice = await askRecovery(ctx, spec.style);
      if (choice === "retry") continue;
      if (!answerLost(result.error) && spec.landed !== undefined && (await spec.landed(server))) already.push(server);
      else (uncertain ? unknown : missing).push(server);
      if (choice !== "ignore") {
        stop = choice;
        missing.push(...targets.slice(i + 1));
      }
      break;
    }
    if (stop !== null) break;
  }

  if (stop === "rollback") await rollBack(ctx, spec.command, applied, missing, unknown);
  const outcome: FanOutOutcome = {
    completed: stop === null,
    applied: applied.map((a) => a.server),
    already,
    missing: sortByIndex(missing),
    unknown: sortByIndex(unknown),
  };
  if (spec.changes !== false) reportSpread(ctx, spec.command, outcome, spec.repair ?? DEFAULT_REPAIR);
  return outcome;
}

/** Undoes the change on the servers that applied it, newest first; `applied` keeps those it could not undo. */
async function rollBack(
  ctx: ShellContext,
  command: string,
  applied: Applied[],
  missing: Server[],
  unknown: Server[],
): Promise<void> {
  if (applied.length === 0) {
    ctx.print(`rollBack: no server has applied this ${command}, so there is nothing to undo.`);
    return;
  }
  const kept: Applied[] = [];
  for (const entry of [...applied].reverse()) {
    const { server } = entry;
    if (entry.undoId === null) {
      printFailure(ctx, "rollBack", server, { code: "RET_UNDO_UNAVAILABLE", message: entry.why });
      kept.push(entry);
      continue;
    }
    const result = await callServer(server, "rollback", { undoId: entry.undoId });
    if (result.ok) {
      ctx.print(successLine("rollBack", server));
      missing.push(server);
    } else {
      printFailure(ctx, "rollBack", server, result.error);
      if (answerLost(result.error)) unknown.push(server);
      else kept.push(entry);
    }
  }
  applied.splice(0, applied.length, ...kept.reverse());
  if (applied.length === 0 && unknown.length === 0)
    ctx.print(`rollBack: ${command} is undone; no server has the change now.`);
}

/** The warning for a command that ended with its change on some servers only. */
export function reportSpread(
  ctx: ShellContext,
  command: string,
  outcome: FanOutOutcome,
  repair: readonly string[],
): void {
  const { missing, unknown } = outcome;
  const having = sortByIndex([...outcome.applied, ...outcome.already]);
  if (unknown.length === 0 && (having.length === 0 || missing.length === 0)) return;
  const names = (servers: readonly Server[]): string =>
    servers.map((s) => (outcome.already.includes(s) ? `${serverRef(s)} (had it already)` : serverRef(s))).join(", ");
  const lines = [
    having.length > 0 && missing.length > 0
      ? `WARNING: after this ${command} the servers disagree; the cluster is divergent (HSMs do not synchronize each other).`
      : `WARNING: it is not known whether ${command} took effect on every server; the cluster may be divergent.`,
  ];
  if (having.length > 0) lines.push(`  with the change:    ${names(having)}`);
  if (missing.length > 0) lines.push(`  without it:         ${names(missing)}`);
  if (unknown.length > 0) lines.push(`  unknown (no answer, it may still apply): ${names(unknown)}`);
  lines.push("  Compare the servers with 'quorum-gate cluster status' (or listUsers / getMValue here, per server).");
  for (const [i, line] of repair.entries()) lines.push(`${i === 0 ? "  To repair, " : "    "}${line}`);
  ctx.print(...lines);
}

function undoIdOf(data: unknown): string | null {
  if (typeof data !== "object" || data === null || !("undoId" in data)) return null;
  const id = (data as { undoId: unknown }).undoId;
  return typeof id === "string" && id !== "" ? id : null;
}

function sortByIndex(servers: readonly Server[]): Server[] {
  return [...new Set(servers)].sort((a, b) => a.index - b.index);
}

/**
 * One call that changes nothing (syncUser's extract step), with the recovery prompt on failure:
 * R tries again, any other answer gives up and returns null.
 */
export async function attemptOnServer<T>(
  ctx: ShellContext,
  spec: {
    readonly command: string;
    readonly style: RecoveryStyle;
    readonly server: Server;
    send(): Promise<CallResult<T>>;
    failedOn?(): string;
  },
): Promise<T | null> {
  for (;;) {
    const result = await spec.send();
    if (result.ok) return result.data;
    printFailure(ctx, spec.command, spec.server, result.error, spec.failedOn?.());
    ctx.print("");
    if ((await askRecovery(ctx, spec.style)) !== "retry") return null;
  }
}

/** Read-only fan-out: each server answers or prints its failure lines; nothing is asked. */
export async function fanOutReadOnly<T>(
  ctx: ShellContext,
  command: string,
  send: (server: Server) => Promise<CallResult<T>>,
  onSuccess: (server: Server, data: T) => void,
): Promise<{ readonly failed: number; readonly failedServers: readonly Server[] }> {
  const failedServers: Server[] = [];
  for (const server of ctx.servers) {
    const result = await send(server);
    if (result.ok) onSuccess(server, result.data);
    else {
      failedServers.push(server);
      printFailure(ctx, command, server, result.error);
    }
  }
  return { failed: failedServers.length, failedServers };
}
