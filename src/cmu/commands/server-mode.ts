// Server mode (docs/cloudhsm-behaviour.md, "The CMU shell"): `server <n>` prints CMU's `Server is in 'E2' mode...` and the prompt
// becomes `server<n>>`; from then on every command runs on that server only, until `exit` goes
// back to global mode. syncUser (syncuser.ts) works only here.
import { parseSmallInt, printUsage } from "../args.ts";
import type { Command, ShellContext } from "../context.ts";
import { SERVER_MODE_LINE } from "../render.ts";
import type { Server } from "../session.ts";

export function findServer(ctx: ShellContext, index: number): Server | null {
  const server = ctx.allServers.find((s) => s.index === index);
  if (server === undefined) {
    ctx.print(`No server ${index}: the cluster has servers 0 to ${ctx.allServers.length - 1}`);
    return null;
  }
  return server;
}

export const server: Command = {
  name: "server",
  usage: "server <server-id>",
  summary: "Enter server mode: the following commands run on that server only, until 'exit'.",
  async run(ctx, args) {
    const [idWord, ...rest] = args;
    const id = parseSmallInt(idWord);
    if (id === null || rest.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    const chosen = findServer(ctx, id);
    if (chosen === null) return "continue";
    ctx.setServerMode(chosen);
    ctx.print(SERVER_MODE_LINE);
    return "continue";
  },
};

export const exit: Command = {
  name: "exit",
  usage: "exit",
  summary: "Leave server mode and go back to running commands on every server.",
  async run(ctx, args) {
    if (args.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    if (ctx.serverMode === null) ctx.print("Not in server mode (type 'quit' to leave the shell).");
    ctx.setServerMode(null);
    return "continue";
  },
};
