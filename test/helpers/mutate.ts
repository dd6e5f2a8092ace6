// Random edits for the seeded property tests of the parsers: start from a valid text and break it
// the ways people and tools do (pasted fragments, cut spans, repeated or shuffled lines, stray
// characters, truncation).

export const pick = <T>(rnd: () => number, items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;

/** One random edit of `text`, drawing inserted pieces from `fragments`. */
export function mutate(rnd: () => number, text: string, fragments: readonly string[]): string {
  const at = Math.floor(rnd() * (text.length + 1));
  switch (Math.floor(rnd() * 7)) {
    case 0:
      return text.slice(0, at) + pick(rnd, fragments) + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(rnd() * 40));
    case 2: {
      const lines = text.split("\n");
      const i = Math.floor(rnd() * lines.length);
      lines.splice(i, 0, lines[i] ?? "");
      return lines.join("\n");
    }
    case 3:
      return text.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 0x3000)) + text.slice(at + 1);
    case 4:
      return text.slice(0, at);
    case 5: {
      const lines = text.split("\n");
      for (let i = lines.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [lines[i], lines[j]] = [lines[j] ?? "", lines[i] ?? ""];
      }
      return lines.join("\n");
    }
    default:
      return Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => pick(rnd, fragments)).join("");
  }
}
