// The short reports the gate makes when there is no decision to render: a pull request that can
// never be approved, a merge without a valid quorum, a close without merge. Their messages quote
// what the pull request holds (file paths, names, reasons), so the text is escaped exactly as in
// the decision's own comment: a file named like a link or a mention stays plain text.
import { escapeText } from "./markdown.ts";
import { STICKY_MARKER } from "./render.ts";

/** A sticky comment of one heading (the gate's own words) and one paragraph that may quote the pull request. */
export function renderNoticeComment(heading: string, text: string): string {
  return `${STICKY_MARKER}\n## HSM quorum: ${heading}\n\n${escapeText(text)}\n`;
}

/** The same paragraph for a check run's summary, which GitHub renders as Markdown too. */
export function renderNoticeSummary(text: string): string {
  return escapeText(text);
}

/** A section appended to the decision's sticky comment after a merge, e.g. why nothing was replayed. */
export function renderNoticeSection(heading: string, text: string): string {
  return `\n\n### ${heading}\n\n${escapeText(text)}\n`;
}
