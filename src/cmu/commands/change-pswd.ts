// changePswd <user-type> <user-name> <new-password | -hpswd> [-2fa <authdata-file>] (docs/cloudhsm-behaviour.md, "CMU commands").
// With -2fa the user's 2FA key is set or rotated; without it, a 2FA user loses 2FA (and the HSM
// drops the MofN key with it, seed 004). Activation is `changePswd PRECO admin <new>`.
import { USER_TYPES } from "../../hsm/model.ts";
import { readUserCommandArgs } from "../args.ts";
import { askNewPassword, confirmCritical } from "../ask.ts";
import type { Command } from "../context.ts";
import { enrolTwoFactor } from "../enroll.ts";
import { fanOutMutating } from "../fan-out.ts";
import { warnOnLockout } from "../lockout-warning.ts";
import { changingPasswordLine, successLine } from "../render.ts";
import { callServer } from "../session.ts";

export const changePswd: Command = {
  name: "changePswd",
  usage: "changePswd <CO|CU|PCO|PRECO> <user-name> <new-password | -hpswd> [-2fa <authdata-file>]",
  summary: "Change a user's password on every HSM, and set, rotate or remove a crypto officer's 2FA key.",
  async run(ctx, args) {
    const parsed = readUserCommandArgs(ctx, this, args, USER_TYPES);
    if (parsed === null) return "continue";
    const { type, name } = parsed;
    if (parsed.twoFactorPath !== null && type !== "CO" && type !== "PCO") {
      ctx.print("2FA is available for crypto officers (CO) only; nothing was sent.");
      return "continue";
    }
    const password = parsed.password ?? (await askNewPassword(ctx));
    if (password === null) return "continue";
    await warnOnLockout(ctx, {
      kind: "changePswd",
      userType: type,
      userName: name,
      keepsQuorumKey: parsed.twoFactorPath !== null,
    });
    if (!(await confirmCritical(ctx))) return "continue";
    ctx.print(changingPasswordLine(name, type, ctx.servers.length));

    const enrolment =
      parsed.twoFactorPath === null ? null : await enrolTwoFactor(ctx, "changePswd", parsed.twoFactorPath);
    if (parsed.twoFactorPath !== null && enrolment === null) return "continue";
    await fanOutMutating(ctx, {
      command: "changePswd",
      style: "RIA",
      servers: enrolment?.servers ?? ctx.servers,
      skipped: enrolment?.skipped ?? [],
      send: (server) => {
        const twoFactor = enrolment?.proofs.get(server);
        return callServer(
          server,
          "change-password",
          twoFactor === undefined
            ? { userType: type, userName: name, password }
            : { userType: type, userName: name, password, twoFactor },
        );
      },
      onSuccess: (server, data) => {
        // Activation turns PRECO into PCO: keep `info server` truthful about who is logged in.
        if (server.login !== null && server.login.name.toLowerCase() === data.user.name.toLowerCase()) {
          server.login = { name: server.login.name, type: data.user.type };
        }
        ctx.print(successLine("changePswd", server));
      },
    });
    return "continue";
  },
};
