// The Dockerfile's promises, kept without a container runtime: its CMD is the command `npm run app`
// runs, and its HEALTHCHECK, run exactly as written, passes against the App started that way and
// fails once the App is gone. (Building the image needs a Docker daemon and the base image; CI
// machines have neither, so the image itself is built where the App is deployed.)
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXIT_WITH_PARENT = fileURLToPath(new URL("../helpers/exit-with-parent.ts", import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, "Dockerfile"), "utf8");

/** The JSON (exec) form of an instruction, which is what keeps it free of a shell. */
function execForm(instruction: string): string[] {
  const joined = DOCKERFILE.replace(/\\\n\s*/g, "");
  const line = joined.split("\n").find((l) => l.startsWith(`${instruction} `));
  assert.ok(line !== undefined, `the Dockerfile has ${instruction}`);
  // HEALTHCHECK's options come before its own `CMD [...]`.
  const json = line.slice(line.indexOf("["));
  const parsed: unknown = JSON.parse(json);
  assert.ok(Array.isArray(parsed) && parsed.every((p) => typeof p === "string"), `${instruction} is in exec form`);
  return parsed as string[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

function runHealthCheck(command: readonly string[], port: number): Promise<number> {
  // The image's `node` is Node 24; here it is the Node running this test.
  const [bin, ...args] = command;
  assert.equal(bin, "node");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { env: { PATH: process.env["PATH"] ?? "", PORT: String(port) }, timeout: 10_000 },
      (err) => resolve(err === null ? 0 : typeof err.code === "number" ? err.code : 1),
    );
  });
}

describe("the App's container (Dockerfile)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-container-"));
  let cluster: TestCluster | undefined;
  let gh: FakeGitHub | undefined;
  after(async () => {
    await gh?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the command `npm run app` runs", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.deepEqual(execForm("CMD"), ["node_modules/.bin/probot", ...(pkg.scripts["app"] ?? "").split(" ").slice(1)]);
    assert.match(DOCKERFILE, /^FROM node:24(-slim)?$/m, "the image's Node is the one the project targets");
    assert.match(DOCKERFILE, /^USER node$/m, "the App does not run as root");
  });

  it("its health check passes while the App serves, and fails when it is gone", async () => {
    cluster = await startTestCluster({ nodes: 1 });
    gh = await startFakeGitHub();
    writeFileSync(join(dir, "gate-password"), `${randomBytes(12).toString("base64url")}\n`, { mode: 0o600 });
    const port = await freePort();
    const [, ...cmdArgs] = execForm("CMD");
    const probot = join(ROOT, "node_modules/probot/bin/probot.js");
    const env = {
      PATH: process.env["PATH"] ?? "",
      NODE_ENV: "production",
      LOG_LEVEL: "warn" as const,
      HOST: "127.0.0.1",
      PORT: String(port),
      APP_ID: String(gh.app.id),
      PRIVATE_KEY: gh.app.privateKeyPem,
      WEBHOOK_SECRET: randomBytes(24).toString("hex"),
      GHE_HOST: gh.host,
      GHE_PROTOCOL: "http",
      QG_CLUSTER_FILE: cluster.clusterFile,
      QG_GATE_USER: "gate",
      QG_GATE_PASSWORD_FILE: join(dir, "gate-password"),
    };
    const check = execForm("HEALTHCHECK");
    assert.notEqual(await runHealthCheck(check, port), 0, "fails before the App listens");
    const app = spawn(
      process.execPath,
      ["--import", EXIT_WITH_PARENT, probot, ...cmdArgs.slice(0, 1), join(ROOT, cmdArgs[1] ?? "")],
      { cwd: dir, env, stdio: "pipe" },
    );
    const output: string[] = [];
    for (const stream of [app.stdout, app.stderr])
      stream.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    const exited = new Promise((resolve) => app.once("exit", resolve));
    try {
      const deadline = Date.now() + 30_000;
      let status = 1;
      while (status !== 0 && Date.now() < deadline && app.exitCode === null) {
        status = await runHealthCheck(check, port);
        if (status !== 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(status, 0, `the health check passes once the App serves; the App said:\n${output.join("")}`);
    } finally {
      if (app.exitCode === null && app.signalCode === null) app.kill("SIGTERM");
      await exited;
    }
    assert.notEqual(await runHealthCheck(check, port), 0, "fails once the App is gone");
  });
});
