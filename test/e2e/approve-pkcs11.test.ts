// `quorum-gate approve --key pkcs11:...`: the officer key lives in a PKCS#11 token (here a
// SoftHSM token made at test time, standing in for a YubiKey's PIV slot) and is used through the
// system's openssl and the libp11 engine; the private key is never a file. Skipped, saying which
// Debian packages are missing, where the machine has no software token.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { runApprove } from "../../src/cli/approve.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { fingerprint } from "../../src/crypto/rsa.ts";
import { approvalPayloadOf, parseRequest, renderApprovalPayload } from "../../src/gate/index.ts";
import { startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.ts";

const SOFTHSM_MODULES = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
];
const PACKAGES = "softhsm2, opensc (pkcs11-tool) and libengine-pkcs11-openssl";

function missing(): string | null {
  const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
  if (!has("softhsm2-util", ["--version"])) return "softhsm2-util not found";
  // pkcs11-tool has no --version and exits non-zero on --help: only whether it runs matters.
  if (spawnSync("pkcs11-tool", ["--help"], { stdio: "ignore" }).error !== undefined) return "pkcs11-tool not found";
  if (!has("openssl", ["engine", "pkcs11", "-t"])) return "openssl has no pkcs11 engine";
  if (moduleOf() === null) return "libsofthsm2.so not found";
  return null;
}

function moduleOf(): string | null {
  return SOFTHSM_MODULES.find((m) => existsSync(m)) ?? null;
}

const reason = missing();
const skip =
  reason === null
    ? false
    : `no software PKCS#11 token on this machine (${reason}); install the Debian packages ${PACKAGES}`;

const CLUSTER = "cluster-abc123";
const REQUEST_PATH = "hsm-requests/2026-12-06-delete-app7.yml";
const REQUEST = `version: 1\ncluster: ${CLUSTER}\noperation:\n  kind: deleteUser\n  type: CU\n  name: app7\nreason: Moved away.\n`;
const PIN = "472913";

/** A `public_key:` block for the policy (with `backend: cloudhsm-cli` every officer needs one). */
const pinned = (pem: string): string =>
  `    public_key: |\n${pem
    .trim()
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n")}\n`;

describe("quorum-gate approve with a PKCS#11 key", { skip }, () => {
  let gh: FakeGitHub;
  let dir: string;
  let previousConf: string | undefined;
  let publicPem: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "approve-p11-"));
    previousConf = process.env.SOFTHSM2_CONF;
    writeFileSync(
      join(dir, "softhsm2.conf"),
      `directories.tokendir = ${join(dir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    mkdirSync(join(dir, "tokens"));
    // The engine and pkcs11-tool run as child processes and read the token directory from here.
    process.env.SOFTHSM2_CONF = join(dir, "softhsm2.conf");
    execFileSync(
      "softhsm2-util",
      ["--init-token", "--free", "--label", "officer", "--pin", PIN, "--so-pin", "83749201"],
      { stdio: "ignore" },
    );
    execFileSync(
      "pkcs11-tool",
      [
        "--module",
        moduleOf() ?? "",
        "--token-label",
        "officer",
        "--login",
        "--pin",
        PIN,
        "--keypairgen",
        "--key-type",
        "rsa:2048",
        "--label",
        "quorum",
        "--id",
        "01",
      ],
      { stdio: "ignore" },
    );
    publicPem = execFileSync(
      "openssl",
      [
        "pkey",
        "-engine",
        "pkcs11",
        "-inform",
        "engine",
        "-pubin",
        "-in",
        "pkcs11:token=officer;object=quorum;type=public",
        "-pubout",
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    ).toString();
    writeFileSync(join(dir, "pin"), `${PIN}\n`, { mode: 0o600 });
    gh = await startFakeGitHub();
  });
  after(async () => {
    await gh?.close();
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousConf;
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const sink = (append: (s: string) => void) =>
      new Writable({
        write: (c: Buffer | string, _e, done) => {
          append(c.toString());
          done();
        },
      });
    const stdin = new PassThrough();
    stdin.end();
    const io: CliIo = {
      stdin,
      stdout: sink((s) => (out += s)),
      stderr: sink((s) => (err += s)),
      isTTY: false,
      version: "0.0.0-test",
    };
    const code = await runApprove(args, io, {
      env: { GITHUB_TOKEN: gh.issueToken({ user: "alice", appId: null }), GITHUB_API_URL: gh.url },
      now: () => Date.parse("2026-12-06T12:00:00Z"),
      ghToken: async () => null,
      openssl: "openssl",
    });
    return { code, out, err };
  }

  it("signs the approval payload inside the token, for an officer pinned to that key, and the signature verifies", async () => {
    const fp = fingerprint(createPublicKey(publicPem));
    const repo = gh.createRepo("acme/hsm-p11", {
      files: {
        ".github/quorum-gate.yml": `version: 1\ncluster: ${CLUSTER}\nbackend: cloudhsm-cli\nofficers:\n  alice:\n    officer: officer1\n    key_fingerprint: ${fp}\n${pinned(publicPem)}`,
      },
    });
    const pr = repo.openPullRequest({ head: "req", files: { [REQUEST_PATH]: REQUEST } });
    const r = await run([
      `acme/hsm-p11#${pr}`,
      "--key",
      "pkcs11:token=officer;object=quorum",
      "--passphrase-file",
      join(dir, "pin"),
      "--dry-run",
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`fingerprint ${fp}`));
    assert.doesNotMatch(r.err, new RegExp(PIN));
    const m = /^\/quorum approve until=(\S+) (\S+)\n$/.exec(r.out);
    assert.ok(m, r.out);
    const parsed = parseRequest(Buffer.from(REQUEST));
    assert.ok(parsed.ok);
    const payload = renderApprovalPayload(
      approvalPayloadOf({
        verdict: "approve",
        request: parsed.request,
        requestDigest: parsed.digest,
        requestPath: REQUEST_PATH,
        repository: "acme/hsm-p11",
        pullRequest: pr,
        expiresAt: m[1] ?? "",
      }),
    );
    assert.ok(verify("sha256", payload, createPublicKey(publicPem), Buffer.from(m[2] ?? "", "base64")));
  });

  it("a wrong PIN signs nothing and says so", async () => {
    const repo = gh.createRepo("acme/hsm-p11-pin", {
      files: {
        ".github/quorum-gate.yml": `version: 1\ncluster: ${CLUSTER}\nbackend: cloudhsm-cli\nofficers:\n  alice:\n    officer: officer1\n${pinned(publicPem)}`,
      },
    });
    const pr = repo.openPullRequest({ head: "req", files: { [REQUEST_PATH]: REQUEST } });
    writeFileSync(join(dir, "bad-pin"), "000000\n", { mode: 0o600 });
    const r = await run([
      `acme/hsm-p11-pin#${pr}`,
      "--key",
      "pkcs11:token=officer;object=quorum",
      "--passphrase-file",
      join(dir, "bad-pin"),
      "--dry-run",
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^quorum-gate approve: pkcs11_failed: openssl could not sign/m);
    assert.equal(r.out, "");
  });

  it("a URI naming no object on the token is refused before any PIN is used", async () => {
    const repo = gh.createRepo("acme/hsm-p11-none", {
      files: {
        ".github/quorum-gate.yml": `version: 1\ncluster: ${CLUSTER}\nbackend: cloudhsm-cli\nofficers:\n  alice:\n    officer: officer1\n${pinned(publicPem)}`,
      },
    });
    const pr = repo.openPullRequest({ head: "req", files: { [REQUEST_PATH]: REQUEST } });
    const r = await run([
      `acme/hsm-p11-none#${pr}`,
      "--key",
      "pkcs11:token=officer;object=nothing-here",
      "--passphrase-file",
      join(dir, "pin"),
      "--dry-run",
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^quorum-gate approve: pkcs11_failed: openssl could not read the public key/m);
  });
});
