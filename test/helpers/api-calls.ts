// Counting a delivery's GitHub API calls against the fake (the budget of docs/performance.md):
// which calls are writes. A GraphQL request is a POST either way; a `query` reads, a `mutation`
// writes, and the budget counts them as what they do.
import type { FakeCall } from "./fake-github.ts";

function graphqlOperation(call: FakeCall): "query" | "mutation" | null {
  if (call.method !== "POST" || !/\/graphql$/.test(call.path)) return null;
  const body = call.body;
  const query = typeof body === "object" && body !== null && "query" in body ? body.query : undefined;
  if (typeof query !== "string") return null;
  const text = query.replace(/#[^\n]*/g, "").trimStart();
  return text.startsWith("mutation") ? "mutation" : text.startsWith("query") || text.startsWith("{") ? "query" : null;
}

export function isWrite(call: FakeCall): boolean {
  if (call.method === "GET" || call.method === "HEAD") return false;
  return graphqlOperation(call) !== "query";
}

export interface CallCount {
  readonly calls: number;
  readonly writes: number;
  readonly readsBeforeFirstWrite: number;
  /** Method and path of each call, for a failure message. */
  readonly list: readonly string[];
}

export function countCalls(calls: readonly FakeCall[]): CallCount {
  const firstWrite = calls.findIndex(isWrite);
  return {
    calls: calls.length,
    writes: calls.filter(isWrite).length,
    readsBeforeFirstWrite: firstWrite === -1 ? calls.length : firstWrite,
    list: calls.map((c) => `${c.method} ${c.path}${graphqlOperation(c) === "query" ? " (query)" : ""}`),
  };
}
