// GitHub rejects a comment body or a check-run summary/text over 65,535 characters with a 422.
// A report that is cut, visibly, beats a report that is never written.

export const MAX_TEXT = 65535;
const NOTE = "\n\n… (cut here: GitHub limits the length of this text)";

export function clip(text: string, max: number = MAX_TEXT): string {
  if (text.length <= max) return text;
  let end = max - NOTE.length;
  // Never leave half of a surrogate pair at the cut.
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end) + NOTE;
}
