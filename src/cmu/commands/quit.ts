// quit: the shell logs out everywhere and disconnects (the shell loop does that part).
import { printUsage } from "../args.ts";
import type { Command } from "../context.ts";

export const quit: Command = {
  name: "quit",
  usage: "quit",
  summary: "Log out of every HSM and leave the shell.",
  async run(ctx, args) {
    if (args.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    return "quit";
  },
};
