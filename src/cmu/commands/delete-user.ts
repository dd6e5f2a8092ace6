// deleteUser <user-type> <user-name> (docs/cloudhsm-behaviour.md, "CMU commands"): no banner; a failed server asks R/B/I (seed 000).
import { USER_TYPES } from "../../hsm/model.ts";
import { parseUserType, printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { fanOutMutating } from "../fan-out.ts";
import { deletingUserLine } from "../render.ts";
import { warnOnLockout } from "../lockout-warning.ts";
import { lacksUser } from "../probes.ts";
import { callServer } from "../session.ts";

export const deleteUser: Command = {
  name: "deleteUser",
  usage: "deleteUser <CO|CU> <user-name>",
  summary: "Delete a user on every HSM (needs an approved quorum token when M of service 3 is above 1).",
  async run(ctx, args) {
    const [typeWord, name, ...rest] = args;
    const type = parseUserType(typeWord, USER_TYPES);
    if (type === null || name === undefined || rest.length > 0) {
      printUsage(ctx, this, type === null && typeWord !== undefined ? `Invalid user type '${typeWord}'` : undefined);
      return "continue";
    }
    await warnOnLockout(ctx, { kind: "deleteUser", userType: type, userName: name });
    ctx.print(deletingUserLine(name, type, ctx.servers.length));
    await fanOutMutating(ctx, {
      command: "deleteUser",
      style: "RBI",
      send: (server) => callServer(server, "delete-user", { userType: type, userName: name }),
      landed: (server) => lacksUser(server, name),
      repair: [
        "run deleteUser again in server mode ('server <n>') on the servers that still have the user;",
        "or copy it back where it is gone: 'server <n>' on a server that has it, then 'syncUser <user ID> <server ID>'.",
      ],
    });
    return "continue";
  },
};
