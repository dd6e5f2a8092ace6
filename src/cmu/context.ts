// What every command gets: the servers, a way to ask the user, a way to print, and the directory
// that relative file names are resolved against.
import type { Prompter } from "./prompt.ts";
import type { Server } from "./session.ts";

export interface ShellContext {
  readonly servers: readonly Server[];
  readonly prompter: Prompter;
  /** Prints lines (each gets a newline). */
  print(...lines: readonly string[]): void;
  readonly cwd: string;
}

export interface Command {
  readonly name: string;
  /** One usage line, printed for wrong arguments and by `help`. */
  readonly usage: string;
  /** One sentence for `help`, in our own words. */
  readonly summary: string;
  /** Runs the command; returns "quit" to end the shell. Never throws for bad user input. */
  run(ctx: ShellContext, args: readonly string[]): Promise<"continue" | "quit">;
}
