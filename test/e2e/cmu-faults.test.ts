// Fault handling of the shell on a real 3-node cluster, driven through the real shell: a node that
// is down before an operation (Retry then Ignore, Retry then Abort, each leaving a divergence
// warning), a node that stops answering during one (SIGSTOP: the request times out, SIGCONT, and
// Retry succeeds), a node killed and restarted after one (the data is there, the session is not),
// rollBack of the servers that already applied a command (newest first), a bounded --timeout-ms,
// and a clean exit when the shell's output pipe closes (EPIPE).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createNodeClient } from "../../src/protocol/node-client.ts";
import { runCmu } from "../../src/cmu/main.ts";
import type { UserView } from "../../src/protocol/messages.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { assertLinesInOrder, CLI, fillAuthData, startCmu, type CmuChild } from "../helpers/cmu-driver.ts";
import { testKey } from "../helpers/keys.ts";

const TIMEOUT_MS = 2000;
const ADMIN = "loginHSM CO admin admin-pass1";

describe("cmu shell: faults, divergence and rollBack", () => {
  let cluster: TestCluster;
  let work: string;
  let shell: CmuChild;
  /** Node processes this test stopped with SIGSTOP and has not resumed yet. */
  const stopped = new Set<number>();

  function pause(index: number): number {
    const pid = cluster.pid(index);
    process.kill(pid, "SIGSTOP");
    stopped.add(pid);
    return pid;
  }

  function resume(pid: number): void {
    if (!stopped.delete(pid)) return;
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // already gone
    }
  }

  /** Users of server `i`, asked directly (not through the shell). */
  async function users(i: number): Promise<UserView[]> {
    const endpoint = cluster.endpoints[i];
    assert.ok(endpoint);
    const client = createNodeClient(endpoint, { timeoutMs: 5000 });
    try {
      const r = await client.call("list-users", {});
      assert.ok(r.ok, JSON.stringify(r));
      return [...r.data.users];
    } finally {
      client.close();
    }
  }

  async function names(i: number): Promise<string[]> {
    return (await users(i)).map((u) => u.name);
  }

  /** Polls until `check` holds, at most `ms`. */
  async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return check();
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "qg-cmu-faults-"));
    cluster = await startTestCluster({ nodes: 3 });
    shell = await startCmu(cluster.clusterFile, work, { timeoutMs: TIMEOUT_MS });
    await shell.run("loginHSM PRECO admin password");
    await shell.run("changePswd PRECO admin admin-pass1", "y");
  });

  after(async () => {
    for (const pid of [...stopped]) resume(pid);
    if (process.env["CMU_TRANSCRIPT"] && shell) writeFileSync(process.env["CMU_TRANSCRIPT"], shell.output());
    shell?.kill();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("refuses an out-of-range --timeout-ms with a clear error before contacting anything", async () => {
    for (const value of ["5", "99", "120001", "999999999", "1e3", "0x100", " 500"]) {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let err = "";
      stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
      const stdin = new PassThrough();
      stdin.end();
      const code = await runCmu(["--cluster", cluster.clusterFile, "--timeout-ms", value], {
        stdin,
        stdout,
        stderr,
        isTTY: false,
      });
      assert.equal(code, 2, value);
      assert.equal(
        err,
        `quorum-gate cmu: --timeout-ms must be a whole number of milliseconds from 100 to 120000, got '${value}'\n`,
      );
    }
  });

  it("node down before the operation: Retry fails again, Ignore goes on and the divergence is reported", async () => {
    await cluster.kill(1);
    const t = await shell.run("createUser CU before1 password1", "y", "R", "I");
    assertLinesInOrder(t, [
      "Creating User before1(CU) on 3 nodes",
      "createUser success on server 0(IP)",
      "createUser failed: RET_NODE_UNREACHABLE (connection refused)",
      "creating user on server 1(IP) failed",
      "",
      "Retry/Ignore/Abort?(R/I/A):R",
      "createUser failed: RET_NODE_UNREACHABLE (connection refused)",
      "creating user on server 1(IP) failed",
      "",
      "Retry/Ignore/Abort?(R/I/A):I",
      "createUser success on server 2(IP)",
      "WARNING: after this createUser the servers disagree; the cluster is divergent (HSMs do not synchronize each other).",
      "  with the change:    server 0(IP), server 2(IP)",
      "  without it:         server 1(IP)",
      "  Compare the servers with 'quorum-gate cluster status' (or listUsers / getMValue here, per server).",
      "  To repair, copy the user from a server that is right: 'server <n>', then 'syncUser <user ID> <server ID>';",
      "    or run the command again in server mode on the servers without the change.",
    ]);
    // listUsers reports the dead server instead of skipping it.
    const list = await shell.run("listUsers");
    assertLinesInOrder(list, [
      "Users on server 0(IP):",
      "listUsers failed: RET_NODE_UNREACHABLE (connection refused)",
      "listUsers failed on server 1(IP)",
      "Users on server 2(IP):",
    ]);
    assert.ok((await names(0)).includes("before1") && (await names(2)).includes("before1"));
  });

  it("node down before the operation: Retry then Abort stops, later servers are not tried", async () => {
    const t = await shell.run("createUser CU before2 password1", "y", "R", "A");
    assertLinesInOrder(t, [
      "createUser success on server 0(IP)",
      "creating user on server 1(IP) failed",
      "Retry/Ignore/Abort?(R/I/A):R",
      "creating user on server 1(IP) failed",
      "Retry/Ignore/Abort?(R/I/A):A",
      "WARNING: after this createUser the servers disagree; the cluster is divergent (HSMs do not synchronize each other).",
      "  with the change:    server 0(IP)",
      "  without it:         server 1(IP), server 2(IP)",
    ]);
    assert.ok(!t.includes("server 2(127.0.0.1) failed") && !t.includes("success on server 2"), t);
    assert.ok(!(await names(2)).includes("before2"));
    await cluster.restart(1);
    assert.deepEqual(await names(1), ["admin", "app_user"], "the restarted node never saw either user");
    await shell.run(ADMIN); // server 1 lost the session with its restart
  });

  it("node paused during the operation: the request times out, and after SIGCONT Retry succeeds", async () => {
    const pid = pause(1);
    let t: string;
    try {
      t = await shell.run("createUser CU during1 password1", "y", () => {
        resume(pid);
        return "R";
      });
    } finally {
      resume(pid);
    }
    assertLinesInOrder(t, [
      "createUser success on server 0(IP)",
      `createUser failed: RET_NODE_UNREACHABLE (no answer within ${TIMEOUT_MS} ms)`,
      "creating user on server 1(IP) failed",
      "",
      "Retry/Ignore/Abort?(R/I/A):R",
      "createUser success on server 1(IP)",
      "createUser success on server 2(IP)",
    ]);
    assert.ok(!t.includes("WARNING"), t);
    for (const i of [0, 1, 2]) assert.ok((await names(i)).includes("during1"), `server ${i}`);
  });

  it("node paused during the operation and ignored: the server is reported as unknown, and the lost request may still land", async () => {
    const pid = pause(1);
    let t: string;
    try {
      t = await shell.run("createUser CU during2 password1", "y", "I");
    } finally {
      resume(pid);
    }
    assertLinesInOrder(t, [
      "createUser success on server 0(IP)",
      "creating user on server 1(IP) failed",
      "Retry/Ignore/Abort?(R/I/A):I",
      "createUser success on server 2(IP)",
      "WARNING: it is not known whether createUser took effect on every server; the cluster may be divergent.",
      "  with the change:    server 0(IP), server 2(IP)",
      "  unknown (no answer, it may still apply): server 1(IP)",
    ]);
    // Whether the paused node applies the request it had already received is up to it; the shell
    // must not claim either way. Wait until it has settled, then make the cluster agree again.
    await eventually(async () => (await names(1)).includes("during2"), 2000);
    if (!(await names(1)).includes("during2")) {
      await shell.run("server 1");
      await shell.run("createUser CU during2 password1", "y");
      await shell.run("exit");
    }
    assert.ok((await names(1)).includes("during2"));
  });

  it("node killed and restarted after the operation: the data is there, the session is not (hint), and rollBack (B at R/I/A) undoes the rest", async () => {
    const created = await shell.run("createUser CU after1 password1", "y");
    assertLinesInOrder(created, [
      "createUser success on server 0(IP)",
      "createUser success on server 1(IP)",
      "createUser success on server 2(IP)",
    ]);
    await cluster.kill(1);
    await cluster.restart(1);
    const list = await shell.run("listUsers");
    assert.equal(list.split("\n").filter((l) => /^\s+\d+\s+CU\s+after1\s/.test(l)).length, 3, list);
    const t = await shell.run("changePswd CU after1 password2", "y", "B");
    assertLinesInOrder(t, [
      "Changing password for after1(CU) on 3 nodes",
      "changePswd success on server 0(IP)",
      "changePswd failed: RET_SESSION_INVALID (the session is unknown or has expired)",
      "changing password on server 1(IP) failed",
      "(server 1 has ended this login session, and its quorum tokens with it: run loginHSM again)",
      "",
      "Retry/Ignore/Abort?(R/I/A):B",
      "rollBack success on server 0(IP)",
      "rollBack: changePswd is undone; no server has the change now.",
    ]);
    assert.ok(!t.includes("server 2(127.0.0.1)"), "server 2 is not tried after rollBack");
    // The old password works again on server 0.
    await shell.run("server 0");
    await shell.run("logoutHSM");
    assertLinesInOrder(await shell.run("loginHSM CU after1 password1"), ["loginHSM success on server 0(IP)"]);
    await shell.run("logoutHSM");
    await shell.run(ADMIN);
    await shell.run("exit");
    await shell.run(ADMIN);
  });

  it("rollBack of deleteUser undoes the servers that applied it, newest first: same id, password, key and 2FA", async () => {
    const key = testKey("cmu-faults-rb1");
    const created = await shell.run("createUser CO rb1 rb1-pass1 -2fa rb1.authdata", "y", () => {
      fillAuthData(join(work, "rb1.authdata"), key, true);
      return "";
    });
    assertLinesInOrder(created, [
      "createUser success on server 0(IP)",
      "createUser success on server 1(IP)",
      "createUser success on server 2(IP)",
    ]);
    // Earlier tests left the servers with different user ids on purpose, so compare each with itself.
    const before = await Promise.all([0, 1, 2].map(async (i) => (await users(i)).find((u) => u.name === "rb1")));
    for (const u of before)
      assert.deepEqual(u && { type: u.type, mofnPubKey: u.mofnPubKey, twoFactor: u.twoFactor }, {
        type: "CO",
        mofnPubKey: true,
        twoFactor: true,
      });

    await cluster.kill(2);
    const t = await shell.run("deleteUser CO rb1", "B");
    assertLinesInOrder(t, [
      "Deleting user rb1(CO) on 3 nodes",
      "deleteUser success on server 0(IP)",
      "deleteUser success on server 1(IP)",
      "deleteUser failed: RET_NODE_UNREACHABLE (connection refused)",
      "deleteUser failed on server 2(IP)",
      "",
      "Retry/rollBack/Ignore?(R/B/I):B",
      "rollBack success on server 1(IP)",
      "rollBack success on server 0(IP)",
      "rollBack: deleteUser is undone; no server has the change now.",
    ]);
    await cluster.restart(2);
    for (const i of [0, 1, 2])
      assert.deepEqual(
        (await users(i)).find((u) => u.name === "rb1"),
        before[i],
        `server ${i}`,
      );

    // The password and the 2FA key came back with the user: rb1 logs in on server 0.
    await shell.run("server 0");
    await shell.run("logoutHSM");
    const login = await shell.run("loginHSM CO rb1 rb1-pass1 -2fa rb1-login.authdata", () => {
      fillAuthData(join(work, "rb1-login.authdata"), key, false);
      return "";
    });
    assertLinesInOrder(login, ["loginHSM success on server 0(IP)"]);
    await shell.run("logoutHSM");
    await shell.run(ADMIN);
    await shell.run("exit");
    await shell.run(ADMIN); // server 2 restarted
  });

  it("rollBack of deleteUser when the user is missing on a server: the server that had it gets it back, and the old divergence is named", async () => {
    await shell.run("server 0");
    await shell.run("createUser CU only0 password1", "y");
    await shell.run("exit");
    const t = await shell.run("deleteUser CU only0", "B");
    assertLinesInOrder(t, [
      "deleteUser success on server 0(IP)",
      "deleteUser failed: RET_INVALID_USER",
      "deleteUser failed on server 1(IP)",
      "",
      "Retry/rollBack/Ignore?(R/B/I):B",
      "rollBack success on server 0(IP)",
      "WARNING: after this deleteUser the servers disagree; the cluster is divergent (HSMs do not synchronize each other).",
      "  with the change:    server 1(IP) (had it already)",
      "  without it:         server 0(IP), server 2(IP)",
    ]);
    assert.ok((await names(0)).includes("only0"));
  });

  it("loginHSM right after a node restart logs in there: the shell asks the node and forgets the session it lost", async () => {
    await cluster.kill(1);
    await cluster.restart(1);
    const login = await shell.run(ADMIN);
    assertLinesInOrder(login, ["loginHSM success on server 1(IP)"]);
    assert.match(login, /^loginHSM failed: RET_ALREADY_LOGGED_IN /m, "servers 0 and 2 keep their live sessions");
    assert.ok(!login.includes("loginHSM success on server 0("), login);
    const list = await shell.run("listUsers");
    assert.ok(!/failed/.test(list), list);
  });

  it("exits cleanly, without a stack trace, when its output pipe is closed (EPIPE)", async () => {
    const child = spawn(process.execPath, [CLI, "cmu", "--cluster", cluster.clusterFile], {
      cwd: work,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.stdin.on("error", () => {}); // the shell may be gone before our last write
    const exited = new Promise<number | string>((resolve) =>
      child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`no prompt: ${out}`)), 10_000);
        child.stdout.setEncoding("utf8").on("data", (c: string) => {
          out += c;
          if (out.endsWith("aws-cloudhsm>")) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.stdout.destroy(); // the reader goes away, as with `quorum-gate cmu | head -3`
      // Keep feeding commands (stdin stays open): only the closed output can end the shell.
      for (let i = 0; i < 20 && child.exitCode === null; i++) {
        child.stdin.write("listUsers\nhelp\n");
        await new Promise((r) => setTimeout(r, 50));
      }
      let limit: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise((r) => (limit = setTimeout(() => r("still running"), 10_000))),
      ]);
      // Left pending, the limit would hold the test process open for its full 10 s.
      clearTimeout(limit);
      assert.equal(code, 0, `exit: ${String(code)}; stderr: ${err}`);
      assert.equal(err, "");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
