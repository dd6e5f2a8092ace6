// `quorum-gate sign`: the approval comment carries exactly the signature the real `openssl dgst
// -sha256 -sign` makes over the token file; the binding check refuses a token made for another
// request or pull request; every refusal leaves stdout empty.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { CliIo } from "../../src/cli/io.ts";
import { runSign } from "../../src/cli/sign.ts";
import { createClusterGateway } from "../../src/cluster/gateway.ts";
import { createNodeClient } from "../../src/protocol/node-client.ts";
import {
  parseApprovalComment,
  parseRequest,
  requestBindingDigest,
  serviceOf,
  toBindingContext,
  toOperation,
} from "../../src/gate/index.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import { startTestCluster } from "../helpers/cluster.ts";
import { testKey } from "../helpers/keys.ts";
import { fanOut, passwordOf, setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));
const REPOSITORY = "acme/hsm-requests";
const PR = 12;

const REQUEST = `version: 1
cluster: cluster-abc123
operation:
  kind: deleteUser
  type: CU
  name: app7
reason: The payments service moved to another HSM.
`;
const M_REQUEST = `version: 1
cluster: cluster-abc123
operation:
  kind: setMValue
  service: 3
  value: 2
reason: Two officers.
`;

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

describe("quorum-gate sign", () => {
  let dir: string;
  const path = (name: string): string => join(dir, name);

  function cli(args: readonly string[], input = ""): Run {
    const r = spawnSync(process.execPath, [BIN, "sign", ...args], {
      cwd: dir,
      input,
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }
  const openssl = (...args: string[]): Buffer =>
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const expectedComment = (sigFile: string): string =>
    `/quorum approve ${readFileSync(path(sigFile)).toString("base64")}\n`;

  /** A token as the nodes issue it: one record per node, each bound to `binding`. */
  function token(binding: string | null, service = 3): Buffer {
    return Buffer.concat(
      [1, 0].map((nodeId, i) =>
        encodeRecord({
          service,
          tokenId: 7 + i,
          keyHandle: 0n,
          nonce: `${i}`.repeat(32),
          userName: "gate",
          nodeId,
          createdAt: 1_760_000_000,
          binding,
        }),
      ),
    );
  }
  function bindingOf(requestText: string, repository = REPOSITORY, pr = PR): string {
    const parsed = parseRequest(Buffer.from(requestText));
    assert.ok(parsed.ok);
    return requestBindingDigest(parsed.request, toBindingContext(repository, pr, parsed.digest));
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "qg-cli-sign-"));
    openssl("genrsa", "-out", "officer1.key", "2048");
    openssl("genrsa", "-out", "small.key", "1024");
    openssl("rsa", "-in", "officer1.key", "-pubout", "-out", "officer1.pub");
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key");
    // An encrypted key, and its pass phrase in a file for openssl (never on a command line).
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "correct horse 42" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    writeFileSync(path("officer2.key"), privateKey, { mode: 0o600 });
    writeFileSync(path("officer2.pass"), "correct horse 42\n", { mode: 0o600 });
    writeFileSync(path("officer2.pass-out"), "correct horse 42\n", { mode: 0o600 }); // openssl reads both from one file as two lines
    openssl(
      "rsa",
      "-in",
      "officer2.key",
      "-passin",
      `file:${path("officer2.pass")}`,
      "-aes256",
      "-passout",
      `file:${path("officer2.pass-out")}`,
      "-traditional",
      "-out",
      "officer2-traditional.key",
    );
    writeFileSync(path("request.yml"), REQUEST);
    writeFileSync(path("m-request.yml"), M_REQUEST);
    writeFileSync(path("token.bin"), token(bindingOf(REQUEST)));
    writeFileSync(path("plain.token"), token(null));
    writeFileSync(path("other-pr.bin"), token(bindingOf(REQUEST, REPOSITORY, PR + 1)));
    writeFileSync(path("garbage.bin"), Buffer.from("not a token at all"));
    writeFileSync(path("empty.bin"), Buffer.alloc(0));
    openssl("dgst", "-sha256", "-sign", "officer1.key", "-out", "officer1.sig", "token.bin");
    openssl(
      "dgst",
      "-sha256",
      "-sign",
      "officer2.key",
      "-passin",
      `file:${path("officer2.pass")}`,
      "-out",
      "officer2.sig",
      "token.bin",
    );
    openssl("dgst", "-sha256", "-sign", "officer1.key", "-out", "plain.sig", "plain.token");
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("prints the approval comment with openssl's exact signature, and only that on stdout", () => {
    const r = cli(["--key", "officer1.key", "--token-file", "token.bin"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, expectedComment("officer1.sig"), "byte-identical to openssl dgst -sha256 -sign");
    const parsed = parseApprovalComment(r.out);
    assert.ok(parsed.ok && parsed.command.verb === "approve", "the gate reads it as an approval");
    const sha =
      execFileSync("openssl", ["dgst", "-sha256", "-r", "token.bin"], { cwd: dir, encoding: "utf8" }).split(" ")[0] ??
      "";
    assert.match(
      r.err,
      new RegExp(`SHA-256 ${sha}`),
      "stderr shows the token's SHA-256 to compare with the sticky comment",
    );
    assert.match(r.err, /record 0: node 1, token 7, service 3, user gate, binding [0-9a-f]{64}/);
    const verified = spawnSync(
      "openssl",
      ["dgst", "-sha256", "-verify", "officer1.pub", "-signature", "officer1.sig", "token.bin"],
      { cwd: dir, encoding: "utf8" },
    );
    assert.equal(verified.status, 0);
  });

  it("takes the token as the sticky comment shows it: base64, wrapped or not, or the file name of its hint", () => {
    const b64 = readFileSync(path("token.bin")).toString("base64");
    for (const text of [b64, b64.replace(/.{76}/g, "$&\n"), b64.replace(/=+$/, "")]) {
      const r = cli(["--key", "officer1.key", "--token", text]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, expectedComment("officer1.sig"));
    }
    const hint = cli(["--key", "officer1.key", "--token", "token.bin"]);
    assert.equal(hint.code, 0, hint.err);
    assert.equal(hint.out, expectedComment("officer1.sig"));
    assert.match(hint.err, /--token names a file/);
    const cmuToken = cli(["--key", "officer1.key", "--token-file", "plain.token"]);
    assert.equal(cmuToken.code, 0, "a plain getToken token (the shell's flow) is signed too");
    assert.equal(cmuToken.out, expectedComment("plain.sig"));
    assert.match(cmuToken.err, /not bound to an operation/);
  });

  it("reads a CloudHSM CLI token file (JSON 2.0): the signature is the CMU one, and openssl pkeyutl over its token gives the same bytes", () => {
    const approvalData = readFileSync(path("token.bin"));
    const hash = execFileSync("openssl", ["dgst", "-sha256", "-binary", "token.bin"], { cwd: dir });
    writeFileSync(
      path("cli-token.json"),
      `${JSON.stringify({ version: "2.0", approval_data: approvalData.toString("base64"), token: hash.toString("base64"), signatures: [] }, null, 2)}\n`,
    );
    const r = cli(["--key", "officer1.key", "--token-file", "cli-token.json"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, expectedComment("officer1.sig"), "the same signature as over the CMU token file");
    assert.match(r.err, /CloudHSM CLI token file/);
    // What the CloudHSM CLI documentation has an approver do with the `token` field.
    writeFileSync(path("cli-token.hash"), hash);
    openssl(
      "pkeyutl",
      "-sign",
      "-inkey",
      "officer1.key",
      "-pkeyopt",
      "digest:sha256",
      "-in",
      "cli-token.hash",
      "-out",
      "cli-token.sig",
    );
    assert.equal(r.out, expectedComment("cli-token.sig"), "pkeyutl over the hash = dgst over approval_data");

    const refused = (doc: unknown, reason: RegExp): void => {
      writeFileSync(path("bad-token.json"), JSON.stringify(doc));
      const bad = cli(["--key", "officer1.key", "--token-file", "bad-token.json"]);
      assert.equal(bad.code, 1);
      assert.equal(bad.out, "", "nothing signed");
      assert.match(bad.err, reason);
    };
    refused(
      {
        version: "2.0",
        approval_data: approvalData.toString("base64"),
        token: Buffer.alloc(32).toString("base64"),
        signatures: [],
      },
      /"token" is not the SHA-256 of "approval_data"/,
    );
    refused(
      { version: "1.0", approval_data: approvalData.toString("base64"), token: hash.toString("base64") },
      /"version" is not "2.0"/,
    );
    refused(
      { version: "2.0", tokens: [{ unsigned: hash.toString("base64"), signed: "" }] },
      /registration or MFA token file/,
    );
    refused(
      { version: "2.0", approval_data: "not base64!", token: hash.toString("base64") },
      /"approval_data" is not base64/,
    );
    writeFileSync(path("bad-token.json"), "{ not json");
    assert.match(cli(["--key", "officer1.key", "--token-file", "bad-token.json"]).err, /not valid JSON/);
  });

  it("reads an encrypted key's pass phrase from stdin, as openssl -passin does", () => {
    const r = cli(["--key", "officer2.key", "--token-file", "token.bin", "--passphrase-stdin"], "correct horse 42\n");
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, expectedComment("officer2.sig"));
    assert.ok(!r.err.includes("correct horse"));
    assert.match(readFileSync(path("officer2-traditional.key"), "utf8"), /Proc-Type: 4,ENCRYPTED/);
    const traditional = cli(
      ["--key", "officer2-traditional.key", "--token-file", "token.bin", "--passphrase-stdin"],
      "correct horse 42",
    );
    assert.equal(traditional.code, 0, traditional.err);
    assert.equal(traditional.out, expectedComment("officer2.sig"), "the same key in the traditional encrypted PEM");
    const wrong = cli(["--key", "officer2.key", "--token-file", "token.bin", "--passphrase-stdin"], "wrong horse\n");
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /cannot decrypt officer2\.key: wrong pass phrase/);
    assert.equal(wrong.out, "");
    const noTty = cli(["--key", "officer2.key", "--token-file", "token.bin"]);
    assert.equal(noTty.code, 2);
    assert.match(noTty.err, /encrypted and stdin is not a terminal.*--passphrase-stdin/);
    assert.equal(noTty.out, "");
    const onArgv = cli(["--key", "officer2.key", "--token-file", "token.bin", "--passphrase", "correct horse 42"]);
    assert.equal(onArgv.code, 2);
    assert.ok(!onArgv.err.includes("correct horse"));
    assert.equal(onArgv.out, "");
  });

  it("on a terminal, asks 'Enter pass phrase for <file>:' on stderr without echo", async () => {
    const term = fakeTerminal("correct horse 42", /Enter pass phrase for .*officer2\.key:$/);
    assert.equal(
      await runSign(["--key", path("officer2.key"), "--token-file", path("token.bin")], term.io),
      0,
      term.err(),
    );
    assert.equal(term.out(), expectedComment("officer2.sig"));
    assert.match(term.err(), new RegExp(`^Enter pass phrase for ${path("officer2.key").replace(/[.]/g, "\\.")}:\n`));
    assert.ok(!term.err().includes("correct horse"));
  });

  it("with --request, --repository and --pr, signs only a token bound to exactly that request in that pull request", () => {
    const check = ["--request", "request.yml", "--repository", REPOSITORY, "--pr", String(PR)];
    const ok = cli(["--key", "officer1.key", "--token-file", "token.bin", ...check]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.out, expectedComment("officer1.sig"));
    assert.match(ok.err, /binding checked: every record is bound to request\.yml in acme\/hsm-requests#12/);

    const refusals: [string[], RegExp][] = [
      [
        ["--token-file", "token.bin", "--request", "request.yml", "--repository", REPOSITORY, "--pr", "13"],
        /acme\/hsm-requests#13\)\n {2}record 0 \(node 1, token 7\): bound to [0-9a-f]{64}\n {2}record 1/,
      ],
      [
        ["--token-file", "token.bin", "--request", "request.yml", "--repository", "acme/other", "--pr", String(PR)],
        /acme\/other#12/,
      ],
      [["--token-file", "other-pr.bin", ...check], /record 0 \(node 1, token 7\): bound to/],
      [["--token-file", "plain.token", ...check], /not bound to any operation \(a plain getToken token\)/],
      [
        ["--token-file", "token.bin", "--request", "m-request.yml", "--repository", REPOSITORY, "--pr", String(PR)],
        /for service 3, but setMValue 3 \(USER_MGMT\) to 2 needs service 4/,
      ],
    ];
    writeFileSync(path("edited.yml"), REQUEST.replace("moved", "moved on"));
    refusals.push([
      ["--token-file", "token.bin", "--request", "edited.yml", "--repository", REPOSITORY, "--pr", String(PR)],
      /edited\.yml SHA-256 [0-9a-f]{64}/,
    ]);
    for (const [args, why] of refusals) {
      const r = cli(["--key", "officer1.key", ...args]);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.err, /refusing to sign: the token is not bound to exactly this request/);
      assert.match(r.err, /expected binding [0-9a-f]{64}/);
      assert.match(r.err, why);
      assert.equal(r.out, "", "nothing to paste");
    }
    writeFileSync(
      path("bad-request.yml"),
      "version: 1\ncluster: c\noperation:\n  kind: createUser\n  password: hunter2\n",
    );
    const bad = cli([
      "--key",
      "officer1.key",
      "--token-file",
      "token.bin",
      "--request",
      "bad-request.yml",
      "--repository",
      REPOSITORY,
      "--pr",
      "12",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /the gate refuses bad-request\.yml/);
    assert.ok(!bad.err.includes("hunter2"));
    assert.equal(bad.out, "");
  });

  it("refuses bad keys and bad tokens with a clear error and nothing on stdout", () => {
    writeFileSync(path("not-a-key.pem"), "hello\n");
    const cases: [string[], number, RegExp][] = [
      [["--key", "missing.key", "--token-file", "token.bin"], 1, /no key file at missing\.key/],
      [["--key", "not-a-key.pem", "--token-file", "token.bin"], 1, /not-a-key\.pem is not a PEM private key/],
      [["--key", "officer1.pub", "--token-file", "token.bin"], 1, /officer1\.pub is not a PEM private key/],
      [["--key", "small.key", "--token-file", "token.bin"], 1, /RSA-1024 key; quorum keys are RSA-2048/],
      [["--key", "ec.key", "--token-file", "token.bin"], 1, /ec key; quorum keys are RSA-2048/],
      [["--key", "officer1.key", "--token-file", "missing.bin"], 1, /no token file at missing\.bin/],
      [["--key", "officer1.key", "--token-file", "garbage.bin"], 1, /not a quorum token file/],
      [["--key", "officer1.key", "--token-file", "empty.bin"], 1, /not a quorum token file \(empty token file\)/],
      [["--key", "officer1.key", "--token", "not base64!"], 1, /--token is not base64/],
      [
        ["--key", "officer1.key", "--token", Buffer.from("hello world").toString("base64")],
        1,
        /not the base64 of a quorum token file/,
      ],
    ];
    for (const [args, code, why] of cases) {
      const r = cli(args);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, why);
      assert.equal(r.out, "", args.join(" "));
    }
  });

  it("answers bad arguments with exit 2 (in process: the same code path, without a process per case)", async () => {
    const cases: [string[], RegExp][] = [
      [["--key", "officer1.key"], /give the token once/],
      [["--key", "officer1.key", "--token-file", "token.bin", "--token", "AAAA"], /give the token once/],
      [["--token-file", "token.bin"], /--key is required/],
      [["--key", "officer1.key", "--token-file", "token.bin", "--request", "request.yml"], /needs all three/],
      [
        [
          "--key",
          "officer1.key",
          "--token-file",
          "token.bin",
          "--request",
          "request.yml",
          "--repository",
          "acme",
          "--pr",
          "1",
        ],
        /--repository must be owner\/name/,
      ],
      [
        [
          "--key",
          "officer1.key",
          "--token-file",
          "token.bin",
          "--request",
          "request.yml",
          "--repository",
          REPOSITORY,
          "--pr",
          "0",
        ],
        /--pr must be/,
      ],
      [["--key", "officer1.key", "--token-file", "token.bin", "stray"], /unexpected argument \(not shown/],
    ];
    for (const [args, why] of cases) {
      const io = pipedIo();
      assert.equal(
        await runSign(
          args.map((a) => (a.endsWith(".key") || a.endsWith(".bin") || a.endsWith(".yml") ? path(a) : a)),
          io.io,
        ),
        2,
        args.join(" "),
      );
      assert.match(io.err(), why);
      assert.equal(io.out(), "", args.join(" "));
    }
    const help = cli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: quorum-gate sign --key FILE/);
    const listed = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    assert.match(listed.stdout, /^ {2}sign +sign a quorum token/m, "the command is in the CLI's list");
  });
});

describe("request and sign from the command line, replayed by the gate's gateway", () => {
  it("a request file and two CLI approvals create the user on every node, with the typed password", async (t) => {
    const cluster = await startTestCluster({ nodes: 2 });
    const dir = mkdtempSync(join(tmpdir(), "qg-cli-flow-"));
    const clients = cluster.endpoints.map((e) => createNodeClient(e));
    const gateway = createClusterGateway(cluster.file, { userName: "gate", password: passwordOf("gate") });
    t.after(async () => {
      gateway.close();
      for (const c of clients) c.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    await setUpQuorumCluster(clients, { signers: ["officer1", "officer2"], members: ["gate"], m: 2 });
    const run = (args: readonly string[], input: string) =>
      spawnSync(process.execPath, [BIN, ...args], { cwd: dir, input, encoding: "utf8", timeout: 60_000 });

    const made = run(
      [
        "request",
        "create-user",
        "--cluster",
        cluster.clusterFile,
        "--type",
        "CU",
        "--name",
        "app7",
        "--reason",
        "Payments.",
        "--password-stdin",
        "--out",
        "app7.yml",
      ],
      "app7-Secret-1\n",
    );
    assert.equal(made.status, 0, made.stderr);
    const parsed = parseRequest(readFileSync(join(dir, "app7.yml")));
    assert.ok(parsed.ok);
    const context = toBindingContext(REPOSITORY, PR, parsed.digest);
    const issued = await gateway.issueToken(
      serviceOf(parsed.request.operation),
      requestBindingDigest(parsed.request, context),
    );
    assert.ok(issued.ok);
    writeFileSync(join(dir, "token.bin"), issued.tokenData);

    const signatures: { userName: string; signature: Buffer }[] = [];
    for (const officer of ["officer1", "officer2"]) {
      writeFileSync(join(dir, `${officer}.key`), testKey(officer).privatePem, { mode: 0o600 });
      const signed = run(
        [
          "sign",
          "--key",
          `${officer}.key`,
          "--token",
          issued.tokenData.toString("base64"),
          "--request",
          "app7.yml",
          "--repository",
          REPOSITORY,
          "--pr",
          String(PR),
        ],
        "",
      );
      assert.equal(signed.status, 0, signed.stderr);
      const comment = parseApprovalComment(signed.stdout);
      assert.ok(comment.ok && comment.command.verb === "approve");
      signatures.push({ userName: officer, signature: Buffer.from(comment.command.signature, "base64") });
    }
    const other = run(
      [
        "sign",
        "--key",
        "officer1.key",
        "--token-file",
        "token.bin",
        "--request",
        "app7.yml",
        "--repository",
        REPOSITORY,
        "--pr",
        String(PR + 1),
      ],
      "",
    );
    assert.equal(other.status, 1, "the real token is refused for another pull request");
    assert.equal(other.stdout, "");

    const outcomes = await gateway.execute({
      idempotencyKey: "pr-12",
      operation: toOperation(parsed.request.operation),
      context,
      tokenData: issued.tokenData,
      signatures,
    });
    assert.deepEqual(
      outcomes.map((o) => o.ok),
      [true, true],
      JSON.stringify(outcomes),
    );
    const login = await fanOut(clients, "login", () => ({
      userType: "CU",
      userName: "app7",
      password: "app7-Secret-1",
    }));
    assert.ok(
      login.every((l) => l.ok),
      "the nodes opened the sealed password: the user logs in with what was typed",
    );
  });
});

function pipedIo(): { io: CliIo; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const stdin = new PassThrough();
  stdin.end();
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

/** A CliIo whose stdin acts as a terminal: `answer` is typed once `prompt` shows on stderr. */
function fakeTerminal(answer: string, prompt: RegExp): { io: CliIo; out: () => string; err: () => string } {
  const stdin = new PassThrough();
  let out = "";
  let err = "";
  let typed = false;
  const stdout = new Writable({
    write(chunk: Buffer, _e, done) {
      out += chunk.toString();
      done();
    },
  });
  const stderr = new Writable({
    write(chunk: Buffer, _e, done) {
      err += chunk.toString();
      if (!typed && prompt.test(err)) {
        typed = true;
        setImmediate(() => stdin.write(`${answer}\r`));
      }
      done();
    },
  });
  return { io: { stdin, stdout, stderr, isTTY: true, version: "test" }, out: () => out, err: () => err };
}
