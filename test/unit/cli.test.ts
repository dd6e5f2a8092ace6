import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "qg-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("quorum-gate CLI", () => {
  it("lists its commands with --help and exits 0; with no command it exits 2", () => {
    const help = cli(["--help"]);
    assert.equal(help.code, 0);
    for (const command of ["cluster start", "cmu", "keygen"]) assert.match(help.out, new RegExp(`^  ${command} `, "m"));
    assert.equal(cli([]).code, 2);
  });

  it("names an unknown command and suggests the family of a partial one", () => {
    const unknown = cli(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'frobnicate'/);
    const partial = cli(["cluster", "explode"]);
    assert.equal(partial.code, 2);
    assert.match(partial.err, /did you mean: quorum-gate cluster start/);
  });

  it("keygen writes a private key only its owner can read and a public key openssl accepts", () => {
    const r = cli(["keygen", "--out", "officer1"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /fingerprint \(SHA-256 of the public key\): [0-9a-f]{64}/);
    assert.equal(statSync(join(dir, "officer1.key")).mode & 0o777, 0o600);
    const text = execFileSync("openssl", ["rsa", "-pubin", "-in", join(dir, "officer1.pub"), "-noout", "-text"], {
      encoding: "utf8",
    });
    assert.match(text, /Public-Key: \(2048 bit\)/);
    const before = readFileSync(join(dir, "officer1.key"), "utf8");
    const again = cli(["keygen", "--out", "officer1"]);
    assert.equal(again.code, 1);
    assert.match(again.err, /use --force/);
    assert.equal(readFileSync(join(dir, "officer1.key"), "utf8"), before, "nothing was overwritten");
    assert.equal(cli(["keygen"]).code, 2);
    assert.equal(cli(["keygen", "--out", "x", "--bits", "1024"]).code, 2);
  });
});
