// The binding digest of an operation-bound token (docs/tokens.md): SHA-256 over a canonical JSON
// document naming the cluster, the operation and where it was requested. The gate computes it
// when it asks for a token; every node recomputes it before it lets the token authorize anything.
import { sha256 } from "../crypto/rsa.ts";
import type { BindingContext, Operation } from "./commands.ts";

export const BINDING_VERSION = 1;

export function bindingDigest(clusterId: string, operation: Operation, context: BindingContext): string {
  const document = { v: BINDING_VERSION, clusterId, operation, context };
  return sha256(Buffer.from(canonicalJson(document), "utf8")).toString("hex");
}

/** JSON with object keys sorted and no white space, so equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("canonicalJson: non-finite number");
    if (value === undefined || typeof value === "function" || typeof value === "bigint" || typeof value === "symbol") {
      throw new TypeError(`canonicalJson: ${typeof value} has no JSON form`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}
