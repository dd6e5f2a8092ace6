// One node served in this test process: a fresh SQLite database (seeded like a new HSM) behind
// startNodeServer on 127.0.0.1 and a free port. `stop()` closes the server and removes the files.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CORE_CONFIG } from "../../src/hsm/context.ts";
import { initNode } from "../../src/hsm/init.ts";
import { startNodeServer, type CommandHandler, type NodeServer, type TlsMaterial } from "../../src/node/server.ts";
import { createNodeDatabase, type SqliteNodeRepository } from "../../src/node/sqlite-repository.ts";
import { systemEnv } from "../../src/node/system-env.ts";
import { testIdentity } from "./node-identity.ts";

export interface InProcessNode {
  readonly server: NodeServer;
  readonly repo: SqliteNodeRepository;
  /** Lines the server logged (errors only). */
  readonly logs: readonly string[];
  stop(): Promise<void>;
}

export async function startInProcessNode(
  options: { handler?: CommandHandler; tls?: TlsMaterial } = {},
): Promise<InProcessNode> {
  const dir = mkdtempSync(join(tmpdir(), "qg-node-"));
  const t = testIdentity();
  const repo = createNodeDatabase(join(dir, "hsm.db"), t.identity, t.sealingPrivateKeyPem);
  const logs: string[] = [];
  let server: NodeServer | undefined;
  try {
    repo.transaction(() => initNode({ repo, env: systemEnv, config: DEFAULT_CORE_CONFIG }));
    server = await startNodeServer({
      repo,
      host: "127.0.0.1",
      port: 0,
      log: (line) => logs.push(line),
      ...(options.handler ? { handler: options.handler } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
    });
  } catch (err) {
    repo.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const running = server;
  return {
    server: running,
    repo,
    logs,
    async stop() {
      await running.close();
      repo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
