// The 2FA authentication data file of CMU (docs/cloudhsm-behaviour.md, "Two-factor authentication", seed 2fa-crypto-officers.zh.md):
//   {"Version":"1.0","PublicKey":"","Data":[{"HsmId":"…","Digest":"<b64 32 bytes>","Signature":""}, …]}
// CMU writes it with empty `PublicKey` and `Signature`; the officer edits it by hand. We are strict
// about the structure (so a mistake is reported, not guessed around) and lenient about what hand
// editing does to the values: raw line breaks pasted inside a string (the docs pipe `pkeyutl` into
// `base64` without -w0), PEM with `\n` escapes or real newlines, whitespace inside base64.
import { decodeLenientBase64 } from "./lenient-base64.ts";

export const AUTHDATA_VERSION = "1.0";
export const DIGEST_BYTES = 32;

export interface AuthDataEntry {
  readonly hsmId: string;
  /** base64, as written (whitespace removed). */
  readonly digest: string;
  readonly digestBytes: Buffer;
  /** base64 with whitespace removed; "" when not filled in yet. */
  readonly signature: string;
  readonly signatureBytes: Buffer | null;
}

export interface AuthData {
  readonly version: string;
  /** PEM text with `\n` escapes already turned into newlines; "" when not filled in. */
  readonly publicKey: string;
  readonly entries: readonly AuthDataEntry[];
}

export type AuthDataResult =
  | { readonly ok: true; readonly value: AuthData }
  | { readonly ok: false; readonly error: string };

const MAX_ENTRIES = 32;

export function parseAuthData(text: string): AuthDataResult {
  if (typeof text !== "string") return { ok: false, error: "authentication data is not text" };
  let doc: unknown;
  try {
    doc = JSON.parse(escapeRawControlsInStrings(text.replace(/^\uFEFF/, "")));
  } catch (err) {
    const hint = /[\u201C\u201D]/.test(text)
      ? ' (the file contains curly quotes \u201C\u201D; use plain " quotes)'
      : "";
    return { ok: false, error: `authentication data is not valid JSON: ${(err as Error).message}${hint}` };
  }
  if (!isObject(doc)) return { ok: false, error: "authentication data must be a JSON object" };
  const unknown = Object.keys(doc).filter((k) => !["Version", "PublicKey", "Data"].includes(k));
  if (unknown.length > 0) return { ok: false, error: `unknown field(s) in authentication data: ${unknown.join(", ")}` };
  const version = doc["Version"];
  if (version !== AUTHDATA_VERSION) return { ok: false, error: `"Version" must be "${AUTHDATA_VERSION}"` };
  const publicKey = doc["PublicKey"] ?? "";
  if (typeof publicKey !== "string") return { ok: false, error: '"PublicKey" must be a string (PEM text)' };
  const data = doc["Data"];
  if (!Array.isArray(data)) return { ok: false, error: '"Data" must be an array' };
  if (data.length === 0) return { ok: false, error: '"Data" is empty: it needs one entry per HSM' };
  if (data.length > MAX_ENTRIES) return { ok: false, error: `"Data" has more than ${MAX_ENTRIES} entries` };

  const entries: AuthDataEntry[] = [];
  for (const [i, item] of data.entries()) {
    const entry = parseEntry(item, i);
    if (typeof entry === "string") return { ok: false, error: entry };
    entries.push(entry);
  }
  return { ok: true, value: { version, publicKey: publicKey.replace(/\\n/g, "\n").trim(), entries } };
}

function parseEntry(item: unknown, i: number): AuthDataEntry | string {
  const where = `"Data"[${i}]`;
  if (!isObject(item)) return `${where} must be an object`;
  const unknown = Object.keys(item).filter((k) => !["HsmId", "Digest", "Signature"].includes(k));
  if (unknown.length > 0) return `unknown field(s) in ${where}: ${unknown.join(", ")}`;
  const hsmId = item["HsmId"];
  if (typeof hsmId !== "string" || hsmId.trim() === "") return `${where}."HsmId" must be a non-empty string`;
  const digest = item["Digest"];
  if (typeof digest !== "string") return `${where}."Digest" must be a string`;
  const digestBytes = decodeLenientBase64(digest);
  if (!digestBytes.ok) return `${where}."Digest" is ${digestBytes.error}`;
  if (digestBytes.bytes.length !== DIGEST_BYTES)
    return `${where}."Digest" must decode to ${DIGEST_BYTES} bytes, got ${digestBytes.bytes.length}`;
  const signature = item["Signature"] ?? "";
  if (typeof signature !== "string") return `${where}."Signature" must be a string`;
  let signatureBytes: Buffer | null = null;
  if (signature.trim() !== "") {
    const decoded = decodeLenientBase64(signature);
    if (!decoded.ok) return `${where}."Signature" is ${decoded.error}`;
    signatureBytes = decoded.bytes;
  }
  return {
    hsmId: hsmId.trim(),
    digest: digest.replace(/\s+/g, ""),
    digestBytes: digestBytes.bytes,
    signature: signature.replace(/\s+/g, ""),
    signatureBytes,
  };
}

/** The file as CMU writes it: empty PublicKey and Signature, one entry per HSM, fields in the documented order. */
export function renderAuthData(
  entries: readonly { readonly hsmId: string; readonly digest: string }[],
  publicKey = "",
): string {
  const doc = {
    Version: AUTHDATA_VERSION,
    PublicKey: publicKey,
    Data: entries.map((e) => ({ HsmId: e.hsmId, Digest: e.digest, Signature: "" })),
  };
  return `${JSON.stringify(doc, null, 4)}\n`;
}

/**
 * JSON forbids raw control characters inside strings, but a base64 signature pasted from a wrapped
 * terminal brings newlines with it. Inside string literals we turn them into escapes; outside we
 * leave the text alone so structural errors are still reported by JSON.parse.
 */
function escapeRawControlsInStrings(text: string): string {
  let out = "";
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    if (!inString) {
      if (ch === '"') inString = true;
      out += ch;
      continue;
    }
    if (escaped) {
      escaped = false;
      out += ch;
    } else if (ch === "\\") {
      escaped = true;
      out += ch;
    } else if (ch === '"') {
      inString = false;
      out += ch;
    } else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
