// syncUser <user ID> <server ID> (docs/cloudhsm-behaviour.md, "CMU commands"), in server mode: copies the user with that ID from
// the current server to another one, as CMU does with a masked object. The source exports the
// whole user record (password verifier, quorum key, 2FA) encrypted under the cluster's masking
// key; the target imports it, replacing a user of the same name. On the target this is a user
// management operation: with M(3) > 1 the session there needs an approved USER_MGMT token, as for
// createUser (the node enforces it).
//
//   server0>syncUser 8 1
//   ExtractMaskedObject: 0x0 !
//   InsertMaskedObject: 0x0 !
//   syncUser success
//
// A failure prints `syncUser failed: <RET code>` and which step failed on which server, then the
// R/I/A prompt (syncUser uses R/I/A like the other commands with a banner); no success line.
import type { UserView } from "../../protocol/messages.ts";
import { parseSmallInt, printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { attemptOnServer, fanOutMutating } from "../fan-out.ts";
import { EXTRACT_OK, INSERT_OK, serverRef, SYNC_USER_SUCCESS } from "../render.ts";
import { callServer, type Server } from "../session.ts";
import { findServer } from "./server-mode.ts";

export const syncUser: Command = {
  name: "syncUser",
  usage: "syncUser <user ID> <server ID>",
  summary:
    "In server mode: copy a user (password, quorum key, 2FA) from this server to another one, to repair a divergent cluster.",
  async run(ctx, args) {
    const [idWord, serverWord, ...rest] = args;
    const userId = parseSmallInt(idWord);
    const targetIndex = parseSmallInt(serverWord);
    if (userId === null || targetIndex === null || rest.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    const source = ctx.serverMode;
    if (source === null) {
      ctx.print(
        "syncUser works in server mode, on the server that has the user: type 'server <n>' first, then 'syncUser <user ID> <server ID>'.",
      );
      return "continue";
    }
    const target = findServer(ctx, targetIndex);
    if (target === null) return "continue";
    if (target === source) {
      ctx.print(`syncUser copies a user to another server; server ${source.index} is the one this shell is on.`);
      return "continue";
    }
    for (const s of [source, target]) {
      if (s.sessionId === null) {
        ctx.print(
          `syncUser needs a login on ${serverRef(s)} (source and target); 'exit', then loginHSM, logs in on every server.`,
        );
        return "continue";
      }
    }

    const extracting = `extracting user ${userId} from ${serverRef(source)} failed`;
    const users = await attemptOnServer(ctx, {
      command: "syncUser",
      style: "RIA",
      server: source,
      send: () => callServer(source, "list-users", {}, false),
      failedOn: () => extracting,
    });
    if (users === null) return "continue";
    const user = users.users.find((u) => u.id === userId);
    if (user === undefined) {
      ctx.print(`syncUser failed: no user with ID ${userId} on ${serverRef(source)} (listUsers shows the IDs)`);
      return "continue";
    }
    const exported = await attemptOnServer(ctx, {
      command: "syncUser",
      style: "RIA",
      server: source,
      send: () => callServer(source, "export-user", { userName: user.name }),
      failedOn: () => extracting,
    });
    if (exported === null) return "continue";
    ctx.print(EXTRACT_OK);

    const outcome = await fanOutMutating(ctx, {
      command: "syncUser",
      style: "RIA",
      servers: [target],
      send: (s) => callServer(s, "import-user", { masked: exported.masked }),
      onSuccess: () => ctx.print(INSERT_OK),
      failedOn: (s) => `inserting user ${userId} into ${serverRef(s)} failed`,
      landed: (s) => hasCopy(s, exported.user),
      repair: [
        `run syncUser ${userId} ${target.index} again once ${serverRef(target)} answers, and compare with listUsers.`,
      ],
    });
    if (outcome.applied.includes(target)) ctx.print(SYNC_USER_SUCCESS);
    return "continue";
  },
};

/** After a lost answer: the target shows the user exactly as exported (the password cannot be seen). */
async function hasCopy(server: Server, user: UserView): Promise<boolean> {
  const result = await callServer(server, "list-users", {}, false);
  if (!result.ok) return false;
  const found = result.data.users.find((u) => u.name.toLowerCase() === user.name.toLowerCase());
  return (
    found !== undefined &&
    found.id === user.id &&
    found.type === user.type &&
    found.mofnPubKey === user.mofnPubKey &&
    found.twoFactor === user.twoFactor
  );
}
