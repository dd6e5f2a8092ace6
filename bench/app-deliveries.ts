// Webhook deliveries handled end to end by the GitHub App (src/app, Probot 14), on loopback:
// Probot's createNodeMiddleware on 127.0.0.1 with an App key (the fake's, made at run time) and a
// webhook secret made at run time, the fake GitHub API (test/helpers/fake-github.ts) and a real
// 3-node cluster (test/helpers/cluster.ts). Each measured delivery is an HMAC-signed
// `issue_comment.created` for a new discussion comment on one of PRS open request pull requests
// (round robin, so no two deliveries in flight share a pull request), each pending with one
// officer's approval of two. A delivery counts when Probot answered 200 (it answers after the
// handlers finished) and the App logged outcome "no_command" for that delivery id: discussion
// cannot change an outcome, so it must cost no API call
// (docs/github-app.md, "What a delivery costs"). The set-up's deliveries (each pull request opened, then one officer's approval) are
// not timed; their API calls are counted per kind, reads before the first write apart.
//
// Three servers in the same process, driven by the same client:
//   app (Probot defaults)   the App as deployed: Probot's Octokit with the throttling plugin, whose
//                           "write" limiter lets one POST/PATCH/PUT/DELETE start per second per
//                           process (GitHub's advice against secondary rate limits)
//   app (no write pacing)   the same App with throttling off: the App's own cost per delivery
//   baseline                Probot with a no-op issue_comment handler: signature check, parsing
//                           and routing of the same deliveries, the framework's floor
// The second and third are measured in interleaved rounds, sequential (1 in flight) and with 4
// in flight; medians of the rounds' throughput; p50/p99 over every delivery of a kind. The fake
// GitHub runs in this process too, so its CPU time is inside every figure.
// Bounded: at most MAX_PER_PHASE deliveries and PHASE_MS per phase; everything stops at the end.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot, ProbotOctokit, type ApplicationFunction, type Logger } from "probot";
import { createQuorumGateApp } from "../src/app/index.ts";
import { createNodeClient } from "../src/protocol/node-client.ts";
import { signMessage } from "../src/crypto/rsa.ts";
import { readStickyToken, STICKY_MARKER } from "../src/gate/index.ts";
import { countCalls as countApiCalls } from "../test/helpers/api-calls.ts";
import { startTestCluster } from "../test/helpers/cluster.ts";
import { startFakeGitHub, type FakeGitHub, type FakeRepo } from "../test/helpers/fake-github.ts";
import { testKey } from "../test/helpers/keys.ts";
import { loginAll, must, setUpQuorumCluster } from "../test/helpers/quorum-cluster.ts";
import { percentile } from "./lib.ts";

const PRS = 16;
const ROUNDS = 3;
const PHASE_MS = 4000;
const MAX_PER_PHASE = 150;
/** The paced App does about one delivery a second: fewer, and a longer cap. */
const PACED_MAX = 20;
const PACED_MS = 30_000;
const OFFICERS = { alice: "officer1", bob: "officer2" } as const;
const TALKERS = ["bob", "carol", "dave", "requester", "erin"] as const;
const BODIES = [
  "Thanks, looking at it now.",
  "Which ticket is this for? The reason says payments, but there are two payment services.",
  "I checked the sealed password fingerprint against the one in the ticket; they match.\n\n- [x] reason\n- [x] operation\n- [ ] second officer",
  "> Which ticket is this for?\n\nTICKET-1234, the card-present service.",
  "Ping @bob: one more approval needed.",
];

/** What the App logged per delivery id: the outcome code, and any error. */
interface Outcomes {
  readonly byId: Map<string, Record<string, unknown>>;
  readonly errors: string[];
}

/** A Probot logger that keeps the App's outcome lines (they carry the delivery id) and errors. */
function capturingLogger(outcomes: Outcomes, bindings: Record<string, unknown> = {}): Logger {
  const keep = (level: string) => (obj: unknown, msg?: string) => {
    const fields = typeof obj === "object" && obj !== null ? (obj as Record<string, unknown>) : {};
    if (typeof fields["outcome"] === "string" && typeof bindings["id"] === "string")
      outcomes.byId.set(bindings["id"], { ...fields });
    if (level === "error" || level === "fatal")
      outcomes.errors.push(`${msg ?? (typeof obj === "string" ? obj : "")} ${fields["error"] ?? ""}`.trim());
  };
  const log = {
    level: "info",
    child: (more: Record<string, unknown>) => capturingLogger(outcomes, { ...bindings, ...more }),
    trace: keep("trace"),
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
    fatal: keep("fatal"),
    silent: () => {},
    isLevelEnabled: (level: string) => level !== "trace" && level !== "debug",
  };
  return log as unknown as Logger;
}

interface Endpoint {
  readonly name: string;
  readonly url: string;
  readonly outcomes: Outcomes;
  /** Whether the App runs behind it (the baseline logs no outcome). */
  readonly gate: boolean;
  close(): Promise<void>;
}

async function serve(
  name: string,
  appFn: ApplicationFunction,
  options: { gh: FakeGitHub; secret: string; paced: boolean; gate: boolean },
): Promise<Endpoint> {
  const outcomes: Outcomes = { byId: new Map(), errors: [] };
  const Octokit = options.paced
    ? ProbotOctokit
    : ProbotOctokit.defaults((o: Record<string, unknown>) => ({
        ...o,
        throttle: { ...(o["throttle"] as object), enabled: false },
      }));
  const probot = new Probot({
    appId: options.gh.app.id,
    privateKey: options.gh.app.privateKeyPem,
    secret: options.secret,
    baseUrl: options.gh.url,
    log: capturingLogger(outcomes),
    Octokit,
  });
  const middleware = await createNodeMiddleware(appFn, { probot });
  const server: HttpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    void middleware(req, res, () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}/api/github/webhooks`,
    outcomes,
    gate: options.gate,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 where there is none. */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return 0;
  }
}

interface Phase {
  readonly count: number;
  readonly ms: number;
  readonly latencies: number[];
  readonly failures: string[];
}

export async function run(): Promise<string[]> {
  const secret = randomBytes(24).toString("hex");
  const gatePassword = `gate-${randomBytes(9).toString("base64url")}`;
  const cluster = await startTestCluster({ nodes: 3 });
  const clients = cluster.endpoints.map((e) => createNodeClient(e));
  const endpoints: Endpoint[] = [];
  let gh: FakeGitHub | undefined;
  try {
    const quorum = await setUpQuorumCluster(clients, { signers: Object.values(OFFICERS), members: ["gate"], m: 2 });
    const gate = await loginAll(clients, "CO", "gate");
    await must(clients, "change-password", () => ({ userType: "CO", userName: "gate", password: gatePassword }), gate);
    await must(clients, "logout", () => ({}), gate);

    gh = await startFakeGitHub();
    const fake = gh;
    const observer = fake.issueToken({ user: "observer", appId: null });
    const policy = [
      "version: 1",
      `cluster: ${quorum.clusterId}`,
      "officers:",
      ...Object.entries(OFFICERS).map(([login, officer]) => `  ${login}: ${officer}`),
      "",
    ].join("\n");
    const repo: FakeRepo = fake.createRepo("acme/hsm", {
      files: { ".github/quorum-gate.yml": policy, "README.md": "HSM requests\n" },
    });
    const env = {
      QG_CLUSTER_FILE: cluster.clusterFile,
      QG_GATE_USER: "gate",
      QG_GATE_PASSWORD: gatePassword,
      WEBHOOK_SECRET: secret,
    };
    const gateApp = createQuorumGateApp(env);
    const noop: ApplicationFunction = (app) => {
      app.on("issue_comment.created", async () => {});
    };
    const paced = await serve("app (Probot defaults)", gateApp, { gh: fake, secret, paced: true, gate: true });
    const unpaced = await serve("app (no write pacing)", gateApp, { gh: fake, secret, paced: false, gate: true });
    const baseline = await serve("baseline (no-op handler)", noop, { gh: fake, secret, paced: false, gate: false });
    endpoints.push(paced, unpaced, baseline);

    // ---- deliveries, as GitHub sends them ----
    const common = (login: string) => ({
      repository: repo.repositoryPayload(),
      sender: { login, id: 1000 + login.length, type: "User" },
      installation: { id: fake.app.installationId },
    });
    const post = async (to: Endpoint, event: string, payload: unknown): Promise<{ status: number; id: string }> => {
      const body = JSON.stringify(payload);
      const id = randomUUID();
      const res = await fetch(to.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/bench",
          "x-github-event": event,
          "x-github-delivery": id,
          "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
        },
        body,
      });
      await res.text();
      return { status: res.status, id };
    };
    const commentOn = (number: number, login: string, body: string) => {
      const created = repo.addComment(number, login, body);
      const pr = repo.pullRequestPayload(number);
      const issue = {
        number,
        title: pr["title"],
        state: pr["state"],
        user: pr["user"],
        pull_request: { url: `${fake.url}/repos/acme/hsm/pulls/${number}` },
      };
      return { action: "created", issue, comment: created.payload, ...common(login) };
    };
    const expectOutcome = (to: Endpoint, id: string, want: Record<string, unknown>): string | null => {
      const got = to.outcomes.byId.get(id);
      if (got === undefined) return `no outcome for ${id}`;
      for (const [k, v] of Object.entries(want))
        if (got[k] !== v) return `${k}: ${String(got[k])} (wanted ${String(v)})`;
      return null;
    };

    // ---- set-up (not timed): PRS request PRs, each with its token and alice's approval ----
    const numbers: number[] = [];
    /** API calls of the set-up's deliveries, per kind: all of them, the writes, the reads before the first write. */
    const kinds = new Map<string, { deliveries: number; calls: number; writes: number; readsFirst: number }>();
    const countCalls = (kind: string) => {
      const calls = fake.calls;
      const counted = countApiCalls(calls);
      const k = kinds.get(kind) ?? { deliveries: 0, calls: 0, writes: 0, readsFirst: 0 };
      kinds.set(kind, {
        deliveries: k.deliveries + 1,
        calls: k.calls + counted.calls,
        writes: k.writes + counted.writes,
        readsFirst: k.readsFirst + counted.readsBeforeFirstWrite,
      });
      fake.clearCalls();
    };
    for (let i = 0; i < PRS; i += 1) {
      const name = `bench${i}`;
      const file = [
        "version: 1",
        `cluster: ${quorum.clusterId}`,
        "operation:",
        "  kind: createUser",
        "  type: CU",
        `  name: ${name}`,
        `  sealed_password: ${quorum.seal(`${name}-pass-1`)}`,
        "reason: payments service (TICKET-1234)",
        "",
      ].join("\n");
      const number = repo.openPullRequest({
        head: `req-${name}`,
        author: "requester",
        title: `Create CU ${name}`,
        files: { [`hsm-requests/${name}.yml`]: file },
      });
      numbers.push(number);
      fake.clearCalls();
      const opened = await post(unpaced, "pull_request", {
        action: "opened",
        number,
        pull_request: repo.pullRequestPayload(number),
        ...common("requester"),
      });
      const problem =
        opened.status === 200
          ? expectOutcome(unpaced, opened.id, { outcome: "evaluated", state: "pending" })
          : `HTTP ${opened.status}`;
      if (problem !== null)
        throw new Error(`app-deliveries: opening #${number}: ${problem} ${unpaced.outcomes.errors.join("; ")}`);
      countCalls("`pull_request.opened` of a request (token issued)");
      const res = await fetch(`${fake.url}/repos/acme/hsm/issues/${number}/comments?per_page=100`, {
        headers: { authorization: `token ${observer}` },
      });
      const sticky = ((await res.json()) as { body: string }[]).find((c) => c.body.startsWith(STICKY_MARKER));
      const token = sticky === undefined ? null : readStickyToken(sticky.body);
      if (token === null) throw new Error(`app-deliveries: no token in the sticky comment of #${number}`);
      fake.clearCalls();
      const approved = await post(
        unpaced,
        "issue_comment",
        commentOn(
          number,
          "alice",
          `/quorum approve ${signMessage(token, testKey(OFFICERS.alice).privateKey).toString("base64")}`,
        ),
      );
      const p2 =
        approved.status === 200
          ? expectOutcome(unpaced, approved.id, { outcome: "evaluated", state: "pending", approvals: 1 })
          : `HTTP ${approved.status}`;
      if (p2 !== null) throw new Error(`app-deliveries: approving #${number}: ${p2}`);
      countCalls("`issue_comment.created`: an officer's approval, 1 of 2");
    }

    // ---- the measured phases ----
    let next = 0;
    const phase = async (to: Endpoint, concurrency: number, maxCount: number, maxMs: number): Promise<Phase> => {
      const latencies: number[] = [];
      const failures: string[] = [];
      let started = 0;
      const t0 = performance.now();
      const worker = async (): Promise<void> => {
        while (started < maxCount && performance.now() - t0 < maxMs) {
          started += 1;
          const n = next;
          next += 1;
          const number = numbers[n % numbers.length] as number;
          const payload = commentOn(number, TALKERS[n % TALKERS.length] as string, BODIES[n % BODIES.length] as string);
          const t = performance.now();
          const answer = await post(to, "issue_comment", payload);
          latencies.push(performance.now() - t);
          const problem =
            answer.status !== 200
              ? `HTTP ${answer.status}`
              : to.gate
                ? expectOutcome(to, answer.id, { outcome: "no_command" })
                : null;
          if (problem !== null) failures.push(problem);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return { count: latencies.length, ms: performance.now() - t0, latencies, failures };
    };
    // Warm-up of both interleaved servers.
    await phase(unpaced, 2, 20, 5000);
    await phase(baseline, 2, 20, 5000);

    const results = new Map<string, { rates: number[]; latencies: number[]; failures: string[]; count: number }>();
    const record = (key: string, p: Phase) => {
      const r = results.get(key) ?? { rates: [], latencies: [], failures: [], count: 0 };
      r.rates.push((p.count * 1000) / p.ms);
      r.latencies.push(...p.latencies);
      r.failures.push(...p.failures);
      r.count += p.count;
      results.set(key, r);
    };
    let apiCalls = { app: 0, writes: 0, deliveries: 0 };
    const cpu = { bench: 0, nodes: 0, wall: 0, deliveries: 0 };
    const nodesCpu = () => [0, 1, 2].reduce((sum, i) => sum + cpuSecondsOf(cluster.pid(i)), 0);
    for (const concurrency of [1, 4]) {
      for (let round = 0; round < ROUNDS; round += 1) {
        fake.clearCalls();
        const before = { bench: process.cpuUsage(), nodes: nodesCpu() };
        const p = await phase(unpaced, concurrency, MAX_PER_PHASE, PHASE_MS);
        if (concurrency === 1) {
          const used = process.cpuUsage(before.bench);
          cpu.bench += (used.user + used.system) / 1e6;
          cpu.nodes += nodesCpu() - before.nodes;
          cpu.wall += p.ms / 1000;
          cpu.deliveries += p.count;
        }
        const calls = fake.calls;
        apiCalls = {
          app: apiCalls.app + calls.length,
          writes: apiCalls.writes + countApiCalls(calls).writes,
          deliveries: apiCalls.deliveries + p.count,
        };
        record(`${unpaced.name}/${concurrency}`, p);
        record(`${baseline.name}/${concurrency}`, await phase(baseline, concurrency, MAX_PER_PHASE, PHASE_MS));
      }
    }
    for (const concurrency of [1, 4])
      record(`${paced.name}/${concurrency}`, await phase(paced, concurrency, PACED_MAX, PACED_MS));

    // ---- report ----
    const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const lines: string[] = [];
    const rateOf = (key: string) => median(results.get(key)?.rates ?? []);
    for (const concurrency of [1, 4]) {
      for (const e of [paced, unpaced, baseline]) {
        const r = results.get(`${e.name}/${concurrency}`);
        if (r === undefined) continue;
        const sorted = [...r.latencies].sort((a, b) => a - b);
        const rounds = e === paced ? "1 phase" : `${r.rates.length} rounds`;
        lines.push(
          `| ${e.name} | ${concurrency} | ${rateOf(`${e.name}/${concurrency}`).toFixed(1)} | ${percentile(sorted, 50).toFixed(1)} ms | ${percentile(sorted, 99).toFixed(1)} ms | ${r.count} (${rounds}) | ${r.failures.length} |`,
        );
      }
    }
    const ratio = (c: number) => ((rateOf(`${unpaced.name}/${c}`) / rateOf(`${baseline.name}/${c}`)) * 100).toFixed(0);
    const failures = [...results.values()].flatMap((r) => r.failures);
    const perKind = [...kinds].map(
      ([kind, k]) =>
        `| ${kind} | ${(k.calls / k.deliveries).toFixed(1)} | ${(k.readsFirst / k.deliveries).toFixed(1)} | ${(k.writes / k.deliveries).toFixed(1)} | ${k.deliveries} |`,
    );
    return [
      "### GitHub App: webhook deliveries end to end (Probot, fake GitHub API, 3-node cluster)",
      "",
      `\`issue_comment.created\` deliveries of new discussion comments, round robin over ${PRS} pending request PRs. Rounds of at most ${PHASE_MS / 1000} s or ${MAX_PER_PHASE} deliveries; the paced App at most ${PACED_MAX} deliveries or ${PACED_MS / 1000} s.`,
      "",
      "| server | in flight | deliveries/s | p50 | p99 | deliveries | failed |",
      "|---|---|---|---|---|---|---|",
      ...lines,
      "",
      `App without write pacing / baseline throughput: ${ratio(1)}% sequential, ${ratio(4)}% with 4 in flight (target: at least 50%). Per discussion delivery the App made ${(apiCalls.app / apiCalls.deliveries).toFixed(2)} GitHub API calls, ${(apiCalls.writes / apiCalls.deliveries).toFixed(2)} of them writes.`,
      "",
      "GitHub API calls per delivery kind:",
      "",
      "| delivery | API calls | reads before the first write | writes | deliveries |",
      "|---|---|---|---|---|",
      "| `issue_comment.created`: discussion, no `/quorum` command | " +
        `${(apiCalls.app / apiCalls.deliveries).toFixed(1)} | ${(apiCalls.app / apiCalls.deliveries).toFixed(1)} | ${(apiCalls.writes / apiCalls.deliveries).toFixed(1)} | ${apiCalls.deliveries} |`,
      ...perKind,
      "",
      `Sequential, per delivery of the App without pacing: ${((cpu.wall * 1000) / cpu.deliveries).toFixed(1)} ms wall, of which ${((cpu.bench * 1000) / cpu.deliveries).toFixed(1)} ms CPU in this process (App, Probot, fake GitHub, client) and ${((cpu.nodes * 1000) / cpu.deliveries).toFixed(1)} ms CPU in the three nodes together.`,
      ...(failures.length > 0 ? ["", `Failures: ${[...new Set(failures)].slice(0, 5).join("; ")}`] : []),
      "",
    ];
  } finally {
    for (const e of endpoints) await e.close();
    for (const c of clients) c.close();
    await gh?.close();
    await cluster.stop();
  }
}
