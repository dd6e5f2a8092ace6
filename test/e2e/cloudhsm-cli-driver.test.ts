// The gate's cloudhsm-cli driver (src/cluster/cloudhsm-cli-driver.ts) against `quorum-gate
// cloudhsm-cli`, spawned exactly as the real binary would be: an executable wrapper script that
// execs the shell with the cluster file. The cluster is set up over the node protocol before the
// driver starts; every assertion goes through the driver alone. The fault cases (hangs, broken
// output, a shell that dies) use small shell scripts that speak the same framing.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import {
  openCloudhsmCliSession,
  parseEnvelope,
  quoteWord,
  type CloudhsmCliSession,
} from "../../src/cluster/cloudhsm-cli-driver.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { splitLine } from "../../src/cloudhsm-cli/words.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { passwordOf, setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));

describe("cloudhsm-cli driver", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-cli-driver-"));
  let cluster: TestCluster;
  let clients: NodeClient[] = [];
  const wrapper = join(dir, "cloudhsm-cli");
  const credentials = { userName: "gate", password: passwordOf("gate") };

  function script(name: string, body: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    await setUpQuorumCluster(clients, { signers: ["officer1", "officer2"], members: ["gate"], m: 2 });
    for (const c of clients) c.close();
    // What an operator installs in place of /opt/cloudhsm/bin/cloudhsm-cli on a test host.
    script("cloudhsm-cli", `exec "${process.execPath}" "${BIN}" cloudhsm-cli --cluster "${cluster.clusterFile}" "$@"`);
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs in as the gate's account, runs commands, reads their envelopes, logs out and ends the process", async () => {
    const opened = await openCloudhsmCliSession({ binary: wrapper, credentials, cwd: dir });
    assert.ok(opened.ok, opened.ok ? "" : `${opened.reason}: ${opened.message}`);
    const s: CloudhsmCliSession = opened.session;
    assert.deepEqual(await s.run(["quorum", "token-sign", "list-quorum-values"]), {
      ok: true,
      data: { user: 2, quorum: 1 },
    });
    const list = await s.run(["user", "list"]);
    assert.ok(list.ok);
    const users = (list.data as { users: { username: string; quorum: unknown[] }[] }).users;
    assert.deepEqual(users.find((u) => u.username === "officer1")?.quorum, [
      { strategy: "token-sign", status: "enabled" },
    ]);
    assert.deepEqual(users.find((u) => u.username === "gate")?.quorum, [], "the gate's account holds no quorum key");
    // error_code 1 is data, and the session goes on.
    assert.deepEqual(
      await s.run(["user", "create", "--username", "app1", "--role", "crypto-user", "--password", "app1-pass-1"]),
      { ok: false, reason: "command_failed", message: "Quorum approval is required for this operation" },
    );
    assert.equal(s.alive(), true);
    // A file name with a space and a quote crosses the line grammar intact.
    mkdirSync(join(dir, "it's here"));
    assert.deepEqual(
      await s.run(["quorum", "token-sign", "generate", "--service", "user", "--token", "it's here/user.token"]),
      { ok: true, data: { filepath: "it's here/user.token" } },
    );
    assert.ok(existsSync(join(dir, "it's here", "user.token")));
    const listed = await s.run(["quorum", "token-sign", "list"]);
    assert.ok(listed.ok);
    assert.match(JSON.stringify(listed.data), /gate/, "the token is the gate's");
    assert.deepEqual(await s.run(["user", "list\nlogout"]), {
      ok: false,
      reason: "bad_command",
      message: "a command is one or more words without newlines",
    });
    await s.close();
    assert.equal(s.alive(), false);
    assert.equal((await s.run(["user", "list"])).ok, false);
    // The account was logged out on close: it can log in again at once.
    const again = await openCloudhsmCliSession({ binary: wrapper, credentials, cwd: dir });
    assert.ok(again.ok);
    assert.equal((await again.session.run(["user", "list"])).ok, true);
    await again.session.close();
  });

  it("answers commands in order when two callers share the session", async () => {
    const opened = await openCloudhsmCliSession({ binary: wrapper, credentials, cwd: dir });
    assert.ok(opened.ok);
    const [a, b] = await Promise.all([
      opened.session.run(["quorum", "token-sign", "list-quorum-values"]),
      opened.session.run(["user", "list"]),
    ]);
    assert.deepEqual(a, { ok: true, data: { user: 2, quorum: 1 } });
    assert.ok(b.ok && typeof b.data === "object" && b.data !== null && "users" in b.data);
    await opened.session.close();
  });

  it("answers a command's password prompts from its secrets, and sends none to a command that answers first", async () => {
    const opened = await openCloudhsmCliSession({ binary: wrapper, credentials, cwd: dir });
    assert.ok(opened.ok);
    const { session } = opened;
    const secrets = ["svc-pass-12", "svc-pass-12"];
    // Both prompts answered; the HSMs then want M = 2 approvals for it.
    const prompted = await session.run(["user", "create", "--username", "svc1", "--role", "crypto-user"], { secrets });
    assert.ok(!prompted.ok && prompted.reason === "command_failed", JSON.stringify(prompted));
    // A bad user name is refused before any prompt: the secrets are not sent as commands, so the
    // next answer is the next command's own.
    const early = await session.run(["user", "create", "--username", "bad name!", "--role", "crypto-user"], {
      secrets,
    });
    assert.ok(!early.ok && early.reason === "command_failed" && /username/i.test(early.message), JSON.stringify(early));
    assert.deepEqual(await session.run(["quorum", "token-sign", "list-quorum-values"]), {
      ok: true,
      data: { user: 2, quorum: 1 },
    });
    assert.deepEqual(await session.run(["user", "list"], { secrets: ["two\nlines"] }), {
      ok: false,
      reason: "bad_command",
      message: "a password is one line",
    });
    await session.close();
  });

  it("reports a refused login as login_failed and leaves no process behind", async () => {
    const r = await openCloudhsmCliSession({
      binary: wrapper,
      credentials: { userName: "gate", password: "not-the-password" },
      cwd: dir,
    });
    assert.deepEqual(r, {
      ok: false,
      reason: "login_failed",
      message: "login as gate refused: Invalid username or password",
    });
    const officer = await openCloudhsmCliSession({
      binary: wrapper,
      credentials: { userName: "nobody", password: "x" },
      cwd: dir,
    });
    assert.equal(officer.ok ? "" : officer.reason, "login_failed");
  });

  it("reports a missing or non-executable binary as spawn_failed", async () => {
    const missing = await openCloudhsmCliSession({ binary: join(dir, "no-such-binary"), credentials, cwd: dir });
    assert.deepEqual(missing, {
      ok: false,
      reason: "spawn_failed",
      message: `cannot start ${join(dir, "no-such-binary")}: ENOENT`,
    });
    const plain = join(dir, "not-executable");
    writeFileSync(plain, "#!/bin/sh\n");
    const denied = await openCloudhsmCliSession({ binary: plain, credentials, cwd: dir });
    assert.equal(denied.ok ? "" : denied.reason, "spawn_failed");
  });

  it("never puts the password on a command line or in the environment", async () => {
    const seen = join(dir, "seen.txt");
    const spy = script(
      "spy",
      `echo "$@" > "${seen}"; env >> "${seen}"; read l; echo "Enter password:"; read pw; printf '{\\n  "error_code": 0,\\n  "data": {}\\n}\\n'; read l; exit 0`,
    );
    const r = await openCloudhsmCliSession({ binary: spy, args: ["--region", "x"], credentials, cwd: dir });
    assert.ok(r.ok);
    await r.session.close();
    const text = readFileSync(seen, "utf8");
    assert.match(text, /^--region x interactive$/m, "the configured words come before interactive");
    assert.doesNotMatch(text, new RegExp(credentials.password));
  });

  const LOGIN = `read l; echo "Enter password:"; read pw; printf '{\\n  "error_code": 0,\\n  "data": {\\n    "username": "gate",\\n    "role": "admin"\\n  }\\n}\\n'`;

  it("stops a shell that does not answer in time (timeout) and reports the session gone", async () => {
    const hang = script("hang", `${LOGIN}; read l; exec sleep 30`);
    const r = await openCloudhsmCliSession({ binary: hang, credentials, cwd: dir, timeoutMs: 500 });
    assert.ok(r.ok);
    const started = Date.now();
    assert.deepEqual(await r.session.run(["user", "list"]), {
      ok: false,
      reason: "timeout",
      message: "no answer from the shell within 500 ms",
    });
    assert.ok(Date.now() - started < 5000);
    assert.equal(r.session.alive(), false, "the process is stopped: its framing can no longer be trusted");
    assert.equal((await r.session.run(["user", "list"])).ok ? "" : "session_closed", "session_closed");
    await r.session.close();
    const silent = script("silent", "exec sleep 30");
    const s = await openCloudhsmCliSession({ binary: silent, credentials, cwd: dir, timeoutMs: 300 });
    assert.deepEqual(s, { ok: false, reason: "timeout", message: "no prompt from the shell within 300 ms" });
  });

  it("reports output that is not an envelope as malformed_output", async () => {
    const broken = script("broken", `${LOGIN}; read l; printf '{\\nnot json\\n}\\n'; read l; exit 0`);
    const r = await openCloudhsmCliSession({ binary: broken, credentials, cwd: dir, timeoutMs: 5000 });
    assert.ok(r.ok);
    const answer = await r.session.run(["user", "list"]);
    assert.equal(answer.ok ? "" : answer.reason, "malformed_output");
    assert.equal(r.session.alive(), false);
    assert.equal(parseEnvelope('{"error_code": 2, "data": 1}').ok ? "" : "malformed", "malformed");
    assert.deepEqual(parseEnvelope('{"error_code": 0}'), {
      ok: false,
      reason: "malformed_output",
      message: 'the shell\'s answer is not an envelope: {"error_code": 0}',
    });
  });

  it("reports a shell that dies mid-command as session_closed", async () => {
    const dies = script("dies", `${LOGIN}; read l; exit 3`);
    const r = await openCloudhsmCliSession({ binary: dies, credentials, cwd: dir, timeoutMs: 5000 });
    assert.ok(r.ok);
    assert.deepEqual(await r.session.run(["user", "list"]), {
      ok: false,
      reason: "session_closed",
      message: "the shell exited with status 3 before answering",
    });
    await r.session.close();
  });

  it("quotes words so that the shell's line grammar reads them back", () => {
    for (const w of ["plain", "with space", "it's", 'a"b', "", "back\\slash", "'", "$HOME"])
      assert.deepEqual(splitLine(`x ${quoteWord(w)}`), ["x", w], w);
  });
});
