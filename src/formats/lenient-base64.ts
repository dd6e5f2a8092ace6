// Base64 as people paste it: `openssl … | base64` wraps at 76 columns, editors add CRLF or
// indentation, and some tools drop the padding. Whitespace anywhere is ignored; anything else that
// is not standard base64 is an error (Node's decoder would silently skip it, hiding typos).

export type Base64Result =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly error: string };

export function decodeLenientBase64(text: string): Base64Result {
  // Most text arrives canonical (one line, padded): then it needs no character check of its own.
  const canonical = decodeCanonicalBase64(text);
  if (canonical !== null) return { ok: true, bytes: canonical };
  const compact = /\s/.test(text) ? text.replace(/\s+/g, "") : text;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
    return { ok: false, error: "not base64 (only A-Z, a-z, 0-9, +, / and = padding are allowed)" };
  // Canonical length: the pattern already allows padding only at the end.
  if (compact.length % 4 === 0) return { ok: true, bytes: Buffer.from(compact, "base64") };
  const body = compact.replace(/=+$/, "");
  if (body.length % 4 === 1) return { ok: false, error: "not base64 (truncated)" };
  const padded = body + "=".repeat((4 - (body.length % 4)) % 4);
  if (compact.length !== body.length && compact.length !== padded.length)
    return { ok: false, error: "not base64 (bad padding)" };
  return { ok: true, bytes: Buffer.from(padded, "base64") };
}

/**
 * The bytes of `text` when it is exactly the canonical base64 of some bytes (what Node, `base64
 * -w0` and `openssl base64 -A` print: standard alphabet, padded, no whitespace, zero spare bits),
 * else null. Node's decoder alone is too lenient (it skips characters it does not know), but text
 * that its decoded bytes encode back to is canonical by definition, and then those bytes are its
 * only decoding. One decode and one encode cost less than a pattern over every character.
 */
export function decodeCanonicalBase64(text: string): Buffer | null {
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : null;
}
