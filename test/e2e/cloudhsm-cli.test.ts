// The CloudHSM CLI shell end to end: a real 2-node cluster, the shell as a child process in both
// modes, officers signing with the documentation's own openssl pipeline (docs/cloudhsm-cli.md,
// "Walk-through"). M is set with CMU's own setMValue semantics by the set-up, so the first check
// is that both tools read one database.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { startInteractive, runSingle, type CliChild } from "../helpers/cloudhsm-cli-driver.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { testKey } from "../helpers/keys.ts";
import { passwordOf, setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

const SIGNERS = ["officer1", "officer2", "officer3"];

describe("quorum-gate cloudhsm-cli", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-cloudhsm-cli-"));
  let cluster: TestCluster;
  let clients: NodeClient[];
  let shell: CliChild;

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    await setUpQuorumCluster(clients, { signers: SIGNERS, members: ["operator"], m: 2 });
    for (const name of SIGNERS) writeFileSync(join(dir, `${name}.key`), testKey(name).privatePem, { mode: 0o600 });
    writeFileSync(join(dir, "wrong.key"), testKey("somebody-else").privatePem, { mode: 0o600 });
    shell = startInteractive(cluster.clusterFile, dir);
  });
  after(async () => {
    await shell?.close();
    for (const c of clients ?? []) c.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What an approver does, with the commands of AWS's quorum walk-through: decode the token, sign it with pkeyutl. */
  function sign(tokenFile: string, signer: string, key = `${signer}.key`): string {
    const doc = JSON.parse(readFileSync(join(dir, tokenFile), "utf8")) as { token: string };
    writeFileSync(join(dir, `${signer}.digest`), Buffer.from(doc.token, "base64"));
    execFileSync(
      "openssl",
      [
        "pkeyutl",
        "-sign",
        "-inkey",
        key,
        "-pkeyopt",
        "digest:sha256",
        "-in",
        `${signer}.digest`,
        "-out",
        `${signer}.sig`,
      ],
      { cwd: dir },
    );
    return readFileSync(join(dir, `${signer}.sig`)).toString("base64");
  }

  function approve(tokenFile: string, out: string, signers: readonly (readonly [string, string?])[]): void {
    const doc = JSON.parse(readFileSync(join(dir, tokenFile), "utf8")) as Record<string, unknown>;
    doc["signatures"] = signers.map(([name, key]) => ({ username: name, signature: sign(tokenFile, name, key) }));
    writeFileSync(join(dir, out), JSON.stringify(doc, null, 2));
  }

  it("reads the users and the quorum values CMU set, before any login", async () => {
    const values = await shell.send("quorum token-sign list-quorum-values");
    assert.deepEqual(values, { error_code: 0, data: { user: 2, quorum: 1 } });
    const list = await shell.send("user list");
    assert.equal(list.error_code, 0);
    const users = (
      list.data as { users: { username: string; role: string; quorum: unknown[]; "cluster-coverage": string }[] }
    ).users;
    const officer1 = users.find((u) => u.username === "officer1");
    assert.deepEqual(
      officer1?.quorum,
      [{ strategy: "token-sign", status: "enabled" }],
      "a key registered through the CMU path counts here",
    );
    assert.equal(officer1?.role, "admin");
    assert.equal(officer1?.["cluster-coverage"], "full");
    assert.equal(users.find((u) => u.username === "admin")?.role, "admin", "the PCO is an admin");
  });

  it("logs in with the Enter password: prompt and refuses a wrong password", async () => {
    assert.deepEqual(await shell.send("login --username operator --role admin", "not-the-password"), {
      error_code: 1,
      data: "Invalid username or password",
    });
    assert.deepEqual(
      await shell.send("login --username operator --role crypto-user", passwordOf("operator")),
      { error_code: 1, data: "Invalid username or password" },
      "the role must be the user's",
    );
    assert.deepEqual(await shell.send("login --username operator --role admin", passwordOf("operator")), {
      error_code: 0,
      data: { username: "operator", role: "admin" },
    });
    assert.match(
      shell.transcript(),
      /aws-cloudhsm > login --username operator --role admin\nEnter password:\n\{/,
      "the prompt, and the password never echoed",
    );
    assert.doesNotMatch(shell.transcript(), new RegExp(passwordOf("operator")));
  });

  it("refuses a user-management command without an approval when M is 2", async () => {
    assert.deepEqual(await shell.send("user create --username app1 --role crypto-user --password app1-pass-1"), {
      error_code: 1,
      data: "Quorum approval is required for this operation",
    });
  });

  it("creates a user with a quorum token signed by two officers (AWS's walk-through)", async () => {
    assert.deepEqual(await shell.send("quorum token-sign generate --service user --token user.token"), {
      error_code: 0,
      data: { filepath: "user.token" },
    });
    const token = JSON.parse(readFileSync(join(dir, "user.token"), "utf8")) as {
      version: string;
      approval_data: string;
      token: string;
      signatures: unknown[];
    };
    assert.equal(token.version, "2.0");
    assert.equal(Buffer.from(token.approval_data, "base64").length, 2 * 80, "one 80-byte record per HSM");
    assert.deepEqual(token.signatures, []);
    approve("user.token", "user.approved", [["officer1"], ["officer2"]]);
    assert.deepEqual(
      await shell.send(
        "user create --username app1 --role crypto-user --password app1-pass-1 --approval user.approved",
      ),
      { error_code: 0, data: { username: "app1", role: "crypto-user" } },
    );
    const list = await shell.send("user list");
    const app1 = (list.data as { users: { username: string; role: string; "cluster-coverage": string }[] }).users.find(
      (u) => u.username === "app1",
    );
    assert.deepEqual(app1 && { role: app1.role, coverage: app1["cluster-coverage"] }, {
      role: "crypto-user",
      coverage: "full",
    });
  });

  it("never uses a token twice", async () => {
    assert.equal(
      (await shell.send("user delete --username app1 --role crypto-user --approval user.approved")).error_code,
      1,
    );
    const list = await shell.send("user list");
    assert.ok(
      (list.data as { users: { username: string }[] }).users.some((u) => u.username === "app1"),
      "app1 is still there",
    );
  });

  it("refuses a signature by a key that is not the officer's, and changes nothing", async () => {
    assert.equal((await shell.send("quorum token-sign generate --service user --token del.token")).error_code, 0);
    approve("del.token", "del.forged", [["officer1"], ["officer2", "wrong.key"]]);
    assert.deepEqual(await shell.send("user delete --username app1 --role crypto-user --approval del.forged"), {
      error_code: 1,
      data: "Invalid username-signature pair for quorum authorization",
    });
    approve("del.token", "del.short", [["officer1"]]);
    assert.equal(
      (await shell.send("user delete --username app1 --role crypto-user --approval del.short")).error_code,
      1,
      "one approval of two",
    );
    const list = await shell.send("user list");
    assert.ok((list.data as { users: { username: string }[] }).users.some((u) => u.username === "app1"));
  });

  it("refuses malformed and truncated approval files, unknown flags and stray words", async () => {
    const good = readFileSync(join(dir, "del.forged"), "utf8");
    writeFileSync(join(dir, "truncated.json"), good.slice(0, Math.floor(good.length / 2)));
    writeFileSync(join(dir, "empty-sigs.json"), JSON.stringify({ ...JSON.parse(good), signatures: [] }));
    writeFileSync(
      join(dir, "bad-token.json"),
      JSON.stringify({ ...JSON.parse(good), token: Buffer.alloc(32).toString("base64") }),
    );
    for (const f of ["truncated.json", "empty-sigs.json", "bad-token.json", "missing.json"]) {
      const r = await shell.send(`user delete --username app1 --role crypto-user --approval ${f}`);
      assert.equal(r.error_code, 1, f);
    }
    assert.deepEqual(await shell.send("user delete --username app1 --role crypto-user --approval empty-sigs.json"), {
      error_code: 1,
      data: "No token signatures provided",
    });
    assert.match(String((await shell.send("user list --fast")).data), /unexpected argument '--fast'/);
    assert.match(String((await shell.send("user frobnicate")).data), /unrecognized command/);
    const list = await shell.send("user list");
    assert.ok(
      (list.data as { users: { username: string }[] }).users.some((u) => u.username === "app1"),
      "nothing changed",
    );
  });

  it("deletes the user with a fresh token, then changes M with a quorum token", async () => {
    approve("del.token", "del.approved", [["officer1"], ["officer3"]]);
    assert.deepEqual(await shell.send("user delete --username app1 --role crypto-user --approval del.approved"), {
      error_code: 0,
      data: { username: "app1", role: "crypto-user" },
    });
    assert.equal((await shell.send("quorum token-sign generate --service quorum --token quorum.token")).error_code, 0);
    approve("quorum.token", "quorum.approved", [["officer1"], ["officer2"]]);
    assert.deepEqual(
      await shell.send("quorum token-sign set-quorum-value --service user --value 3 --approval quorum.approved"),
      { error_code: 0, data: "Set Quorum Value successful" },
    );
    assert.deepEqual(await shell.send("quorum token-sign list-quorum-values"), {
      error_code: 0,
      data: { user: 3, quorum: 1 },
    });
    // Three officers hold keys: M = 3 leaves no spare signer (M + 1), which the shell warns of on stderr.
    assert.match(shell.transcript(), /Warning: lock-out risk \(lockout_raise_m\)/);
  });

  it("refuses an expired token before presenting it, and changes nothing", async () => {
    assert.deepEqual(await shell.send("quorum token-sign set-timeout --generated 1"), {
      error_code: 0,
      data: "Set token timeout successful",
    });
    try {
      assert.equal((await shell.send("quorum token-sign generate --service user --token late.token")).error_code, 0);
      approve("late.token", "late.approved", [["officer1"], ["officer2"], ["officer3"]]);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      assert.deepEqual(
        await shell.send(
          "user create --username app2 --role crypto-user --password app2-pass-1 --approval late.approved",
        ),
        {
          error_code: 1,
          data: "The quorum token has expired: generate a new one with quorum token-sign generate",
        },
      );
      const list = await shell.send("user list");
      assert.ok(
        !(list.data as { users: { username: string }[] }).users.some((u) => u.username === "app2"),
        "nothing was created",
      );
      assert.equal(
        (
          await shell.send(
            "user create --username app2 --role crypto-user --password app2-pass-1 --approval late.approved",
          )
        ).error_code,
        1,
        "still refused",
      );
      assert.deepEqual((await shell.send("quorum token-sign list")).data, { tokens: [] }, "the expired token is gone");
    } finally {
      assert.equal((await shell.send("quorum token-sign set-timeout --generated 600")).error_code, 0);
    }
  });

  it("single command mode: credentials from the environment, exit 1 on error_code 1", async () => {
    const list = await runSingle(cluster.clusterFile, dir, ["user", "list"]);
    assert.equal(list.code, 0);
    const missing = await runSingle(cluster.clusterFile, dir, [
      "quorum",
      "token-sign",
      "generate",
      "--service",
      "user",
      "--token",
      "single.token",
    ]);
    assert.equal(missing.code, 1);
    assert.match(String(missing.answer.data), /CLOUDHSM_ROLE and CLOUDHSM_PIN/);
    const env = { CLOUDHSM_ROLE: "admin", CLOUDHSM_PIN: `operator:${passwordOf("operator")}` };
    const generated = await runSingle(
      cluster.clusterFile,
      dir,
      ["quorum", "token-sign", "generate", "--service", "user", "--token", "single.token"],
      env,
    );
    assert.deepEqual(generated.answer, { error_code: 0, data: { filepath: "single.token" } });
    // The token belonged to that process's login session, which ended with it.
    approve("single.token", "single.approved", [["officer1"], ["officer2"], ["officer3"]]);
    const used = await runSingle(
      cluster.clusterFile,
      dir,
      [
        "user",
        "create",
        "--username",
        "app2",
        "--role",
        "crypto-user",
        "--password",
        "app2-pass-1",
        "--approval",
        "single.approved",
      ],
      env,
    );
    assert.equal(used.code, 1);
    assert.match(String(used.answer.data), /another login session/);
    const inShell = await shell.send(
      "user create --username app2 --role crypto-user --password app2-pass-1 --approval single.approved",
    );
    assert.match(String(inShell.data), /another login session/, "nor in another session of the same user");
  });

  it("logs out", async () => {
    assert.equal((await shell.send("quorum token-sign generate --service user --token spare.token")).error_code, 0);
    assert.deepEqual(await shell.send("quorum token-sign delete --scope user"), {
      error_code: 0,
      data: "Deletion of quorum token(s) successful",
    });
    const listed = await shell.send("quorum token-sign list");
    assert.deepEqual(
      (listed.data as { tokens: { username: string }[] }).tokens.filter((t) => t.username === "operator"),
      [],
      "the session's tokens are gone",
    );
    assert.deepEqual(await shell.send("logout"), { error_code: 0, data: "Logout successful" });
    assert.deepEqual(await shell.send("user create --username app3 --role crypto-user --password app3-pass-1"), {
      error_code: 1,
      data: "No user is logged in",
    });
  });
});
