// The aws-cloudhsm> loop: read a line, run the command it names, repeat until quit or end of
// input, then log out everywhere. In server mode the prompt is `server<n>>` (docs/cloudhsm-behaviour.md, "The CMU shell"). No input line can end the shell early: parse problems are
// printed, and an unexpected exception in a command is reported and the loop goes on.
import { COMMANDS, COMMAND_NAMES } from "./commands/index.ts";
import { logoutAll } from "./commands/logout-hsm.ts";
import type { ShellContext } from "./context.ts";
import { parseLine } from "./line-parser.ts";
import { DISCONNECTING, SHELL_PROMPT, serverModePrompt } from "./render.ts";

export async function runShell(ctx: ShellContext): Promise<void> {
  for (;;) {
    const line = await ctx.prompter.ask(
      ctx.serverMode === null ? SHELL_PROMPT : serverModePrompt(ctx.serverMode.index),
    );
    if (line === null) break;
    const parsed = parseLine(line, COMMAND_NAMES);
    if (parsed.kind === "empty") continue;
    if (parsed.kind === "error") {
      ctx.print(parsed.message);
      continue;
    }
    const command = COMMANDS.find((c) => c.name === parsed.name);
    if (command === undefined) continue;
    let next: "continue" | "quit" = "continue";
    try {
      next = await command.run(ctx, parsed.args);
    } catch (err) {
      ctx.print(`${command.name}: internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (next === "quit") break;
  }
  ctx.setServerMode(null); // log out of every server, not only the one of server mode
  ctx.print(DISCONNECTING);
  await logoutAll(ctx, true);
}
