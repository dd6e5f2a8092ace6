// info server <id> (docs/cloudhsm-behaviour.md, "CMU commands"): one row per server with its connection and login state.
// `info` alone lists every server (our extension, handy with several nodes).
import { parseSmallInt, printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { INFO_HEADER, infoRow, loginStateText } from "../render.ts";
import { callServer, type Server } from "../session.ts";

export const info: Command = {
  name: "info",
  usage: "info server <server-id> | info",
  summary: "Show a server's address, connection state, HSM id and who is logged in (all servers without arguments).",
  async run(ctx, args) {
    let chosen: readonly Server[] = ctx.allServers;
    if (args.length > 0) {
      const [word, idWord, ...rest] = args;
      const id = parseSmallInt(idWord);
      const server = ctx.allServers.find((s) => s.index === id);
      if (word !== "server" || id === null || rest.length > 0) {
        printUsage(ctx, this);
        return "continue";
      }
      if (server === undefined) {
        ctx.print(`No server ${id}: the cluster has servers 0 to ${ctx.allServers.length - 1}`);
        return "continue";
      }
      chosen = [server];
    }
    ctx.print(INFO_HEADER);
    for (const server of chosen) {
      // A quick hello keeps the State column honest.
      await callServer(server, "hello", {}, false);
      ctx.print(
        infoRow({
          index: server.index,
          host: server.host,
          port: server.port,
          state: server.reachable ? "Connected" : "Disconnected",
          partition: server.hsmId,
          loginState: loginStateText(server.login),
        }),
      );
    }
    return "continue";
  },
};
