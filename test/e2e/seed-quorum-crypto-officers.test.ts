// Acceptance test of seed quorum-crypto-officers.md on a real 2-node cluster, through the real
// shell with piped stdin and the real openssl: first-time setup (activate, five officers, quorum
// keys registered with the seed's openssl steps, setMValue 3 2), then the seed's quorum flow line
// by line: createUser refused with RET_MXN_AUTH_FAILED (A), getToken, two signatures, the seed's
// approval file, approveToken, listTokens, createUser, the 8-user listUsers table, deleteUser
// refused on both servers (I, I), and an empty listTokens.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeRecords } from "../../src/hsm/token-record.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { assertLinesInOrder, bodyOf, normalize, openssl, startCmu, type CmuChild } from "../helpers/cmu-driver.ts";
import {
  SEED_APPROVAL_FILE,
  SEED_APPROVE_TOKEN,
  SEED_CREATE_USER,
  SEED_DELETE_USER,
  SEED_FAILED_CREATE_USER,
  SEED_GET_M_VALUE,
  SEED_GET_TOKEN,
  SEED_LIST_TOKENS_APPROVED,
  SEED_LIST_TOKENS_EMPTY,
  SEED_LIST_USERS,
} from "../helpers/cmu-seeds.ts";

const OFFICERS = ["officer1", "officer2", "officer3", "officer4", "officer5"] as const;
const ADMIN_PASSWORD = "admin-pass1";
const OFFICER_PASSWORD = "officer-pass1";

describe("seed: quorum authentication for crypto officers", () => {
  let cluster: TestCluster;
  let work: string;
  let shell: CmuChild;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "qg-seed-quorum-"));
    cluster = await startTestCluster({ nodes: 2 });
    shell = await startCmu(cluster.clusterFile, work);
  });

  after(async () => {
    // CMU_TRANSCRIPT=<file> keeps the whole session for reading (it holds no secrets: test passwords only).
    if (process.env["CMU_TRANSCRIPT"] && shell) writeFileSync(process.env["CMU_TRANSCRIPT"], shell.output());
    shell?.kill();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("activates the cluster and creates five crypto officers", async () => {
    const login = await shell.run("loginHSM PRECO admin password");
    assert.deepEqual(bodyOf(login).map(normalize), [
      "loginHSM success on server 0(IP)",
      "loginHSM success on server 1(IP)",
    ]);
    const activate = await shell.run(`changePswd PRECO admin ${ADMIN_PASSWORD}`, "y");
    assertLinesInOrder(activate, [
      "Changing password for admin(PRECO) on 2 nodes",
      "changePswd success on server 0(IP)",
      "changePswd success on server 1(IP)",
    ]);
    for (const officer of OFFICERS) {
      const created = await shell.run(`createUser CO ${officer} ${OFFICER_PASSWORD}`, "y");
      assertLinesInOrder(created, [
        `Creating User ${officer}(CO) on 2 nodes`,
        "createUser success on server 0(IP)",
        "createUser success on server 1(IP)",
      ]);
    }
    await shell.run("logoutHSM");
  });

  it("registers each officer's quorum key with the seed's openssl steps", async () => {
    for (const officer of OFFICERS) {
      openssl(work, "genrsa", "-out", `${officer}.key`, "2048");
      openssl(work, "rsa", "-in", `${officer}.key`, "-outform", "PEM", "-pubout", "-out", `${officer}.pub`);
      writeFileSync(join(work, `${officer}.token`), "token to be signed\n"); // echo "token to be signed" > officer1.token
      openssl(work, "dgst", "-sha256", "-sign", `${officer}.key`, "-out", `${officer}.token.sig`, `${officer}.token`);
      await shell.run(`loginHSM CO ${officer} ${OFFICER_PASSWORD}`);
      const registered = await shell.run(
        `registerQuorumPubKey CO ${officer} ${officer}.token ${officer}.token.sig ${officer}.pub`,
        "y",
      );
      assertLinesInOrder(registered, [
        "registerQuorumPubKey success on server 0(IP)",
        "registerQuorumPubKey success on server 1(IP)",
      ]);
      await shell.run("logoutHSM");
    }
  });

  it("sets M of service 3 to 2 and getMValue shows it (seed ret-mxn-auth-failed.md)", async () => {
    await shell.run(`loginHSM CO officer1 ${OFFICER_PASSWORD}`);
    const set = await shell.run("setMValue 3 2", "y");
    assertLinesInOrder(set, [
      "Setting M Value(2) for 3 on 2 nodes",
      "setMValue success on server 0(IP)",
      "setMValue success on server 1(IP)",
    ]);
    const get = await shell.run("getMValue 3");
    assertLinesInOrder(get, SEED_GET_M_VALUE);
  });

  it("refuses createUser without a token: RET_MXN_AUTH_FAILED, then Abort leaves server 1 untouched", async () => {
    const t = await shell.run("createUser CU user1 password", "y", "A");
    assertLinesInOrder(t, SEED_FAILED_CREATE_USER);
    assert.ok(!t.includes("server 1("), `server 1 must not be tried after Abort:\n${t}`);
  });

  it("gets a token: one record per server, written to officer1.token", async () => {
    const t = await shell.run("getToken 3 officer1 officer1.token");
    assertLinesInOrder(t, SEED_GET_TOKEN);
    const records = decodeRecords(readFileSync(join(work, "officer1.token")));
    assert.ok(records.ok);
    assert.deepEqual(
      records.records.map((r) => [r.service, r.userName, r.nodeId]),
      [
        [3, "officer1", 1],
        [3, "officer1", 0],
      ],
    );
  });

  it("approves the token with two officers' signatures and the seed's approval file", async () => {
    openssl(work, "dgst", "-sha256", "-sign", "officer1.key", "-out", "officer1.token.sig1", "officer1.token");
    openssl(work, "dgst", "-sha256", "-sign", "officer2.key", "-out", "officer1.token.sig2", "officer1.token");
    assert.equal(statSync(join(work, "officer1.token.sig1")).size, 256);
    writeFileSync(join(work, "approval.txt"), SEED_APPROVAL_FILE);
    const approve = await shell.run("approveToken approval.txt");
    assertLinesInOrder(approve, SEED_APPROVE_TOKEN);
    const list = await shell.run("listTokens");
    assertLinesInOrder(list, SEED_LIST_TOKENS_APPROVED);
  });

  it("creates user1 with the approved token and lists exactly the seed's eight users", async () => {
    const created = await shell.run("createUser CU user1 password", "y");
    assertLinesInOrder(created, [
      ...SEED_CREATE_USER,
      "createUser success on server 0(IP)",
      "createUser success on server 1(IP)",
    ]);
    const users = await shell.run("listUsers");
    // Exactly the seed's table, line for line (addresses normalised).
    assert.deepEqual(users.trimEnd().split("\n").map(normalize), SEED_LIST_USERS.map(normalize));
  });

  it("refuses deleteUser now that the token is used (R/B/I answered I twice), and no token is left", async () => {
    const t = await shell.run("deleteUser CU user1", "I", "I");
    assertLinesInOrder(t, SEED_DELETE_USER);
    const list = await shell.run("listTokens");
    assert.deepEqual(list.trimEnd().split("\n").map(normalize), SEED_LIST_TOKENS_EMPTY.map(normalize));
  });

  it("quits cleanly, logging out first", async () => {
    assert.equal(await shell.quit(), 0);
    assert.ok(shell.output().trimEnd().endsWith("aws-cloudhsm>quit\ndisconnecting from servers, please wait..."));
    assert.equal(shell.stderr(), "");
    assert.deepEqual(cluster.crashes, []);
  });
});
