// approveToken <approval-file> (docs/cloudhsm-behaviour.md, "The approval file", seed 000). Reads the approval file, the token file
// and every signature file it names, checks them, and sends the whole set to every HSM, which
// verifies each signature against the approver's registered key.
//
// Each HSM keeps its own approvals. When some server failed (down, slow, restarted and so without
// the session's token) or counted fewer approvals than its M, the shell says which servers hold an
// approved token and which do not, so a token never looks approved where it is not.
import type { TokenView } from "../../protocol/messages.ts";
import { loadApproval } from "../approval-loader.ts";
import { printUsage } from "../args.ts";
import type { Command } from "../context.ts";
import { fanOutReadOnly } from "../fan-out.ts";
import { serverRef, successLine } from "../render.ts";
import { callServer, type Server } from "../session.ts";

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
    const tokens = new Map<Server, TokenView>();
    const { failedServers } = await fanOutReadOnly(
      ctx,
      "approveToken",
      (s) => callServer(s, "approve-token", { tokenData: approval.tokenData, approvals: approval.approvals }),
      (s, data) => {
        tokens.set(s, data.token);
        ctx.print(successLine("approveToken", s));
      },
    );
    const approved = [...tokens].filter(([, t]) => t.approvers.length >= t.required).map(([s]) => s);
    const short = [...tokens].filter(([, t]) => t.approvers.length < t.required);
    if (failedServers.length === 0 && short.length === 0) return "continue";
    const names = (servers: readonly Server[]): string => servers.map(serverRef).join(", ");
    ctx.print(
      approved.length === 0
        ? "The token is approved on no server."
        : `The token is approved on ${approved.length} of ${ctx.servers.length} servers only: ${names(approved)}.`,
    );
    for (const [s, t] of short)
      ctx.print(
        `  ${serverRef(s)} recorded ${t.approvers.length} of the ${t.required} approvals it needs: not approved there.`,
      );
    if (failedServers.length > 0) ctx.print(`  ${names(failedServers)} recorded no approval (see the failure above).`);
    ctx.print(
      "  Quorum operations fail with RET_MXN_AUTH_FAILED where the token is not approved: run approveToken again once those servers answer (after a restart they need loginHSM and a new token), and check with listTokens.",
    );
    return "continue";
  },
};
