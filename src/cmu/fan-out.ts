// Running one command on every server, in index order, the way CMU reports it: a success line or
// two failure lines per server. Mutating commands then ask what to do about a failed server
// (R/I/A or R/B/I, facts §4.1); read-only commands just report and go on.
import type { CallResult } from "../cluster/node-client.ts";
import { RET_CODES, isRetCode } from "../hsm/ret-codes.ts";
import { askRecovery, type RecoveryStyle } from "./ask.ts";
import type { ShellContext } from "./context.ts";
import { failedCodeLine, failedOnServerLine, successLine } from "./render.ts";
import type { Server } from "./session.ts";

type Failure = { readonly code: string; readonly message: string };

/**
 * The node's code, plus its message when the code is one of the emulator's own: documented codes
 * print exactly as CMU does (`createUser failed: RET_MXN_AUTH_FAILED`), ours need the explanation.
 */
export function failureCodeText(error: Failure): string {
  const documented = isRetCode(error.code) && RET_CODES[error.code].documented;
  return documented || error.message === "" ? error.code : `${error.code} (${error.message})`;
}

export function printFailure(ctx: ShellContext, command: string, server: Server, error: Failure): void {
  ctx.print(failedCodeLine(command, failureCodeText(error)), failedOnServerLine(command, server));
  if (error.code === "RET_SESSION_INVALID") {
    // Happens after a node restart or a dropped connection; only a new login helps.
    ctx.print(`(server ${server.index} has ended this login session, and its quorum tokens with it: run loginHSM again)`);
  }
}

export interface MutatingSpec<T> {
  readonly command: string;
  readonly style: RecoveryStyle;
  readonly servers?: readonly Server[];
  send(server: Server): Promise<CallResult<T>>;
  /** Prints the success line by default. */
  onSuccess?(server: Server, data: T): void;
}

export interface FanOutOutcome {
  /** False when the user aborted (or chose rollBack, which stops too). */
  readonly completed: boolean;
  readonly succeeded: readonly Server[];
  readonly failed: readonly Server[];
}

export async function fanOutMutating<T>(ctx: ShellContext, spec: MutatingSpec<T>): Promise<FanOutOutcome> {
  const succeeded: Server[] = [];
  const failed: Server[] = [];
  for (const server of spec.servers ?? ctx.servers) {
    for (;;) {
      const result = await spec.send(server);
      if (result.ok) {
        if (spec.onSuccess) spec.onSuccess(server, result.data);
        else ctx.print(successLine(spec.command, server));
        succeeded.push(server);
        break;
      }
      printFailure(ctx, spec.command, server, result.error);
      ctx.print("");
      const choice = await askRecovery(ctx, spec.style);
      if (choice === "retry") continue;
      failed.push(server);
      if (choice === "ignore") break;
      if (choice === "rollback") {
        // Undoing a delete would need the user's password, keys and registrations, which the
        // shell never has; recreating a look-alike would be worse than stopping.
        ctx.print(
          succeeded.length === 0
            ? "rollBack: nothing to roll back (no server has applied the change); stopping."
            : `rollBack is not supported: a deleted user cannot be restored faithfully. The change stays applied on ${succeeded.map((s) => `server ${s.index}`).join(", ")}; stopping.`,
        );
      }
      return { completed: false, succeeded, failed };
    }
  }
  return { completed: true, succeeded, failed };
}

/** Read-only fan-out: each server answers or prints its failure lines; nothing is asked. */
export async function fanOutReadOnly<T>(
  ctx: ShellContext,
  command: string,
  send: (server: Server) => Promise<CallResult<T>>,
  onSuccess: (server: Server, data: T) => void,
): Promise<{ readonly failed: number }> {
  let failed = 0;
  for (const server of ctx.servers) {
    const result = await send(server);
    if (result.ok) onSuccess(server, result.data);
    else {
      failed++;
      printFailure(ctx, command, server, result.error);
    }
  }
  return { failed };
}
