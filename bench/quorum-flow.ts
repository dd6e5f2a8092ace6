// The quorum-approved createUser flow on a 3-node cluster (getToken, two officer signatures,
// approveToken, createUser; each step fanned out to all nodes at once, as the shell and the
// gate do), against a baseline of the same number of bare loopback round trips that each
// commit one SQLite row, served by separate processes like the nodes. Also: listUsers cost at
// 100, 1,000 and 10,000 users.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { signMessage } from "../src/crypto/rsa.ts";
import { createNodeClient, type NodeClient } from "../src/protocol/node-client.ts";
import type { OpName, OpRequest, OpResponse } from "../src/protocol/messages.ts";
import { startTestCluster } from "../test/helpers/cluster.ts";
import { testKey } from "../test/helpers/keys.ts";
import { linearity, timeIt, type Sample } from "./lib.ts";

async function all<K extends OpName>(
  clients: readonly NodeClient[],
  op: K,
  body: (i: number) => OpRequest<K>,
  sessions: readonly (string | null)[] = [],
): Promise<OpResponse<K>[]> {
  const results = await Promise.all(clients.map((c, i) => c.call(op, body(i), sessions[i] ?? null)));
  return results.map((r) => {
    if (!r.ok) throw new Error(`${op}: ${r.error.code} ${r.error.message}`);
    return r.data;
  });
}

/** Activates a fresh cluster, makes two officers with keys and sets M(3) = 2; returns officer1's sessions. */
async function prepare(clients: readonly NodeClient[]): Promise<string[]> {
  const preco = (
    await all(clients, "login", () => ({ userType: "PRECO", userName: "admin", password: "password" }))
  ).map((r) => ("sessionId" in r ? r.sessionId : ""));
  await all(
    clients,
    "change-password",
    () => ({ userType: "PRECO", userName: "admin", password: "admin-pass-1" }),
    preco,
  );
  for (const name of ["officer1", "officer2"])
    await all(clients, "create-user", () => ({ userType: "CO", userName: name, password: `${name}-pass` }), preco);
  for (const name of ["officer1", "officer2"]) {
    const s = (await all(clients, "login", () => ({ userType: "CO", userName: name, password: `${name}-pass` }))).map(
      (r) => ("sessionId" in r ? r.sessionId : ""),
    );
    const reg = Buffer.from("registration");
    await all(
      clients,
      "register-quorum-key",
      () => ({
        userType: "CO",
        userName: name,
        registrationToken: reg.toString("base64"),
        signature: signMessage(reg, testKey(name).privateKey).toString("base64"),
        publicKeyPem: testKey(name).publicPem,
      }),
      s,
    );
    await all(clients, "logout", () => ({}), s);
  }
  await all(clients, "set-m-value", () => ({ service: 3, value: 2 }), preco);
  return (await all(clients, "login", () => ({ userType: "CO", userName: "officer1", password: "officer1-pass" }))).map(
    (r) => ("sessionId" in r ? r.sessionId : ""),
  );
}

async function startBaseline(
  dir: string,
  count: number,
): Promise<{ clients: NodeClient[]; stop: () => Promise<void> }> {
  const children: ChildProcess[] = [];
  const clients: NodeClient[] = [];
  for (let i = 0; i < count; i += 1) {
    const child = spawn(
      process.execPath,
      [new URL("./baseline-server.ts", import.meta.url).pathname, join(dir, `baseline-${i}.db`)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, "line")) as [string];
    const port = Number(line.split(":").pop());
    clients.push(createNodeClient({ host: "127.0.0.1", port }));
  }
  return {
    clients,
    stop: async () => {
      for (const c of clients) c.close();
      await Promise.all(
        children.map(async (child) => {
          child.kill("SIGTERM");
          if (child.exitCode === null) await once(child, "exit");
        }),
      );
    },
  };
}

export async function run(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "qg-bench-flow-"));
  const cluster = await startTestCluster({ nodes: 3 });
  const baseline = await startBaseline(dir, 3);
  const clients = cluster.endpoints.map((e) => createNodeClient(e));
  try {
    const officer1 = await prepare(clients);
    let n = 0;
    let signMs = 0;
    const flow = async (): Promise<void> => {
      n += 1;
      const records = await all(clients, "get-token", () => ({ service: 3, userName: "officer1" }), officer1);
      const tokenData = Buffer.concat(records.map((r) => Buffer.from(r.record, "base64")));
      const t = performance.now();
      const approvals = ["officer1", "officer2"].map((name) => ({
        approverType: 2,
        approverName: name,
        signature: signMessage(tokenData, testKey(name).privateKey).toString("base64"),
      }));
      signMs += performance.now() - t;
      await all(clients, "approve-token", () => ({ tokenData: tokenData.toString("base64"), approvals }), officer1);
      await all(
        clients,
        "create-user",
        () => ({ userType: "CU", userName: `user${n}`, password: "bench-pass" }),
        officer1,
      );
    };
    const recordSize = 80 * 3;
    const filler = "x".repeat(Math.ceil((recordSize * 4) / 3));
    const baselineFlow = async (): Promise<void> => {
      for (let step = 0; step < 3; step += 1) await all(baseline.clients, "hello", () => ({ filler }) as never);
    };
    for (let i = 0; i < 20; i += 1) {
      await flow();
      await baselineFlow();
    }
    const flowMs: number[] = [];
    const baseMs: number[] = [];
    const signShare: number[] = [];
    for (let round = 0; round < 7; round += 1) {
      const before = { n, signMs };
      flowMs.push(await timeIt(flow, { rounds: 1, minMs: 2000 }));
      signShare.push((signMs - before.signMs) / (n - before.n));
      baseMs.push(await timeIt(baselineFlow, { rounds: 1, minMs: 2000 }));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const f = median(flowMs);
    const b = median(baseMs);
    const s = median(signShare);

    const listSamples = await listUsersScaling(clients[0] as NodeClient, officer1[0] ?? "");
    return [
      "### Quorum-approved createUser flow, 3 nodes on loopback",
      "",
      "| measure | value |",
      "|---|---|",
      `| flow (getToken + 2 signatures + approveToken + createUser) | ${f.toFixed(2)} ms, ${(1000 / f).toFixed(0)} flows/s |`,
      `| of which the two officers' signatures (client side) | ${s.toFixed(2)} ms |`,
      `| baseline: 3 x 3 parallel round trips, each a SQLite commit | ${b.toFixed(2)} ms, ${(1000 / b).toFixed(0)} flows/s |`,
      `| **flow throughput / baseline** | **${((b / f) * 100).toFixed(0)}%** |`,
      `| same, without the client-side signing | ${((b / (f - s)) * 100).toFixed(0)}% |`,
      "",
      "### listUsers over HTTP on one node",
      "",
      "| users | ms per call | work | cost | cost / work |",
      "|---|---|---|---|---|",
      ...linearity(listSamples),
      "",
    ];
  } finally {
    for (const c of clients) c.close();
    await baseline.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function listUsersScaling(client: NodeClient, session: string): Promise<Sample[]> {
  // M(3) is 2 on this cluster, so the bench adds users on a node of its own.
  const solo = await startTestCluster({ nodes: 1 });
  const c = createNodeClient(solo.endpoints[0] ?? client.endpoint);
  try {
    const s = await prepareSolo(c);
    const samples: Sample[] = [];
    let users = (await c.call("list-users", {})).ok ? 2 : 0;
    for (const target of [100, 1000, 10000]) {
      for (; users < target; users += 1) {
        const r = await c.call("create-user", { userType: "CU", userName: `bulk${users}`, password: "bench-pass" }, s);
        if (!r.ok) throw new Error(`create-user: ${r.error.code}`);
      }
      samples.push({
        label: `${target}`,
        units: target,
        msPerCall: await timeIt(() => c.call("list-users", {}), { rounds: 3, minMs: 300 }),
      });
    }
    void session;
    return samples;
  } finally {
    c.close();
    await solo.stop();
  }
}

async function prepareSolo(c: NodeClient): Promise<string> {
  const login = await c.call("login", { userType: "PRECO", userName: "admin", password: "password" });
  if (!login.ok || !("sessionId" in login.data)) throw new Error("login failed");
  const r = await c.call(
    "change-password",
    { userType: "PRECO", userName: "admin", password: "admin-pass-1" },
    login.data.sessionId,
  );
  if (!r.ok) throw new Error(`activate: ${r.error.code}`);
  return login.data.sessionId;
}
