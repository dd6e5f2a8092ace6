// Parsing of untrusted request bodies: every field is checked for type and size before a command
// looks at it, and unknown fields are refused so that a typo never silently does something else.
import { isUserType, type UserType } from "./model.ts";
import { fail, type HsmError } from "./ret-codes.ts";

export type Body = Readonly<Record<string, unknown>>;

export function isError(value: unknown): value is HsmError {
  return typeof value === "object" && value !== null && (value as { ok?: unknown }).ok === false && "code" in value;
}

export function asBody(value: unknown, allowed: readonly string[]): Body | HsmError {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail("RET_BAD_REQUEST", "the body must be a JSON object");
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) return fail("RET_BAD_REQUEST", `unknown field "${key}"`);
  }
  return value as Body;
}

export function reqString(body: Body, key: string, max = 4096): string | HsmError {
  const v = body[key];
  if (typeof v !== "string") return fail("RET_BAD_REQUEST", `"${key}" must be a string`);
  if (v.length > max) return fail("RET_BAD_REQUEST", `"${key}" is longer than ${max} characters`);
  return v;
}

export function optString(body: Body, key: string, max = 4096): string | undefined | HsmError {
  return body[key] === undefined ? undefined : reqString(body, key, max);
}

export function reqInt(body: Body, key: string, min: number, max: number): number | HsmError {
  const v = body[key];
  if (typeof v !== "number" || !Number.isInteger(v)) return fail("RET_BAD_REQUEST", `"${key}" must be an integer`);
  if (v < min || v > max) return fail("RET_INVALID_INPUT", `"${key}" must be between ${min} and ${max}`);
  return v;
}

export function optInt(body: Body, key: string, min: number, max: number): number | undefined | HsmError {
  return body[key] === undefined ? undefined : reqInt(body, key, min, max);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 (whitespace tolerated, as `base64` without -w0 wraps its output). */
export function decodeBase64(text: string, what: string, maxBytes: number): Buffer | HsmError {
  const compact = text.replace(/\s+/g, "");
  if (!BASE64.test(compact) || compact.length % 4 !== 0) return fail("RET_BAD_REQUEST", `${what} is not valid base64`);
  const bytes = Buffer.from(compact, "base64");
  if (bytes.length > maxBytes) return fail("RET_BAD_REQUEST", `${what} is larger than ${maxBytes} bytes`);
  return bytes;
}

export function reqBase64(body: Body, key: string, maxBytes: number): Buffer | HsmError {
  const s = reqString(body, key, Math.ceil((maxBytes * 4) / 3) + 1024);
  return isError(s) ? s : decodeBase64(s, `"${key}"`, maxBytes);
}

export function reqUserType(body: Body, key = "userType"): UserType | HsmError {
  const s = reqString(body, key, 16);
  if (isError(s)) return s;
  return isUserType(s) ? s : fail("RET_INVALID_USER_TYPE", `"${s}"`);
}

export function reqHex(body: Body, key: string, bytes: number): string | HsmError {
  const s = reqString(body, key, bytes * 2);
  if (isError(s)) return s;
  return /^[0-9a-f]+$/.test(s) && s.length === bytes * 2
    ? s
    : fail("RET_BAD_REQUEST", `"${key}" must be ${bytes} bytes of lower-case hex`);
}

export function reqArray(body: Body, key: string, max: number): readonly unknown[] | HsmError {
  const v = body[key];
  if (!Array.isArray(v)) return fail("RET_BAD_REQUEST", `"${key}" must be an array`);
  if (v.length > max) return fail("RET_INVALID_INPUT", `"${key}" has more than ${max} entries`);
  return v;
}
