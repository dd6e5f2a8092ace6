// Sustained mixed load on a 3-node cluster on loopback: CLIENTS concurrent clients (each a crypto
// officer with its own connections and sessions) run a realistic mix for a bounded time and a
// bounded number of operations: listUsers, listTokens, a crypto user's login and logout, the CMU
// createUser and deleteUser flows under M = 2 (getToken, two officers' signatures, approveToken,
// the command), and `execute` with operation-bound tokens (token-generate, two signatures,
// execute). Every fan-out goes to the three nodes at once, as the shell and the gate do.
//
// Reported: throughput, p50/p99 latency per kind of operation, errors (every answer that is not
// ok; the mix never expects one), and each node's memory (VmRSS) before, after the first round
// and at the end.
//
// Baseline, measured in the same run and interleaved with the cluster: the same clients, the same
// choices, the same request bodies and the same client-side signing and sealing, sent to three
// bare loopback servers that answer each request with one durable SQLite commit
// (bench/baseline-server.ts). The ratio is the median, over the rounds, of a cluster round's
// throughput over that of the baseline round right after it.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createNodeClient, type CallResult, type NodeClient } from "../src/protocol/node-client.ts";
import { bindingDigest } from "../src/hsm/binding.ts";
import type { BindingContext, OpName, OpRequest, Operation } from "../src/protocol/messages.ts";
import { startTestCluster } from "../test/helpers/cluster.ts";
import {
  approvals,
  concatRecords,
  fanOut,
  loginAll,
  passwordOf,
  setUpQuorumCluster,
  signatures,
  type QuorumCluster,
} from "../test/helpers/quorum-cluster.ts";
import { percentile } from "./lib.ts";
import { prng } from "../test/helpers/prng.ts";

const NODES = 3;
const CLIENTS = 8;
const ROUNDS = 3;
const ROUND_MS = 4000;
const WARM_UP_MS = 1000;
/** A hard cap per phase, so a very fast machine still stops. */
const MAX_OPS_PER_PHASE = 50_000;
const SIGNERS = ["officer1", "officer2"] as const;
const CRYPTO_USER = "loadcu";
const SEED = Number(process.env["QG_SEED"] ?? 20261122);

const KINDS = [
  "list-users",
  "list-tokens",
  "login+logout",
  "cmu create-user",
  "cmu delete-user",
  "execute (bound)",
] as const;
type Kind = (typeof KINDS)[number];
/** The mix, in percent. A delete with nothing to delete creates instead (and counts as a create). */
const MIX: readonly [Kind, number][] = [
  ["list-users", 20],
  ["list-tokens", 10],
  ["login+logout", 20],
  ["cmu create-user", 15],
  ["cmu delete-user", 15],
  ["execute (bound)", 20],
];

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

/** What one phase measured. */
interface Tally {
  readonly latencies: Map<Kind, number[]>;
  /** Every non-ok answer, as "kind: op on server i: CODE message". */
  readonly errors: string[];
  ops: number;
  requests: number;
  elapsedMs: number;
}

const newTally = (): Tally => ({
  latencies: new Map(KINDS.map((k) => [k, []])),
  errors: [],
  ops: 0,
  requests: 0,
  elapsedMs: 0,
});

/**
 * One client's connections to a target: the cluster's nodes (`real`), or the baseline servers,
 * which answer ok to anything; there the client signs random token files of the cluster's size,
 * so that both sides do the same client work and send the same bytes.
 */
interface Target {
  readonly clients: readonly NodeClient[];
  readonly real: boolean;
}

/** One client: a crypto officer with sessions on every node, and the users it created. */
class LoadClient {
  private readonly index: number;
  private readonly target: Target;
  private readonly q: QuorumCluster;
  private readonly random: () => number;
  private readonly mine: string[] = [];
  private fresh = 0;
  private executions = 0;
  private sessions: string[] = [];
  constructor(index: number, target: Target, q: QuorumCluster) {
    this.index = index;
    this.target = target;
    this.q = q;
    this.random = prng(SEED + index * 7919);
  }

  get name(): string {
    return `loadw${this.index}`;
  }

  async start(): Promise<void> {
    this.sessions = this.target.real
      ? await loginAll(this.target.clients, "CO", this.name)
      : this.target.clients.map(() => "baseline");
  }

  async stop(): Promise<void> {
    if (this.target.real) await fanOut(this.target.clients, "logout", () => ({}), this.sessions);
  }

  /** Runs operations until the deadline or the op budget; records into `tally`. */
  async loop(tally: Tally, deadline: number, budget: { left: number }): Promise<void> {
    while (performance.now() < deadline && budget.left > 0) {
      budget.left -= 1;
      let roll = this.random() * 100;
      let kind: Kind = "list-users";
      for (const [k, weight] of MIX) {
        kind = k;
        roll -= weight;
        if (roll < 0) break;
      }
      if (kind === "cmu delete-user" && this.mine.length === 0) kind = "cmu create-user";
      const started = performance.now();
      await this.run(kind, tally);
      tally.latencies.get(kind)!.push(performance.now() - started);
      tally.ops += 1;
    }
  }

  private async send<K extends OpName>(
    tally: Tally,
    kind: Kind,
    op: K,
    body: OpRequest<K>,
    sessions: readonly (string | null)[] = [],
  ): Promise<CallResult<unknown>[] | null> {
    const results = await fanOut(this.target.clients, op, () => body, sessions);
    tally.requests += results.length;
    let failed = false;
    results.forEach((r, i) => {
      if (!r.ok) {
        failed = true;
        tally.errors.push(`${kind}: ${op} on server ${i}: ${r.error.code} ${r.error.message}`);
      }
    });
    return failed ? null : results;
  }

  private async run(kind: Kind, tally: Tally): Promise<void> {
    switch (kind) {
      case "list-users":
        await this.send(tally, kind, "list-users", {});
        return;
      case "list-tokens":
        await this.send(tally, kind, "list-tokens", {});
        return;
      case "login+logout": {
        const logins = await this.send(tally, kind, "login", {
          userType: "CU",
          userName: CRYPTO_USER,
          password: passwordOf(CRYPTO_USER),
        });
        if (logins === null) return;
        const sessions = logins.map((r) =>
          r.ok && typeof r.data === "object" && r.data !== null && "sessionId" in r.data
            ? String(r.data.sessionId)
            : "baseline",
        );
        await this.send(tally, kind, "logout", {}, sessions);
        return;
      }
      case "cmu create-user":
      case "cmu delete-user":
        await this.cmu(kind, tally);
        return;
      case "execute (bound)":
        await this.execute(tally);
        return;
    }
  }

  /** getToken on every node, two signatures, approveToken, then the command. */
  private async cmu(kind: "cmu create-user" | "cmu delete-user", tally: Tally): Promise<void> {
    const name =
      kind === "cmu create-user"
        ? `${this.name}u${this.fresh++}`
        : this.mine[Math.floor(this.random() * this.mine.length)]!;
    const got = await this.send(tally, kind, "get-token", { service: 3, userName: this.name }, this.sessions);
    if (got === null) return this.cleanUp();
    const tokenData = this.tokenFile(got, 80);
    const approved = await this.send(
      tally,
      kind,
      "approve-token",
      { tokenData: b64(tokenData), approvals: approvals(tokenData, SIGNERS) },
      this.sessions,
    );
    if (approved === null) return this.cleanUp();
    const done =
      kind === "cmu create-user"
        ? await this.send(
            tally,
            kind,
            "create-user",
            { userType: "CU", userName: name, password: passwordOf(name) },
            this.sessions,
          )
        : await this.send(tally, kind, "delete-user", { userType: "CU", userName: name }, this.sessions);
    if (done === null) return this.cleanUp();
    this.record(kind === "cmu create-user" ? "create" : "delete", name);
  }

  /** token-generate with a binding on every node, two signatures, execute. */
  private async execute(tally: Tally): Promise<void> {
    const kind: Kind = "execute (bound)";
    const remove = this.mine.length > 0 && this.random() < 0.5;
    const name = remove ? this.mine[Math.floor(this.random() * this.mine.length)]! : `${this.name}u${this.fresh++}`;
    const operation: Operation = remove
      ? { kind: "deleteUser", userType: "CU", userName: name }
      : { kind: "createUser", userType: "CU", userName: name, sealedPassword: this.q.seal(passwordOf(name)) };
    const context: BindingContext = {
      repository: "acme/hsm-requests",
      pullRequest: 1 + this.executions,
      requestDigest: "ab".repeat(32),
    };
    const binding = bindingDigest(this.q.clusterId, operation, context);
    const generated = await this.send(tally, kind, "token-generate", { service: 3, binding }, this.sessions);
    if (generated === null) return this.cleanUp();
    const tokenData = this.tokenFile(generated, 112);
    const body = {
      idempotencyKey: `${this.name}-x${this.executions++}`,
      operation,
      context,
      approval: { tokenData: b64(tokenData), signatures: signatures(tokenData, SIGNERS) },
    };
    const done = await this.send(tally, kind, "execute", body, this.sessions);
    if (done === null) return this.cleanUp();
    this.record(remove ? "delete" : "create", name);
  }

  /** The token file from the nodes' records; for the baseline, random bytes of the same size. */
  private tokenFile(results: readonly CallResult<unknown>[], recordSize: number): Buffer {
    if (!this.target.real) return randomBytes(recordSize * NODES);
    return concatRecords(results.map((r) => (r.ok ? (r.data as { record: string }) : { record: "" })));
  }

  private record(change: "create" | "delete", name: string): void {
    if (change === "create") this.mine.push(name);
    else this.mine.splice(this.mine.indexOf(name), 1);
  }

  /** After an error: drop this officer's tokens, so the next flow starts clean (not counted). */
  private async cleanUp(): Promise<void> {
    if (this.target.real) await fanOut(this.target.clients, "token-delete", () => ({ scope: "user" }), this.sessions);
  }
}

async function phase(clients: readonly LoadClient[], ms: number): Promise<Tally> {
  const tally = newTally();
  const budget = { left: MAX_OPS_PER_PHASE };
  const started = performance.now();
  await Promise.all(clients.map((c) => c.loop(tally, started + ms, budget)));
  tally.elapsedMs = performance.now() - started;
  return tally;
}

function merge(tallies: readonly Tally[]): Tally {
  const all = newTally();
  for (const t of tallies) {
    for (const [k, xs] of t.latencies) all.latencies.get(k)!.push(...xs);
    all.errors.push(...t.errors);
    all.ops += t.ops;
    all.requests += t.requests;
    all.elapsedMs += t.elapsedMs;
  }
  return all;
}

/** VmRSS and VmHWM of a process, in MiB, from /proc. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

async function startBaseline(
  dir: string,
): Promise<{ endpoints: { host: string; port: number }[]; stop: () => Promise<void> }> {
  const children: ChildProcess[] = [];
  const endpoints: { host: string; port: number }[] = [];
  for (let i = 0; i < NODES; i += 1) {
    const child = spawn(
      process.execPath,
      [new URL("./baseline-server.ts", import.meta.url).pathname, join(dir, `baseline-${i}.db`)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), "line")) as [string];
    endpoints.push({ host: "127.0.0.1", port: Number(line.split(":").pop()) });
  }
  return {
    endpoints,
    stop: async () => {
      await Promise.all(
        children.map(async (child) => {
          child.kill("SIGTERM");
          if (child.exitCode === null) await once(child, "exit");
        }),
      );
    },
  };
}

const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ms = (x: number): string => x.toFixed(1);
const mib = (x: number): string => x.toFixed(1);

export async function run(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "qg-bench-load-"));
  const cluster = await startTestCluster({ nodes: NODES });
  const baseline = await startBaseline(dir);
  const setUpClients = cluster.endpoints.map((e) => createNodeClient(e));
  const perClient: NodeClient[][] = [];
  try {
    const workers = Array.from({ length: CLIENTS }, (_, i) => `loadw${i}`);
    const q = await setUpQuorumCluster(setUpClients, {
      signers: SIGNERS,
      members: workers,
      cryptoUsers: [CRYPTO_USER],
      m: 2,
    });
    const clusterClients = workers.map((_, i) => {
      const clients = cluster.endpoints.map((e) => createNodeClient(e, { timeoutMs: 30_000 }));
      perClient.push(clients);
      return new LoadClient(i, { clients, real: true }, q);
    });
    const baselineClients = workers.map((_, i) => {
      const clients = baseline.endpoints.map((e) => createNodeClient(e, { timeoutMs: 30_000 }));
      perClient.push(clients);
      return new LoadClient(i, { clients, real: false }, q);
    });
    await Promise.all([...clusterClients, ...baselineClients].map((c) => c.start()));

    const pids = Array.from({ length: NODES }, (_, i) => cluster.pid(i));
    const loadBefore = loadavg()[0] ?? Number.NaN;
    const before = pids.map(memory);
    await phase(clusterClients, WARM_UP_MS);
    await phase(baselineClients, WARM_UP_MS);
    const clusterRounds: Tally[] = [];
    const baselineRounds: Tally[] = [];
    let afterFirst: { rss: number; peak: number }[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      clusterRounds.push(await phase(clusterClients, ROUND_MS));
      // Growth between the first and the last round tells warm-up (caches, JIT) from a leak.
      if (round === 0) afterFirst = pids.map(memory);
      baselineRounds.push(await phase(baselineClients, ROUND_MS));
    }
    const afterMemory = pids.map(memory);
    const loadAfter = loadavg()[0] ?? Number.NaN;
    await Promise.all(clusterClients.map((c) => c.stop()));
    const users = await fanOut(setUpClients, "list-users", () => ({}));

    const c = merge(clusterRounds);
    const b = merge(baselineRounds);
    const opsPerSecond = (t: Tally): number => (t.ops * 1000) / t.elapsedMs;
    const clusterRate = median(clusterRounds.map(opsPerSecond));
    const baselineRate = median(baselineRounds.map(opsPerSecond));
    // Each cluster round is compared with the baseline round right after it, which ran under
    // nearly the same background load; the figure is the median of those ratios.
    const inOrder = clusterRounds.map((t, k) => opsPerSecond(t) / opsPerSecond(baselineRounds[k]!));
    const ratios = [...inOrder].sort((x, y) => x - y);
    const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
    const requestRate = (t: Tally): number => (t.requests * 1000) / t.elapsedMs;
    if (c.errors.length > 0)
      process.stderr.write(`load: ${c.errors.length} errors:\n  ${c.errors.slice(0, 50).join("\n  ")}\n`);

    const lines = [
      `### Mixed load, ${CLIENTS} concurrent clients, 3 nodes on loopback`,
      "",
      `${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s per side after ${WARM_UP_MS / 1000} s of warm-up (seed ${SEED}). Throughput: the median round. Ratio: the median over the rounds of cluster round / the baseline round that followed it (round by round: ${clusterRounds.map((t, k) => `${opsPerSecond(t).toFixed(0)}/${opsPerSecond(baselineRounds[k]!).toFixed(0)} ops/s = ${pct(inOrder[k]!)}`).join(", ")}). Load average of the machine (1 min) before and after: ${loadBefore.toFixed(1)}, ${loadAfter.toFixed(1)}, on ${cpus().length} CPUs; with other work running, the ratio spreads.`,
      "",
      "| measure | cluster | baseline | cluster / baseline |",
      "|---|---|---|---|",
      `| operations | ${c.ops} | ${b.ops} | |`,
      `| **throughput** | **${clusterRate.toFixed(0)} ops/s** | ${baselineRate.toFixed(0)} ops/s | **${pct(median(ratios))}** |`,
      `| HTTP requests | ${requestRate(c).toFixed(0)}/s | ${requestRate(b).toFixed(0)}/s | |`,
      `| errors (non-ok answers) | ${c.errors.length} | (answers ok to all) | |`,
      "",
      "| operation | share | count | p50 | p99 | baseline p50 | baseline p99 |",
      "|---|---|---|---|---|---|---|",
      ...KINDS.map((k) => {
        const xs = [...c.latencies.get(k)!].sort((x, y) => x - y);
        const ys = [...b.latencies.get(k)!].sort((x, y) => x - y);
        return `| ${k} | ${((xs.length / c.ops) * 100).toFixed(0)}% | ${xs.length} | ${ms(percentile(xs, 50))} ms | ${ms(percentile(xs, 99))} ms | ${ms(percentile(ys, 50))} ms | ${ms(percentile(ys, 99))} ms |`;
      }),
      "",
      "| node | RSS before | after round 1 | after the last round | peak RSS (VmHWM) | users at the end |",
      "|---|---|---|---|---|---|",
      ...pids.map((_, i) => {
        const u = users[i];
        return `| server ${i} | ${mib(before[i]!.rss)} MiB | ${mib(afterFirst[i]!.rss)} MiB | ${mib(afterMemory[i]!.rss)} MiB | ${mib(afterMemory[i]!.peak)} MiB | ${u?.ok ? u.data.users.length : "?"} |`;
      }),
      "",
    ];
    if (c.errors.length > 0) lines.push("Errors (first 20):", "", ...c.errors.slice(0, 20).map((e) => `- ${e}`), "");
    return lines;
  } finally {
    for (const clients of [setUpClients, ...perClient]) for (const client of clients) client.close();
    await baseline.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
