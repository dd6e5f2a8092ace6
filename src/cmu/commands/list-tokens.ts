// listTokens: every token each HSM holds, framed per server (docs/cloudhsm-behaviour.md, "Tokens", seed 000); no login needed.
import { printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { printFailure } from "../fan-out.ts";
import { listTokensServerBlock, serverFrame } from "../render.ts";
import { callServer } from "../session.ts";

export const listTokens: Command = {
  name: "listTokens",
  usage: "listTokens",
  summary: "Show the quorum tokens on every HSM with their approvals and remaining validity.",
  async run(ctx, args) {
    if (args.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    let failed = 0;
    for (const server of ctx.servers) {
      const result = await callServer(server, "list-tokens", {}, false);
      if (result.ok) ctx.print(...listTokensServerBlock(server, result.data.tokens));
      else {
        failed++;
        ctx.print(...serverFrame(server));
        printFailure(ctx, "listTokens", server, result.error);
      }
    }
    ctx.print(
      "",
      failed === 0 ? "listTokens success" : `listTokens failed on ${failed} of ${ctx.servers.length} servers`,
    );
    return "continue";
  },
};
