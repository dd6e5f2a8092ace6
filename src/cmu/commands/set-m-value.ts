// setMValue <service#> <m> (docs/cloudhsm-behaviour.md, "Quorum services and M" and "CMU commands"): banner, y/n, progress line, per server with R/I/A.
import { parseSmallInt, printUsage } from "../args.ts";
import { confirmCritical } from "../ask.ts";
import type { Command } from "../context.ts";
import { fanOutMutating } from "../fan-out.ts";
import { settingMValueLine } from "../render.ts";
import { warnOnLockout } from "../lockout-warning.ts";
import { hasMValue } from "../probes.ts";
import { callServer } from "../session.ts";

export const setMValue: Command = {
  name: "setMValue",
  usage: "setMValue <service#> <m>",
  summary: "Set the quorum minimum (M) of a service on every HSM; once M is above 1, this needs a service-4 token.",
  async run(ctx, args) {
    const [serviceWord, valueWord, ...rest] = args;
    const service = parseSmallInt(serviceWord);
    const value = parseSmallInt(valueWord);
    if (service === null || value === null || rest.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    await warnOnLockout(ctx, { kind: "setMValue", service, value });
    if (!(await confirmCritical(ctx))) return "continue";
    ctx.print(settingMValueLine(value, service, ctx.servers.length));
    await fanOutMutating(ctx, {
      command: "setMValue",
      style: "RIA",
      send: (s) => callServer(s, "set-m-value", { service, value }),
      landed: (s) => hasMValue(s, service, value),
      repair: [
        "run setMValue again in server mode ('server <n>') on the servers without the change",
        "(syncUser copies users, not M values).",
      ],
    });
    return "continue";
  },
};
