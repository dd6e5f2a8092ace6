// delToken <token-file> | delToken -all. CMU's syntax is undocumented (docs/cloudhsm-behaviour.md, "Tokens"); this follows
// the vendor tool: delete the tokens of a token file, or every token of the logged-in user.
import { LIMITS } from "../../hsm/model.ts";
import { decodeRecords, RECORD_V2_SIZE } from "../../hsm/token-record.ts";
import { printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { fanOutReadOnly } from "../fan-out.ts";
import { readUserFile } from "../files.ts";
import { successLine } from "../render.ts";
import { callServer } from "../session.ts";

export const delToken: Command = {
  name: "delToken",
  usage: "delToken <token-file> | delToken -all",
  summary: "Delete your quorum tokens on every HSM: those of a token file, or all of them with -all.",
  async run(ctx, args) {
    const [target, ...rest] = args;
    if (target === undefined || target === "" || rest.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    let tokenData: string | null = null;
    if (target !== "-all") {
      const bytes = await readUserFile(ctx, target, "the token file", {
        maxBytes: LIMITS.maxTokensPerFile * RECORD_V2_SIZE,
      });
      if (bytes === null) return "continue";
      const records = decodeRecords(bytes);
      if (!records.ok) {
        ctx.print(`The token file "${target}" is not a token file from getToken: ${records.reason}`);
        return "continue";
      }
      tokenData = bytes.toString("base64");
    }
    await fanOutReadOnly(
      ctx,
      "delToken",
      (s) => callServer(s, "del-token", tokenData === null ? {} : { tokenData }),
      (s, data) => ctx.print(successLine("delToken", s), `Num of tokens deleted = ${data.deleted}`),
    );
    return "continue";
  },
};
