// Acceptance test of seed 2fa-crypto-officers.zh.md on a real 2-node cluster, through the real
// shell: createUser CO -2fa with the authdata file filled in by hand the seed's way (openssl
// genpkey / rsa -pubout / pkeyutl | base64, PEM with \n escapes), loginHSM -2fa, key rotation
// with changePswd -2fa, and changePswd without -2fa removing 2FA and the MofN key.
// The shell reads one line per question from piped stdin, so the test answers `Enter filename:`
// only after it has signed the digests of the file the shell just wrote.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { assertLinesInOrder, bodyOf, normalize, openssl, sh, startCmu, type CmuChild } from "../helpers/cmu-driver.ts";

const USER = "exampleuser3";

/** The listUsers row of the 2FA user, as CMU prints it. */
function userRow(mofn: "YES" | "NO", twoFa: "YES" | "NO"): string {
  return `         3              CO              ${USER.padEnd(32)}${mofn.padStart(11)}${"0".padStart(16)}${twoFa.padStart(17)}`;
}

describe("seed: 2FA for crypto officers", () => {
  let cluster: TestCluster;
  let work: string;
  let shell: CmuChild;

  /** Keys as in the seed: `openssl genpkey -algorithm RSA ... rsa_keygen_bits:2048` and `openssl rsa -pubout`. */
  function makeKey(name: string): void {
    openssl(work, "genpkey", "-algorithm", "RSA", "-out", `${name}.pem`, "-pkeyopt", "rsa_keygen_bits:2048");
    openssl(work, "rsa", "-pubout", "-in", `${name}.pem`, "-out", `${name}.pub.pem`);
  }

  /**
   * Fills in the authdata file the shell wrote, the way the seed tells an officer to: decode each
   * Digest to digestN.bin (the seed uses jq and base64 -d), sign it with
   * `openssl pkeyutl -sign -in digestN.bin -inkey KEY -pkeyopt digest:sha256 | base64` and paste
   * the wrapped output as is; paste the public key on one line with \n escapes when enrolling.
   */
  function fillAuthData(file: string, key: string, withPublicKey: boolean): string {
    const path = join(work, file);
    const doc = JSON.parse(readFileSync(path, "utf8")) as {
      Version: string;
      PublicKey: string;
      Data: { HsmId: string; Digest: string; Signature: string }[];
    };
    assert.equal(doc.Data.length, 2, "one Data entry per HSM");
    const signatures = doc.Data.map((entry, i) => {
      writeFileSync(join(work, `digest${i + 1}.bin`), Buffer.from(entry.Digest, "base64"));
      return sh(work, `openssl pkeyutl -sign -in digest${i + 1}.bin -inkey ${key}.pem -pkeyopt digest:sha256 | base64`);
    });
    assert.ok(
      signatures.every((s) => s.includes("\n")),
      "base64 without -w0 wraps its output",
    );
    const pem = readFileSync(join(work, `${key}.pub.pem`), "utf8")
      .trim()
      .split("\n");
    const oneLine = `${pem[0]}\\n${pem.slice(1, -1).join("")}\\n${pem.at(-1)}`;
    // Written by hand, as with vi: the wrapped signature lands inside the JSON string.
    const text = [
      "{",
      `  "Version": "1.0",`,
      `  "PublicKey": "${withPublicKey ? oneLine : ""}",`,
      `  "Data": [`,
      doc.Data.map(
        (e, i) => `    { "HsmId": "${e.HsmId}", "Digest": "${e.Digest}", "Signature": "${signatures[i]}" }`,
      ).join(",\n"),
      "  ]",
      "}",
    ].join("\n");
    writeFileSync(path, text);
    return "";
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "qg-seed-2fa-"));
    cluster = await startTestCluster({ nodes: 2 });
    shell = await startCmu(cluster.clusterFile, work);
    await shell.run("loginHSM PRECO admin password");
    await shell.run("changePswd PRECO admin admin-pass1", "y");
    makeKey("private_key");
    makeKey("rotated_key");
  });

  after(async () => {
    if (process.env["CMU_TRANSCRIPT"] && shell) writeFileSync(process.env["CMU_TRANSCRIPT"], shell.output());
    shell?.kill();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("creates a 2FA crypto officer with the authdata exchange", async () => {
    const authdata = join(work, "authdata");
    const t = await shell.run(`createUser CO ${USER} user-pass1 -2fa ${authdata}`, "y", () =>
      fillAuthData("authdata", "private_key", true),
    );
    assertLinesInOrder(t, [
      `aws-cloudhsm>createUser CO ${USER} user-pass1 -2fa ${authdata}`,
      "Do you want to continue(y/n)?y",
      `Creating User ${USER}(CO) on 2 nodes`,
      `Authentication data written to: "${authdata}"`,
      "Leave this field blank to use the path initially provided.",
      "Enter filename:",
      "createUser success on server 0(IP)",
      "createUser success on server 1(IP)",
    ]);
    const users = await shell.run("listUsers");
    assert.equal(users.split("\n").filter((l) => l === userRow("YES", "YES")).length, 2, users);
    await shell.run("logoutHSM");
  });

  it("refuses a 2FA login without -2fa, and logs in with -2fa", async () => {
    const refused = await shell.run(`loginHSM CO ${USER} user-pass1`);
    assertLinesInOrder(refused, ["loginHSM failed on server 0(IP)", "loginHSM failed on server 1(IP)"]);
    assert.ok(!refused.includes("success"), refused);
    const t = await shell.run(`loginHSM CO ${USER} user-pass1 -2fa login-authdata`, () =>
      fillAuthData("login-authdata", "private_key", false),
    );
    assertLinesInOrder(t, [
      'Authentication data written to: "login-authdata"',
      "Enter filename:",
      "loginHSM success on server 0(IP)",
      "loginHSM success on server 1(IP)",
    ]);
  });

  it("rotates the 2FA key with changePswd -2fa; the new key logs in, the old one does not", async () => {
    const t = await shell.run(`changePswd CO ${USER} user-pass2 -2fa rotate-authdata`, "y", () =>
      fillAuthData("rotate-authdata", "rotated_key", true),
    );
    assertLinesInOrder(t, [
      `Changing password for ${USER}(CO) on 2 nodes`,
      "Enter filename:",
      "changePswd success on server 0(IP)",
      "changePswd success on server 1(IP)",
    ]);
    await shell.run("logoutHSM");
    const old = await shell.run(`loginHSM CO ${USER} user-pass2 -2fa old-key`, () =>
      fillAuthData("old-key", "private_key", false),
    );
    assertLinesInOrder(old, ["loginHSM failed on server 0(IP)", "loginHSM failed on server 1(IP)"]);
    const fresh = await shell.run(`loginHSM CO ${USER} user-pass2 -2fa new-key`, () =>
      fillAuthData("new-key", "rotated_key", false),
    );
    assertLinesInOrder(fresh, ["loginHSM success on server 0(IP)", "loginHSM success on server 1(IP)"]);
  });

  it("removes 2FA and the MofN key with changePswd without -2fa", async () => {
    const t = await shell.run(`changePswd CO ${USER} user-pass3`, "y");
    assertLinesInOrder(t, [
      "Do you want to continue(y/n)?y",
      `Changing password for ${USER}(CO) on 2 nodes`,
      "changePswd success on server 0(IP)",
      "changePswd success on server 1(IP)",
    ]);
    const users = await shell.run("listUsers");
    // Failed logins above may have counted, so compare the flag columns only.
    const flags = users
      .split("\n")
      .filter((l) => l.split(/\s+/)[3] === USER)
      .map((l) => l.trim().split(/\s+/));
    assert.deepEqual(
      flags.map((f) => [f[3], f[5]]),
      [
        ["NO", "NO"],
        ["NO", "NO"],
      ],
      users,
    );
    await shell.run("logoutHSM");
    const login = await shell.run(`loginHSM CO ${USER} user-pass3`);
    assert.deepEqual(bodyOf(login).map(normalize), [
      "loginHSM success on server 0(IP)",
      "loginHSM success on server 1(IP)",
    ]);
    // -2fa for a user without 2FA still runs the file exchange, and the (missing) signatures are ignored.
    await shell.run("logoutHSM");
    const ignored = await shell.run(`loginHSM CO ${USER} user-pass3 -2fa unused-authdata`, "");
    assertLinesInOrder(ignored, [
      'Authentication data written to: "unused-authdata"',
      "Enter filename:",
      "loginHSM success on server 0(IP)",
      "loginHSM success on server 1(IP)",
    ]);
    assert.equal(await shell.eof(), 0);
    assert.ok(shell.output().endsWith("disconnecting from servers, please wait...\n"));
    assert.deepEqual(cluster.crashes, []);
  });
});
