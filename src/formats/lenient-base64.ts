// Base64 as people paste it: `openssl … | base64` wraps at 76 columns, editors add CRLF or
// indentation, and some tools drop the padding. Whitespace anywhere is ignored; anything else that
// is not standard base64 is an error (Node's decoder would silently skip it, hiding typos).

export type Base64Result = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly error: string };

export function decodeLenientBase64(text: string): Base64Result {
  // Most signatures arrive on one line: skip the copy when there is nothing to strip.
  const compact = /\s/.test(text) ? text.replace(/\s+/g, "") : text;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return { ok: false, error: "not base64 (only A-Z, a-z, 0-9, +, / and = padding are allowed)" };
  // The usual case, canonical length: the pattern already allows padding only at the end.
  if (compact.length % 4 === 0) return { ok: true, bytes: Buffer.from(compact, "base64") };
  const body = compact.replace(/=+$/, "");
  if (body.length % 4 === 1) return { ok: false, error: "not base64 (truncated)" };
  const padded = body + "=".repeat((4 - (body.length % 4)) % 4);
  if (compact.length !== body.length && compact.length !== padded.length) return { ok: false, error: "not base64 (bad padding)" };
  return { ok: true, bytes: Buffer.from(padded, "base64") };
}
