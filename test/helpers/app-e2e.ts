// The GitHub App as it runs in production, for end-to-end tests: `probot run ./src/app/index.ts`
// as a real server in a child process, configured only through its environment, against the fake
// GitHub API and a real 3-node cluster whose officers (and the gate's own account) are made per
// run. Deliveries are signed as GitHub signs them (HMAC-SHA256 of the exact body). Each test file
// brings its officers and policy; this module brings the process, the payloads and the probes.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { STICKY_MARKER } from "../../src/gate/index.ts";
import { startTestCluster, type TestCluster } from "./cluster.ts";
import { startFakeGitHub, type Created, type FakeGitHub, type FakeRepo } from "./fake-github.ts";
import { compileCacheEnv } from "./compile-cache.ts";
import { testKey } from "./keys.ts";
import { pinnedOfficerLines, writeCloudhsmCliWrapper } from "./real-cluster.ts";
import { opensslSign } from "./openssl-sign.ts";
import { startRoundRobinProxy } from "./round-robin-proxy.ts";
import { loginAll, must, setUpQuorumCluster, type QuorumCluster } from "./quorum-cluster.ts";

const PROBOT = fileURLToPath(new URL("../../node_modules/probot/bin/probot.js", import.meta.url));
const APP = fileURLToPath(new URL("../../src/app/index.ts", import.meta.url));
const EXIT_WITH_PARENT = fileURLToPath(new URL("./exit-with-parent.ts", import.meta.url));
const UNPACED_WRITES = fileURLToPath(new URL("./unpaced-github-writes.ts", import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

export interface AppE2EOptions {
  /** GitHub login → HSM officer; each officer gets a registered quorum key and a key file in `dir`. */
  readonly officers: Readonly<Record<string, string>>;
  /** Policy lines after `officers:` (groups, operations, ...). */
  readonly policyTail?: readonly string[];
  /** Prefix of the temporary directory, to tell runs apart. */
  readonly tmpPrefix: string;
  /** The fake GitHub dates writes by the real clock, as the App's own rules read it (a cooling-off). */
  readonly realClock?: boolean;
  /**
   * App processes to run (default 1). With more, `appUrl` is a round-robin proxy in front of them,
   * as a load balancer spreads deliveries over replicas.
   */
  readonly replicas?: number;
  /**
   * `cloudhsm-cli`: the App reaches the cluster as it would a real one, through an executable
   * that runs `quorum-gate cloudhsm-cli` (`<dir>/cloudhsm-cli`), with a policy pinning each
   * officer's key; the default is the emulator's node protocol.
   */
  readonly backend?: "cloudhsm-cli";
  /** CU users to create before M is raised. */
  readonly cryptoUsers?: readonly string[];
  /** More environment for the App (QG_WINDOW_SECONDS, say). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Delivery {
  readonly status: number;
  readonly body: string;
  readonly id: string;
  readonly outcome: Record<string, unknown> | null;
}

export interface AppE2E {
  readonly dir: string;
  readonly webhookSecret: string;
  readonly gatePassword: string;
  readonly cluster: TestCluster;
  readonly clients: NodeClient[];
  readonly quorum: QuorumCluster;
  readonly gh: FakeGitHub;
  readonly repo: FakeRepo;
  /** The first replica; `apps` holds all of them. */
  readonly app: ChildProcess;
  readonly apps: readonly ChildProcess[];
  /** The app, or the proxy in front of its replicas. */
  readonly appUrl: string;
  /** Every line the app printed, in order. */
  readonly appLog: string[];
  /** The `sender` object of a payload, and the fields every payload of the repository carries. */
  sender(login: string): Record<string, unknown>;
  common(login: string): Record<string, unknown>;
  /** Webhook payloads as GitHub sends them, for pull request `number`. */
  pullRequestEvent(number: number, action: string, login: string): Record<string, unknown>;
  commentEvent(number: number, comment: Created, login: string): Record<string, unknown>;
  reviewEvent(number: number, review: Created, login: string): Record<string, unknown>;
  /**
   * POSTs a delivery as GitHub does (`body` and `id` replay an earlier one byte for byte), then
   * waits for the outcome the app logs for it: the response can overtake the log line.
   */
  deliver(
    event: string,
    payload: unknown,
    options?: { secret?: string; body?: string; id?: string },
  ): Promise<Delivery>;
  /** The sticky comment as an observer reads it through the API. */
  stickyComment(number: number): Promise<{ author: string; body: string } | null>;
  quorumCheck(sha: string): Record<string, unknown> | undefined;
  /** How many users of that name each node holds. */
  usersNamed(name: string): Promise<number[]>;
  /** An officer's signature over `data`, made by the openssl binary with the officer's key file. */
  sign(officer: string, data: Uint8Array): string;
  stop(): Promise<void>;
}

export async function startAppE2E(options: AppE2EOptions): Promise<AppE2E> {
  const dir = mkdtempSync(join(tmpdir(), options.tmpPrefix));
  const webhookSecret = randomBytes(24).toString("hex");
  const gatePassword = `gate-${randomBytes(9).toString("base64url")}`;
  const appLog: string[] = [];
  const cluster = await startTestCluster({ nodes: 3 });
  const clients = cluster.endpoints.map((e) => createNodeClient(e));
  // The gate's own officer account: a CO made like any other (before M is raised), with no 2FA
  // and no quorum key, so it can hold tokens and replay but never approve. It then sets its own
  // password, as an operator would on receiving the account.
  const quorum = await setUpQuorumCluster(clients, {
    signers: Object.values(options.officers),
    members: ["gate"],
    m: 2,
    ...(options.cryptoUsers === undefined ? {} : { cryptoUsers: options.cryptoUsers }),
  });
  const gate = await loginAll(clients, "CO", "gate");
  await must(clients, "change-password", () => ({ userType: "CO", userName: "gate", password: gatePassword }), gate);
  await must(clients, "logout", () => ({}), gate);
  for (const name of Object.values(options.officers))
    writeFileSync(join(dir, `${name}.key`), testKey(name).privatePem, { mode: 0o600 });
  writeFileSync(join(dir, "gate-password"), `${gatePassword}\n`, { mode: 0o600 });

  const gh = await startFakeGitHub({ realClock: options.realClock === true });
  const observer = gh.issueToken({ user: "observer", appId: null });
  const real = options.backend === "cloudhsm-cli";
  const policy = [
    `version: 1`,
    `cluster: ${quorum.clusterId}`,
    ...(real ? ["backend: cloudhsm-cli"] : []),
    `officers:`,
    ...(real
      ? pinnedOfficerLines(options.officers)
      : Object.entries(options.officers).map(([login, officer]) => `  ${login}: ${officer}`)),
    ...(options.policyTail ?? []),
    "",
  ].join("\n");
  let clusterFile = cluster.clusterFile;
  if (real) {
    const wrapper = writeCloudhsmCliWrapper(dir, cluster.clusterFile);
    clusterFile = join(dir, "cluster-cli.json");
    writeFileSync(clusterFile, JSON.stringify({ ...cluster.file, backend: { kind: "cloudhsm-cli", binary: wrapper } }));
  }
  const repo = gh.createRepo("acme/hsm", {
    files: { ".github/quorum-gate.yml": policy, "README.md": "HSM requests\n" },
  });

  const replicas = options.replicas ?? 1;
  const ports: number[] = [];
  for (let i = 0; i < replicas; i++) ports.push(await freePort());
  const envOf = (port: number) => ({
    PATH: process.env["PATH"] ?? "",
    ...compileCacheEnv(),
    NODE_ENV: "production",
    LOG_FORMAT: "json" as const,
    LOG_LEVEL: "debug" as const,
    HOST: "127.0.0.1",
    PORT: String(port),
    APP_ID: String(gh.app.id),
    PRIVATE_KEY: gh.app.privateKeyPem,
    WEBHOOK_SECRET: webhookSecret,
    GHE_HOST: gh.host,
    GHE_PROTOCOL: "http",
    QG_CLUSTER_FILE: clusterFile,
    QG_GATE_USER: "gate",
    QG_GATE_PASSWORD_FILE: join(dir, "gate-password"),
    ...options.env,
  });
  // cwd: an empty directory, so Probot finds no .env and no stray *.pem of ours.
  const apps = ports.map((port) =>
    spawn(
      process.execPath,
      [
        "--import",
        EXIT_WITH_PARENT,
        // Without Octokit's 1-3 s pacing of writes, which against the fake GitHub is only waiting.
        "--import",
        UNPACED_WRITES,
        PROBOT,
        "run",
        APP,
      ],
      {
        cwd: dir,
        env: envOf(port),
        stdio: "pipe",
      },
    ),
  );
  const app = apps[0] as ChildProcess;
  for (const child of apps)
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        appLog.push(...lines.filter((l) => l !== ""));
      });
    }
  const proxy = replicas > 1 ? await startRoundRobinProxy(ports) : null;
  const appUrl = proxy?.url ?? `http://127.0.0.1:${ports[0]}`;

  async function stop(): Promise<void> {
    await proxy?.close();
    await Promise.all(
      apps.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        // The grace timer is cleared once the child is gone: left pending it would hold the test
        // process open for its full 5 s after the last test.
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((resolve) => (grace = setTimeout(resolve, 5000)))]);
        clearTimeout(grace);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }),
    );
    for (const c of clients) c.close();
    await gh.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.ok(
        apps.every((a) => a.exitCode === null),
        `the app exited:\n${appLog.join("\n")}`,
      );
      // Every replica answers, not only the one the proxy happens to pick.
      const pongs = await Promise.all(
        ports.map((port) =>
          fetch(`http://127.0.0.1:${port}/ping`).then(
            (r) => r.text(),
            () => "",
          ),
        ),
      );
      if (pongs.every((p) => p === "PONG")) break;
      assert.ok(Date.now() < deadline, `the app did not start:\n${appLog.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const sender = (login: string): Record<string, unknown> => ({
    login,
    id: 1000 + login.length,
    type: login.endsWith("[bot]") ? "Bot" : "User",
  });
  const common = (login: string): Record<string, unknown> => ({
    repository: repo.repositoryPayload(),
    sender: sender(login),
    installation: { id: gh.app.installationId },
  });
  const outcomesIn = (lines: readonly string[]): Record<string, unknown>[] =>
    lines.flatMap((line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        return typeof entry["outcome"] === "string" ? [entry] : [];
      } catch {
        return [];
      }
    });

  return {
    dir,
    webhookSecret,
    gatePassword,
    cluster,
    clients,
    quorum,
    gh,
    repo,
    app,
    apps,
    appUrl,
    appLog,
    sender,
    common,
    pullRequestEvent: (number, action, login) => ({
      action,
      number,
      pull_request: repo.pullRequestPayload(number),
      ...common(login),
    }),
    commentEvent(number, comment, login) {
      const pr = repo.pullRequestPayload(number);
      const issue = {
        number,
        title: pr["title"],
        state: pr["state"],
        user: pr["user"],
        pull_request: { url: `${gh.url}/repos/acme/hsm/pulls/${number}` },
      };
      return { action: "created", issue, comment: comment.payload, ...common(login) };
    },
    reviewEvent: (number, review, login) => ({
      action: "submitted",
      review: review.payload,
      pull_request: repo.pullRequestPayload(number),
      ...common(login),
    }),
    async deliver(event, payload, opts = {}) {
      const body = opts.body ?? JSON.stringify(payload);
      const id = opts.id ?? randomUUID();
      const signature = `sha256=${createHmac("sha256", opts.secret ?? webhookSecret)
        .update(body)
        .digest("hex")}`;
      const mark = appLog.length;
      const res = await fetch(`${appUrl}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/e2e",
          "x-github-event": event,
          "x-github-delivery": id,
          "x-hub-signature-256": signature,
        },
        body,
      });
      await res.text();
      if (res.status !== 200) return { status: res.status, body, id, outcome: null };
      const deadline = Date.now() + 10_000;
      for (;;) {
        const outcome = outcomesIn(appLog.slice(mark)).find((o) => o["id"] === id);
        if (outcome !== undefined) return { status: res.status, body, id, outcome };
        assert.ok(Date.now() < deadline, `no outcome logged for delivery ${id}:\n${appLog.slice(mark).join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stickyComment(number) {
      const res = await fetch(`${gh.url}/repos/acme/hsm/issues/${number}/comments?per_page=100`, {
        headers: { authorization: `token ${observer}` },
      });
      const comments = (await res.json()) as { user: { login: string }; body: string }[];
      const found = comments.find((c) => c.body.startsWith(STICKY_MARKER));
      return found === undefined ? null : { author: found.user.login, body: found.body };
    },
    quorumCheck: (sha) => repo.checkRuns(sha).find((c) => c["name"] === "quorum"),
    usersNamed: async (name) =>
      (await must(clients, "list-users", () => ({}))).map((r) => r.users.filter((u) => u.name === name).length),
    sign: (officer, data) => opensslSign(dir, officer, data),
    stop,
  };
}

/** Picks fields of a logged outcome, for compact assertions. */
export const pick = (o: Record<string, unknown> | null, ...keys: string[]): unknown[] => keys.map((k) => o?.[k]);
