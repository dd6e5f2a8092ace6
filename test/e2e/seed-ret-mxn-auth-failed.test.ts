// Acceptance test of seed ret-mxn-auth-failed.md (the Knowledge Center note) on a real 2-node
// cluster through the real shell: M of service 3 is 2 but no officer has registered a quorum key
// (MofnPubKey NO everywhere), so user management fails with RET_MXN_AUTH_FAILED; getMValue 3
// shows the seed's lines; M cannot be lowered without a quorum; and the note's resolution works:
// register keys, get a token signed by M officers, approve it, and the command goes through.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { renderApprovalFile } from "../../src/formats/approval-file.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { assertLinesInOrder, openssl, startCmu, type CmuChild } from "../helpers/cmu-driver.ts";
import { SEED_GET_M_VALUE } from "../helpers/cmu-seeds.ts";

const PASSWORD = "officer-pass1";

describe("seed: RET_MXN_AUTH_FAILED", () => {
  let cluster: TestCluster;
  let work: string;
  let shell: CmuChild;

  function register(officer: string): Promise<string> {
    openssl(work, "genrsa", "-out", `${officer}.key`, "2048");
    openssl(work, "rsa", "-in", `${officer}.key`, "-outform", "PEM", "-pubout", "-out", `${officer}.pub`);
    writeFileSync(join(work, `${officer}.reg`), "token to be signed\n");
    openssl(work, "dgst", "-sha256", "-sign", `${officer}.key`, "-out", `${officer}.reg.sig`, `${officer}.reg`);
    return shell.run(`registerQuorumPubKey CO ${officer} ${officer}.reg ${officer}.reg.sig ${officer}.pub`, "y");
  }

  /** getToken as admin, both officers sign it, and an approval file in CMU's format names both. */
  async function tokenSignedByBoth(): Promise<void> {
    await shell.run("getToken 3 admin admin.token");
    openssl(work, "dgst", "-sha256", "-sign", "admin.key", "-out", "admin.token.sig1", "admin.token");
    openssl(work, "dgst", "-sha256", "-sign", "admin1.key", "-out", "admin.token.sig2", "admin.token");
    const approvals = [
      { approverType: 2 as const, approverName: "admin", approvalFile: "admin.token.sig1" },
      { approverType: 2 as const, approverName: "admin1", approvalFile: "admin.token.sig2" },
    ];
    writeFileSync(
      join(work, "approval.txt"),
      renderApprovalFile({ multiTokenFilePath: "admin.token", tokenFilePath: "", approvals }),
    );
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "qg-seed-mxn-"));
    cluster = await startTestCluster({ nodes: 2 });
    shell = await startCmu(cluster.clusterFile, work);
    await shell.run("loginHSM PRECO admin password");
    await shell.run("changePswd PRECO admin admin-pass1", "y");
    await shell.run(`createUser CO admin1 ${PASSWORD}`, "y");
  });

  after(async () => {
    if (process.env["CMU_TRANSCRIPT"] && shell) writeFileSync(process.env["CMU_TRANSCRIPT"], shell.output());
    shell?.kill();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("with M(3) = 2 and no registered keys, getMValue 3 prints the seed's lines", async () => {
    await shell.run("setMValue 3 2", "y");
    const users = await shell.run("listUsers");
    const mofn = users
      .split("\n")
      .filter((l) => /^\s+\d+\s+(PCO|CO|AU)\s/.test(l))
      .map((l) => l.trim().split(/\s+/)[3]);
    assert.deepEqual(mofn, ["NO", "NO", "NO", "NO", "NO", "NO"], users);
    assertLinesInOrder(await shell.run("getMValue 3"), SEED_GET_M_VALUE);
  });

  it("refuses user management with RET_MXN_AUTH_FAILED on every server", async () => {
    const t = await shell.run("createUser CU user1 password", "y", "I", "I");
    assertLinesInOrder(t, [
      "createUser failed: RET_MXN_AUTH_FAILED",
      "creating user on server 0(IP) failed",
      "Retry/Ignore/Abort?(R/I/A):I",
      "createUser failed: RET_MXN_AUTH_FAILED",
      "creating user on server 1(IP) failed",
      "Retry/Ignore/Abort?(R/I/A):I",
    ]);
  });

  it("does not let one officer lower M below 2", async () => {
    const t = await shell.run("setMValue 3 1", "y", "A");
    assertLinesInOrder(t, [
      "Setting M Value(1) for 3 on 2 nodes",
      "setting M value on server 0(IP) failed",
      "Retry/Ignore/Abort?(R/I/A):A",
    ]);
    assert.match(t, /^setMValue failed: RET_INVALID_M_VALUE/m);
    assertLinesInOrder(await shell.run("getMValue 3"), SEED_GET_M_VALUE);
  });

  it("refuses a token signed by an officer whose key is not registered", async () => {
    assertLinesInOrder(await register("admin"), [
      "registerQuorumPubKey success on server 0(IP)",
      "registerQuorumPubKey success on server 1(IP)",
    ]);
    openssl(work, "genrsa", "-out", "admin1.key", "2048");
    await tokenSignedByBoth();
    const t = await shell.run("approveToken approval.txt");
    assertLinesInOrder(t, ["approveToken failed on server 0(IP)", "approveToken failed on server 1(IP)"]);
    assert.ok(!t.includes("approveToken success"), t);
    assert.equal(t.match(/^approveToken failed: RET_KEY_NOT_REGISTERED .*admin1/gm)?.length, 2, t);
  });

  it("resolution: register M keys, approve a token signed by both, and createUser succeeds", async () => {
    await shell.run("logoutHSM");
    await shell.run(`loginHSM CO admin1 ${PASSWORD}`);
    assertLinesInOrder(await register("admin1"), [
      "registerQuorumPubKey success on server 0(IP)",
      "registerQuorumPubKey success on server 1(IP)",
    ]);
    await shell.run("logoutHSM");
    await shell.run("loginHSM CO admin admin-pass1");
    await tokenSignedByBoth();
    assertLinesInOrder(await shell.run("approveToken approval.txt"), [
      "approveToken success on server 0(IP)",
      "approveToken success on server 1(IP)",
    ]);
    assertLinesInOrder(await shell.run("createUser CU user1 password", "y"), [
      "createUser success on server 0(IP)",
      "createUser success on server 1(IP)",
    ]);
    assert.equal(await shell.quit(), 0);
    assert.deepEqual(cluster.crashes, []);
  });
});
