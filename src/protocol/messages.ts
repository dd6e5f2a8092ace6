// The node protocol: HTTP/1.1 + JSON. Every command is `POST /v1/<op>` with a JSON object body;
// commands that need a login carry the session id in the `x-session` header. Binary values are
// base64 strings. Every answer is an envelope (see `Envelope`). docs/node-protocol.md explains it.
import type { ErrorCode } from "../hsm/ret-codes.ts";

export const PROTOCOL_VERSION = "v1";
export const SESSION_HEADER = "x-session";
/** Bodies above this are refused with RET_BAD_REQUEST before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;

export type Envelope<T> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly error: { readonly code: ErrorCode; readonly message: string } };

// The commands and their shapes belong to the core (src/hsm/commands.ts); clients import them from here.
export * from "../hsm/commands.ts";
