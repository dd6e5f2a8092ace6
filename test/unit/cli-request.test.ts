// `quorum-gate request`: request files written against a real 2-node cluster, parsed back by the
// gate, with a sealed password that this cluster's nodes open and another cluster's do not.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runRequest } from "../../src/cli/request.ts";
import { unsealSecret } from "../../src/crypto/seal.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { parseRequest } from "../../src/gate/index.ts";
import type { OpName, OpRequest, OpResponse } from "../../src/protocol/messages.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));
const PASSWORD = "Pay-ments-7q";

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

describe("quorum-gate request", () => {
  let cluster: TestCluster;
  let other: TestCluster;
  let dir: string;
  let runs = 0;

  /** Runs the CLI in a fresh working directory (so default paths do not collide). */
  function cli(args: readonly string[], input = "", cwd?: string): Run & { readonly cwd: string } {
    const where = cwd ?? join(dir, `run-${++runs}`);
    mkdirSync(where, { recursive: true });
    const r = spawnSync(process.execPath, [BIN, "request", ...args], {
      cwd: where,
      input,
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr, cwd: where };
  }
  const files = (cwd: string): string[] => readdirSync(cwd, { recursive: true, encoding: "utf8" }).sort();

  async function onEveryNode<K extends OpName>(
    c: TestCluster,
    op: K,
    body: OpRequest<K>,
    sessions: readonly string[] = [],
  ): Promise<({ ok: true; data: OpResponse<K> } | { ok: false; code: string })[]> {
    const clients: NodeClient[] = c.endpoints.map((e) => createNodeClient(e));
    try {
      return await Promise.all(
        clients.map(async (client, i) => {
          const r = await client.call(op, body, sessions[i] ?? null);
          return r.ok ? { ok: true as const, data: r.data } : { ok: false as const, code: r.error.code };
        }),
      );
    } finally {
      for (const client of clients) client.close();
    }
  }

  async function activate(c: TestCluster): Promise<string[]> {
    const login = await onEveryNode(c, "login", { userType: "PRECO", userName: "admin", password: "password" });
    const sessions = login.map((l) => (l.ok && "sessionId" in l.data ? l.data.sessionId : assert.fail("admin login")));
    const changed = await onEveryNode(
      c,
      "change-password",
      { userType: "PRECO", userName: "admin", password: "admin-pass-1" },
      sessions,
    );
    assert.ok(changed.every((r) => r.ok));
    return sessions;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "qg-cli-request-"));
    [cluster, other] = await Promise.all([startTestCluster({ nodes: 2 }), startTestCluster({ nodes: 1 })]);
  });
  after(async () => {
    await Promise.all([cluster?.stop(), other?.stop()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("writes a create-user request whose sealed password only this cluster's nodes open", async () => {
    const r = cli(
      [
        "create-user",
        "--cluster",
        cluster.clusterFile,
        "--type",
        "CU",
        "--name",
        "App7",
        "--reason",
        "Crypto user for the payments service (TICKET-1234).",
        "--requested-by",
        "@octocat",
        "--password-stdin",
      ],
      `${PASSWORD}\n`,
    );
    assert.equal(r.code, 0, r.err);
    const [written] = files(r.cwd).filter((f) => f.endsWith(".yml"));
    assert.ok(written !== undefined);
    assert.match(
      written,
      /^hsm-requests\/\d{4}-\d{2}-\d{2}-create-user-app7\.yml$/,
      "default path: request folder, date, kind, canonical name",
    );
    const bytes = readFileSync(join(r.cwd, written));
    const digest = createHash("sha256").update(bytes).digest("hex");
    const [wrote, digestLine, summary, ...rest] = r.out.split("\n");
    assert.equal(wrote, `wrote ${written}`);
    assert.equal(digestLine, `request digest (SHA-256): ${digest}`);
    assert.match(
      summary ?? "",
      /^createUser CU app7 on cluster-[a-z0-9]+; password sealed to the cluster key [0-9a-f]{16}…$/,
    );
    assert.deepEqual(rest, [""]);
    for (const text of [r.out, r.err, bytes.toString("utf8")])
      assert.ok(!text.includes(PASSWORD), "the password appears nowhere");

    const parsed = parseRequest(bytes);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
    assert.equal(parsed.digest, digest);
    assert.equal(parsed.request.cluster, cluster.file.clusterId);
    assert.equal(parsed.request.reason, "Crypto user for the payments service (TICKET-1234).");
    assert.equal(parsed.request.requestedBy, "octocat");
    const op = parsed.request.operation;
    assert.ok(op.kind === "createUser");
    assert.deepEqual([op.userType, op.userName], ["CU", "app7"]);
    assert.equal(Buffer.from(op.sealedPassword, "base64").length, 256, "one RSA-2048 OAEP block");
    assert.match(
      bytes.toString("utf8"),
      /^version: 1\ncluster: cluster-[a-z0-9]+\noperation:\n {2}kind: createUser\n {2}type: CU\n {2}name: app7\n {2}sealed_password: [A-Za-z0-9+/=]{344}\nreason: Crypto user for the payments service \(TICKET-1234\)\.\nrequested_by: octocat\n$/,
    );

    // The nodes open it: the user is created from the sealed password and logs in with the plain one.
    const admin = await activate(cluster);
    const created = await onEveryNode(
      cluster,
      "create-user",
      { userType: "CU", userName: "app7", sealedPassword: op.sealedPassword },
      admin,
    );
    assert.ok(
      created.every((c) => c.ok),
      JSON.stringify(created),
    );
    const login = await onEveryNode(cluster, "login", { userType: "CU", userName: "app7", password: PASSWORD });
    assert.ok(
      login.every((l) => l.ok),
      "the sealed password is the password that was typed",
    );

    // Another cluster cannot open it.
    const otherAdmin = await activate(other);
    const foreign = await onEveryNode(
      other,
      "create-user",
      { userType: "CU", userName: "app7", sealedPassword: op.sealedPassword },
      otherAdmin,
    );
    assert.deepEqual(foreign, [{ ok: false, code: "RET_SEALED_SECRET_INVALID" }]);
  });

  it("writes delete-user, change-password and set-m-value requests the gate parses back", () => {
    const del = cli([
      "delete-user",
      "--cluster",
      cluster.clusterFile,
      "--type",
      "co",
      "--name",
      "Officer9",
      "--reason",
      "Left the team.",
    ]);
    assert.equal(del.code, 0, del.err);
    const delFile = readFileSync(join(del.cwd, files(del.cwd).find((f) => f.endsWith(".yml")) ?? ""));
    assert.match(files(del.cwd).join(), /hsm-requests\/\d{4}-\d{2}-\d{2}-delete-user-officer9\.yml/);
    const delParsed = parseRequest(delFile);
    assert.ok(delParsed.ok);
    assert.deepEqual(delParsed.request.operation, { kind: "deleteUser", userType: "CO", userName: "officer9" });
    assert.match(del.out, /^deleteUser CO officer9 on cluster-/m);

    const reason = "Two officers for user management.\n\nAgreed in the security review (SEC-42):\n  - alice\n  - bob";
    const setM = cli([
      "set-m-value",
      "--cluster",
      cluster.clusterFile,
      "--service",
      "3",
      "--value",
      "2",
      "--reason",
      reason,
      "--out",
      "m.yml",
    ]);
    assert.equal(setM.code, 0, setM.err);
    const mBytes = readFileSync(join(setM.cwd, "m.yml"));
    const mParsed = parseRequest(mBytes);
    assert.ok(mParsed.ok);
    assert.deepEqual(mParsed.request.operation, { kind: "setMValue", service: 3, value: 2 });
    assert.equal(mParsed.request.reason, reason, "a multi-line reason survives exactly");
    assert.ok(mBytes.toString("utf8").endsWith("\n"));
    assert.match(setM.out, /^wrote m\.yml\n/);
    assert.match(setM.out, /setMValue 3 \(USER_MGMT\) to 2 on cluster-/);
    assert.match(
      cli(["set-m-value", "--cluster", cluster.clusterFile, "--service", "4", "--value", "3", "--reason", "r"]).out,
      /set-m-value-service4\.yml/,
    );

    const change = cli(
      [
        "change-password",
        "--cluster",
        cluster.clusterFile,
        "--type",
        "CO",
        "--name",
        "admin",
        "--reason",
        "Rotation.",
        "--password-stdin",
        "--out",
        "cp.yml",
      ],
      `${PASSWORD}\r\nnot read\n`,
    );
    assert.equal(change.code, 0, change.err);
    const cp = parseRequest(readFileSync(join(change.cwd, "cp.yml")));
    assert.ok(cp.ok && cp.request.operation.kind === "changePswd" && cp.request.operation.userName === "admin");
  });

  it("on a real cluster: seals to the gate's password key in the cluster file, and needs no node for a deletion", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const base = JSON.parse(readFileSync(cluster.clusterFile, "utf8")) as Record<string, unknown>;
    // Nodes nobody listens on: a real cluster's HSMs do not speak the emulator's protocol.
    const nodes = (base["nodes"] as Record<string, unknown>[]).map((n) => ({ ...n, port: 1 }));
    const write = (name: string, backend: Record<string, unknown>): string => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify({ ...base, nodes, backend }));
      return path;
    };
    const keyed = write("real-keyed.json", {
      kind: "cloudhsm-cli",
      passwordKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
    const bare = write("real-bare.json", { kind: "cloudhsm-cli" });
    const create = (file: string) =>
      cli(
        ["create-user", "--cluster", file, "--type", "CU", "--name", "svc9", "--reason", "x", "--password-stdin"],
        `${PASSWORD}\n`,
      );

    const r = create(keyed);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /password sealed to the gate's password key [0-9a-f]{16}…/);
    const written = files(r.cwd).find((f) => f.endsWith(".yml")) ?? "";
    const parsed = parseRequest(readFileSync(join(r.cwd, written)));
    assert.ok(parsed.ok && parsed.request.operation.kind === "createUser");
    assert.equal(unsealSecret(privateKey, Buffer.from(parsed.request.operation.sealedPassword, "base64")), PASSWORD);

    const refused = create(bare);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /no_password_key: the cluster file's backend has no passwordKey/);
    assert.deepEqual(files(refused.cwd), []);

    const del = cli(["delete-user", "--cluster", bare, "--type", "CU", "--name", "svc9", "--reason", "x"]);
    assert.equal(del.code, 0, del.err);
  });

  it("refuses to overwrite without --force, and overwrites with it", () => {
    const first = cli([
      "delete-user",
      "--cluster",
      cluster.clusterFile,
      "--type",
      "CU",
      "--name",
      "x1",
      "--reason",
      "one",
      "--out",
      "req.yml",
    ]);
    assert.equal(first.code, 0, first.err);
    const before = readFileSync(join(first.cwd, "req.yml"), "utf8");
    const again = cli(
      [
        "delete-user",
        "--cluster",
        cluster.clusterFile,
        "--type",
        "CU",
        "--name",
        "x1",
        "--reason",
        "two",
        "--out",
        "req.yml",
      ],
      "",
      first.cwd,
    );
    assert.equal(again.code, 1);
    assert.match(again.err, /req\.yml exists; use --force/);
    assert.equal(again.out, "");
    assert.equal(readFileSync(join(first.cwd, "req.yml"), "utf8"), before);
    const forced = cli(
      [
        "delete-user",
        "--cluster",
        cluster.clusterFile,
        "--type",
        "CU",
        "--name",
        "x1",
        "--reason",
        "two",
        "--out",
        "req.yml",
        "--force",
      ],
      "",
      first.cwd,
    );
    assert.equal(forced.code, 0, forced.err);
    assert.match(readFileSync(join(first.cwd, "req.yml"), "utf8"), /reason: two/);
    const noFolder = cli([
      "delete-user",
      "--cluster",
      cluster.clusterFile,
      "--type",
      "CU",
      "--name",
      "x1",
      "--reason",
      "r",
      "--out",
      "missing/req.yml",
    ]);
    assert.equal(noFolder.code, 1);
    assert.match(noFolder.err, /does not exist/);
  });

  it("never takes a password as an argument, and never repeats one", () => {
    const secret = "hunter2-on-argv";
    const base = ["create-user", "--cluster", cluster.clusterFile, "--type", "CU", "--name", "app8", "--reason", "r"];
    for (const args of [
      [...base, "--password", secret],
      [...base, `--password=${secret}`],
      [...base, "-p", secret],
      [...base, secret],
      [...base, "--password-stdin", secret],
    ]) {
      const r = cli(args, `${PASSWORD}\n`);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.out, "");
      assert.ok(!r.err.includes(secret), `the value is not echoed: ${r.err}`);
      assert.deepEqual(files(r.cwd), [], "nothing written");
    }
    assert.match(
      cli([...base, "--password", secret]).err,
      /--password: secrets are never taken as arguments.*--password-stdin/,
    );
  });

  it("refuses a password the HSM would refuse, or none, with exit 2 and nothing written", () => {
    const base = [
      "create-user",
      "--cluster",
      cluster.clusterFile,
      "--type",
      "CU",
      "--name",
      "app9",
      "--reason",
      "r",
      "--password-stdin",
    ];
    for (const [input, why] of [
      ["short1\n", /7 to 32 characters/],
      [`${"x".repeat(33)}\n`, /7 to 32 characters/],
      ["", /no password on stdin/],
      ["\n", /7 to 32 characters/],
      ["bell\u0007bell\n", /control characters/],
    ] as const) {
      const r = cli(base, input);
      assert.equal(r.code, 2, JSON.stringify(input));
      assert.match(r.err, why);
      assert.match(r.err, /nothing was written/);
      assert.equal(r.out, "");
      assert.deepEqual(files(r.cwd), []);
    }
    const noTty = cli(
      base.filter((a) => a !== "--password-stdin"),
      `${PASSWORD}\n`,
    );
    assert.equal(noTty.code, 2);
    assert.match(noTty.err, /not a terminal.*--password-stdin/);
    const noPassword = cli(
      [
        "delete-user",
        "--cluster",
        cluster.clusterFile,
        "--type",
        "CU",
        "--name",
        "a",
        "--reason",
        "r",
        "--password-stdin",
      ],
      `${PASSWORD}\n`,
    );
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.err, /takes no password/);
  });

  it("judges every field with the gate's rules before asking for anything", () => {
    const bad = cli(
      [
        "create-user",
        "--cluster",
        cluster.clusterFile,
        "--type",
        "XX",
        "--name",
        "no spaces",
        "--reason",
        "  ",
        "--requested-by",
        "not a login",
        "--password-stdin",
      ],
      `${PASSWORD}\n`,
    );
    assert.equal(bad.code, 2);
    for (const option of ["--type", "--name", "--reason", "--requested-by"])
      assert.match(bad.err, new RegExp(`^  ${option}: `, "m"));
    const m = cli(["set-m-value", "--cluster", cluster.clusterFile, "--service", "5", "--value", "9", "--reason", "r"]);
    assert.equal(m.code, 2);
    assert.match(m.err, /--service: service must be 3/);
    assert.match(m.err, /--value: value must be a whole number from 2 to 8/);
    const tooLong = cli([
      "delete-user",
      "--cluster",
      cluster.clusterFile,
      "--type",
      "CU",
      "--name",
      "a",
      "--reason",
      "r".repeat(1001),
    ]);
    assert.equal(tooLong.code, 2);
    assert.match(tooLong.err, /--reason: reason is longer than 1000/);
    const control = cli([
      "delete-user",
      "--cluster",
      cluster.clusterFile,
      "--type",
      "CU",
      "--name",
      "a",
      "--reason",
      "right\u202eto-left",
    ]);
    assert.equal(control.code, 2);
  });

  it("answers usage errors with exit 2 (in process: no cluster is needed to get there)", async () => {
    for (const [args, why] of [
      [[], /which request\?/],
      [["frobnicate"], /unknown request kind 'frobnicate'/],
      [["create-user"], /create-user needs --type, --name, --reason/],
      [["set-m-value", "--type", "CU", "--service", "3", "--value", "2", "--reason", "r"], /does not take --type/],
      [["delete-user", "--type", "CU", "--name", "a", "--reason", "r", "--timeout-ms", "soon"], /--timeout-ms/],
      [["delete-user", "--type", "CU", "--name", "a", "--reason", "r", "--bogus"], /Unknown option '--bogus'/],
    ] as const) {
      const io = pipedIo("");
      assert.equal(await runRequest([...args], io.io), 2, args.join(" "));
      assert.match(io.err(), why);
      assert.equal(io.out(), "");
    }
    const help = pipedIo("");
    assert.equal(await runRequest(["create-user", "--help"], help.io), 0);
    assert.match(help.out(), /quorum-gate request create-user/);
    const listed = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    assert.match(listed.stdout, /^ {2}request +write a request file/m, "the command is in the CLI's list");
  });

  it("inside a governed repository, writes into the policy's request folder and refuses a cluster the policy does not govern", () => {
    const repo = join(dir, "governed");
    const policyFile = join(repo, ".github", "quorum-gate.yml");
    mkdirSync(join(repo, ".git"), { recursive: true });
    mkdirSync(join(repo, ".github"), { recursive: true });
    const policy = (clusterId: string): string =>
      `version: 1\ncluster: ${clusterId}\nrequest_folder: ops/hsm/\nofficers:\n  alice: officer1\n`;
    writeFileSync(policyFile, policy(cluster.file.clusterId));
    const args = ["delete-user", "--cluster", cluster.clusterFile, "--type", "CU", "--name", "app11", "--reason", "r"];
    const r = cli(args, "", join(repo, "docs", "deep"));
    assert.equal(r.code, 0, r.err);
    const written = readdirSync(join(repo, "ops", "hsm"));
    assert.equal(written.length, 1);
    assert.match(written[0] ?? "", /^\d{4}-\d{2}-\d{2}-delete-user-app11\.yml$/);
    assert.deepEqual(files(join(repo, "docs", "deep")), [], "nothing in the working directory");

    writeFileSync(policyFile, policy("cluster-elsewhere1"));
    const foreign = cli(args, "", join(repo, "docs"));
    assert.equal(foreign.code, 1);
    assert.match(foreign.err, /policy governs cluster cluster-elsewhere1, but the cluster file names cluster-/);

    writeFileSync(policyFile, "version: 1\nofficers: [\n");
    const invalid = cli(args, "", join(repo, "docs"));
    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /quorum-gate\.yml is not valid, so its request folder is unknown \(give --out\)/);
    assert.equal(cli([...args, "--out", "x.yml"], "", join(repo, "docs")).code, 0, "--out needs no policy");
  });

  it("refuses a cluster file that is missing, invalid, or names another cluster", () => {
    const wrongId = join(dir, "wrong-id.json");
    writeFileSync(wrongId, JSON.stringify({ ...cluster.file, clusterId: "cluster-elsewhere1" }));
    const foreignNodes = join(dir, "foreign-nodes.json");
    writeFileSync(foreignNodes, JSON.stringify({ ...other.file, clusterId: cluster.file.clusterId }));
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ not json");
    for (const [file, why] of [
      [wrongId, /belongs to cluster cluster-/],
      [foreignNodes, /belongs to cluster cluster-/],
      [broken, /not valid JSON/],
      [join(dir, "nope.json"), /no cluster file/],
    ] as const) {
      const r = cli(
        ["create-user", "--cluster", file, "--type", "CU", "--name", "app10", "--reason", "r", "--password-stdin"],
        `${PASSWORD}\n`,
      );
      assert.equal(r.code, 1, file);
      assert.match(r.err, why);
      assert.equal(r.out, "");
      assert.deepEqual(files(r.cwd), []);
    }
    const stopped = join(dir, "stopped.json");
    writeFileSync(
      stopped,
      JSON.stringify({ ...cluster.file, nodes: cluster.file.nodes.map((n) => ({ ...n, port: 1 })) }),
    );
    const down = cli([
      "delete-user",
      "--cluster",
      stopped,
      "--type",
      "CU",
      "--name",
      "a",
      "--reason",
      "r",
      "--timeout-ms",
      "2000",
    ]);
    assert.equal(down.code, 1);
    assert.match(down.err, /no node of cluster .* answered/);
    const halfDown = join(dir, "half-down.json");
    writeFileSync(
      halfDown,
      JSON.stringify({
        ...cluster.file,
        nodes: cluster.file.nodes.map((n) => (n.index === 1 ? { ...n, port: 1 } : n)),
      }),
    );
    const half = cli([
      "delete-user",
      "--cluster",
      halfDown,
      "--type",
      "CU",
      "--name",
      "a",
      "--reason",
      "r",
      "--timeout-ms",
      "2000",
      "--out",
      "half.yml",
    ]);
    assert.equal(half.code, 0, "one node is enough to learn the cluster's sealing key");
    assert.match(half.err, /^note: server 1 \(127\.0\.0\.1:1\): .* did not answer/m);
  });

  it("on a terminal, asks twice without echo and refuses a mismatch", async () => {
    const cwd = join(dir, "tty");
    mkdirSync(cwd);
    const out = join(cwd, "tty.yml");
    const args = [
      "create-user",
      "--cluster",
      cluster.clusterFile,
      "--type",
      "CU",
      "--name",
      "tty1",
      "--reason",
      "r",
      "--out",
      out,
    ];

    const mismatch = fakeTerminal([PASSWORD, `${PASSWORD}x`]);
    assert.equal(await runRequest(args, mismatch.io), 2);
    assert.match(mismatch.err(), /Password: \nAgain: \n.*the passwords do not match; nothing was written/s);
    assert.equal(existsSync(out), false);

    const same = fakeTerminal([PASSWORD, PASSWORD]);
    assert.equal(await runRequest(args, same.io), 0, same.err());
    assert.equal(same.err(), "Password: \nAgain: \n");
    assert.ok(!same.out().includes(PASSWORD) && !same.err().includes(PASSWORD));
    assert.ok(parseRequest(readFileSync(out)).ok);

    const typed = fakeTerminal([PASSWORD]);
    assert.equal(await runRequest([...args, "--force", "--password-stdin"], typed.io), 0, typed.err());
    assert.equal(typed.err(), "Password: \n", "--password-stdin typed on a terminal: one line, without echo");
  });
});

/** A CliIo with piped (not terminal) stdin. */
function pipedIo(input: string): { io: CliIo; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const stdin = new PassThrough();
  stdin.end(input);
  const stdout = new Writable({
    write(chunk: Buffer, _e, done) {
      out += chunk.toString();
      done();
    },
  });
  const stderr = new Writable({
    write(chunk: Buffer, _e, done) {
      err += chunk.toString();
      done();
    },
  });
  return { io: { stdin, stdout, stderr, isTTY: false, version: "test" }, out: () => out, err: () => err };
}

/** A CliIo whose stdin acts as a terminal: each answer is typed after its prompt appears. */
function fakeTerminal(answers: string[]): { io: CliIo; out: () => string; err: () => string } {
  const stdin = new PassThrough();
  let out = "";
  let err = "";
  const pending = [...answers];
  const stdout = new Writable({
    write(chunk: Buffer, _e, done) {
      out += chunk.toString();
      done();
    },
  });
  const stderr = new Writable({
    write(chunk: Buffer, _e, done) {
      err += chunk.toString();
      if (/(Password|Again): $/.test(err)) {
        const next = pending.shift();
        if (next !== undefined) setImmediate(() => stdin.write(`${next}\r`));
      }
      done();
    },
  });
  return { io: { stdin, stdout, stderr, isTTY: true, version: "test" }, out: () => out, err: () => err };
}
