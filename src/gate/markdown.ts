// Markdown pieces for text the gate did not write itself (logins, names, free-text reasons,
// messages that quote them). Nothing a request author types may become a link, an HTML element,
// a table break, a hidden comment or a mention in the app's own comment.

/** Text for a paragraph or a table cell: Markdown and HTML specials escaped, one line. */
export function escapeText(text: string): string {
  return oneLine(text)
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@/g, "@\u200b");
}

/** An inline code span that survives any backticks in `text` and works inside a table cell. */
export function inlineCode(text: string): string {
  const flat = oneLine(text).replace(/\|/g, "\\|");
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced code block that `text` cannot close early. */
export function fencedBlock(text: string, info = ""): string {
  const longest = Math.max(0, ...(text.match(/`{3,}/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text.replace(/\r\n?/g, "\n").replace(/\n$/, "")}\n${fence}`;
}

/** Base64 wrapped at `width` columns, as `base64` prints it. */
export function wrap(text: string, width = 76): string {
  return (text.match(new RegExp(`.{1,${width}}`, "g")) ?? [""]).join("\n");
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, " ").trim();
}
