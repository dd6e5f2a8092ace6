// A whole cluster stopped and started again keeps every user, key, M value and unexpired
// persisted token; session tokens die with their sessions, as on CloudHSM.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { clusterEndpoints } from "../../src/cluster/cluster-file.ts";
import { startCluster, type RunningCluster } from "../../src/cluster/cluster.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import type { OpName, OpRequest, OpResponse } from "../../src/protocol/messages.ts";
import { testKey } from "../helpers/keys.ts";

const dir = mkdtempSync(join(tmpdir(), "qg-restart-"));
const running: RunningCluster[] = [];
after(async () => {
  await Promise.all(running.map((c) => c.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<{ cluster: RunningCluster; clients: NodeClient[] }> {
  const cluster = await startCluster({ dataDir: dir, nodes: 2, host: "127.0.0.1", basePort: 0 });
  running.push(cluster);
  return { cluster, clients: clusterEndpoints(cluster.file).map((e) => createNodeClient(e)) };
}

async function all<K extends OpName>(
  clients: readonly NodeClient[],
  op: K,
  body: OpRequest<K>,
  sessions: readonly string[] = [],
): Promise<OpResponse<K>[]> {
  return Promise.all(
    clients.map(async (c, i) => {
      const r = await c.call(op, body, sessions[i] ?? null);
      if (!r.ok) throw new Error(`${op} on ${i}: ${r.error.code} ${r.error.message}`);
      return r.data;
    }),
  );
}
const sessionsOf = (rs: readonly OpResponse<"login">[]): string[] =>
  rs.map((r) => ("sessionId" in r ? r.sessionId : ""));

describe("a cluster restart", () => {
  it("keeps users, registered keys, M values and unexpired persisted tokens, and drops session tokens", async () => {
    const first = await start();
    const admin = sessionsOf(
      await all(first.clients, "login", { userType: "PRECO", userName: "admin", password: "password" }),
    );
    await all(
      first.clients,
      "change-password",
      { userType: "PRECO", userName: "admin", password: "admin-pass-1" },
      admin,
    );
    for (const name of ["officer1", "officer2"])
      await all(first.clients, "create-user", { userType: "CO", userName: name, password: `${name}-pass` }, admin);
    const s1 = sessionsOf(
      await all(first.clients, "login", { userType: "CO", userName: "officer1", password: "officer1-pass" }),
    );
    const reg = Buffer.from("token to be signed\n");
    await all(
      first.clients,
      "register-quorum-key",
      {
        userType: "CO",
        userName: "officer1",
        registrationToken: reg.toString("base64"),
        signature: signMessage(reg, testKey("officer1").privateKey).toString("base64"),
        publicKeyPem: testKey("officer1").publicPem,
      },
      s1,
    );
    await all(first.clients, "set-m-value", { service: 3, value: 2 }, admin);
    await all(first.clients, "token-generate", { service: 3, binding: "ab".repeat(32) }, s1);
    await all(first.clients, "token-generate", { service: 3, binding: "cd".repeat(32), timeoutSeconds: 1 }, s1);
    await all(first.clients, "get-token", { service: 3, userName: "officer1" }, s1);
    const before = await all(first.clients, "list-users", {});
    const keysBefore = await all(first.clients, "quorum-keys", {});
    for (const c of first.clients) c.close();
    await first.cluster.stop();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the one-second token expires meanwhile

    const second = await start();
    assert.equal(second.cluster.created, false);
    assert.deepEqual(await all(second.clients, "list-users", {}), before);
    assert.deepEqual(await all(second.clients, "quorum-keys", {}), keysBefore);
    assert.deepEqual(
      (await all(second.clients, "quorum-values", {})).map((v) => v.user),
      [2, 2],
    );
    for (const { tokens } of await all(second.clients, "list-tokens", {})) {
      assert.equal(tokens.filter((t) => !t.persisted).length, 0, "session tokens died with their sessions");
      const live = tokens.filter((t) => t.persisted && t.validitySeconds > 0);
      assert.equal(live.length, 1, "the unexpired persisted token is still there");
    }
    const stale = await second.clients[0]?.call("list-users", {}, s1[0] ?? "");
    assert.ok(stale?.ok, "list-users needs no session");
    const gated = await second.clients[0]?.call("del-token", {}, s1[0] ?? "");
    assert.equal(gated !== undefined && !gated.ok && gated.error.code, "RET_SESSION_INVALID", "old sessions are gone");
    for (const c of second.clients) c.close();
  });
});
