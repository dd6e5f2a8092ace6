// The policy file (.github/quorum-gate.yml): defaults, both officer forms, and a stable code for
// every mistake.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { fingerprint } from "../../src/crypto/rsa.ts";
import type { IssueCode } from "../../src/gate/issues.ts";
import { testKey } from "../helpers/keys.ts";
import {
  DEFAULT_REQUEST_FOLDER,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  MAX_OFFICERS,
  isRequestPath,
  officerOfLogin,
  parsePolicy,
  type Policy,
} from "../../src/gate/policy.ts";

const FP = "ab".repeat(32);
const bytes = (text: string): Buffer => Buffer.from(text, "utf8");

function codesOf(text: string): IssueCode[] {
  const r = parsePolicy(bytes(text));
  assert.equal(r.ok, false, `expected issues for:\n${text}`);
  return r.ok ? [] : r.issues.map((i) => i.code);
}

function policyOf(text: string): Policy {
  const r = parsePolicy(bytes(text));
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
  return r.policy;
}

/** A PEM as the body of a YAML block scalar under an officer's fields. */
const indent = (pem: string): string =>
  pem
    .trimEnd()
    .split("\n")
    .map((l) => `      ${l}\n`)
    .join("");

const fp = (pem: string): string => fingerprint(createPublicKey(pem));
const pemOf = (type: "rsa" | "ec", bits: number): string => {
  const { publicKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: bits })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return publicKey.export({ type: "spki", format: "pem" }).toString();
};
const withKey = (pem: string, extra = ""): string =>
  `version: 1\ncluster: c\nofficers:\n  alice:\n    officer: officer1\n${extra}    public_key: |\n${indent(pem)}`;

const MINIMAL = "version: 1\ncluster: cluster-abc123\nofficers:\n  alice: officer1\n";

describe("policy: valid files", () => {
  it("fills the defaults", () => {
    assert.deepEqual(policyOf(MINIMAL), {
      version: 1,
      cluster: "cluster-abc123",
      backend: "emulator",
      requestFolder: DEFAULT_REQUEST_FOLDER,
      allowSelfApproval: true,
      tokenLifetimeSeconds: DEFAULT_TOKEN_LIFETIME_SECONDS,
      approvalLifetimeSeconds: 7 * 24 * 3600,
      officers: [{ login: "alice", officer: "officer1" }],
    });
  });

  it("reads every field, both officer forms, and normalises case", () => {
    const p = policyOf(
      `version: 1\ncluster: cluster-abc123\nrequest_folder: ops/hsm\nallow_self_approval: false\ntoken_lifetime_seconds: 3600\napproval_lifetime_seconds: 86400\nofficers:\n  Alice: Officer1\n  bob:\n    officer: officer2\n    key_fingerprint: SHA256:${FP.toUpperCase()}\n`,
    );
    assert.deepEqual(p, {
      version: 1,
      cluster: "cluster-abc123",
      backend: "emulator",
      requestFolder: "ops/hsm/",
      allowSelfApproval: false,
      tokenLifetimeSeconds: 3600,
      approvalLifetimeSeconds: 86400,
      officers: [
        { login: "alice", officer: "officer1" },
        { login: "bob", officer: "officer2", keyFingerprint: FP },
      ],
    });
  });

  it("reads the backend, the emulator by default", () => {
    assert.equal(policyOf(MINIMAL).backend, "emulator");
    assert.equal(policyOf(`${withKey(testKey("officer1").publicPem)}backend: cloudhsm-cli\n`).backend, "cloudhsm-cli");
    assert.equal(policyOf(`${MINIMAL}backend: emulator\n`).backend, "emulator");
  });

  it("reads a pinned public key per officer as a YAML block, pinning the registered key too", () => {
    const alice = testKey("officer1");
    const big = testKey("officer2-3072", 3072);
    const p = policyOf(
      `version: 1\ncluster: c\nbackend: cloudhsm-cli\nofficers:\n  alice:\n    officer: officer1\n    public_key: |\n${indent(alice.publicPem)}  bob:\n    officer: officer2\n    public_key: |\n${indent(big.publicPem)}`,
    );
    assert.deepEqual(p.officers[0], {
      login: "alice",
      officer: "officer1",
      keyFingerprint: fp(alice.publicPem),
      publicKeyPem: alice.publicPem,
    });
    assert.equal(p.officers[1]?.publicKeyPem, big.publicPem, "RSA above 2048 bits is accepted");
    assert.equal(p.officers[1]?.keyFingerprint, fp(big.publicPem));
    const pinned = policyOf(
      `version: 1\ncluster: c\nofficers:\n  alice:\n    officer: officer1\n    key_fingerprint: ${fp(alice.publicPem)}\n    public_key: |\n${indent(alice.publicPem)}`,
    );
    assert.equal(pinned.officers[0]?.publicKeyPem, alice.publicPem, "a fingerprint naming the same key is fine");
  });

  it("accepts a colon-separated fingerprint", () => {
    const colons = FP.match(/../g)?.join(":") ?? "";
    const p = policyOf(`version: 1\ncluster: c\nofficers:\n  bob: {officer: officer2, key_fingerprint: "${colons}"}\n`);
    assert.equal(p.officers[0]?.keyFingerprint, FP);
  });

  it("finds officers by login, case-insensitively", () => {
    const p = policyOf(MINIMAL);
    assert.equal(officerOfLogin(p, "ALICE")?.officer, "officer1");
    assert.equal(officerOfLogin(p, "mallory"), undefined);
  });

  it("knows which paths are request files", () => {
    const p = policyOf(MINIMAL);
    const table: [string, boolean][] = [
      ["hsm-requests/app7.yml", true],
      ["hsm-requests/app7.yaml", true],
      ["hsm-requests/app7.yml.txt", false],
      ["hsm-requests/sub/app7.yml", false],
      ["other/app7.yml", false],
      ["hsm-requests/app7.evidence/evidence.json", false],
    ];
    for (const [path, expected] of table) assert.equal(isRequestPath(p, path), expected, path);
  });
});

describe("policy: bad files get stable codes", () => {
  const cases: { name: string; text: string; codes: IssueCode[] }[] = [
    { name: "not YAML", text: "officers: [\n", codes: ["invalid_yaml"] },
    { name: "unknown field", text: `${MINIMAL}quorum: 1\n`, codes: ["unknown_field"] },
    { name: "no officers field", text: "version: 1\ncluster: c\n", codes: ["missing_field"] },
    { name: "empty officers", text: "version: 1\ncluster: c\nofficers: {}\n", codes: ["no_officers"] },
    { name: "officers as a list", text: "version: 1\ncluster: c\nofficers:\n  - alice\n", codes: ["wrong_type"] },
    { name: "version 2", text: MINIMAL.replace("version: 1", "version: 2"), codes: ["unsupported_version"] },
    { name: "missing cluster", text: "version: 1\nofficers:\n  alice: officer1\n", codes: ["missing_field"] },
    { name: "bad request folder", text: `${MINIMAL}request_folder: ../secrets\n`, codes: ["bad_folder"] },
    { name: "absolute request folder", text: `${MINIMAL}request_folder: /etc\n`, codes: ["bad_folder"] },
    { name: "bad boolean", text: `${MINIMAL}allow_self_approval: yes\n`, codes: ["bad_boolean"] },
    { name: "lifetime too short", text: `${MINIMAL}token_lifetime_seconds: 59\n`, codes: ["bad_lifetime"] },
    { name: "lifetime too long", text: `${MINIMAL}token_lifetime_seconds: 604801\n`, codes: ["bad_lifetime"] },
    { name: "lifetime not a number", text: `${MINIMAL}token_lifetime_seconds: 1h\n`, codes: ["bad_lifetime"] },
    { name: "unknown backend", text: `${MINIMAL}backend: cloudhsm\n`, codes: ["bad_backend"] },
    {
      name: "approval lifetime under 5 minutes",
      text: `${MINIMAL}approval_lifetime_seconds: 299\n`,
      codes: ["bad_lifetime"],
    },
    {
      name: "approval lifetime over 30 days",
      text: `${MINIMAL}approval_lifetime_seconds: 2592001\n`,
      codes: ["bad_lifetime"],
    },
    { name: "bad login", text: `${MINIMAL}  -bad-: officer2\n`, codes: ["bad_login"] },
    { name: "login twice, other case", text: `${MINIMAL}  ALICE: officer2\n`, codes: ["duplicate_login"] },
    { name: "officer twice", text: `${MINIMAL}  bob: OFFICER1\n`, codes: ["duplicate_officer"] },
    { name: "bad officer name", text: `${MINIMAL}  bob: officer-2\n`, codes: ["bad_name"] },
    { name: "empty officer", text: `${MINIMAL}  bob:\n`, codes: ["bad_name"] },
    {
      name: "bad fingerprint",
      text: `${MINIMAL}  bob: {officer: officer2, key_fingerprint: abc}\n`,
      codes: ["bad_fingerprint"],
    },
    { name: "public key of 1024 bits", text: withKey(pemOf("rsa", 1024)), codes: ["bad_public_key"] },
    { name: "public key that is not RSA", text: withKey(pemOf("ec", 0)), codes: ["bad_public_key"] },
    {
      name: "public key that is not PEM",
      text: `${MINIMAL}  bob: {officer: officer2, public_key: hello}\n`,
      codes: ["bad_public_key"],
    },
    {
      name: "public key that another fingerprint names",
      text: withKey(pemOf("rsa", 2048), `    key_fingerprint: ${FP}\n`),
      codes: ["bad_public_key"],
    },
    {
      name: "cloudhsm-cli without an officer's public key",
      text: `${withKey(pemOf("rsa", 2048))}  bob: officer2\nbackend: cloudhsm-cli\n`,
      codes: ["missing_public_key"],
    },
    {
      name: "unknown officer field",
      text: `${MINIMAL}  bob: {officer: officer2, admin: true}\n`,
      codes: ["unknown_field"],
    },
    {
      name: "officer form without officer",
      text: `${MINIMAL}  bob: {key_fingerprint: ${FP}}\n`,
      codes: ["missing_field"],
    },
    {
      name: "too many officers",
      text: `version: 1\ncluster: c\nofficers:\n${Array.from({ length: MAX_OFFICERS + 1 }, (_, i) => `  user${i}: officer${i}\n`).join("")}`,
      codes: ["too_many_officers"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(codesOf(c.text), c.codes));
  }
});
