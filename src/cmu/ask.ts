// The shell's questions: the y/n confirmation after the CRITICAL banner, the per-server recovery
// prompts, and hidden passwords. End of input always means the cautious answer (no / abort).
import type { ShellContext } from "./context.ts";
import {
  CONFIRM_PROMPT,
  CRITICAL_BANNER,
  PASSWORD_PROMPT,
  RETRY_IGNORE_ABORT_PROMPT,
  RETRY_ROLLBACK_IGNORE_PROMPT,
} from "./render.ts";

/** Prints the CRITICAL banner and asks y/n until it gets one (docs/cloudhsm-behaviour.md, "The CMU shell"). */
export async function confirmCritical(ctx: ShellContext): Promise<boolean> {
  ctx.print(...CRITICAL_BANNER);
  for (;;) {
    const answer = await ctx.prompter.ask(CONFIRM_PROMPT);
    if (answer === null) return false;
    const a = answer.trim();
    if (a === "y" || a === "Y") return true;
    if (a === "n" || a === "N") return false;
    ctx.print("Invalid option, please type 'y' or 'n'", "");
  }
}

export type Recovery = "retry" | "ignore" | "abort" | "rollback";
export type RecoveryStyle = "RIA" | "RBI";

/**
 * The prompts show the seeds' letters (createUser R/I/A, deleteUser R/B/I), but every answer means
 * the same everywhere and all four are accepted at both: `B` at R/I/A rolls back too, `A` at
 * R/B/I stops too. CMU documents neither extra letter; they cost nothing and save a divergent
 * cluster when the wrong prompt comes up.
 */
const ANSWERS: Readonly<Record<string, Recovery>> = { R: "retry", I: "ignore", A: "abort", B: "rollback" };

const SHOWN: Readonly<Record<RecoveryStyle, readonly string[]>> = { RIA: ["R", "I", "A"], RBI: ["R", "B", "I"] };

export function recoveryPrompt(style: RecoveryStyle): string {
  return style === "RIA" ? RETRY_IGNORE_ABORT_PROMPT : RETRY_ROLLBACK_IGNORE_PROMPT;
}

/** Asks what to do about a failed server; end of input stops the command ("abort") whatever the style. */
export async function askRecovery(ctx: ShellContext, style: RecoveryStyle): Promise<Recovery> {
  const prompt = recoveryPrompt(style);
  for (;;) {
    const answer = await ctx.prompter.ask(prompt);
    if (answer === null) return "abort";
    const choice = ANSWERS[answer.trim().toUpperCase()];
    if (choice !== undefined) return choice;
    const quoted = SHOWN[style].map((l) => `'${l}'`);
    const extra =
      style === "RIA"
        ? "'B' rolls back the servers that already have the change"
        : "'A' stops without undoing anything";
    ctx.print(`Invalid option, please type ${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1) ?? ""} (${extra})`, "");
  }
}

/** Asks for a new password twice (`-hpswd`), so a typo cannot lock an officer out; null if they differ or input ended. */
export async function askNewPassword(ctx: ShellContext): Promise<string | null> {
  const first = await ctx.prompter.ask(PASSWORD_PROMPT, { hidden: true });
  if (first === null) return null;
  const second = await ctx.prompter.ask("Re-enter password:", { hidden: true });
  if (second === null) return null;
  if (first !== second) {
    ctx.print("The passwords do not match; nothing was changed.");
    return null;
  }
  return first;
}

export async function askPassword(ctx: ShellContext): Promise<string | null> {
  return ctx.prompter.ask(PASSWORD_PROMPT, { hidden: true });
}
