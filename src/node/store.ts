// What a node adapter needs from its state beyond the core's port: a way to make one command
// atomic. Both repositories (SQLite and in-memory) implement it, so the server runs on either.
import type { NodeRepository } from "../hsm/repository.ts";

export interface TransactionalRepository extends NodeRepository {
  /**
   * Runs `fn` as one atomic unit: everything it wrote is kept when it returns and undone when it
   * throws (the exception is rethrown). Transactions do not nest.
   */
  transaction<T>(fn: () => T): T;
}

/**
 * Order of session ids in `listSessions`: plain byte order of their UTF-8 text, which is what
 * SQLite's default BINARY collation uses. JavaScript's `<` compares UTF-16 units and would differ
 * from SQLite for characters outside the BMP, so both repositories use this function.
 */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
