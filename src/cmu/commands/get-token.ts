// getToken <service#> <user-name> <token-file> (docs/cloudhsm-behaviour.md, "Tokens", seed 000). Each HSM issues a token
// bound to this login session; the token file is the concatenation of the HSMs' records in
// server order, which is exactly what approvers sign (`openssl dgst -sha256 -sign`).
import { parseSmallInt, printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { fanOutReadOnly } from "../fan-out.ts";
import { canWrite, writeUserFile } from "../files.ts";
import { getTokenBlock } from "../render.ts";
import { callServer } from "../session.ts";

export const getToken: Command = {
  name: "getToken",
  usage: "getToken <service#> <user-name> <token-file>",
  summary:
    "Get a quorum token from every HSM for a service (3 = user management, 4 = M values) and save it to a file for signing.",
  async run(ctx, args) {
    const [serviceWord, name, file, ...rest] = args;
    const service = parseSmallInt(serviceWord);
    if (service === null || name === undefined || file === undefined || file === "" || rest.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    if (!(await canWrite(ctx, file, "the token file"))) return "continue";
    const records: Buffer[] = [];
    const { failed } = await fanOutReadOnly(
      ctx,
      "getToken",
      (s) => callServer(s, "get-token", { service, userName: name }),
      (s, data) => {
        records.push(Buffer.from(data.record, "base64"));
        ctx.print(...getTokenBlock(s, data.token));
      },
    );
    if (records.length === 0) return "continue";
    if (!(await writeUserFile(ctx, file, Buffer.concat(records), "the token file"))) return "continue";
    if (failed > 0) {
      ctx.print(
        `RET_CLUSTER_OPERATION_INCOMPLETE: "${file}" holds the tokens of ${records.length} of ${ctx.servers.length} servers`,
      );
    }
    return "continue";
  },
};
