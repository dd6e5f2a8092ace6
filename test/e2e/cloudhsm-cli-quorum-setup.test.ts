// First-time quorum setup for admins with the CloudHSM CLI shell (docs/cloudhsm-cli.md,
// "Registering a quorum key"): a real 2-node cluster, the shell as a child process, each admin
// signing its registration token with real openssl commands. The key registered here must count
// in CMU's approval path too, and a key registered the CMU way must count here. The token timeout
// commands close the file, on the same cluster.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createHash } from "node:crypto";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { startInteractive, runSingle, type CliChild } from "../helpers/cloudhsm-cli-driver.ts";
import { sh } from "../helpers/cmu-driver.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { testKey } from "../helpers/keys.ts";
import {
  approvals,
  concatRecords,
  fanOut,
  loginAll,
  must,
  passwordOf,
  setUpQuorumCluster,
} from "../helpers/quorum-cluster.ts";

interface RegistrationFile {
  version: string;
  tokens: { approval_data: string; unsigned: string; signed: string }[];
}

type Listed = { users: { username: string; quorum: unknown }[] };
const quorumOf = (list: { data: unknown }, name: string): unknown =>
  (list.data as Listed).users.find((u) => u.username === name)?.quorum;

describe("quorum-gate cloudhsm-cli: first-time quorum setup for admins", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-cloudhsm-cli-setup-"));
  let cluster: TestCluster;
  let clients: NodeClient[];
  let shell: CliChild;

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    // officer1's key is registered over the node protocol, as CMU's registerQuorumPubKey does it.
    await setUpQuorumCluster(clients, { signers: ["officer1"], members: ["officer2", "officer3"], m: 1 });
    for (const name of ["officer1", "officer2", "officer3"]) {
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

  /** AWS's signing steps: decode `unsigned`, sign it with pkeyutl, base64 it, put it into `signed`. */
  function signRegistration(file: string, out: string, key: string): void {
    const doc = JSON.parse(readFileSync(join(dir, file), "utf8")) as RegistrationFile;
    const unsigned = doc.tokens[0]?.unsigned ?? "";
    sh(
      dir,
      `echo ${unsigned} | base64 -d > ${file}.bin && openssl pkeyutl -sign -inkey ${key} -pkeyopt digest:sha256 -keyform PEM -in ${file}.bin -out ${file}.sig.bin`,
    );
    const signed = sh(dir, `base64 -w0 ${file}.sig.bin`);
    writeFileSync(join(dir, out), JSON.stringify({ ...doc, tokens: [{ ...doc.tokens[0], signed }] }, null, 2));
  }

  it("walks AWS's steps for officer2: registration token, openssl signature, register, user list", async () => {
    assert.equal((await shell.send("login --username officer2 --role admin", passwordOf("officer2"))).error_code, 0);
    assert.deepEqual(await shell.send("quorum token-sign generate --service registration --token officer2.token"), {
      error_code: 0,
      data: { filepath: "officer2.token" },
    });
    const doc = JSON.parse(readFileSync(join(dir, "officer2.token"), "utf8")) as RegistrationFile;
    assert.deepEqual(Object.keys(doc), ["version", "tokens"]);
    assert.equal(doc.version, "2.0");
    assert.equal(doc.tokens.length, 1);
    const t = doc.tokens[0];
    assert.deepEqual(t && Object.keys(t), ["approval_data", "unsigned", "signed"]);
    const data = Buffer.from(t?.approval_data ?? "", "base64");
    assert.ok(data.length > 0 && data.length <= 245, "at most 245 bytes, what an RSA-2048 key can sign");
    assert.equal(t?.unsigned, createHash("sha256").update(data).digest("base64"));
    assert.equal(t?.signed, "");
    signRegistration("officer2.token", "officer2.signed", "officer2.key");
    assert.deepEqual(
      await shell.send(
        "user change-quorum token-sign register --public-key officer2.pub --signed-token officer2.signed",
      ),
      { error_code: 0, data: { username: "officer2", role: "admin" } },
    );
    assert.deepEqual(quorumOf(await shell.send("user list"), "officer2"), [
      { strategy: "token-sign", status: "enabled" },
    ]);
    assert.deepEqual(quorumOf(await shell.send("user list"), "officer3"), [], "nobody else got a key");
  });

  it("refuses a registration signed by another key, a bad file and unknown flags, and registers nothing", async () => {
    assert.equal((await shell.send("logout")).error_code, 0);
    assert.equal((await shell.send("login --username officer3 --role admin", passwordOf("officer3"))).error_code, 0);
    assert.equal(
      (await shell.send("quorum token-sign generate --service registration --token officer3.token")).error_code,
      0,
    );
    signRegistration("officer3.token", "officer3.forged", "wrong.key");
    assert.deepEqual(
      await shell.send(
        "user change-quorum token-sign register --public-key officer3.pub --signed-token officer3.forged",
      ),
      { error_code: 1, data: "The signed token does not verify with the public key" },
    );
    const forged = readFileSync(join(dir, "officer3.forged"), "utf8");
    writeFileSync(join(dir, "truncated.json"), forged.slice(0, Math.floor(forged.length / 2)));
    assert.deepEqual(
      await shell.send(
        "user change-quorum token-sign register --public-key officer3.pub --signed-token truncated.json",
      ),
      { error_code: 1, data: "Invalid signed token file: not valid JSON" },
    );
    assert.match(
      String(
        (
          await shell.send(
            "user change-quorum token-sign register --public-key officer3.pub --signed-token officer3.token",
          )
        ).data,
      ),
      /"signed" is empty/,
    );
    assert.match(
      String(
        (
          await shell.send(
            "user change-quorum token-sign register --public-key officer3.token --signed-token officer3.forged",
          )
        ).data,
      ),
      /Invalid public key/,
    );
    assert.match(
      String(
        (
          await shell.send(
            "user change-quorum token-sign register --public-key officer3.pub --signed-token officer3.forged --force",
          )
        ).data,
      ),
      /--force/,
    );
    assert.deepEqual(quorumOf(await shell.send("user list"), "officer3"), [], "nothing was registered");
    const single = await runSingle(
      cluster.clusterFile,
      dir,
      [
        "user",
        "change-quorum",
        "token-sign",
        "register",
        "--public-key",
        "officer3.pub",
        "--signed-token",
        "officer3.forged",
      ],
      { CLOUDHSM_ROLE: "admin", CLOUDHSM_PIN: `officer3:${passwordOf("officer3")}` },
    );
    assert.equal(single.code, 1, "exit status 1 in single command mode");
    assert.equal(single.answer.data, "The signed token does not verify with the public key");
    assert.equal((await shell.send("logout")).error_code, 0);
  });

  it("the key registered through the CLI approves a token on CMU's path", async () => {
    // officer3 holds the token, as with CMU's getToken; officer2 signs the whole token file
    // (openssl dgst -sha256 -sign) and the HSMs take it through approve-token, CMU's approveToken.
    const sessions = await loginAll(clients, "CO", "officer3");
    const tokenData = concatRecords(
      await must(clients, "get-token", () => ({ service: 3, userName: "officer3" }), sessions),
    );
    const answers = await fanOut(
      clients,
      "approve-token",
      () => ({ tokenData: tokenData.toString("base64"), approvals: approvals(tokenData, ["officer2"]) }),
      sessions,
    );
    assert.deepEqual(
      answers.map((a) => a.ok),
      [true, true],
      JSON.stringify(answers),
    );
    const refused = await fanOut(
      clients,
      "approve-token",
      () => ({ tokenData: tokenData.toString("base64"), approvals: approvals(tokenData, ["officer3"]) }),
      sessions,
    );
    assert.deepEqual(
      refused.map((a) => a.ok),
      [false, false],
      "officer3 has no key: the check can fail",
    );
    await must(clients, "logout", () => ({}), sessions);
  });

  it("sets the quorum value, then both keys, one registered each way, approve a CLI token", async () => {
    assert.equal((await shell.send("login --username officer2 --role admin", passwordOf("officer2"))).error_code, 0);
    assert.deepEqual(await shell.send("quorum token-sign set-quorum-value --service user --value 2"), {
      error_code: 0,
      data: "Set Quorum Value successful",
    });
    assert.deepEqual(await shell.send("quorum token-sign list-quorum-values"), {
      error_code: 0,
      data: { user: 2, quorum: 1 },
    });
    assert.deepEqual(await shell.send("user create --username app1 --role crypto-user --password app1-pass-1"), {
      error_code: 1,
      data: "Quorum approval is required for this operation",
    });
    assert.equal((await shell.send("quorum token-sign generate --service user --token user.token")).error_code, 0);
    const token = JSON.parse(readFileSync(join(dir, "user.token"), "utf8")) as { token: string } & Record<
      string,
      unknown
    >;
    const signatures = ["officer1", "officer2"].map((name) => {
      writeFileSync(join(dir, "user.digest"), Buffer.from(token.token, "base64"));
      sh(dir, `openssl pkeyutl -sign -inkey ${name}.key -pkeyopt digest:sha256 -in user.digest -out ${name}.user.sig`);
      return { username: name, signature: readFileSync(join(dir, `${name}.user.sig`)).toString("base64") };
    });
    writeFileSync(join(dir, "user.approved"), JSON.stringify({ ...token, signatures }, null, 2));
    assert.deepEqual(
      await shell.send(
        "user create --username app1 --role crypto-user --password app1-pass-1 --approval user.approved",
      ),
      { error_code: 0, data: { username: "app1", role: "crypto-user" } },
    );
  });

  it("lists and sets the token timeout, and refuses what it does not emulate", async () => {
    assert.deepEqual(await shell.send("quorum token-sign list-timeouts"), {
      error_code: 0,
      data: { generated: 600, approved: 600 },
    });
    assert.deepEqual(await shell.send("quorum token-sign set-timeout --generated 900"), {
      error_code: 0,
      data: "Set token timeout successful",
    });
    assert.deepEqual(await shell.send("quorum token-sign list-timeouts"), {
      error_code: 0,
      data: { generated: 900, approved: 900 },
    });
    assert.equal((await shell.send("quorum token-sign generate --service quorum --token timed.token")).error_code, 0);
    const listed = (await shell.send("quorum token-sign list")).data as {
      tokens: { username: string; service: string; "token-timeout-seconds": number }[];
    };
    const timed = listed.tokens.find((t) => t.username === "officer2" && t.service === "quorum");
    assert.ok(
      timed !== undefined && timed["token-timeout-seconds"] > 600 && timed["token-timeout-seconds"] <= 900,
      "a new token gets the new timeout",
    );
    for (const bad of [
      "--generated 0",
      "--generated ten",
      "--generated 604801",
      "",
      "--approved 900",
      "--generated 900 --extra 1",
    ]) {
      assert.equal((await shell.send(`quorum token-sign set-timeout ${bad}`.trim())).error_code, 1, bad);
    }
    assert.deepEqual(
      await shell.send("quorum token-sign list-timeouts"),
      { error_code: 0, data: { generated: 900, approved: 900 } },
      "nothing changed",
    );
    const single = await runSingle(cluster.clusterFile, dir, ["quorum", "token-sign", "list-timeouts"]);
    assert.deepEqual(
      { code: single.code, answer: single.answer },
      { code: 0, answer: { error_code: 0, data: { generated: 900, approved: 900 } } },
      "no login needed",
    );
    const refused = await runSingle(
      cluster.clusterFile,
      dir,
      ["quorum", "token-sign", "set-timeout", "--generated", "0"],
      { CLOUDHSM_ROLE: "admin", CLOUDHSM_PIN: `officer2:${passwordOf("officer2")}` },
    );
    assert.equal(refused.code, 1);
  });
});
