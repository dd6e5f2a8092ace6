// The node's audit log: one row per security-relevant command, success or failure. Opcode names
// follow the CloudHSM audit log (docs/cloudhsm-behaviour.md, "Return codes and the audit log"). Details never hold passwords or signatures.
import type { CoreContext } from "./context.ts";
import type { HsmResult } from "./ret-codes.ts";

export function audit<T>(
  ctx: CoreContext,
  opcode: string,
  userName: string | null,
  detail: string,
  result: HsmResult<T>,
): HsmResult<T> {
  ctx.repo.appendAudit({ at: ctx.env.now(), opcode, userName, detail, result: result.ok ? "RET_OK" : result.code });
  return result;
}
