// createUser <user-type> <user-name> <password | -hpswd> [-2fa <authdata-file>] (docs/cloudhsm-behaviour.md, "CMU commands").
// CRITICAL banner, y/n, progress line, then per server; a failed server asks R/I/A (seed 000).
import type { UserType } from "../../hsm/model.ts";
import { readUserCommandArgs } from "../args.ts";
import { askNewPassword, confirmCritical } from "../ask.ts";
import type { Command } from "../context.ts";
import { enrolTwoFactor } from "../enroll.ts";
import { fanOutMutating } from "../fan-out.ts";
import { creatingUserLine } from "../render.ts";
import { hasUser } from "../probes.ts";
import { callServer } from "../session.ts";

/** CO and CU are the usual types; PCO and PRECO are accepted as CMU does ("rarely used"). */
const CREATABLE: readonly UserType[] = ["CO", "CU", "PCO", "PRECO"];

export const createUser: Command = {
  name: "createUser",
  usage: "createUser <CO|CU> <user-name> <password | -hpswd> [-2fa <authdata-file>]",
  summary: "Create a user on every HSM (needs an approved quorum token when M of service 3 is above 1).",
  async run(ctx, args) {
    const parsed = readUserCommandArgs(ctx, this, args, CREATABLE);
    if (parsed === null) return "continue";
    const { type, name } = parsed;
    if (parsed.twoFactorPath !== null && type !== "CO") {
      ctx.print("2FA is available for crypto officers (CO) only; nothing was sent.");
      return "continue";
    }
    const password = parsed.password ?? (await askNewPassword(ctx));
    if (password === null) return "continue";
    if (!(await confirmCritical(ctx))) return "continue";
    ctx.print(creatingUserLine(name, type, ctx.servers.length));

    const enrolment =
      parsed.twoFactorPath === null ? null : await enrolTwoFactor(ctx, "createUser", parsed.twoFactorPath);
    if (parsed.twoFactorPath !== null && enrolment === null) return "continue";
    await fanOutMutating(ctx, {
      command: "createUser",
      style: "RIA",
      servers: enrolment?.servers ?? ctx.servers,
      skipped: enrolment?.skipped ?? [],
      landed: (server) => hasUser(server, name),
      send: (server) => {
        const twoFactor = enrolment?.proofs.get(server);
        return callServer(
          server,
          "create-user",
          twoFactor === undefined
            ? { userType: type, userName: name, password }
            : { userType: type, userName: name, password, twoFactor },
        );
      },
    });
    return "continue";
  },
};
