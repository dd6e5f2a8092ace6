// approveToken <approval-file> (facts §4.10, seed 000). Reads the approval file, the token file
// and every signature file it names, checks them, and sends the whole set to every HSM, which
// verifies each signature against the approver's registered key.
import { loadApproval } from "../approval-loader.ts";
import { printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { fanOutReadOnly } from "../fan-out.ts";
import { successLine } from "../render.ts";
import { callServer } from "../session.ts";

export const approveToken: Command = {
  name: "approveToken",
  usage: "approveToken <approval-file>",
  summary: "Approve a quorum token on every HSM with the officers' signatures listed in a token approval file.",
  async run(ctx, args) {
    const [file, ...rest] = args;
    if (file === undefined || file === "" || rest.length > 0) {
      printUsage(ctx, this);
      return "continue";
    }
    const approval = await loadApproval(ctx, file);
    if (approval === null) return "continue";
    await fanOutReadOnly(
      ctx,
      "approveToken",
      (s) => callServer(s, "approve-token", { tokenData: approval.tokenData, approvals: approval.approvals }),
      (s) => ctx.print(successLine("approveToken", s)),
    );
    return "continue";
  },
};
