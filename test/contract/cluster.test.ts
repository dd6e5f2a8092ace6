// Creating, starting, reusing and stopping a cluster of real node processes on 127.0.0.1.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { clusterEndpoints, readClusterFile } from "../../src/cluster/cluster-file.ts";
import { createCluster, startCluster, type RunningCluster } from "../../src/cluster/cluster.ts";
import { createNodeClient } from "../../src/protocol/node-client.ts";
import { runClusterStart } from "../../src/cli/cluster-start.ts";
import { sealSecret, unsealSecret } from "../../src/crypto/seal.ts";
import { NODE_DB_FILE, openNodeDatabase } from "../../src/node/sqlite-repository.ts";

const root = mkdtempSync(join(tmpdir(), "qg-cluster-test-"));
const toStop: RunningCluster[] = [];
after(async () => {
  await Promise.all(toStop.map((c) => c.stop()));
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const freshDir = (): string => join(root, `c${++n}`);

async function start(
  dataDir: string,
  nodes: number,
  extra: Partial<Parameters<typeof startCluster>[0]> = {},
): Promise<RunningCluster> {
  const c = await startCluster({ dataDir, nodes, host: "127.0.0.1", basePort: 0, ...extra });
  toStop.push(c);
  return c;
}

async function hello(endpoint: { host: string; port: number; ca?: string }) {
  const client = createNodeClient(endpoint);
  try {
    return await client.call("hello", {});
  } finally {
    client.close();
  }
}

describe("createCluster", () => {
  it("makes N seeded nodes that share a cluster id and a sealing key, with node ids counting down", () => {
    const dir = freshDir();
    const info = createCluster(dir, 3);
    assert.match(info.clusterId, /^cluster-[a-z2-7]{11}$/);
    assert.deepEqual(
      info.nodes.map((x) => x.nodeId),
      [2, 1, 0],
    );
    assert.equal(new Set(info.nodes.map((x) => x.hsmId)).size, 3);
    const sealed = new Set<string>();
    for (const node of info.nodes) {
      assert.match(node.hsmId, /^hsm-[a-z2-7]{11}$/);
      const repo = openNodeDatabase(join(node.dir, NODE_DB_FILE));
      try {
        const id = repo.identity();
        assert.deepEqual([id.clusterId, id.hsmId, id.nodeId], [info.clusterId, node.hsmId, node.nodeId]);
        assert.deepEqual(
          repo.listUsers().map((u) => [u.id, u.type, u.name]),
          [
            [1, "PRECO", "admin"],
            [2, "AU", "app_user"],
          ],
        );
        // A password sealed to the public key opens with the node's private key.
        assert.equal(
          unsealSecret(repo.sealingPrivateKeyPem(), sealSecret(id.sealingPublicKeyPem, "s3cret-pw")),
          "s3cret-pw",
        );
        sealed.add(id.sealingPublicKeyPem);
      } finally {
        repo.close();
      }
    }
    assert.equal(sealed.size, 1, "one sealing key for the whole cluster");
  });

  it("refuses a directory that already holds a cluster, or half of one", () => {
    const dir = freshDir();
    createCluster(dir, 1);
    assert.throws(() => createCluster(dir, 1), /already holds a cluster/);
    const half = freshDir();
    mkdirSync(join(half, "node-0"), { recursive: true });
    assert.throws(() => createCluster(half, 2), /node directories \(node-0\) but no complete cluster/);
  });

  it("refuses a node count outside 1..32", () => {
    assert.throws(() => createCluster(freshDir(), 0), /1 to 32 nodes/);
    assert.throws(() => createCluster(freshDir(), 33), /1 to 32 nodes/);
  });
});

describe("startCluster", () => {
  it("runs every node, writes the cluster file with the real ports, and keeps state across restarts", async () => {
    const dir = freshDir();
    const first = await start(dir, 2);
    assert.equal(first.created, true);
    const read = readClusterFile(join(dir, "cluster.json"));
    assert.ok(read.ok);
    assert.deepEqual(read.value, first.file);
    assert.equal(read.value.ca, undefined, "no TLS on loopback unless asked");
    for (const [i, endpoint] of clusterEndpoints(read.value).entries()) {
      const r = await hello(endpoint);
      assert.ok(r.ok);
      assert.equal(r.data.hsmId, read.value.nodes[i]?.hsmId);
      assert.equal(r.data.nodeId, read.value.nodes[i]?.nodeId);
    }
    // A failed login is state: it must survive a stop and a start.
    const client = createNodeClient(clusterEndpoints(first.file)[0]!);
    const bad = await client.call("login", { userType: "PRECO", userName: "admin", password: "wrong-password" });
    assert.equal(!bad.ok && bad.error.code, "RET_USER_LOGIN_FAILURE");
    client.close();
    await first.stop();

    const second = await start(dir, 2);
    assert.equal(second.created, false);
    assert.equal(second.file.clusterId, first.file.clusterId);
    assert.deepEqual(
      second.file.nodes.map((x) => x.hsmId),
      first.file.nodes.map((x) => x.hsmId),
    );
    const again = createNodeClient(clusterEndpoints(second.file)[0]!);
    const users = await again.call("list-users", {});
    again.close();
    assert.ok(users.ok);
    assert.equal(users.data.users.find((u) => u.name === "admin")?.loginFailureCnt, 1);
    await second.stop();
  });

  it("refuses another node count for an existing cluster, and releases the directory", async () => {
    const dir = freshDir();
    await (await start(dir, 1)).stop();
    await assert.rejects(start(dir, 2), /holds a cluster of 1 nodes, not 2/);
    await (await start(dir, 1)).stop();
  });

  it("refuses a second runner on the same directory", async () => {
    const dir = freshDir();
    const c = await start(dir, 1);
    await assert.rejects(start(dir, 1), /already running/);
    await c.stop();
    assert.equal(existsSync(join(dir, "runner.pid")), false);
  });

  it("takes over the lock of a runner that died", async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "runner.pid"), "999999999\n"); // above any pid_max: not alive
    await (await start(dir, 1)).stop();
  });

  it("reports a node that dies behind its back, naming it", async () => {
    const dir = freshDir();
    let reported: (v: [number, string]) => void = () => {};
    const death = new Promise<[number, string]>((res) => (reported = res));
    const c = await start(dir, 2, { onUnexpectedExit: (i, how) => reported([i, how]) });
    process.kill(c.pid(1), "SIGKILL");
    assert.deepEqual(await death, [1, "killed by SIGKILL"]);
    const r = await hello(clusterEndpoints(c.file)[1]!);
    assert.equal(!r.ok && r.error.code, "RET_NODE_UNREACHABLE");
    await c.restart(1);
    assert.equal((await hello(clusterEndpoints(c.file)[1]!)).ok, true);
    await c.stop();
  });

  it("does not report a kill it was asked for", async () => {
    const unexpected: string[] = [];
    const c = await start(freshDir(), 1, { onUnexpectedExit: (i, how) => unexpected.push(`${i} ${how}`) });
    await c.kill(0);
    await c.stop();
    assert.deepEqual(unexpected, []);
  });

  it("fails clearly when a node cannot listen, and leaves nothing running", async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, "127.0.0.1", res));
    const port = (blocker.address() as { port: number }).port;
    const dir = freshDir();
    try {
      await assert.rejects(
        start(dir, 1, { basePort: port }),
        (err: Error) =>
          /node 0 \(hsm-[a-z2-7]+\) stopped before listening/.test(err.message) && /EADDRINUSE/.test(err.message),
      );
    } finally {
      blocker.close();
    }
    // The directory is free again and the cluster starts.
    await (await start(dir, 1)).stop();
  });
});

describe("quorum-gate cluster start", () => {
  function fakeIo(signal?: AbortSignal) {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => err.push(t) },
        ...(signal ? { signal } : {}),
      },
    };
  }

  it("prints where each node listens and the cluster file, then stops when asked", async () => {
    const dir = freshDir();
    const stop = new AbortController();
    const { out, io } = fakeIo(stop.signal);
    let announce: () => void = () => {};
    const running = new Promise<void>((res) => (announce = res));
    io.stdout.write = (t: string) => {
      out.push(t);
      if (t.startsWith("running")) announce();
      return out.length;
    };
    const exit = runClusterStart(["--nodes", "2", "--data", dir, "--base-port", "0"], io);
    await running;
    const text = out.join("");
    assert.match(text, /^created cluster cluster-[a-z2-7]{11} \(2 nodes\)/);
    assert.match(text, /^server 0: http:\/\/127\.0\.0\.1:\d+ {2}hsm-[a-z2-7]{11} {2}Node:1$/m);
    assert.match(text, /^server 1: http:\/\/127\.0\.0\.1:\d+ {2}hsm-[a-z2-7]{11} {2}Node:0$/m);
    assert.ok(text.includes(`cluster file: ${join(dir, "cluster.json")}`));
    const file = readClusterFile(join(dir, "cluster.json"));
    assert.ok(file.ok);
    assert.equal((await hello(clusterEndpoints(file.value)[1]!)).ok, true);
    stop.abort();
    assert.equal(await exit, 0);
    assert.match(out.join(""), /stopped\n$/);
    const r = await hello(clusterEndpoints(file.value)[0]!);
    assert.equal(!r.ok && r.error.code, "RET_NODE_UNREACHABLE", "the nodes are gone");
  });

  for (const [args, pattern] of [
    [["--bogus"], /Unknown option '--bogus'/],
    [["--nodes", "0"], /--nodes must be an integer from 1 to 32/],
    [["--nodes", "two"], /--nodes must be an integer/],
    [["--base-port", "65535", "--nodes", "2"], /no room for 2 nodes/],
    [["extra"], /unexpected argument/],
  ] as const) {
    it(`exits 2 on bad usage: ${args.join(" ")}`, async () => {
      const { err, io } = fakeIo();
      assert.equal(await runClusterStart([...args], io), 2);
      assert.match(err.join(""), pattern);
    });
  }

  it("prints help and exits 0", async () => {
    const { out, io } = fakeIo();
    assert.equal(await runClusterStart(["--help"], io), 0);
    assert.match(out.join(""), /--base-port P/);
  });
});
