// `quorum-gate cluster backup` on a running cluster under write load: the copy opens cleanly,
// passes integrity_check, holds every write acknowledged before the backup started and none sent
// after it ended, and a cluster started on the copy serves those users.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { runClusterBackup } from "../../src/cli/cluster-backup.ts";
import { clusterEndpoints } from "../../src/cluster/cluster-file.ts";
import { startCluster, type RunningCluster } from "../../src/cluster/cluster.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

const NODES = 2;
const WRITERS_PER_NODE = 2;
const ADMIN_PW = "admin-pass-1";
const passwordOf = (name: string): string => `Pw-${name}`;

function capture() {
  let stdout = "";
  let stderr = "";
  return {
    io: { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
    out: () => stdout,
    err: () => stderr,
  };
}

/** User names in a database file, read with a connection of our own (not the code under test). */
function usersIn(dbPath: string): { integrity: string; names: Set<string> } {
  const db = new DatabaseSync(dbPath);
  try {
    const integrity = db
      .prepare("PRAGMA integrity_check")
      .all()
      .map((r) => String(r["integrity_check"]))
      .join("; ");
    const names = new Set(
      db
        .prepare("SELECT name FROM users")
        .all()
        .map((r) => String(r["name"])),
    );
    return { integrity, names };
  } finally {
    db.close();
  }
}

describe("cluster backup", () => {
  let cluster: TestCluster;
  let clients: NodeClient[];
  const scratch = mkdtempSync(join(tmpdir(), "qg-backup-"));
  const restored: RunningCluster[] = [];
  const restoredClients: NodeClient[] = [];

  before(async () => {
    cluster = await startTestCluster({ nodes: NODES });
    clients = cluster.endpoints.map((e) => createNodeClient(e, { timeoutMs: 5000 }));
  });
  after(async () => {
    for (const c of [...(clients ?? []), ...restoredClients]) c.close();
    await Promise.all(restored.map((c) => c.stop()));
    await cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function session(client: NodeClient, userType: "PRECO" | "CO", password: string): Promise<string> {
    const r = await client.call("login", { userType, userName: "admin", password });
    assert.ok(r.ok && "sessionId" in r.data, JSON.stringify(r));
    return r.data.sessionId;
  }

  it("copies a cluster under streaming writes: consistent, complete up to its start, and startable", async (t) => {
    const sessions: string[] = [];
    for (const client of clients) {
      const s = await session(client, "PRECO", "password");
      const r = await client.call("change-password", { userType: "PRECO", userName: "admin", password: ADMIN_PW }, s);
      assert.ok(r.ok, JSON.stringify(r));
      sessions.push(s);
    }

    // Writers stream create-user to every node until told to stop.
    const acked = clients.map(() => [] as string[]);
    const sentAfterBackup = clients.map(() => new Set<string>());
    let backupDone = false;
    let stop = false;
    const writer = async (node: number, w: number): Promise<void> => {
      for (let k = 0; !stop; k++) {
        const name = `u${node}_${w}_${k}`;
        if (backupDone) sentAfterBackup[node]!.add(name);
        const r = await clients[node]!.call(
          "create-user",
          { userType: "CU", userName: name, password: passwordOf(name) },
          sessions[node],
        );
        assert.ok(r.ok, `create-user ${name}: ${JSON.stringify(r)}`);
        acked[node]!.push(name);
      }
    };
    const writers = clients.flatMap((_, node) => Array.from({ length: WRITERS_PER_NODE }, (_, w) => writer(node, w)));
    const waitFor = async (check: () => boolean): Promise<void> => {
      while (!check()) await new Promise((r) => setTimeout(r, 5));
    };

    try {
      await waitFor(() => acked.every((a) => a.length >= 20));
      const ackedBefore = acked.map((a) => [...a]);
      const out = join(scratch, "backup");
      const cap = capture();
      const code = await runClusterBackup(["--data", cluster.dataDir, "--out", out], cap.io);
      backupDone = true;
      // Context, not an assertion (it depends on timing): how many writes landed during the copy.
      t.diagnostic(
        `acknowledged while the backup ran: ${acked.map((a, i) => a.length - ackedBefore[i]!.length).join(", ")} (per node)`,
      );
      assert.equal(code, 0, cap.out() + cap.err());
      assert.equal(cap.err(), "");
      for (let i = 0; i < NODES; i++)
        assert.match(
          cap.out(),
          new RegExp(`^server ${i} \\(${cluster.file.nodes[i]!.hsmId}\\): \\d+ pages, integrity ok, \\d+ users$`, "m"),
        );
      assert.match(cap.out(), /^backup complete: /m);
      // Let the writers go on past the end of the backup.
      const total = acked.map((a) => a.length);
      await waitFor(() => acked.every((a, i) => a.length >= total[i]! + 10));
      stop = true;
      await Promise.all(writers);

      // The files: a cluster directory of its own; the databases private.
      for (const f of ["layout.json", "cluster.json", "backup.json"]) assert.ok(existsSync(join(out, f)), f);
      assert.deepEqual(JSON.parse(readFileSync(join(out, "cluster.json"), "utf8")), cluster.file);
      const manifest = JSON.parse(readFileSync(join(out, "backup.json"), "utf8")) as {
        complete: boolean;
        clusterId: string;
        nodes: { hsmId: string; integrity: string }[];
      };
      assert.equal(manifest.complete, true);
      assert.equal(manifest.clusterId, cluster.file.clusterId);
      assert.deepEqual(
        manifest.nodes.map((n) => [n.hsmId, n.integrity]),
        cluster.file.nodes.map((n) => [n.hsmId, "ok"]),
      );
      for (let i = 0; i < NODES; i++) {
        const db = join(out, `node-${i}`, "hsm.db");
        assert.equal(statSync(db).mode & 0o777, 0o600);
        assert.ok(!existsSync(`${db}-wal`), "the copy is a single file");
        const { integrity, names } = usersIn(db);
        assert.equal(integrity, "ok");
        for (const name of ackedBefore[i]!)
          assert.ok(names.has(name), `node ${i}: ${name} was acknowledged before the backup but is missing`);
        for (const name of sentAfterBackup[i]!)
          assert.ok(!names.has(name), `node ${i}: ${name} was sent after the backup but is in it`);
        const other = (i + 1) % NODES;
        assert.ok(!names.has(ackedBefore[other]![0]!), "each copy is its own node's database");
      }

      // A cluster started on the copy serves the backed-up users.
      const again = await startCluster({ dataDir: out, nodes: NODES, host: "127.0.0.1", basePort: 0, unref: true });
      restored.push(again);
      assert.equal(again.created, false);
      assert.equal(again.info.clusterId, cluster.file.clusterId);
      for (const [i, endpoint] of clusterEndpoints(again.file).entries()) {
        const client = createNodeClient(endpoint);
        restoredClients.push(client);
        const list = await client.call("list-users", {});
        assert.ok(list.ok);
        const served = new Set(list.data.users.map((u) => u.name));
        for (const name of ackedBefore[i]!) assert.ok(served.has(name), `restored node ${i} lacks ${name}`);
        // Passwords came along: a backed-up user logs in.
        const probe = ackedBefore[i]!.at(-1)!;
        const login = await client.call("login", { userType: "CU", userName: probe, password: passwordOf(probe) });
        assert.ok(login.ok, JSON.stringify(login));
        // Sessions did not: the old admin session died with the restart, as on any node restart.
        const old = await client.call("logout", {}, sessions[i]);
        assert.equal(!old.ok && old.error.code, "RET_SESSION_INVALID");
      }
    } finally {
      stop = true;
      await Promise.allSettled(writers);
    }
  });

  it("refuses an output directory that is not empty, and a directory without a cluster", async () => {
    const full = join(scratch, "full");
    mkdirSync(full);
    writeFileSync(join(full, "keep.txt"), "mine\n");
    const cap = capture();
    assert.equal(await runClusterBackup(["--data", cluster.dataDir, "--out", full], cap.io), 1);
    assert.match(cap.err(), /is not empty; a backup never overwrites anything/);
    assert.equal(readFileSync(join(full, "keep.txt"), "utf8"), "mine\n");

    const empty = join(scratch, "empty");
    mkdirSync(empty);
    const cap2 = capture();
    assert.equal(await runClusterBackup(["--data", empty, "--out", join(scratch, "b2")], cap2.io), 1);
    assert.match(cap2.err(), /holds no cluster \(no layout\.json\)/);
  });

  it("marks a backup with a missing node incomplete, and leaves it unstartable", async () => {
    // A data directory whose node 1 has lost its database.
    const broken = join(scratch, "broken");
    mkdirSync(join(broken, "node-0"), { recursive: true });
    mkdirSync(join(broken, "node-1"));
    const cap0 = capture();
    const source = join(scratch, "source");
    assert.equal(await runClusterBackup(["--data", cluster.dataDir, "--out", source], cap0.io), 0, cap0.err());
    copyFileSync(join(source, "layout.json"), join(broken, "layout.json"));
    copyFileSync(join(source, "node-0", "hsm.db"), join(broken, "node-0", "hsm.db"));

    const out = join(scratch, "partial");
    const cap = capture();
    assert.equal(await runClusterBackup(["--data", broken, "--out", out], cap.io), 1);
    assert.match(cap.out(), /^server 0 \(hsm-[a-z2-7]{11}\): \d+ pages, integrity ok/m);
    assert.match(cap.out(), /^server 1: FAILED: no database at /m);
    assert.match(cap.err(), /backup INCOMPLETE: server 1 could not be copied/);
    assert.equal(existsSync(join(out, "layout.json")), false);
    assert.equal((JSON.parse(readFileSync(join(out, "backup.json"), "utf8")) as { complete: boolean }).complete, false);
    await assert.rejects(
      startCluster({ dataDir: out, nodes: NODES, host: "127.0.0.1", basePort: 0, unref: true }),
      /no complete cluster/,
    );
  });

  it("answers --help, and refuses unknown or missing options with exit 2", async () => {
    const help = capture();
    assert.equal(await runClusterBackup(["--help"], help.io), 0);
    assert.match(help.out(), /^Usage: quorum-gate cluster backup \[--data DIR\] --out DIR2/);
    const unknown = capture();
    assert.equal(await runClusterBackup(["--out", join(scratch, "x"), "--fast"], unknown.io), 2);
    assert.match(unknown.err(), /Unknown option '--fast'/);
    const missing = capture();
    assert.equal(await runClusterBackup([], missing.io), 2);
    assert.match(missing.err(), /--out DIR2 is required/);
  });

  it("is routed by the CLI, which lists it", () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ["src/cli/main.ts", ...args], {
        cwd: fileURLToPath(new URL("../../", import.meta.url)),
        encoding: "utf8",
      });
    const bogus = cli("cluster", "backup", "--bogus");
    assert.equal(bogus.status, 2);
    assert.match(bogus.stderr, /^quorum-gate cluster backup: Unknown option '--bogus'/);
    const usage = cli("--help");
    assert.match(usage.stdout, /^ {2}cluster backup +copy every node's database/m);
    assert.match(usage.stdout, /^ {2}cluster status +ask every node/m);
  });
});
