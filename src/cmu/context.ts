// What every command gets: the servers in scope, a way to ask the user, a way to print, and the
// directory that relative file names are resolved against.
//
// Global mode and server mode (docs/cloudhsm-behaviour.md, "The CMU shell"): in global mode `servers` is every server of the
// cluster file; after `server <n>` it is that one server, so every command (loginHSM, createUser,
// listUsers...) runs there only. `allServers` always lists every server in index order, for the
// commands that name a server by its index (`server`, `info server`, `syncUser`).
import type { Prompter } from "./prompt.ts";
import type { Server } from "./session.ts";

export interface ShellContext {
  /** The servers a command runs on: all of them, or the one of server mode. */
  readonly servers: readonly Server[];
  /** Every server of the cluster file, in index order. */
  readonly allServers: readonly Server[];
  /** The server of server mode, or null in global mode. */
  readonly serverMode: Server | null;
  /** Enters server mode on a server, or goes back to global mode with null. */
  setServerMode(server: Server | null): void;
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

export interface ContextParts {
  readonly allServers: readonly Server[];
  readonly prompter: Prompter;
  print(...lines: readonly string[]): void;
  readonly cwd: string;
}

/** The shell's context, starting in global mode. */
export function createShellContext(parts: ContextParts): ShellContext {
  let mode: Server | null = null;
  const print = parts.print;
  return {
    get servers() {
      return mode === null ? parts.allServers : [mode];
    },
    allServers: parts.allServers,
    get serverMode() {
      return mode;
    },
    setServerMode(server) {
      mode = server;
    },
    prompter: parts.prompter,
    print,
    cwd: parts.cwd,
  };
}
