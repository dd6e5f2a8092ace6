// The shell's own behaviour on a real 2-node cluster: wrong arguments print a usage line and send
// nothing, bad files are refused before anything is sent, a dead node gets failure lines with a
// reason and can be retried after it comes back, rollBack undoes a partial deleteUser, no input
// line can crash the shell, and end of input in the middle of a question still logs out cleanly.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createNodeClient } from "../../src/protocol/node-client.ts";
import { COMMAND_NAMES } from "../../src/cmu/commands/index.ts";
import { renderApprovalFile } from "../../src/formats/approval-file.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import {
  assertLinesInOrder,
  bodyOf,
  normalize,
  openssl,
  startCmu,
  type CmuChild,
  type Prompt,
} from "../helpers/cmu-driver.ts";

const CAUTIOUS: Readonly<Record<Prompt, string>> = {
  "aws-cloudhsm>": "",
  "Do you want to continue(y/n)?": "n",
  "Retry/Ignore/Abort?(R/I/A):": "A",
  "Retry/rollBack/Ignore?(R/B/I):": "I",
  "Enter filename:": "",
  "Enter password:": "pw-12345",
  "Re-enter password:": "pw-12345",
  "Enter PEM pass phrase:": "",
};

describe("cmu shell behaviour", () => {
  let cluster: TestCluster;
  let work: string;
  let shell: CmuChild;

  /** Users on server `i`, asked directly (not through the shell), to prove nothing was sent. */
  async function userNames(i: number): Promise<string[]> {
    const endpoint = cluster.endpoints[i];
    assert.ok(endpoint);
    const client = createNodeClient(endpoint);
    try {
      const r = await client.call("list-users", {});
      assert.ok(r.ok);
      return r.data.users.map((u) => u.name);
    } finally {
      client.close();
    }
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "qg-cmu-shell-"));
    cluster = await startTestCluster({ nodes: 2 });
    shell = await startCmu(cluster.clusterFile, work, { timeoutMs: 2000 });
    await shell.run("loginHSM PRECO admin password");
    await shell.run("changePswd PRECO admin admin-pass1", "y");
  });

  after(async () => {
    if (process.env["CMU_TRANSCRIPT"] && shell) writeFileSync(process.env["CMU_TRANSCRIPT"], shell.output());
    shell?.kill();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("prints CMU's connecting lines for each server at start-up", () => {
    assertLinesInOrder(shell.output(), [
      "Connecting to the server(s), it may take time",
      "depending on the server(s) load, please wait...",
      "",
      `Connecting to server 'IP': hostname 'IP', port ${cluster.file.nodes[0]?.port}...`,
      `Connected to server 'IP': hostname 'IP', port ${cluster.file.nodes[0]?.port}.`,
      `Connecting to server 'IP': hostname 'IP', port ${cluster.file.nodes[1]?.port}...`,
      `Connected to server 'IP': hostname 'IP', port ${cluster.file.nodes[1]?.port}.`,
    ]);
  });

  it("answers wrong arguments with the command's usage line and sends nothing", async () => {
    const cases: [string, string][] = [
      ["createUser CU", "Usage: createUser <CO|CU> <user-name> <password | -hpswd> [-2fa <authdata-file>]"],
      [
        "createUser cu bob password1",
        "Usage: createUser <CO|CU> <user-name> <password | -hpswd> [-2fa <authdata-file>]",
      ],
      [
        "createUser CU bob password1 -2fa",
        "Usage: createUser <CO|CU> <user-name> <password | -hpswd> [-2fa <authdata-file>]",
      ],
      ["deleteUser CU", "Usage: deleteUser <CO|CU> <user-name>"],
      ["getToken three admin t.token", "Usage: getToken <service#> <user-name> <token-file>"],
      ["getMValue", "Usage: getMValue <service#>"],
      ["setMValue 3", "Usage: setMValue <service#> <m>"],
      ["approveToken", "Usage: approveToken <approval-file>"],
      ["listUsers now", "Usage: listUsers"],
      ["loginHSM CO", "Usage: loginHSM <user-type> <user-name> <password | -hpswd> [-2fa <authdata-file>]"],
      [
        "registerQuorumPubKey CU a b c d",
        "Usage: registerQuorumPubKey CO <user-name> <registration-token> <signed-registration-token> <public-key>",
      ],
      ["info server x", "Usage: info server <server-id> | info"],
    ];
    for (const [line, usage] of cases) {
      const t = await shell.run(line);
      assert.equal(bodyOf(t).at(-1), usage, t);
      assert.ok(!t.includes("CAUTION") && !t.includes("success on server") && !t.includes("failed on server"), t);
    }
    assert.match(await shell.run("createUser cu bob password1"), /^Invalid user type 'cu'$/m);
    assert.deepEqual(await userNames(0), ["admin", "app_user"]);
  });

  it("refuses 2FA for a crypto user and ambiguous or unknown commands", async () => {
    assert.deepEqual(bodyOf(await shell.run("createUser CU bob password1 -2fa authdata")), [
      "2FA is available for crypto officers (CO) only; nothing was sent.",
    ]);
    assert.match(await shell.run("get 3"), /ambiguous command 'get': could be getToken, getMValue, getHSMInfo/);
    assert.match(await shell.run("frobnicate"), /unknown command 'frobnicate'/);
  });

  it("refuses missing and malformed files before sending anything", async () => {
    assert.deepEqual(bodyOf(await shell.run("approveToken nope.txt")), [
      'Cannot read the approval file "nope.txt": no such file',
    ]);
    writeFileSync(join(work, "bad-approval.txt"), "Multi Token File Path = t.token;\nNumber of Approvals = 1;\n");
    assert.match(
      await shell.run("approveToken bad-approval.txt"),
      /The approval file "bad-approval.txt" cannot be used: .*"Token File Path"/,
    );
    writeFileSync(join(work, "t.token"), Buffer.alloc(81, 1));
    writeFileSync(join(work, "short.sig"), Buffer.alloc(10));
    writeFileSync(
      join(work, "a.txt"),
      renderApprovalFile({
        multiTokenFilePath: "t.token",
        tokenFilePath: "",
        approvals: [{ approverType: 2, approverName: "admin", approvalFile: "short.sig" }],
      }),
    );
    assert.match(await shell.run("approveToken a.txt"), /is not a token file from getToken/);
    writeFileSync(join(work, "key.pub"), "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n");
    writeFileSync(join(work, "reg"), "token to be signed\n");
    const big = await shell.run("registerQuorumPubKey CO admin reg short.sig key.pub");
    assert.match(big, /The public key "key.pub" cannot be used/);
    assert.ok(!big.includes("CAUTION"), "nothing is asked or sent for a bad key");
    writeFileSync(join(work, "too-big.reg"), Buffer.alloc(246, 0x61));
    assert.match(
      await shell.run("registerQuorumPubKey CO admin too-big.reg short.sig key.pub"),
      /246 bytes, more than the 245 allowed/,
    );
    assert.match(
      await shell.run("getToken 3 admin /nonexistent-dir/t.token"),
      /Cannot write the token file "\/nonexistent-dir\/t.token": no such file/,
    );
  });

  it("reports a dead node with a reason; after its restart the session is gone and loginHSM brings it back", async () => {
    await cluster.kill(1);
    const list = await shell.run("listUsers");
    assertLinesInOrder(list, ["Users on server 0(IP):", "listUsers failed on server 1(IP)"]);
    assert.match(list, /^listUsers failed: RET_NODE_UNREACHABLE \(/m);
    // A node that went down took the session (and its tokens) with it, as a dropped CMU connection does.
    assert.match(list, /server 1 is down, and this login session ended with it.*loginHSM again once it is back/);
    const t = await shell.run(
      "createUser CU carol password1",
      "y",
      async () => {
        await cluster.restart(1);
        return "R";
      },
      "I",
    );
    assertLinesInOrder(t, [
      "Creating User carol(CU) on 2 nodes",
      "createUser success on server 0(IP)",
      "creating user on server 1(IP) failed",
      "",
      "Retry/Ignore/Abort?(R/I/A):R",
      "creating user on server 1(IP) failed",
      "Retry/Ignore/Abort?(R/I/A):I",
    ]);
    assert.match(t, /^createUser failed: RET_NODE_UNREACHABLE \(connection refused\)$/m);
    assert.match(t, /^createUser failed: RET_NOT_LOGGED_IN /m);
    const login = await shell.run("loginHSM CO admin admin-pass1");
    assertLinesInOrder(login, ["loginHSM failed on server 0(IP)", "loginHSM success on server 1(IP)"]);
    assert.match(login, /^loginHSM failed: RET_ALREADY_LOGGED_IN /m);
    const again = await shell.run("createUser CU carol password1", "y", "I");
    assertLinesInOrder(again, [
      "creating user on server 0(IP) failed",
      "Retry/Ignore/Abort?(R/I/A):I",
      "createUser success on server 1(IP)",
    ]);
    assert.deepEqual(await userNames(1), ["admin", "app_user", "carol"]);
  });

  it("rolls back a deleteUser that failed on a dead server: the user is back where it was deleted", async () => {
    await cluster.kill(1);
    const t = await shell.run("deleteUser CU carol", "B");
    assertLinesInOrder(t, [
      "Deleting user carol(CU) on 2 nodes",
      "deleteUser success on server 0(IP)",
      "deleteUser failed on server 1(IP)",
      "",
      "Retry/rollBack/Ignore?(R/B/I):B",
      "rollBack success on server 0(IP)",
      "rollBack: deleteUser is undone; no server has the change now.",
    ]);
    assert.ok(!t.includes("WARNING"), t);
    await cluster.restart(1);
    assert.deepEqual(await userNames(0), ["admin", "app_user", "carol"]);
    assert.deepEqual(await userNames(1), ["admin", "app_user", "carol"]);
    await shell.run("logoutHSM");
    await shell.run("loginHSM CO admin admin-pass1");
  });

  it("registers a quorum key the legacy way (registerMofnPubKey), asking the pass phrase only for an encrypted key", async () => {
    openssl(work, "genrsa", "-aes256", "-passout", "pass:pem-phrase-1", "-out", "admin-enc.key", "2048");
    const wrong = await shell.run('registerMofnPubKey CO "admin key match" admin admin-enc.key', "not-the-phrase");
    assert.match(wrong, /^Enter PEM pass phrase:\n/m);
    assert.match(wrong, /cannot be decrypted with that pass phrase/);
    assert.ok(!wrong.includes("pem-phrase-1") && !wrong.includes("not-the-phrase"), "pass phrases are never echoed");
    const t = await shell.run('registerMofnPubKey CO "admin key match" admin admin-enc.key', "pem-phrase-1", "y");
    assertLinesInOrder(t, [
      "Enter PEM pass phrase:",
      "Do you want to continue(y/n)?y",
      "registerMofnPubKey success on server 0(IP)",
      "registerMofnPubKey success on server 1(IP)",
    ]);
    const users = await shell.run("listUsers");
    assert.deepEqual(
      users
        .split("\n")
        .filter((l) => /^\s+1\s+PCO\s+admin\s/.test(l))
        .map((l) => l.trim().split(/\s+/)[3]),
      ["YES", "YES"],
    );
    openssl(work, "genrsa", "-out", "admin-plain.key", "2048");
    const plain = await shell.run("registerMofnPubKey CO match2 admin admin-plain.key", "n");
    assert.ok(!plain.includes("PEM pass phrase"), plain);
  });

  it("deletes tokens with delToken and shows HSM and server information", async () => {
    await shell.run("getToken 3 admin admin.token");
    const del = await shell.run("delToken admin.token");
    assert.deepEqual(bodyOf(del).map(normalize), [
      "delToken success on server 0(IP)",
      "Num of tokens deleted = 1",
      "delToken success on server 1(IP)",
      "Num of tokens deleted = 1",
    ]);
    const list = await shell.run("listTokens");
    assert.equal(list.split("\n").filter((l) => l === "Num of tokens = 0").length, 2, list);
    const hsm = await shell.run("getHSMInfo");
    assertLinesInOrder(hsm, ["Getting HSM Info on 2 nodes", "*** Server 0 HSM Info ***", "*** Server 1 HSM Info ***"]);
    assert.ok(hsm.includes(cluster.file.nodes[1]?.hsmId ?? "?"), hsm);
    const info = bodyOf(await shell.run("info server 1"));
    assert.equal(
      info[0],
      "Id      Name                    Hostname         Port   State           Partition               LoginState",
    );
    assert.equal(
      normalize(info[1] ?? ""),
      normalize(
        `1       127.0.0.1               127.0.0.1       ${cluster.file.nodes[1]?.port}   Connected       ${cluster.file.nodes[1]?.hsmId}         Logged in as 'admin(CO)'`,
      ),
    );
  });

  it("keeps answering after any input line (seeded random garbage)", async () => {
    let a = 0x1234;
    const rnd = (): number => {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      return a / 2 ** 32;
    };
    const words = [
      "createUser",
      "deleteUser",
      "getToken",
      "approveToken",
      "delToken",
      "info",
      "server",
      "-2fa",
      "-hpswd",
      "CO",
      "CU",
      "3",
      "99999999",
      '"',
      '""',
      "\t",
      "../../etc/passwd",
      "\u00e9",
      "x".repeat(300),
      "help",
      "listT",
    ];
    for (let i = 0; i < 120; i++) {
      const first =
        rnd() < 0.7 ? COMMAND_NAMES[Math.floor(rnd() * COMMAND_NAMES.length)] : words[Math.floor(rnd() * words.length)];
      if (first === "quit") continue;
      const line = [
        first,
        ...Array.from({ length: Math.floor(rnd() * 6) }, () => words[Math.floor(rnd() * words.length)]),
      ].join(" ");
      // Whatever a line makes the shell ask gets the cautious answer.
      const t = await shell.runAnswering(line, (prompt) => CAUTIOUS[prompt]);
      assert.ok(!t.includes("internal error"), t);
    }
    const users = await shell.run("listUsers");
    assert.equal(users.split("\n").filter((l) => l.startsWith("Users on server")).length, 2);
  });

  it("ends cleanly at end of input in the middle of a question", async () => {
    shell.output();
    const asked = shell.run("createUser CU dave password1");
    await assert.rejects(asked, /asked 'Do you want to continue\(y\/n\)\?' but no answer was given/);
    assert.equal(await shell.eof(), 0);
    assert.ok(
      shell
        .output()
        .endsWith("Do you want to continue(y/n)?\naws-cloudhsm>\ndisconnecting from servers, please wait...\n"),
      normalize(shell.output().slice(-300)),
    );
    assert.ok(!(await userNames(0)).includes("dave"));
    assert.deepEqual(cluster.crashes, []);
  });
});
