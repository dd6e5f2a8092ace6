// help [command]: our own words; the usage lines are the ones wrong arguments print.
import type { Command } from "../context.ts";
import { resolveCommand } from "../line-parser.ts";

export function makeHelp(all: () => readonly Command[]): Command {
  const help: Command = {
    name: "help",
    usage: "help [command]",
    summary: "List the commands, or show how to use one.",
    async run(ctx, args) {
      const commands = all();
      const [word, ...rest] = args;
      if (word !== undefined && rest.length === 0) {
        const found = resolveCommand(
          word,
          commands.map((c) => c.name),
        );
        const command = found.ok ? commands.find((c) => c.name === found.name) : undefined;
        if (command === undefined) ctx.print(`No command '${word}'; type 'help' for the list.`);
        else ctx.print(command.summary, `Usage: ${command.usage}`);
        return "continue";
      }
      ctx.print(
        "Commands run on every server of the cluster file, in server order, or on one server after",
        "'server <n>' (server mode, left with 'exit'). A unique prefix of a command name is enough",
        "(listU = listUsers). Type 'help <command>' for its usage.",
        "",
        ...commands.map((c) => `  ${c.name.padEnd(22)}${c.summary}`),
      );
      return "continue";
    },
  };
  return help;
}
