// `quorum-gate verify --approval-file`: a CMU approval file and signature files made by the real
// `openssl` binary (`openssl dgst -sha256 -sign key -out x.sig token.bin`), checked as approveToken
// checks them, with paths resolved relative to the approval file as CMU resolves them. Then an
// evidence folder written out of the gate, whose keys come from its evidence.json where a policy
// pins them. Keys are generated at run time.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { renderApprovalFile } from "../../src/formats/approval-file.ts";
import { approveRequest, clusterFacts, policyText, requestText, tokenFile, type Officer } from "../helpers/git-repo.ts";
import { testKey } from "../helpers/keys.ts";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));

function cli(args: readonly string[], cwd: string): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("verify --approval-file with openssl signatures", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-audit-cmu-"));
  const ceremony = join(dir, "ceremony");
  const names = ["officer1", "officer2", "officer3"];
  const keyFile = (name: string): string => join(dir, "keys", `${name}.key`);
  const pubFile = (name: string): string => join(dir, "keys", `${name}.pub`);
  const sign = (keyOf: string, out: string, token = join(ceremony, "token.bin")): void => {
    execFileSync("openssl", ["dgst", "-sha256", "-sign", keyFile(keyOf), "-out", out, token]);
  };
  const approval = (approvers: readonly [string, string][], tokenPath = "token.bin"): string =>
    renderApprovalFile({
      multiTokenFilePath: tokenPath,
      tokenFilePath: "",
      approvals: approvers.map(([approverName, approvalFile]) => ({ approverType: 2, approverName, approvalFile })),
    });
  const keyArgs = (...officers: string[]): string[] => officers.flatMap((o) => ["--key", `${o}=${pubFile(o)}`]);

  before(() => {
    mkdirSync(join(dir, "keys"), { recursive: true });
    mkdirSync(join(ceremony, "sigs"), { recursive: true });
    for (const name of names) {
      writeFileSync(keyFile(name), testKey(`cmu-${name}`).privatePem);
      chmodSync(keyFile(name), 0o600);
      writeFileSync(pubFile(name), testKey(`cmu-${name}`).publicPem);
    }
    writeFileSync(join(ceremony, "token.bin"), tokenFile(3, "ab".repeat(32), 1_800_000_000, 3));
    sign("officer1", join(ceremony, "sigs", "officer1.sig"));
    sign("officer2", join(ceremony, "sigs", "officer2.sig"));
    // officer3's file, signed with officer1's key.
    sign("officer1", join(ceremony, "sigs", "officer3.sig"));
    writeFileSync(
      join(ceremony, "approval.txt"),
      approval([
        ["officer1", "sigs/officer1.sig"],
        ["officer2", "sigs/officer2.sig"],
      ]),
    );
    writeFileSync(
      join(ceremony, "forged.txt"),
      approval([
        ["officer1", "sigs/officer1.sig"],
        ["officer3", "sigs/officer3.sig"],
      ]),
    );
    writeFileSync(
      join(ceremony, "twice.txt"),
      approval([
        ["officer1", "sigs/officer1.sig"],
        ["officer1", "sigs/officer1.sig"],
      ]),
    );
    writeFileSync(
      join(ceremony, "missing.txt"),
      approval([
        ["officer1", "sigs/officer1.sig"],
        ["officer2", "sigs/none.sig"],
      ]),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("two officers' openssl signatures, paths relative to the approval file: holds at 2, exit 0", () => {
    const r = cli(
      ["verify", "--approval-file", "ceremony/approval.txt", ...keyArgs("officer1", "officer2"), "--required", "2"],
      dir,
    );
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^ +counted +officer1 +sigs\/officer1\.sig +valid +key [0-9a-f]{16}…/m);
    assert.match(r.out, /^ +counted +officer2 +sigs\/officer2\.sig +valid/m);
    assert.match(r.out, /verdict +quorum holds \(2 of 2 required officers\)/);
    assert.match(r.out, /required +2 officers: as given with --required/);
    assert.match(r.out, /not checked +the token's binding, expiry and request/);
  });

  it("three required of two: quorum_not_met, exit 1 (--json)", () => {
    const r = cli(
      [
        "verify",
        "--approval-file",
        join(ceremony, "approval.txt"),
        ...keyArgs("officer1", "officer2"),
        "--required",
        "3",
        "--json",
      ],
      ceremony,
    );
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.out) as { holds: boolean; counted: number; required: number; checks: { code: string }[] };
    assert.deepEqual([doc.holds, doc.counted, doc.required], [false, 2, 3]);
    assert.deepEqual(
      doc.checks.map((c) => c.code),
      ["ok", "quorum_not_met"],
    );
  });

  it("a signature file made with another officer's key: bad_signature, and approveToken would refuse the file", () => {
    const r = cli(
      [
        "verify",
        "--approval-file",
        "ceremony/forged.txt",
        ...keyArgs("officer1", "officer2", "officer3"),
        "--required",
        "1",
      ],
      dir,
    );
    assert.equal(r.code, 1);
    assert.match(r.out, /^ +rejected +officer3 +sigs\/officer3\.sig +bad_signature/m);
    assert.match(
      r.out,
      /FAIL +approvals +approval_rejected +approveToken would refuse the whole file: officer3: bad_signature/,
    );
  });

  it("one officer twice counts once; an officer without a key is no_key", () => {
    const twice = cli(
      ["verify", "--approval-file", "ceremony/twice.txt", ...keyArgs("officer1"), "--required", "2", "--json"],
      dir,
    );
    assert.equal(twice.code, 1);
    const doc = JSON.parse(twice.out) as { approvals: { reason: string }[]; counted: number };
    assert.deepEqual(
      doc.approvals.map((a) => a.reason),
      ["valid", "duplicate"],
    );
    assert.equal(doc.counted, 1);
    const noKey = cli(
      ["verify", "--approval-file", "ceremony/approval.txt", ...keyArgs("officer1"), "--required", "1"],
      dir,
    );
    assert.equal(noKey.code, 1);
    assert.match(noKey.out, /rejected +officer2 +sigs\/officer2\.sig +no_key/);
  });

  it("usage errors exit 2: a missing signature file, no keys, no --required without evidence.json, a key that is not one", () => {
    const missing = cli(
      ["verify", "--approval-file", "ceremony/missing.txt", ...keyArgs("officer1", "officer2"), "--required", "1"],
      dir,
    );
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no signature file of officer2 at .*none\.sig/);
    assert.equal(cli(["verify", "--approval-file", "ceremony/approval.txt", "--required", "1"], dir).code, 2);
    assert.match(
      cli(["verify", "--approval-file", "ceremony/approval.txt", ...keyArgs("officer1")], dir).err,
      /give --required N/,
    );
    assert.equal(
      cli(
        [
          "verify",
          "--approval-file",
          "ceremony/approval.txt",
          "--key",
          `officer1=${keyFile("officer1")}`,
          "--required",
          "1",
        ],
        dir,
      ).code,
      2,
      "a private key is not a public key file",
    );
    assert.equal(
      cli(["verify", "--approval-file", "ceremony/nope.txt", ...keyArgs("officer1"), "--required", "1"], dir).code,
      2,
    );
    assert.equal(
      cli(["verify", "--approval-file", "ceremony/approval.txt", "--key", "officer1", "--required", "1"], dir).code,
      2,
    );
    assert.equal(
      cli(["verify", "--approval-file", "ceremony/approval.txt", ...keyArgs("officer1"), "--required", "0"], dir).code,
      2,
    );
    assert.equal(
      cli(
        [
          "verify",
          "--approval-file",
          "ceremony/approval.txt",
          ...keyArgs("officer1"),
          "--required",
          "1",
          "hsm-requests/app7.yml",
        ],
        dir,
      ).code,
      2,
    );
  });

  describe("an evidence folder copied out of git", () => {
    const officers: Officer[] = names.map((name, i) => ({
      login: ["alice", "bob", "carol"][i] ?? name,
      officer: name,
      key: testKey(`cmu-${name}`),
    }));
    const policy = policyText({ cluster: "cluster-cmu", officers });
    const unpinned = policyText({ cluster: "cluster-cmu", officers, pins: { officer2: false } });
    const folder = join(dir, "hsm-requests", "app7.evidence");

    before(() => {
      const request = requestText("cluster-cmu", "app7");
      const approved = approveRequest(policy, "hsm-requests/app7.yml", request, {
        repository: "acme/hsm",
        pullRequest: 7,
        author: "dave",
        signers: officers.slice(0, 2),
        decidedAt: 1_800_000_000,
        cluster: clusterFacts(officers, 2),
      });
      for (const [path, content] of Object.entries(approved.files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      writeFileSync(join(dir, "policy.yml"), policy);
      writeFileSync(join(dir, "unpinned.yml"), unpinned);
    });

    it("openssl makes the very signature files the gate wrote", () => {
      for (const name of ["officer1", "officer2"]) {
        const out = join(dir, `${name}.openssl.sig`);
        sign(name, out, join(folder, "token.bin"));
        assert.deepEqual(
          readFileSync(out),
          readFileSync(join(folder, `${name}.sig`)),
          `${name}: PKCS#1 v1.5 signatures are deterministic`,
        );
      }
    });

    it("--policy: the keys of evidence.json the policy pins, M from evidence.json, the files checked against it; exit 0", () => {
      const r = cli(
        ["verify", "--approval-file", join("hsm-requests", "app7.evidence", "approval.txt"), "--policy", "policy.yml"],
        dir,
      );
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /required +2 officers: M as the gate recorded it in evidence\.json/);
      assert.match(r.out, /ok +token +token\.bin SHA-256 [0-9a-f]{64}, as recorded/);
      assert.match(r.out, /ok +approval_file/);
      assert.match(r.out, /ok +signature_files/);
    });

    it("a key the policy does not pin does not count: key_not_pinned, exit 1", () => {
      const r = cli(
        ["verify", "--approval-file", join(folder, "approval.txt"), "--policy", join(dir, "unpinned.yml")],
        dir,
      );
      assert.equal(r.code, 1);
      assert.match(r.out, /rejected +officer2 +officer2\.sig +key_not_pinned/);
    });

    it("a signature file replaced by an openssl signature with another key: signature_file_mismatch and bad_signature", () => {
      const copy = join(dir, "copy.evidence");
      cpSync(folder, copy, { recursive: true });
      sign("officer3", join(copy, "officer2.sig"), join(copy, "token.bin"));
      const r = cli(["verify", "--approval-file", join(copy, "approval.txt"), ...keyArgs("officer1", "officer2")], dir);
      assert.equal(r.code, 1);
      assert.match(r.out, /FAIL +signature_files +signature_file_mismatch +officer2\.sig: differs/);
      assert.match(r.out, /rejected +officer2 +officer2\.sig +bad_signature/);
      assert.match(r.out, /required +2 officers: M as the gate recorded it/, "M from the evidence.json beside it");
    });
  });
});
