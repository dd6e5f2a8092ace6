// `quorum-gate cluster status` against a real 3-node cluster, run as the operator runs it (a
// subprocess of the CLI). Drift is made on purpose by calling one node directly, the way a
// half-failed CMU command leaves it; the report must show exactly those differences.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import type { DriftReport } from "../../src/cluster/drift.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { testKey } from "../helpers/keys.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const ADMIN_PW = "admin-pass-1";

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["src/cli/main.ts", ...args], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

type JsonReport = DriftReport & { version: number; clusterFile: string };

async function statusJson(clusterFile: string): Promise<{ code: number | null; report: JsonReport }> {
  const r = await runCli(["cluster", "status", "--cluster", clusterFile, "--json", "--timeout-ms", "3000"]);
  assert.equal(r.stderr, "");
  return { code: r.code, report: JSON.parse(r.stdout) as JsonReport };
}

describe("cluster status on a real cluster", () => {
  let cluster: TestCluster;
  let clients: NodeClient[];
  /** The activated admin's session on each node. */
  const admin: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "qg-status-"));

  async function must<T>(
    p: Promise<{ ok: true; data: T } | { ok: false; error: { code: string; message: string } }>,
  ): Promise<T> {
    const r = await p;
    assert.ok(r.ok, JSON.stringify(r));
    return r.data;
  }

  async function login(
    client: NodeClient,
    userType: "PRECO" | "CO" | "CU",
    userName: string,
    password: string,
  ): Promise<string> {
    const data = await must(client.call("login", { userType, userName, password }));
    assert.ok("sessionId" in data);
    return data.sessionId;
  }

  before(async () => {
    cluster = await startTestCluster({ nodes: 3 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    // The same history on every node: activation, two officers and a crypto user.
    for (const client of clients) {
      const s = await login(client, "PRECO", "admin", "password");
      await must(client.call("change-password", { userType: "PRECO", userName: "admin", password: ADMIN_PW }, s));
      for (const name of ["officer1", "officer2"])
        await must(client.call("create-user", { userType: "CO", userName: name, password: `${name}-pw` }, s));
      await must(client.call("create-user", { userType: "CU", userName: "bob", password: "bob-pass" }, s));
      admin.push(s);
    }
  });
  after(async () => {
    for (const c of clients ?? []) c.close();
    await cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("exits 0 on a consistent cluster", async () => {
    const text = await runCli(["cluster", "status", "--cluster", cluster.clusterFile]);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    const lines = text.stdout.trimEnd().split("\n");
    assert.equal(lines.at(-1), "CONSISTENT: all 3 servers answered, nothing differs");
    assert.ok(lines.includes("no differences"));
    for (const [i, n] of cluster.file.nodes.entries()) {
      assert.match(
        text.stdout,
        new RegExp(`^ +${i}  127\\.0\\.0\\.1:${n.port}  ${n.hsmId} +${n.nodeId} +5 +0 +0 +1 +1  ok$`, "m"),
      );
    }

    const { code, report } = await statusJson(cluster.clusterFile);
    assert.equal(code, 0);
    assert.equal(report.version, 1);
    assert.equal(report.clusterId, cluster.file.clusterId);
    assert.deepEqual(report.compared, [0, 1, 2]);
    assert.deepEqual([report.users, report.quorum], [[], []]);
    assert.deepEqual(
      report.nodes.map((n) => n.status),
      ["ok", "ok", "ok"],
    );
  });

  it("shows exactly the drift made on one node at a time, and exits 1", async () => {
    const [c0, c1, c2] = clients as [NodeClient, NodeClient, NodeClient];
    // Node 0 only: a new user.
    await must(c0.call("create-user", { userType: "CU", userName: "alice", password: "alice-pass" }, admin[0]));
    // Node 1 only: officer1 registers a quorum key, and bob gets locked out.
    const s1 = await login(c1, "CO", "officer1", "officer1-pw");
    const regToken = Buffer.from("token to be signed\n");
    const { fingerprint } = await must(
      c1.call(
        "register-quorum-key",
        {
          userType: "CO",
          userName: "officer1",
          registrationToken: regToken.toString("base64"),
          signature: signMessage(regToken, testKey("officer1").privateKey).toString("base64"),
          publicKeyPem: testKey("officer1").publicPem,
        },
        s1,
      ),
    );
    for (let i = 0; i < 5; i++) {
      const r = await c1.call("login", { userType: "CU", userName: "bob", password: "wrong-pass" });
      assert.equal(!r.ok && r.error.code, "RET_USER_LOGIN_FAILURE");
    }
    // Node 2 only: M(3) = 2.
    await must(c2.call("set-m-value", { service: 3, value: 2 }, admin[2]));

    const { code, report } = await statusJson(cluster.clusterFile);
    assert.equal(code, 1);
    const cell = (
      id: number,
      type: string,
      extra: Partial<{ quorumKey: string; locked: boolean; loginFailureCnt: number }> = {},
    ) => ({
      id,
      type,
      quorumKey: null,
      twoFactor: false,
      locked: false,
      loginFailureCnt: 0,
      ...extra,
    });
    assert.deepEqual(report.users, [
      {
        name: "officer1",
        differsIn: ["quorumKey"],
        holdings: [0, 1, 2].map((server) => ({
          server,
          user: cell(3, "CO", server === 1 ? { quorumKey: fingerprint } : {}),
        })),
      },
      {
        name: "bob",
        differsIn: ["locked"],
        holdings: [0, 1, 2].map((server) => ({
          server,
          user: cell(5, "CU", server === 1 ? { locked: true, loginFailureCnt: 5 } : {}),
        })),
      },
      {
        name: "alice",
        differsIn: ["presence"],
        holdings: [
          { server: 0, user: cell(6, "CU") },
          { server: 1, user: null },
          { server: 2, user: null },
        ],
      },
    ]);
    assert.deepEqual(report.quorum, [
      {
        service: 3,
        name: "USER_MGMT",
        values: [
          { server: 0, value: 1 },
          { server: 1, value: 1 },
          { server: 2, value: 2 },
        ],
      },
    ]);
    assert.equal(report.verdict.ok, false);
    assert.equal(report.verdict.summary, "DRIFT: 3 users and 1 quorum value differ between servers 0, 1 and 2");

    const text = await runCli(["cluster", "status", "--cluster", cluster.clusterFile]);
    assert.equal(text.code, 1);
    const out = text.stdout;
    assert.match(out, new RegExp(`^officer1  CO #3 +CO #3 key ${fingerprint.slice(0, 8)} +CO #3 +quorum key$`, "m"));
    assert.match(out, /^bob +CU #5 +CU #5 LOCKED +CU #5 +locked$/m);
    assert.match(out, /^alice +CU #6 +- +- +missing on servers 1 and 2$/m);
    assert.match(out, /^M\(3\) USER_MGMT +1 +1 +2$/m);
    assert.doesNotMatch(out, /^M\(4\)/m, "M(4) agrees everywhere: not listed");
    assert.equal(
      out.trimEnd().split("\n").at(-1),
      "DRIFT: 3 users and 1 quorum value differ between servers 0, 1 and 2",
    );
    assert.doesNotMatch(out + text.stderr, /BEGIN PUBLIC KEY|officer1-pw|wrong-pass/, "no key material or passwords");
  });

  it("is loud about a node that is not the one the cluster file names", async () => {
    // A stale cluster file: servers 0 and 1 swapped ports.
    const file = JSON.parse(JSON.stringify(cluster.file)) as { nodes: { port: number }[] };
    const [p0, p1] = [file.nodes[0]!.port, file.nodes[1]!.port];
    file.nodes[0]!.port = p1;
    file.nodes[1]!.port = p0;
    const path = join(scratch, "swapped.json");
    writeFileSync(path, JSON.stringify(file));

    const { code, report } = await statusJson(path);
    assert.equal(code, 1);
    const n0 = report.nodes[0]!;
    assert.ok(n0.status === "wrong-identity");
    assert.deepEqual(
      n0.mismatches.map((m) => [m.field, m.expected, m.actual]),
      [
        ["hsmId", cluster.file.nodes[0]!.hsmId, cluster.file.nodes[1]!.hsmId],
        ["nodeId", cluster.file.nodes[0]!.nodeId, cluster.file.nodes[1]!.nodeId],
      ],
    );
    assert.deepEqual(report.verdict.wrongIdentity, [0, 1]);
    assert.deepEqual(report.compared, [2]);

    const text = await runCli(["cluster", "status", "--cluster", path]);
    assert.equal(text.code, 1);
    assert.match(
      text.stdout,
      new RegExp(`^!!! server 0 at 127\\.0\\.0\\.1:${p1} is not the node the cluster file names:$`, "m"),
    );
    assert.match(
      text.stdout,
      new RegExp(
        `^!!!   hsmId: the cluster file says ${cluster.file.nodes[0]!.hsmId}, the node says ${cluster.file.nodes[1]!.hsmId}$`,
        "m",
      ),
    );
    assert.match(text.stdout.trimEnd(), /servers 0 and 1 are not the node the cluster file names$/);
  });

  it("refuses bad arguments with exit 2 and a clear message", async () => {
    const unknown = await runCli(["cluster", "status", "--bogus"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--bogus'/);
    const badTimeout = await runCli(["cluster", "status", "--timeout-ms", "soon"]);
    assert.equal(badTimeout.code, 2);
    assert.match(badTimeout.stderr, /--timeout-ms must be a whole number/);
    const help = await runCli(["cluster", "status", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: quorum-gate cluster status/);
    assert.match(help.stdout, /Passwords cannot be compared/);
    const missing = await runCli(["cluster", "status", "--cluster", join(scratch, "nope.json")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no cluster file at/);
  });

  it("shows a stopped node as unreachable, and still compares the others", async () => {
    await cluster.kill(2);
    const { code, report } = await statusJson(cluster.clusterFile);
    assert.equal(code, 1);
    assert.deepEqual(report.nodes[2], {
      ...pick(cluster.file.nodes[2]!),
      status: "unreachable",
      reason: "connection refused",
    });
    assert.deepEqual(report.compared, [0, 1]);
    assert.deepEqual(report.quorum, [], "M(3) differed only on the stopped node");
    assert.deepEqual(report.verdict.unreachable, [2]);
    const text = await runCli(["cluster", "status", "--cluster", cluster.clusterFile]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^ +2 {2}.* +- +- +- +- +- {2}UNREACHABLE \(connection refused\)$/m);
    assert.equal(
      text.stdout.trimEnd().split("\n").at(-1),
      "DRIFT: 3 users differ between servers 0 and 1; server 2 unreachable",
    );
  });
});

function pick(n: { index: number; host: string; port: number; hsmId: string; nodeId: number }) {
  return { server: n.index, host: n.host, port: n.port, hsmId: n.hsmId, nodeId: n.nodeId };
}

describe("cluster status on a TLS cluster", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster({ nodes: 2, tls: true });
  });
  after(async () => {
    await cluster?.stop();
  });

  it("verifies the nodes with the CA of the cluster file, and finds them consistent", async () => {
    const { code, report } = await statusJson(cluster.clusterFile);
    assert.equal(code, 0, JSON.stringify(report.nodes));
    assert.equal(report.verdict.summary, "CONSISTENT: all 2 servers answered, nothing differs");
  });
});
