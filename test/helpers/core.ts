// A node core on the in-memory repository with a hand-driven clock, called the way the server
// calls it: one transaction per command.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { DEFAULT_CORE_CONFIG, type CoreConfig, type CoreContext } from "../../src/hsm/context.ts";
import { handleCommand } from "../../src/hsm/core.ts";
import { initNode, bootNode } from "../../src/hsm/init.ts";
import type { HsmResult } from "../../src/hsm/ret-codes.ts";
import { MemoryNodeRepository } from "./memory-repository.ts";
import type { TransactionalRepository } from "../../src/node/store.ts";
import type { OpName, OpRequest, OpResponse } from "../../src/protocol/messages.ts";

let sealing: { publicPem: string; privatePem: string } | null = null;

export function sealingKeys(): { publicPem: string; privatePem: string } {
  if (sealing === null) {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    sealing = {
      publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
  }
  return sealing;
}

export interface TestNode {
  readonly ctx: CoreContext;
  readonly repo: TransactionalRepository;
  /** Advances the clock by whole seconds. */
  advance(seconds: number): void;
  raw(op: OpName, body: unknown, session?: string | null): HsmResult<unknown>;
  call<K extends OpName>(op: K, body: OpRequest<K>, session?: string | null): HsmResult<OpResponse<K>>;
  /** Like `call`, but fails the test on an error result. */
  must<K extends OpName>(op: K, body: OpRequest<K>, session?: string | null): OpResponse<K>;
  reboot(): void;
}

/** A node on the in-memory repository, or on `repo` (a fresh SQLite one, say) when given. */
export function makeNode(
  options: { nodeId?: number; clusterId?: string; config?: Partial<CoreConfig>; repo?: TransactionalRepository } = {},
): TestNode {
  let nowMs = Date.UTC(2026, 10, 22, 12, 0, 0);
  const keys = sealingKeys();
  const repo =
    options.repo ??
    new MemoryNodeRepository(
      {
        clusterId: options.clusterId ?? "cluster-test",
        nodeId: options.nodeId ?? 0,
        hsmId: `hsm-test${options.nodeId ?? 0}`,
        sealingPublicKeyPem: keys.publicPem,
      },
      keys.privatePem,
    );
  const ctx: CoreContext = {
    repo,
    env: { now: () => nowMs, randomBytes },
    config: { ...DEFAULT_CORE_CONFIG, ...options.config },
  };
  repo.transaction(() => initNode(ctx));
  const raw = (op: OpName, body: unknown, session: string | null = null) =>
    repo.transaction(() => handleCommand(ctx, op, session, body));
  return {
    ctx,
    repo,
    advance: (s) => {
      nowMs += s * 1000;
    },
    raw,
    call: (op, body, session = null) => raw(op, body, session) as never,
    must(op, body, session = null) {
      const r = raw(op, body, session);
      if (!r.ok) throw new Error(`${op} failed: ${r.code} ${r.message}`);
      return r.value as never;
    },
    reboot: () => repo.transaction(() => bootNode(ctx)),
  };
}

/** Logs in and returns the session id (fails the test if the login needs 2FA or fails). */
export function loginAs(node: TestNode, userType: "CO" | "CU" | "PRECO", userName: string, password: string): string {
  const r = node.must("login", { userType, userName, password });
  if (!("sessionId" in r)) throw new Error("login asked for 2FA");
  return r.sessionId;
}
