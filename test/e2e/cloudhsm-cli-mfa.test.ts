// MFA with the CloudHSM CLI shell (docs/cloudhsm-cli.md, "MFA"): AWS's set-up and login steps on a
// real 2-node cluster, the shell as a child process, every token signed with the documentation's
// own openssl pipeline. The key registered for MFA is the user's quorum key too, so CMU's 2FA login
// and the quorum path see it; bad token files and wrong keys change nothing.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { type Answer, runSingle, startInteractive, type CliChild } from "../helpers/cloudhsm-cli-driver.ts";
import { sh } from "../helpers/cmu-driver.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { testKey } from "../helpers/keys.ts";
import { ADMIN_PASSWORD, passwordOf, setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

const SIGNED_PROMPT = "Enter signed token file path (press enter if same as the unsigned token file):";
const KEY_PROMPT = "Enter public key PEM file path:";

interface MfaFile {
  version: string;
  tokens: { unsigned: string; signed: string }[];
}

type Listed = { users: { username: string; mfa: unknown; quorum: unknown }[] };
const ENABLED = [{ strategy: "token-sign", status: "enabled" }];

describe("quorum-gate cloudhsm-cli: MFA set-up and MFA login", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-cloudhsm-cli-mfa-"));
  let cluster: TestCluster;
  let clients: NodeClient[];
  let shell: CliChild;

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    await setUpQuorumCluster(clients, { signers: ["officer1"], members: ["officer2", "officer3"], m: 1 });
    for (const name of ["officer2", "officer3"]) {
      writeFileSync(join(dir, `${name}.key`), testKey(name).privatePem, { mode: 0o600 });
      writeFileSync(join(dir, `${name}.pub`), testKey(name).publicPem);
    }
    writeFileSync(join(dir, "wrong.key"), testKey("somebody-else").privatePem, { mode: 0o600 });
    shell = startInteractive(cluster.clusterFile, dir);
  });
  after(async () => {
    await shell?.close();
    for (const c of clients ?? []) c.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** AWS's steps, per token: decode `unsigned`, sign it with pkeyutl, base64 it into `signed`. */
  function signTokens(file: string, key: string, out = file): MfaFile {
    const doc = JSON.parse(readFileSync(join(dir, file), "utf8")) as MfaFile;
    const tokens = doc.tokens.map((t, i) => {
      sh(
        dir,
        `echo ${t.unsigned} | base64 -d > t${i}.bin && openssl pkeyutl -sign -inkey ${key} -pkeyopt digest:sha256 -keyform PEM -in t${i}.bin -out t${i}.sig`,
      );
      return { ...t, signed: sh(dir, `base64 -w0 t${i}.sig`) };
    });
    writeFileSync(join(dir, out), JSON.stringify({ ...doc, tokens }, null, 2));
    return doc;
  }

  async function userOf(name: string): Promise<Listed["users"][number] | undefined> {
    const list = await shell.send("user list");
    return (list.data as Listed).users.find((u) => u.username === name);
  }

  /** `user change-mfa token-sign` for `name`, its tokens signed with `signingKey`, its own public key given. */
  async function enrol(name: string, signingKey: string): Promise<Answer> {
    shell.type(
      `user change-mfa token-sign --username ${name} --role admin --token ${name}.mfa`,
      passwordOf(name),
      passwordOf(name),
    );
    await shell.waitFor(SIGNED_PROMPT);
    signTokens(`${name}.mfa`, signingKey);
    shell.type("", `${name}.pub`);
    return shell.answer();
  }

  async function loginAdmin(): Promise<void> {
    assert.equal((await shell.send("login --username admin --role admin", ADMIN_PASSWORD)).error_code, 0);
  }

  it("sets up MFA for officer2: one unsigned token per HSM, openssl signatures, the public key", async () => {
    await loginAdmin();
    shell.type(
      "user change-mfa token-sign --username officer2 --role admin --token officer2.mfa",
      passwordOf("officer2"),
      passwordOf("officer2"),
    );
    await shell.waitFor(SIGNED_PROMPT);
    const written = signTokens("officer2.mfa", "officer2.key");
    assert.equal(written.version, "2.0");
    assert.equal(written.tokens.length, 2, "one token per HSM");
    for (const t of written.tokens) {
      assert.equal(t.signed, "");
      assert.equal(Buffer.from(t.unsigned, "base64").length, 32);
    }
    shell.type("");
    await shell.waitFor(KEY_PROMPT);
    shell.type("officer2.pub");
    assert.deepEqual(await shell.answer(), { error_code: 0, data: { username: "officer2", role: "admin" } });
    const officer2 = await userOf("officer2");
    assert.deepEqual(officer2?.mfa, ENABLED);
    assert.deepEqual(officer2?.quorum, ENABLED, "the MFA key is the quorum key");
    assert.equal((await shell.send("logout")).error_code, 0);
  });

  it("logs officer2 in with mfa-token-sign, the signed file in place (press enter)", async () => {
    shell.type("login --username officer2 --role admin mfa-token-sign --token login.token", passwordOf("officer2"));
    await shell.waitFor(SIGNED_PROMPT);
    signTokens("login.token", "officer2.key");
    shell.type("");
    assert.deepEqual(await shell.answer(), { error_code: 0, data: { username: "officer2", role: "admin" } });
    assert.match(shell.transcript(), /Enter password:/);
    assert.equal((await shell.send("logout")).error_code, 0);
  });

  it("takes the signed tokens from another file, in any order", async () => {
    shell.type("login --username officer2 --role admin mfa-token-sign --token login.token", passwordOf("officer2"));
    await shell.waitFor(SIGNED_PROMPT);
    signTokens("login.token", "officer2.key", "signed.json");
    const doc = JSON.parse(readFileSync(join(dir, "signed.json"), "utf8")) as MfaFile;
    writeFileSync(join(dir, "signed.json"), JSON.stringify({ ...doc, tokens: [...doc.tokens].reverse() }));
    shell.type("signed.json");
    assert.equal((await shell.answer()).error_code, 0);
    assert.equal((await shell.send("logout")).error_code, 0);
  });

  it("refuses a login signed by another key, and logs in nowhere", async () => {
    shell.type("login --username officer2 --role admin mfa-token-sign --token login.token", passwordOf("officer2"));
    await shell.waitFor(SIGNED_PROMPT);
    signTokens("login.token", "wrong.key");
    shell.type("");
    const answer = await shell.answer();
    assert.equal(answer.error_code, 1);
    assert.match(String(answer.data), /does not verify with this user's MFA key/);
    assert.deepEqual(await shell.send("logout"), { error_code: 1, data: "No user is logged in" });
  });

  it("refuses truncated, malformed and incomplete token files before any HSM sees them", async () => {
    const cases: [string, (good: string) => string, RegExp][] = [
      ["truncated", (good) => good.slice(0, good.length / 2), /Invalid signed token file: not valid JSON/],
      ["wrong version", (good) => good.replace('"2.0"', '"1.0"'), /"version" is not "2.0"/],
      [
        "one token missing",
        (good) => {
          const d = JSON.parse(good) as MfaFile;
          return JSON.stringify({ ...d, tokens: d.tokens.slice(1) });
        },
        /a token written for this command is missing/,
      ],
      [
        "signature not base64",
        (good) => {
          const d = JSON.parse(good) as MfaFile;
          return JSON.stringify({ ...d, tokens: d.tokens.map((t) => ({ ...t, signed: "not*base64" })) });
        },
        /is not a base64 RSA-2048 signature/,
      ],
      ["unsigned", (good) => good, /"signed" is empty/],
    ];
    for (const [what, edit, message] of cases) {
      shell.type("login --username officer2 --role admin mfa-token-sign --token login.token", passwordOf("officer2"));
      await shell.waitFor(SIGNED_PROMPT);
      if (what !== "unsigned") signTokens("login.token", "officer2.key", "good.json");
      const good = readFileSync(join(dir, what === "unsigned" ? "login.token" : "good.json"), "utf8");
      writeFileSync(join(dir, "edited.json"), edit(good));
      shell.type("edited.json");
      const answer = await shell.answer();
      assert.equal(answer.error_code, 1, what);
      assert.match(String(answer.data), message, what);
      assert.deepEqual(await shell.send("logout"), { error_code: 1, data: "No user is logged in" }, what);
    }
  });

  it("tells an MFA user to use mfa-token-sign, and a user without MFA not to", async () => {
    const without = await shell.send("login --username officer2 --role admin", passwordOf("officer2"));
    assert.equal(without.error_code, 1);
    assert.match(String(without.data), /MFA enabled: log in with login \.\.\. mfa-token-sign/);
    const needless = await shell.send(
      "login --username officer3 --role admin mfa-token-sign --token x.token",
      passwordOf("officer3"),
    );
    assert.equal(needless.error_code, 1);
    assert.match(String(needless.data), /no MFA key registered/);
    assert.equal((await shell.send("login --username officer3 --role admin mfa-token")).error_code, 1);
    assert.deepEqual(await shell.send("logout"), { error_code: 1, data: "No user is logged in" });
  });

  it("refuses an enrolment whose signatures the given public key does not verify; nothing changes", async () => {
    await loginAdmin();
    const answer = await enrol("officer3", "wrong.key");
    assert.equal(answer.error_code, 1);
    assert.match(String(answer.data), /does not verify with the public key/);
    assert.deepEqual((await userOf("officer3"))?.mfa, []);
  });

  it("asks for --change-quorum before replacing a quorum key, and checks its own flags", async () => {
    const replace = await shell.send("user change-mfa token-sign --username officer1 --role admin --token o1.mfa");
    assert.equal(replace.error_code, 1);
    assert.match(String(replace.data), /add --change-quorum/);
    const both = await shell.send("user change-mfa token-sign --username officer3 --role admin --token a --deregister");
    assert.deepEqual(both, { error_code: 1, data: "give one of --token <file> and --deregister" });
    const neither = await shell.send("user change-mfa token-sign --username officer3 --role admin");
    assert.equal(neither.error_code, 1);
    const none = await shell.send("user change-mfa token-sign --username officer3 --role admin --deregister");
    assert.deepEqual(none, { error_code: 1, data: "This user has no MFA key registered" });
    const unknown = await shell.send("user change-mfa token-sign --username officer3 --role admin --tokn a");
    assert.deepEqual(unknown, { error_code: 1, data: "unexpected argument '--tokn' found" });
  });

  it("--deregister removes officer2's MFA key, which was its quorum key too", async () => {
    const removed = await shell.send(
      "user change-mfa token-sign --username officer2 --role admin --deregister --change-password pw-officer2-b",
    );
    assert.deepEqual(removed, { error_code: 0, data: { username: "officer2", role: "admin" } });
    const officer2 = await userOf("officer2");
    assert.deepEqual(officer2?.mfa, []);
    assert.deepEqual(officer2?.quorum, []);
    assert.equal((await shell.send("logout")).error_code, 0);
    assert.equal((await shell.send("login --username officer2 --role admin", "pw-officer2-b")).error_code, 0);
    assert.equal((await shell.send("logout")).error_code, 0);
  });

  it("single command mode cannot answer MFA prompts: an MFA user gets the message, nothing hangs", async () => {
    await loginAdmin();
    assert.equal((await enrol("officer3", "officer3.key")).error_code, 0);
    assert.equal((await shell.send("logout")).error_code, 0);
    const single = await runSingle(cluster.clusterFile, dir, ["quorum", "token-sign", "list"], {});
    assert.equal(single.code, 0, "a command without login still runs");
    const mfaUser = await runSingle(cluster.clusterFile, dir, ["user", "list"], {
      CLOUDHSM_ROLE: "admin",
      CLOUDHSM_PIN: `officer3:${passwordOf("officer3")}`,
    });
    assert.equal(mfaUser.code, 0, "user list needs no login");
    const change = await runSingle(
      cluster.clusterFile,
      dir,
      ["quorum", "token-sign", "set-timeout", "--generated", "300"],
      { CLOUDHSM_ROLE: "admin", CLOUDHSM_PIN: `officer3:${passwordOf("officer3")}` },
    );
    assert.equal(change.code, 1);
    assert.match(String(change.answer.data), /MFA enabled/);
  });
});
