// The idempotency key a merged request is replayed under: `qg-` and the first 48 hex digits of the
// token file's SHA-256. One token authorizes one operation, so one key per token makes every
// redelivery, retry or second replica get the nodes' recorded outcome; the offline audit derives
// the same key from the evidence's token.bin to ask the nodes what they recorded.
import { sha256 } from "../crypto/rsa.ts";

export function replayIdempotencyKey(tokenFile: Uint8Array): string {
  return `qg-${sha256(tokenFile).toString("hex").slice(0, 48)}`;
}
