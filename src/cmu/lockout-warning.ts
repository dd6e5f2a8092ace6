// Our extension to the CMU shell (docs/emulator-fidelity.md): before a command that could leave
// too few officers able to sign for a quorum service, say so, with the numbers. CloudHSM's CMU
// prints nothing of the kind; the command still runs as the HSM would run it. The rule itself is
// the gate's lock-out guard (docs/governance.md, "Lock-out guard").
import { checkLockout, type GuardOperation } from "../gate/lockout-guard.ts";
import type { ShellContext } from "./context.ts";
import { callServer } from "./session.ts";

/** Prints the warning when the guard refuses; silent when it cannot tell (the first server is unreachable). */
export async function warnOnLockout(ctx: ShellContext, operation: GuardOperation): Promise<void> {
  const server = ctx.servers[0];
  if (server === undefined) return;
  const [users, values] = await Promise.all([
    callServer(server, "list-users", {}, false),
    callServer(server, "quorum-values", {}, false),
  ]);
  if (!users.ok || !values.ok) return;
  const result = checkLockout({
    users: users.data.users.map((u) => ({
      name: u.name,
      type: u.type,
      hasQuorumKey: u.mofnPubKey,
      twoFactor: u.twoFactor,
    })),
    mValues: { 3: values.data.user, 4: values.data.quorum },
    operation,
  });
  if (!result.ok) ctx.print(`Warning: lock-out risk (${result.reason}): ${result.message}.`);
}
