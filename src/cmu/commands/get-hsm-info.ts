// getHSMInfo: what each node says about itself (docs/cloudhsm-behaviour.md, "CMU commands"). The emulator has no hardware, so the
// block shows the node's identity and counters instead of a vendor's model and serial numbers.
import { printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { fanOutReadOnly } from "../fan-out.ts";
import { gettingHsmInfoLine } from "../render.ts";
import { callServer } from "../session.ts";

export const getHsmInfo: Command = {
  name: "getHSMInfo",
  usage: "getHSMInfo",
  summary: "Show each HSM's identity, firmware, activation state and counters.",
  async run(ctx, args) {
    if (args.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    ctx.print(gettingHsmInfoLine(ctx.servers.length));
    await fanOutReadOnly(
      ctx,
      "getHSMInfo",
      (s) => callServer(s, "hello", {}, false),
      (s, data) =>
        ctx.print(
          "",
          `*** Server ${s.index} HSM Info ***`,
          "",
          `\tLabel                :${data.hsmId}`,
          `\tModel                :quorum-gate emulated HSM`,
          `\tCluster ID           :${data.clusterId}`,
          `\tNode ID              :${data.nodeId}`,
          `\tFirmware ID          :${data.firmware}`,
          `\tActivated            :${data.activated ? "yes" : "no (PRECO)"}`,
          `\tNumber of users      :${data.users}`,
          `\tNumber of tokens     :${data.tokens}`,
        ),
    );
    return "continue";
  },
};
