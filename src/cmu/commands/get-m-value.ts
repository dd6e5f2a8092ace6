// getMValue <service#>: the quorum minimum of a service on every server (docs/cloudhsm-behaviour.md, "CMU commands", seed 003).
import { parseSmallInt, printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { fanOutReadOnly } from "../fan-out.ts";
import { mValueLine, serviceName } from "../render.ts";
import { callServer } from "../session.ts";

export const getMValue: Command = {
  name: "getMValue",
  usage: "getMValue <service#>",
  summary: "Show the quorum minimum (M) of a service on every HSM (3 = user management, 4 = M values).",
  async run(ctx, args) {
    const [serviceWord, ...rest] = args;
    const service = parseSmallInt(serviceWord);
    if (service === null || rest.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    await fanOutReadOnly(
      ctx,
      "getMValue",
      (s) => callServer(s, "get-m-value", { service }, false),
      (s, data) => ctx.print(mValueLine(data.service, data.name || serviceName(data.service), s, data.value)),
    );
    return "continue";
  },
};
