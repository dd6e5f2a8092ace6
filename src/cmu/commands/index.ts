// The command table of the shell. Names are CMU's; lookup by unique prefix is in line-parser.ts.
import type { Command } from "../context.ts";
import { approveToken } from "./approve-token.ts";
import { changePswd } from "./change-pswd.ts";
import { createUser } from "./create-user.ts";
import { delToken } from "./del-token.ts";
import { deleteUser } from "./delete-user.ts";
import { getHsmInfo } from "./get-hsm-info.ts";
import { getMValue } from "./get-m-value.ts";
import { getToken } from "./get-token.ts";
import { makeHelp } from "./help.ts";
import { info } from "./info.ts";
import { listTokens } from "./list-tokens.ts";
import { listUsers } from "./list-users.ts";
import { loginHsm } from "./login-hsm.ts";
import { logoutHsm } from "./logout-hsm.ts";
import { quit } from "./quit.ts";
import { registerMofnPubKey } from "./register-mofn-pub-key.ts";
import { registerQuorumPubKey } from "./register-quorum-pub-key.ts";
import { exit, server } from "./server-mode.ts";
import { setMValue } from "./set-m-value.ts";
import { syncUser } from "./sync-user.ts";

export const COMMANDS: readonly Command[] = [
  loginHsm,
  logoutHsm,
  listUsers,
  createUser,
  deleteUser,
  changePswd,
  registerQuorumPubKey,
  registerMofnPubKey,
  getToken,
  approveToken,
  listTokens,
  delToken,
  getMValue,
  setMValue,
  info,
  getHsmInfo,
  server,
  syncUser,
  exit,
  makeHelp(() => COMMANDS),
  quit,
];

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);
