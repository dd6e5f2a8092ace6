// logoutHSM: ends the session on every server; the HSMs drop the session's quorum tokens (docs/cloudhsm-behaviour.md, "CMU commands").
import { printUsage } from "../args.ts";
import type { Command, ShellContext } from "../context.ts";
import { printFailure } from "../fan-out.ts";
import { successLine } from "../render.ts";
import { callServer } from "../session.ts";

export const logoutHsm: Command = {
  name: "logoutHSM",
  usage: "logoutHSM",
  summary: "Log out on every HSM; quorum tokens of the session are discarded.",
  async run(ctx, args) {
    if (args.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    await logoutAll(ctx, false);
    return "continue";
  },
};

/** Logs out wherever there is a session. `quiet` is for quit/EOF, where only the farewell line prints. */
export async function logoutAll(ctx: ShellContext, quiet: boolean): Promise<void> {
  for (const server of ctx.servers) {
    if (server.sessionId === null) {
      if (!quiet)
        printFailure(ctx, "logoutHSM", server, { code: "RET_NOT_LOGGED_IN", message: "not logged in on this server" });
      continue;
    }
    const result = await callServer(server, "logout", {});
    // An unreachable node still holds the session: keep it so a later logoutHSM can end it.
    if (result.ok || result.error.code !== "RET_NODE_UNREACHABLE") {
      server.sessionId = null;
      server.login = null;
    }
    if (quiet) continue;
    if (result.ok) ctx.print(successLine("logoutHSM", server));
    else printFailure(ctx, "logoutHSM", server, result.error);
  }
}
