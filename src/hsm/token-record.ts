// The binary token record. A token file (CMU getToken) and `approval_data` (CloudHSM CLI) are the
// concatenation of one record per node; approvers sign SHA-256 of that whole blob.
//
// Layout, big-endian, from the decoded CLI example (docs/cloudhsm-behaviour.md, "CloudHSM CLI"):
//   0  u16  record version: 1 = plain (80 bytes), 2 = operation-bound (112 bytes, our extension)
//   2  u16  service
//   4  u32  token id (per node)
//   8  u64  key handle
//  16  16   nonce
//  32  32   user name, NUL-padded
//  64  u32  node id          (zero in the AWS example; the emulator stores the node id here)
//  68  u32  creation time, Unix seconds
//  72  8    zero
//  80  32   binding digest   (version 2 only)
import { LIMITS } from "./model.ts";

export const RECORD_V1 = 1;
export const RECORD_V2 = 2;
export const RECORD_V1_SIZE = 80;
export const RECORD_V2_SIZE = 112;

export interface TokenRecord {
  readonly service: number;
  readonly tokenId: number;
  readonly keyHandle: bigint;
  readonly nonce: string; // hex, 16 bytes
  readonly userName: string;
  readonly nodeId: number;
  readonly createdAt: number;
  readonly binding: string | null; // hex, 32 bytes
}

export function encodeRecord(record: TokenRecord): Buffer {
  const bound = record.binding !== null;
  const buf = Buffer.alloc(bound ? RECORD_V2_SIZE : RECORD_V1_SIZE);
  buf.writeUInt16BE(bound ? RECORD_V2 : RECORD_V1, 0);
  buf.writeUInt16BE(record.service, 2);
  buf.writeUInt32BE(record.tokenId, 4);
  buf.writeBigUInt64BE(record.keyHandle, 8);
  Buffer.from(record.nonce, "hex").copy(buf, 16, 0, 16);
  Buffer.from(record.userName, "utf8").copy(buf, 32, 0, 32);
  buf.writeUInt32BE(record.nodeId, 64);
  buf.writeUInt32BE(record.createdAt >>> 0, 68);
  if (record.binding !== null) Buffer.from(record.binding, "hex").copy(buf, 80, 0, 32);
  return buf;
}

export type DecodeResult =
  | { readonly ok: true; readonly records: readonly TokenRecord[] }
  | { readonly ok: false; readonly reason: string };

/** Splits a token file into records. Any trailing or malformed byte rejects the whole file. */
export function decodeRecords(data: Uint8Array): DecodeResult {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const records: TokenRecord[] = [];
  let offset = 0;
  if (buf.length === 0) return { ok: false, reason: "empty token file" };
  while (offset < buf.length) {
    if (records.length >= LIMITS.maxTokensPerFile)
      return { ok: false, reason: `more than ${LIMITS.maxTokensPerFile} tokens in one file` };
    if (buf.length - offset < 2) return { ok: false, reason: "Invalid Token Size" };
    const version = buf.readUInt16BE(offset);
    const size = version === RECORD_V1 ? RECORD_V1_SIZE : version === RECORD_V2 ? RECORD_V2_SIZE : 0;
    if (size === 0) return { ok: false, reason: `unknown token record version ${version}` };
    if (buf.length - offset < size) return { ok: false, reason: "Invalid Token Size" };
    const rec = buf.subarray(offset, offset + size);
    const nameBytes = rec.subarray(32, 64);
    const nul = nameBytes.indexOf(0);
    const userName = nameBytes.subarray(0, nul === -1 ? 32 : nul).toString("utf8");
    if (userName.length === 0) return { ok: false, reason: "token record without a user name" };
    records.push({
      service: rec.readUInt16BE(2),
      tokenId: rec.readUInt32BE(4),
      keyHandle: rec.readBigUInt64BE(8),
      nonce: rec.subarray(16, 32).toString("hex"),
      userName,
      nodeId: rec.readUInt32BE(64),
      createdAt: rec.readUInt32BE(68),
      binding: version === RECORD_V2 ? rec.subarray(80, 112).toString("hex") : null,
    });
    offset += size;
  }
  return { ok: true, records };
}
