// GitHub refuses a text over its limit with a 422, and the limits are not counted alike
// (docs/github-app.md, "Operations", length limits):
// - a check run's `output.summary` and `output.text`: 65,535 bytes of UTF-8 ("summary exceeds a
//   maximum bytesize of 65535"), although the REST reference says characters;
// - a comment body: 65,536 characters as GitHub's Ruby counts them, i.e. Unicode code points (an
//   emoji is one, where JavaScript's `length` says two). At four bytes at most per code point,
//   this also keeps a body inside the 262,144 bytes GitHub is seen to take.
// A report that is cut, visibly, beats a report that is never written (a check run that is
// refused is a `quorum` check that never appears). A cut never splits a code point.

export const CHECK_RUN_TEXT_MAX_BYTES = 65535;
export const COMMENT_BODY_MAX_CODE_POINTS = 65536;
const NOTE = "\n\n… (cut here: GitHub limits the length of this text)";

/** UTF-8 bytes of one code point; a lone surrogate is sent as U+FFFD, three bytes. */
function utf8Size(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** The longest prefix of whole code points whose cost fits `budget`. */
function prefix(text: string, budget: number, cost: (codePoint: number) => number): string {
  let used = 0;
  let end = 0;
  for (const ch of text) {
    used += cost(ch.codePointAt(0) ?? 0);
    if (used > budget) break;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** At most `maxBytes` of UTF-8 (a check run's summary or text). */
export function clipUtf8(text: string, maxBytes: number = CHECK_RUN_TEXT_MAX_BYTES): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  return prefix(text, maxBytes - utf8Bytes(NOTE), utf8Size) + NOTE;
}

/** At most `max` code points (a comment body). */
export function clipCodePoints(text: string, max: number = COMMENT_BODY_MAX_CODE_POINTS): string {
  if (text.length <= max || codePoints(text) <= max) return text;
  return prefix(text, max - codePoints(NOTE), () => 1) + NOTE;
}
