// Drift made on purpose, detected and repaired, through the real shell on a real 2-node cluster
// with quorum on (M of USER_MGMT = 2): a token approved while server 1 is down is reported as
// approved on server 0 only (approveToken's summary, listTokens naming the dead server); createUser
// then lands on server 0 only (Ignore) and the shell warns; listUsers (and `quorum-gate cluster
// status` when it exists) shows the difference; `server 0` / `syncUser <id> 1` refuses without an
// approved token on server 1 and copies the user with one, after which both servers' listUsers
// tables are identical and the user logs in on server 1 with the password it had on server 0.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { usage } from "../../src/cli/router.ts";
import { renderApprovalFile } from "../../src/formats/approval-file.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import {
  assertLinesInOrder,
  bodyOf,
  CLI,
  normalize,
  signFile,
  startCmu,
  writeRegistrationFiles,
  type CmuChild,
} from "../helpers/cmu-driver.ts";
import { testKey } from "../helpers/keys.ts";

const OFFICERS = ["officer1", "officer2"] as const;
const PASSWORD = "officer-pass1";

describe("cmu shell: drift on purpose, detected, repaired with server mode and syncUser", () => {
  let cluster: TestCluster;
  let work: string;
  let shell: CmuChild;

  /** getToken output is signed by both officers and put into an approval file, as in the seed. */
  function approvalFor(token: string, file: string): void {
    for (const [i, officer] of OFFICERS.entries())
      signFile(work, token, testKey(`cmu-drift-${officer}`).privateKey, `${token}.sig${i + 1}`);
    writeFileSync(
      join(work, file),
      renderApprovalFile({
        multiTokenFilePath: token,
        tokenFilePath: "",
        approvals: OFFICERS.map((officer, i) => ({
          approverType: 2,
          approverName: officer,
          approvalFile: `${token}.sig${i + 1}`,
        })),
      }),
    );
  }

  /** The listUsers table of each server, keyed by index (lines after `Users on server i(...)`). */
  function tables(listUsers: string): Map<number, string[]> {
    const result = new Map<number, string[]>();
    let current: string[] | null = null;
    for (const line of bodyOf(listUsers)) {
      const head = /^Users on server (\d+)\(/.exec(line);
      if (head) {
        current = [];
        result.set(Number(head[1]), current);
      } else if (current !== null) current.push(line);
    }
    return result;
  }

  const hasClusterStatus = usage("test").includes("cluster status");
  function clusterStatus(): { code: number | null; out: string } {
    const r = spawnSync(process.execPath, [CLI, "cluster", "status", "--cluster", cluster.clusterFile], {
      encoding: "utf8",
      timeout: 30_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "qg-cmu-drift-"));
    cluster = await startTestCluster({ nodes: 2 });
    shell = await startCmu(cluster.clusterFile, work, { timeoutMs: 3000 });
    await shell.run("loginHSM PRECO admin password");
    await shell.run("changePswd PRECO admin admin-pass1", "y");
    for (const officer of OFFICERS) await shell.run(`createUser CO ${officer} ${PASSWORD}`, "y");
    await shell.run("logoutHSM");
    for (const officer of OFFICERS) {
      const files = writeRegistrationFiles(work, officer, testKey(`cmu-drift-${officer}`));
      await shell.run(`loginHSM CO ${officer} ${PASSWORD}`);
      assertLinesInOrder(await shell.run(`registerQuorumPubKey CO ${officer} ${files}`, "y"), [
        "registerQuorumPubKey success on server 1(IP)",
      ]);
      await shell.run("logoutHSM");
    }
    await shell.run(`loginHSM CO officer1 ${PASSWORD}`);
    assertLinesInOrder(await shell.run("setMValue 3 2", "y"), [
      "setMValue success on server 0(IP)",
      "setMValue success on server 1(IP)",
    ]);
  });

  after(async () => {
    if (process.env["CMU_TRANSCRIPT"] && shell) writeFileSync(process.env["CMU_TRANSCRIPT"], shell.output());
    shell?.kill();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("a token approved while server 1 is down is reported as approved on server 0 only; listTokens names the dead server", async () => {
    assertLinesInOrder(await shell.run("getToken 3 officer1 t1.token"), [
      "getToken success on server 0(IP)",
      "getToken success on server 1(IP)",
    ]);
    approvalFor("t1.token", "approval1.txt");
    await cluster.kill(1);
    const approve = await shell.run("approveToken approval1.txt");
    assert.deepEqual(bodyOf(approve).map(normalize), [
      "approveToken success on server 0(IP)",
      "approveToken failed: RET_NODE_UNREACHABLE (connection refused)",
      "approveToken failed on server 1(IP)",
      "(server 1 is down, and this login session ended with it, quorum tokens included: run loginHSM again once it is back)",
      "The token is approved on 1 of 2 servers only: server 0(IP).",
      "  server 1(IP) recorded no approval (see the failure above).",
      "  Quorum operations fail with RET_MXN_AUTH_FAILED where the token is not approved: run approveToken again once those servers answer (after a restart they need loginHSM and a new token), and check with listTokens.",
    ]);
    const list = await shell.run("listTokens");
    assertLinesInOrder(list, [
      "    Server 0(IP)",
      "Current num of approvals : 2",
      "Num of tokens = 1",
      "",
      "=====================",
      "    Server 1(IP)",
      "=====================",
      "listTokens failed: RET_NODE_UNREACHABLE (connection refused)",
      "listTokens failed on server 1(IP)",
      "",
      "listTokens failed on 1 of 2 servers",
    ]);
    assert.ok(!list.includes("listTokens success"), list);
  });

  it("createUser with server 1 down and Ignore leaves the documented divergence, named in a warning", async () => {
    const t = await shell.run("createUser CU drift1 drift-pass1", "y", "I");
    assertLinesInOrder(t, [
      "Creating User drift1(CU) on 2 nodes",
      "createUser success on server 0(IP)",
      "createUser failed: RET_NODE_UNREACHABLE (connection refused)",
      "creating user on server 1(IP) failed",
      "",
      "Retry/Ignore/Abort?(R/I/A):I",
      "WARNING: after this createUser the servers disagree; the cluster is divergent (HSMs do not synchronize each other).",
      "  with the change:    server 0(IP)",
      "  without it:         server 1(IP)",
      "  Compare the servers with 'quorum-gate cluster status' (or listUsers / getMValue here, per server).",
      "  To repair, copy the user from a server that is right: 'server <n>', then 'syncUser <user ID> <server ID>';",
      "    or run the command again in server mode on the servers without the change.",
    ]);
    await cluster.restart(1);
    // The restart ended server 1's sessions and their tokens: nothing looks approved there.
    const list = await shell.run("listTokens");
    assertLinesInOrder(list, [
      "    Server 0(IP)",
      "Num of tokens = 0",
      "    Server 1(IP)",
      "Num of tokens = 0",
      "",
      "listTokens success",
    ]);
  });

  it("the drift shows in listUsers per server (and in quorum-gate cluster status)", async () => {
    const t = tables(await shell.run("listUsers"));
    assert.ok(
      t.get(0)?.some((l) => /^\s+5\s+CU\s+drift1\s/.test(l)),
      "server 0 has drift1 as user 5",
    );
    assert.ok(!t.get(1)?.some((l) => l.includes("drift1")), "server 1 does not");
    assert.notDeepEqual(t.get(0), t.get(1));
    if (hasClusterStatus) {
      const status = clusterStatus();
      assert.notEqual(status.code, 0, status.out);
      assert.match(status.out, /drift1/);
    }
  });

  it("syncUser refuses without an approved token on the target, and copies the user with one", async () => {
    const login = await shell.run(`loginHSM CO officer1 ${PASSWORD}`);
    assertLinesInOrder(login, ["loginHSM failed on server 0(IP)", "loginHSM success on server 1(IP)"]);

    const enter = await shell.run("server 0");
    assert.deepEqual(bodyOf(enter), ["Server is in 'E2' mode..."]);
    assert.ok(shell.output().endsWith("server0>"), "the prompt becomes server0>");
    const global = await shell.run("syncUser 5 0");
    assert.deepEqual(bodyOf(global), [
      "syncUser copies a user to another server; server 0 is the one this shell is on.",
    ]);
    const refused = await shell.run("syncUser 5 1", "A");
    assert.deepEqual(bodyOf(refused).map(normalize), [
      "ExtractMaskedObject: 0x0 !",
      "syncUser failed: RET_MXN_AUTH_FAILED",
      "inserting user 5 into server 1(IP) failed",
      "",
      "Retry/Ignore/Abort?(R/I/A):A",
    ]);
    await shell.run("exit");
    assert.ok(shell.output().endsWith("aws-cloudhsm>"), "exit returns to global mode");
    assert.deepEqual(bodyOf(await shell.run("syncUser 5 1")), [
      "syncUser works in server mode, on the server that has the user: type 'server <n>' first, then 'syncUser <user ID> <server ID>'.",
    ]);

    assertLinesInOrder(await shell.run("getToken 3 officer1 t2.token"), [
      "getToken success on server 0(IP)",
      "getToken success on server 1(IP)",
    ]);
    approvalFor("t2.token", "approval2.txt");
    assert.deepEqual(bodyOf(await shell.run("approveToken approval2.txt")).map(normalize), [
      "approveToken success on server 0(IP)",
      "approveToken success on server 1(IP)",
    ]);

    const transcript = [await shell.run("server 0"), await shell.run("syncUser 5 1"), await shell.run("exit")].join("");
    assert.deepEqual(transcript.trimEnd().split("\n").map(normalize), [
      "aws-cloudhsm>server 0",
      "Server is in 'E2' mode...",
      "server0>syncUser 5 1",
      "ExtractMaskedObject: 0x0 !",
      "InsertMaskedObject: 0x0 !",
      "syncUser success",
      "server0>exit",
    ]);

    const t = tables(await shell.run("listUsers"));
    assert.deepEqual(t.get(1), t.get(0), "both servers list the same users, ids, keys and 2FA");
    assert.ok(t.get(1)?.some((l) => /^\s+5\s+CU\s+drift1\s/.test(l)));
    if (hasClusterStatus) {
      const status = clusterStatus();
      assert.equal(status.code, 0, status.out);
    }

    // The password travelled with the user: drift1 logs in on server 1 with it.
    await shell.run("server 1");
    await shell.run("logoutHSM");
    assert.deepEqual(bodyOf(await shell.run("loginHSM CU drift1 drift-pass1")).map(normalize), [
      "loginHSM success on server 1(IP)",
    ]);
    await shell.run("logoutHSM");
    await shell.run("exit");
    assert.equal(await shell.quit(), 0);
    assert.equal(shell.stderr(), "");
  });
});
