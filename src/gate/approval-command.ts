// The approval-comment grammar (docs/approvals.md). A command is a line that starts, in the first
// column, with `/quorum` and a verb:
//
//   /quorum approve <base64 signature>   the signature may wrap onto the following lines, up to a
//                                        blank line; or `/quorum approve` alone, followed by a
//                                        fenced code block that holds the signature
//   /quorum approve until=<UTC> <sig>    a signature over the approval payload with that
//                                        `expires-at` (docs/approvals.md, "The approval payload")
//   /quorum reject until=<UTC> <sig>     the same payload with `verdict: reject`: a veto
//   /quorum countersign <sig>            a signature over the HSM's own token in the execution
//                                        window of a real cluster
//   /quorum withdraw | retry | renew | execute     no arguments
//
// `<UTC>` is a time to the second, `2026-12-13T03:00:00Z`. The signature verbs share one reader,
// so wrapping and fenced blocks work the same for all of them.
//
// Lines that Markdown hides or attributes to someone else are never commands: lines inside a
// fenced code block, inside an HTML comment, or in a block quote (including the lazy continuation
// lines right after a quoted line). A comment with two commands is ambiguous and is refused as a
// whole. Nothing here throws for any input.
import { SIGNATURE_BYTES } from "../crypto/rsa.ts";
import { decodeCanonicalBase64, decodeLenientBase64 } from "../formats/lenient-base64.ts";

export const COMMAND_PREFIX = "/quorum";
export const COMMAND_VERBS = ["approve", "reject", "countersign", "withdraw", "retry", "renew", "execute"] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];
/** Verbs that carry a signature. */
export type SignatureVerb = "approve" | "reject" | "countersign";
/** Verbs without arguments. */
export type BareVerb = "withdraw" | "retry" | "renew" | "execute";
/** GitHub's own limit on a comment body. */
export const MAX_COMMENT_CHARS = 65536;

export type ApprovalCommand =
  | {
      readonly verb: SignatureVerb;
      /** canonical base64, 256 bytes decoded */
      readonly signature: string;
      /** The same signature decoded, so the judge does not decode it again. */
      readonly bytes: Buffer;
      readonly line: number;
      /** `until=` of a payload approval or a reject: the payload's `expires-at`. */
      readonly until?: string;
    }
  | { readonly verb: BareVerb; readonly line: number };

export const COMMAND_REASONS = [
  "not_a_command",
  "unknown_command",
  "unexpected_argument",
  "malformed_signature",
  "malformed_until",
  "multiple_commands",
  "too_long",
] as const;
export type CommandReason = (typeof COMMAND_REASONS)[number];

export type CommandResult =
  | { readonly ok: true; readonly command: ApprovalCommand }
  | { readonly ok: false; readonly reason: CommandReason; readonly message: string; readonly line?: number };

interface Fence {
  readonly char: string;
  readonly length: number;
}

const OPEN_FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const QUOTE = /^ {0,3}>/;
const BLANK = /^[ \t]*$/;

export function parseApprovalComment(body: string): CommandResult {
  if (typeof body !== "string") return notACommand();
  if (body.length > MAX_COMMENT_CHARS)
    return { ok: false, reason: "too_long", message: `the comment is longer than ${MAX_COMMENT_CHARS} characters` };
  return parseSignedLine(body) ?? parseApprovalCommentLines(body);
}

/** What `quorum-gate sign` prints (`renderApprovalComment`): the approve command on one line. */
const SIGNED_LINE_PREFIX = `${COMMAND_PREFIX} approve `;

/**
 * The comment `renderApprovalComment` makes, recognised without the line-by-line grammar: the
 * prefix, a canonical base64 signature of the right size, at most a final newline. Canonical
 * base64 holds no blank and no line break, so such a comment is one command line and the grammar
 * would give exactly this result; anything else (wrapped, fenced, with text around it) is null
 * and goes through the grammar. This is the shape nearly every approval has, and the grammar's
 * line splitting and patterns cost more than the base64 check.
 */
function parseSignedLine(body: string): CommandResult | null {
  if (!body.startsWith(SIGNED_LINE_PREFIX)) return null;
  const text = body.slice(SIGNED_LINE_PREFIX.length, body.endsWith("\n") ? -1 : body.length);
  const bytes = decodeCanonicalBase64(text);
  return bytes !== null && bytes.length === SIGNATURE_BYTES ? signed("approve", text, bytes, 1, undefined) : null;
}

/** The grammar, line by line; `parseApprovalComment` without its shortcut (exported for tests). */
export function parseApprovalCommentLines(body: string): CommandResult {
  const lines = body.split(/\r\n|\r|\n/);
  const found: CommandResult[] = [];
  let fence: Fence | null = null;
  let inHtmlComment = false;
  let inQuote = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (fence !== null) {
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    if (inHtmlComment) {
      inHtmlComment = opensHtmlComment(line, true);
      continue;
    }
    const opened = openFence(line);
    if (opened !== null) {
      fence = opened;
      inQuote = false;
      continue;
    }
    if (BLANK.test(line)) {
      inQuote = false;
      continue;
    }
    if (QUOTE.test(line)) inQuote = true;
    if (!inQuote && isCommandLine(line)) {
      const parsed = readCommand(lines, i);
      found.push(parsed.result);
      i = parsed.lastLine;
      continue;
    }
    inHtmlComment = opensHtmlComment(line, false);
  }
  if (found.length === 0) return notACommand();
  if (found.length > 1) {
    const message = "the comment holds more than one /quorum command; post one command per comment";
    const line = lineOf(found[1]);
    return line === undefined
      ? { ok: false, reason: "multiple_commands", message }
      : { ok: false, reason: "multiple_commands", message, line };
  }
  return found[0] ?? notACommand();
}

/** The comment an officer posts: the command and the signature on one line. */
export function renderApprovalComment(signature: Uint8Array): string {
  return `${COMMAND_PREFIX} approve ${Buffer.from(signature).toString("base64")}\n`;
}

/** A payload approval or a reject: the verb, `until=` and the signature on one line. */
export function renderPayloadComment(verb: "approve" | "reject", until: string, signature: Uint8Array): string {
  return `${COMMAND_PREFIX} ${verb} until=${until} ${Buffer.from(signature).toString("base64")}\n`;
}

/** A countersignature over the HSM's token in the execution window. */
export function renderCountersignComment(signature: Uint8Array): string {
  return `${COMMAND_PREFIX} countersign ${Buffer.from(signature).toString("base64")}\n`;
}

export function renderCommand(verb: BareVerb): string {
  return `${COMMAND_PREFIX} ${verb}\n`;
}

function notACommand(): CommandResult {
  return { ok: false, reason: "not_a_command", message: "no /quorum command at the start of a line" };
}

function lineOf(r: CommandResult | undefined): number | undefined {
  if (r === undefined) return undefined;
  return r.ok ? r.command.line : r.line;
}

function isCommandLine(line: string): boolean {
  return (
    line.startsWith(COMMAND_PREFIX) &&
    (line.length === COMMAND_PREFIX.length || /[ \t]/.test(line.charAt(COMMAND_PREFIX.length)))
  );
}

function openFence(line: string): Fence | null {
  const m = OPEN_FENCE.exec(line);
  const marker = m?.[1];
  if (m === null || marker === undefined) return null;
  const char = marker.charAt(0);
  // CommonMark: the info string of a backtick fence may not hold a backtick (```a``` is inline code).
  if (char === "`" && (m[2] ?? "").includes("`")) return null;
  return { char, length: marker.length };
}

function closesFence(line: string, fence: Fence): boolean {
  const m = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
  const marker = m?.[1];
  return marker !== undefined && marker.charAt(0) === fence.char && marker.length >= fence.length;
}

/**
 * Whether an HTML comment is still open after `line`. Any `<!--` counts, not only one that starts
 * a line: inline comments can span lines too, and whatever they hide must never be a command.
 */
function opensHtmlComment(line: string, alreadyOpen: boolean): boolean {
  let open = alreadyOpen;
  let at = 0;
  for (;;) {
    const next = open ? line.indexOf("-->", at) : line.indexOf("<!--", at);
    if (next === -1) return open;
    at = next + (open ? 3 : 4);
    open = !open;
  }
}

function readCommand(lines: readonly string[], index: number): { result: CommandResult; lastLine: number } {
  const lineNo = index + 1;
  const rest = (lines[index] ?? "").slice(COMMAND_PREFIX.length).trim();
  const [verb = "", ...args] = rest === "" ? [] : rest.split(/[ \t]+/);
  const once = (result: CommandResult) => ({ result, lastLine: index });
  if (verb === "")
    return once(refuse("unknown_command", `${COMMAND_PREFIX} needs a command: ${COMMAND_VERBS.join(", ")}`, lineNo));
  if (verb === "withdraw" || verb === "retry" || verb === "renew" || verb === "execute") {
    if (args.length > 0)
      return once(refuse("unexpected_argument", `${COMMAND_PREFIX} ${verb} takes no arguments`, lineNo));
    return once({ ok: true, command: { verb, line: lineNo } });
  }
  if (verb !== "approve" && verb !== "reject" && verb !== "countersign") {
    return once(
      refuse(
        "unknown_command",
        `unknown command "${verb.slice(0, 20)}"; use one of ${COMMAND_VERBS.join(", ")}`,
        lineNo,
      ),
    );
  }
  let until: string | undefined;
  const first = args[0] ?? "";
  if (first.startsWith("until=")) {
    if (verb === "countersign")
      return once(
        refuse(
          "unexpected_argument",
          `${COMMAND_PREFIX} countersign signs the HSM's token and takes no until=`,
          lineNo,
        ),
      );
    until = first.slice("until=".length);
    if (!UNTIL.test(until))
      return once(
        refuse("malformed_until", "until= must be a UTC time to the second, e.g. until=2026-12-13T03:00:00Z", lineNo),
      );
    args.shift();
  } else if (verb === "reject") {
    return once(
      refuse(
        "malformed_until",
        `${COMMAND_PREFIX} reject needs until=<UTC time> before the signature: the expires-at of the payload you signed`,
        lineNo,
      ),
    );
  }
  return readSignature(lines, index, args.join(""), verb, until);
}

const UNTIL = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$/;

/** The signature after the verb: inline and wrapped, or in the fenced block that follows. */
function readSignature(
  lines: readonly string[],
  index: number,
  inline: string,
  verb: SignatureVerb,
  until: string | undefined,
): { result: CommandResult; lastLine: number } {
  const lineNo = index + 1;
  let text = inline;
  let last = index;
  let next = index + 1;
  if (inline === "") {
    while (next < lines.length && BLANK.test(lines[next] ?? "")) next++;
    const fence = openFence(lines[next] ?? "");
    if (fence !== null) {
      const body: string[] = [];
      for (let j = next + 1; j < lines.length; j++) {
        const l = lines[j] ?? "";
        if (closesFence(l, fence)) return { result: decodeSignature(body.join(""), lineNo, verb, until), lastLine: j };
        body.push(l);
      }
      return {
        result: refuse("malformed_signature", "the code block with the signature is not closed", lineNo),
        lastLine: lines.length - 1,
      };
    }
    if (next !== index + 1)
      return {
        result: refuse("malformed_signature", `no signature after ${COMMAND_PREFIX} ${verb}`, lineNo),
        lastLine: index,
      };
  }
  for (; next < lines.length && !BLANK.test(lines[next] ?? ""); next++) {
    text += lines[next] ?? "";
    last = next;
  }
  if (text === "")
    return {
      result: refuse("malformed_signature", `no signature after ${COMMAND_PREFIX} ${verb}`, lineNo),
      lastLine: last,
    };
  return { result: decodeSignature(text, lineNo, verb, until), lastLine: last };
}

function decodeSignature(text: string, line: number, verb: SignatureVerb, until: string | undefined): CommandResult {
  // The usual paste (`quorum-gate sign`, `base64 -w0`) is canonical already: it is then its own
  // canonical form, and needs no second encoding.
  const exact = decodeCanonicalBase64(text);
  if (exact !== null && exact.length === SIGNATURE_BYTES) return signed(verb, text, exact, line, until);
  const decoded = decodeLenientBase64(text);
  if (!decoded.ok) return refuse("malformed_signature", `the signature is ${decoded.error}`, line);
  if (decoded.bytes.length !== SIGNATURE_BYTES) {
    return refuse(
      "malformed_signature",
      `the signature is ${decoded.bytes.length} bytes; an RSA-2048 signature is ${SIGNATURE_BYTES}`,
      line,
    );
  }
  return signed(verb, decoded.bytes.toString("base64"), decoded.bytes, line, until);
}

function signed(
  verb: SignatureVerb,
  signature: string,
  bytes: Buffer,
  line: number,
  until: string | undefined,
): CommandResult {
  return {
    ok: true,
    command: until === undefined ? { verb, signature, bytes, line } : { verb, signature, bytes, line, until },
  };
}

function refuse(reason: CommandReason, message: string, line: number): CommandResult {
  return { ok: false, reason, message, line };
}
