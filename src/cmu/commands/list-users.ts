// listUsers: the user table of every server (docs/cloudhsm-behaviour.md, "CMU commands"); no login needed.
import { printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { fanOutReadOnly } from "../fan-out.ts";
import { listUsersBlock } from "../render.ts";
import { callServer } from "../session.ts";

export const listUsers: Command = {
  name: "listUsers",
  usage: "listUsers",
  summary: "Show the users of every HSM, with their quorum key, login failures and 2FA state.",
  async run(ctx, args) {
    if (args.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    await fanOutReadOnly(
      ctx,
      "listUsers",
      (s) => callServer(s, "list-users", {}, false),
      (s, data) => ctx.print(...listUsersBlock(s, data.users)),
    );
    return "continue";
  },
};
