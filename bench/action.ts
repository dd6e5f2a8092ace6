// The GitHub Action as the runner runs it: the bundled dist/index.js in a child process.
//
//   start-up      from spawn to the first HTTP request the process makes, for the Action (a
//                 pull_request.opened event; its first call is GET the pull request) and for a
//                 bare `node -e` that does nothing but one fetch to the same server: the floor of
//                 starting Node at all. Interleaved rounds; medians.
//   busy PR       the whole evaluate step (spawn to exit) on a pull request holding a request, its
//                 token and one officer's approval, plus N discussion comments (100, then 1,000),
//                 against the fake GitHub API (test/helpers/fake-github.ts, 100 items a page) and a
//                 real 3-node cluster. Each run lists every comment, judges it, and rewrites the
//                 sticky comment and the check run; the step fails (pending), as designed.
// Everything runs on loopback; the fake and the cluster's nodes share the machine with the child.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inputVariable } from "../src/action/inputs.ts";
import { signMessage } from "../src/crypto/rsa.ts";
import { readStickyToken, STICKY_MARKER } from "../src/gate/index.ts";
import { startGateHarness } from "../test/helpers/gate-harness.ts";
import { testKey } from "../test/helpers/keys.ts";
import { passwordOf } from "../test/helpers/quorum-cluster.ts";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const START_ROUNDS = 11;
const BUSY_ROUNDS = 3;
const SIZES = [100, 1000];
const OFFICERS = { alice: "officer1", bob: "officer2" } as const;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Spawns a process and resolves when it exits; `firstRequest` resolves at its first HTTP request. */
function timedSpawn(
  args: readonly string[],
  env: Record<string, string>,
): { started: number; exited: Promise<number> } {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: "ignore" });
  return { started, exited: new Promise((resolve) => child.on("close", () => resolve(performance.now()))) };
}

async function startUp(dir: string): Promise<{ readonly rows: string[]; readonly bareMs: number }> {
  let firstAt: number | null = null;
  const server = createServer((req, res) => {
    firstAt ??= performance.now();
    req.resume();
    res.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const eventPath = join(dir, "opened.json");
  writeFileSync(
    eventPath,
    JSON.stringify({
      action: "opened",
      number: 1,
      pull_request: { number: 1, head: { repo: { id: 1 } } },
      repository: { id: 1, full_name: "acme/hsm" },
      sender: { login: "carol" },
    }),
  );
  const actionEnv = {
    PATH: process.env["PATH"] ?? "",
    GITHUB_EVENT_NAME: "pull_request",
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: "acme/hsm",
    GITHUB_API_URL: url,
    GITHUB_OUTPUT: join(dir, "out"),
    GITHUB_STEP_SUMMARY: join(dir, "summary"),
    [inputVariable("github-token")]: "bench-token",
  };
  const bareEnv = { PATH: process.env["PATH"] ?? "", URL: url };
  const measure = async (args: readonly string[], env: Record<string, string>): Promise<number> => {
    firstAt = null;
    const run = timedSpawn(args, env);
    await run.exited;
    if (firstAt === null) throw new Error(`bench action: ${args.join(" ")} made no request`);
    return (firstAt as number) - run.started;
  };
  const bare: number[] = [];
  const action: number[] = [];
  for (let r = 0; r < START_ROUNDS; r++) {
    bare.push(await measure(["-e", "fetch(process.env.URL + '/x').catch(() => {})"], bareEnv));
    action.push(await measure([DIST], actionEnv));
  }
  server.close();
  const b = median(bare);
  const a = median(action);
  const rows = [
    `| bare \`node -e\` (one fetch) | ${b.toFixed(0)} ms | 1.00x |`,
    `| Action, dist/index.js | ${a.toFixed(0)} ms | ${(a / b).toFixed(2)}x |`,
  ];
  return { rows, bareMs: b };
}

async function busyPullRequest(dir: string, bareMs: number): Promise<string[]> {
  const h = await startGateHarness({ officers: OFFICERS });
  const token = h.gh.issueToken({ user: "github-actions[bot]", appId: 15368, appSlug: "github-actions" });
  const rows: string[] = [];
  try {
    const step = async (eventName: string, payload: unknown): Promise<number> => {
      const eventPath = join(dir, "event.json");
      writeFileSync(eventPath, JSON.stringify(payload));
      const env = {
        PATH: process.env["PATH"] ?? "",
        GITHUB_EVENT_NAME: eventName,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REPOSITORY: "acme/hsm",
        GITHUB_API_URL: h.gh.url,
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_OUTPUT: join(dir, "out"),
        GITHUB_STEP_SUMMARY: join(dir, "summary"),
        [inputVariable("mode")]: "evaluate",
        [inputVariable("github-token")]: token,
        [inputVariable("cluster-file")]: h.cluster.clusterFile,
        [inputVariable("gate-user")]: "gate",
        [inputVariable("gate-password")]: passwordOf("gate"),
      };
      const run = timedSpawn([DIST], env);
      return (await run.exited) - run.started;
    };
    let previous = 0;
    for (const size of SIZES) {
      const number = h.repo.openPullRequest({
        head: `req-${size}`,
        author: "carol",
        files: { [`hsm-requests/bench${size}.yml`]: h.requestYaml(`bench${size}`) },
      });
      const opened = {
        action: "opened",
        number,
        pull_request: h.repo.pullRequestPayload(number),
        repository: h.repo.repositoryPayload(),
        sender: { login: "carol", type: "User" },
      };
      await step("pull_request", opened);
      const sticky = (await (
        await fetch(`${h.gh.url}/repos/acme/hsm/issues/${number}/comments`, {
          headers: { authorization: `token ${token}` },
        })
      ).json()) as { body: string }[];
      const tokenFile = readStickyToken(sticky.find((c) => c.body.startsWith(STICKY_MARKER))?.body ?? "");
      if (tokenFile === null) throw new Error("bench action: no token in the sticky comment");
      h.repo.addComment(
        number,
        "alice",
        `/quorum approve ${signMessage(tokenFile, testKey(OFFICERS.alice).privateKey).toString("base64")}`,
      );
      for (let i = 0; i < size; i++)
        h.repo.addComment(
          number,
          i % 3 === 0 ? "bob" : "dave",
          `Comment ${i}: looked at the request, see the ticket for the details.`,
        );
      const comment = {
        action: "created",
        issue: { number, pull_request: { url: "x" } },
        comment: { id: 1, body: "x" },
        repository: h.repo.repositoryPayload(),
        sender: { login: "dave", type: "User" },
      };
      const times: number[] = [];
      for (let r = 0; r < BUSY_ROUNDS; r++) times.push(await step("issue_comment", comment));
      const ms = median(times);
      const growth = previous === 0 ? "" : `${(ms / previous).toFixed(1)}x for ${SIZES[1]! / SIZES[0]!}x comments`;
      rows.push(`| ${size} comments | ${ms.toFixed(0)} ms | ${(ms / bareMs).toFixed(1)}x | ${growth} |`);
      previous = ms;
    }
  } finally {
    await h.stop();
  }
  return rows;
}

export async function run(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "qg-bench-action-"));
  try {
    const start = await startUp(dir);
    const busy = await busyPullRequest(dir, start.bareMs);
    return [
      "## GitHub Action",
      "",
      `\`bench/action.ts\`: the bundled dist/index.js in a child process, as the runner runs it. Start-up is spawn to the first HTTP request (medians of ${START_ROUNDS} interleaved rounds); the busy pull request is the whole evaluate step, spawn to exit (median of ${BUSY_ROUNDS}), against the fake GitHub API and a real 3-node cluster.`,
      "",
      "| start-up | spawn to first request | vs bare node |",
      "|---|---|---|",
      ...start.rows,
      "",
      "| evaluate step on a pull request with | total | vs bare node start | growth |",
      "|---|---|---|---|",
      ...busy,
      "",
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
