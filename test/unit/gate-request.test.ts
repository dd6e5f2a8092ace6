// Request files (docs/requests.md): every operation kind parses to its typed value; every kind of
// bad input gets its stable code, with a path and a line, and never an exception.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import type { IssueCode } from "../../src/gate/issues.ts";
import { MAX_REQUEST_BYTES, parseRequest, requestDigest, type GateRequest } from "../../src/gate/request.ts";

const SEALED = Buffer.alloc(256, 0x5a).toString("base64");
const bytes = (text: string): Buffer => Buffer.from(text, "utf8");

function request(operation: string, extra = ""): string {
  return `version: 1\ncluster: cluster-abc123\noperation:\n${operation}reason: onboard the payments service\n${extra}`;
}

function codesOf(text: string | Uint8Array): IssueCode[] {
  const r = parseRequest(typeof text === "string" ? bytes(text) : text);
  assert.equal(r.ok, false, `expected issues for:\n${String(text)}`);
  return r.ok ? [] : r.issues.map((i) => i.code);
}

describe("request: valid files", () => {
  const cases: { name: string; text: string; expect: GateRequest }[] = [
    {
      name: "createUser (name canonicalised to lower case, base64 canonicalised)",
      text: request(
        `  kind: createUser\n  type: CU\n  name: App7\n  sealed_password: >-\n    ${SEALED.slice(0, 100)}\n    ${SEALED.slice(100)}\n`,
        "requested_by: '@octo-cat'\n",
      ),
      expect: {
        version: 1,
        cluster: "cluster-abc123",
        operation: { kind: "createUser", userType: "CU", userName: "app7", sealedPassword: SEALED },
        reason: "onboard the payments service",
        requestedBy: "octo-cat",
      },
    },
    {
      name: "deleteUser",
      text: request("  kind: deleteUser\n  type: CO\n  name: officer9\n"),
      expect: {
        version: 1,
        cluster: "cluster-abc123",
        operation: { kind: "deleteUser", userType: "CO", userName: "officer9" },
        reason: "onboard the payments service",
      },
    },
    {
      name: "changePswd",
      text: request(`  kind: changePswd\n  type: CU\n  name: app_7\n  sealed_password: "${SEALED}"\n`),
      expect: {
        version: 1,
        cluster: "cluster-abc123",
        operation: { kind: "changePswd", userType: "CU", userName: "app_7", sealedPassword: SEALED },
        reason: "onboard the payments service",
      },
    },
    {
      name: "setMValue",
      text: request("  kind: setMValue\n  service: 3\n  value: 2\n"),
      expect: {
        version: 1,
        cluster: "cluster-abc123",
        operation: { kind: "setMValue", service: 3, value: 2 },
        reason: "onboard the payments service",
      },
    },
    {
      name: "a multi-line reason, quoted version, CRLF",
      text: `version: "1"\r\ncluster: cluster-abc123\r\noperation: {kind: setMValue, service: 4, value: 8}\r\nreason: |\r\n  line one\r\n  line two\r\n`,
      expect: {
        version: 1,
        cluster: "cluster-abc123",
        operation: { kind: "setMValue", service: 4, value: 8 },
        reason: "line one\nline two",
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseRequest(bytes(c.text));
      assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
      assert.deepEqual(r.request, c.expect);
    });
  }

  it("digests the exact bytes: one added space is another request", () => {
    const text = request("  kind: deleteUser\n  type: CU\n  name: app7\n");
    const r1 = parseRequest(bytes(text));
    const r2 = parseRequest(bytes(`${text} `));
    assert.equal(r1.digest, createHash("sha256").update(text).digest("hex"));
    assert.equal(r1.digest, requestDigest(bytes(text)));
    assert.notEqual(r1.digest, r2.digest);
    assert.ok(r1.ok && r2.ok);
    assert.deepEqual(r1.request, r2.request);
  });

  it("a bad file still has its digest", () => {
    const r = parseRequest(bytes("nonsense"));
    assert.equal(r.digest, requestDigest(bytes("nonsense")));
  });
});

describe("request: bad files get stable codes", () => {
  const createOp = (fields: string): string => request(`  kind: createUser\n${fields}`);
  const cases: { name: string; text: string | Uint8Array; codes: IssueCode[] }[] = [
    { name: "not YAML", text: "version: 1\ncluster: 'open\n", codes: ["invalid_yaml"] },
    { name: "duplicate key", text: "version: 1\nversion: 1\n", codes: ["invalid_yaml"] },
    {
      name: "two documents",
      text: `${request("  kind: deleteUser\n  type: CU\n  name: a\n")}---\nversion: 1\n`,
      codes: ["invalid_yaml"],
    },
    {
      name: "alias",
      text: request("  kind: deleteUser\n  type: &t CU\n  name: *t\n"),
      codes: ["invalid_yaml", "invalid_yaml"],
    },
    {
      name: "explicit tag",
      text: request("  kind: deleteUser\n  type: !!str CU\n  name: a\n"),
      codes: ["invalid_yaml"],
    },
    {
      name: "binary tag",
      text: request("  kind: deleteUser\n  type: CU\n  name: !!binary YQ==\n"),
      codes: ["invalid_yaml"],
    },
    { name: "a list, not a mapping", text: "- version: 1\n", codes: ["wrong_type"] },
    { name: "empty file", text: "", codes: ["wrong_type"] },
    { name: "not UTF-8", text: Buffer.from([0x76, 0x3a, 0x20, 0xff, 0xfe]), codes: ["not_text"] },
    { name: "NUL", text: "version: 1\u0000\n", codes: ["not_text"] },
    { name: "too large", text: `reason: ${"x".repeat(MAX_REQUEST_BYTES)}\n`, codes: ["too_large"] },
    {
      name: "unknown top-level field",
      text: request("  kind: deleteUser\n  type: CU\n  name: a\n", "approved: true\n"),
      codes: ["unknown_field"],
    },
    {
      name: "missing everything",
      text: "requested_by: alice\n",
      codes: ["missing_field", "missing_field", "missing_field", "missing_field"],
    },
    {
      name: "version 2",
      text: request("  kind: deleteUser\n  type: CU\n  name: a\n").replace("version: 1", "version: 2"),
      codes: ["unsupported_version"],
    },
    {
      name: "version as a word",
      text: request("  kind: deleteUser\n  type: CU\n  name: a\n").replace("version: 1", "version: one"),
      codes: ["unsupported_version"],
    },
    {
      name: "bad cluster id",
      text: request("  kind: deleteUser\n  type: CU\n  name: a\n").replace("cluster-abc123", "'cluster abc'"),
      codes: ["bad_cluster"],
    },
    {
      name: "operation as a string",
      text: "version: 1\ncluster: c1\noperation: createUser\nreason: r\n",
      codes: ["wrong_type"],
    },
    { name: "unknown operation", text: request("  kind: dropTables\n  name: a\n"), codes: ["unknown_operation"] },
    { name: "operation without kind", text: request("  type: CU\n  name: a\n"), codes: ["missing_field"] },
    {
      name: "field of another operation",
      text: request("  kind: deleteUser\n  type: CU\n  name: a\n  value: 3\n"),
      codes: ["unknown_field"],
    },
    {
      name: "bad user type",
      text: createOp(`  type: PCO\n  name: a\n  sealed_password: ${SEALED}\n`),
      codes: ["bad_user_type"],
    },
    {
      name: "lower-case user type",
      text: createOp(`  type: cu\n  name: a\n  sealed_password: ${SEALED}\n`),
      codes: ["bad_user_type"],
    },
    {
      name: "bad name",
      text: createOp(`  type: CU\n  name: app-7\n  sealed_password: ${SEALED}\n`),
      codes: ["bad_name"],
    },
    {
      name: "name too long",
      text: createOp(`  type: CU\n  name: ${"a".repeat(32)}\n  sealed_password: ${SEALED}\n`),
      codes: ["bad_name"],
    },
    {
      name: "name as a list",
      text: createOp(`  type: CU\n  name: [a]\n  sealed_password: ${SEALED}\n`),
      codes: ["wrong_type"],
    },
    {
      name: "plaintext password",
      text: createOp("  type: CU\n  name: a\n  password: hunter2hunter2\n"),
      codes: ["plaintext_password", "missing_field"],
    },
    {
      name: "plaintext password, any spelling, anywhere",
      text: request(`  kind: createUser\n  type: CU\n  name: a\n  sealed_password: ${SEALED}\n`, "New-Password: x\n"),
      codes: ["plaintext_password"],
    },
    {
      name: "pswd",
      text: createOp(`  type: CU\n  name: a\n  sealed_password: ${SEALED}\n  pswd: x\n`),
      codes: ["plaintext_password"],
    },
    {
      name: "sealed password that is plaintext",
      text: createOp("  type: CU\n  name: a\n  sealed_password: hunter2hunter2\n"),
      codes: ["bad_sealed_password"],
    },
    {
      name: "sealed password of the wrong size",
      text: createOp(`  type: CU\n  name: a\n  sealed_password: ${Buffer.alloc(128).toString("base64")}\n`),
      codes: ["bad_sealed_password"],
    },
    { name: "bad service", text: request("  kind: setMValue\n  service: 5\n  value: 2\n"), codes: ["bad_service"] },
    { name: "bad M value", text: request("  kind: setMValue\n  service: 3\n  value: 9\n"), codes: ["bad_value"] },
    { name: "M value 1", text: request("  kind: setMValue\n  service: 3\n  value: 1\n"), codes: ["bad_value"] },
    { name: "M value as hex", text: request("  kind: setMValue\n  service: 3\n  value: 0x2\n"), codes: ["bad_value"] },
    {
      name: "reason too long",
      text: request("  kind: deleteUser\n  type: CU\n  name: a\n").replace(
        "onboard the payments service",
        "x".repeat(1001),
      ),
      codes: ["bad_reason"],
    },
    {
      name: "reason with a bidi override",
      text: request("  kind: deleteUser\n  type: CU\n  name: a\n").replace(
        "onboard the payments service",
        '"onboard \\u202e the payments service"',
      ),
      codes: ["bad_reason"],
    },
    {
      name: "bad requested_by",
      text: request("  kind: deleteUser\n  type: CU\n  name: a\n", "requested_by: not a login\n"),
      codes: ["bad_login"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(codesOf(c.text), c.codes));
  }

  it("reports issues with paths and lines, in file order", () => {
    const r = parseRequest(
      bytes(
        "version: 1\ncluster: c1\noperation:\n  kind: createUser\n  type: XX\n  name: a-b\n  password: p\nreason: r\n",
      ),
    );
    assert.ok(!r.ok);
    assert.deepEqual(
      r.issues.map((i) => [i.code, i.path, i.line]),
      [
        ["plaintext_password", "operation.password", 7],
        ["missing_field", "operation.sealed_password", 3],
        ["bad_user_type", "operation.type", 5],
        ["bad_name", "operation.name", 6],
      ],
    );
  });

  it("warns about a plaintext password even when the YAML is broken or not a mapping", () => {
    const broken = parseRequest(bytes("version: 1\noperation:\n  password: hunter2hunter2\nreason: 'unclosed\n"));
    assert.ok(!broken.ok);
    assert.deepEqual(broken.issues.map((i) => [i.code, i.line]).slice(0, 1), [["plaintext_password", 3]]);
    assert.ok(broken.issues.some((i) => i.code === "invalid_yaml"));
    const list = parseRequest(bytes("- password: hunter2hunter2\n"));
    assert.ok(!list.ok);
    assert.deepEqual(
      list.issues.map((i) => i.code),
      ["plaintext_password", "wrong_type"],
    );
    const sealedOnly = parseRequest(bytes(`sealed_password: x\nreason: 'unclosed\n`));
    assert.ok(!sealedOnly.ok && sealedOnly.issues.every((i) => i.code === "invalid_yaml"));
  });

  it("never echoes a sealed or plaintext password in a message", () => {
    const secret = "CorrectHorseBattery";
    for (const text of [
      request(`  kind: createUser\n  type: CU\n  name: a\n  sealed_password: ${secret}\n`),
      request(`  kind: createUser\n  type: CU\n  name: a\n  password: ${secret}\n`),
      `version: 1\ncluster: c\noperation: {kind: createUser, type: CU, name: a, sealed_password: '${secret}\n`,
    ]) {
      const r = parseRequest(bytes(text));
      assert.ok(!r.ok);
      assert.ok(!JSON.stringify(r.issues).includes(secret), JSON.stringify(r.issues));
    }
  });
});
