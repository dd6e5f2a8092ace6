// The token approval file (docs/cloudhsm-behaviour.md, "The approval file"): the seed's example parses as written, the vendor's
// parsing rules hold, and every malformed file gets a clear error instead of an exception.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseApprovalFile,
  parseCount,
  renderApprovalFile,
  resolveApprovalPaths,
  tokenPathOf,
  type ApprovalFile,
} from "../../src/formats/approval-file.ts";
import { SEED_APPROVAL_FILE } from "../helpers/cmu-seeds.ts";

const SEED_PARSED: ApprovalFile = {
  multiTokenFilePath: "officer1.token",
  tokenFilePath: "",
  approvals: [
    { approverType: 2, approverName: "officer1", approvalFile: "officer1.token.sig1" },
    { approverType: 2, approverName: "officer2", approvalFile: "officer1.token.sig2" },
  ],
};

function errorOf(text: string): string {
  const r = parseApprovalFile(text);
  assert.equal(r.ok, false, `expected an error for:\n${text}`);
  return r.ok ? "" : r.error;
}

const header = (n: string | number = 1): string =>
  `Multi Token File Path = t.token;\nToken File Path = ;\nNumber of Approvals = ${n};\n`;
const block = (type: string | number, name: string, file: string): string =>
  `Approver Type = ${type};\nApprover Name = ${name};\nApproval File = ${file};\n`;

describe("approval file: the seed example", () => {
  it("parses to the two approvers of the seed", () => {
    assert.deepEqual(parseApprovalFile(SEED_APPROVAL_FILE), { ok: true, value: SEED_PARSED });
  });

  it("parses the same with CRLF line ends", () => {
    assert.deepEqual(parseApprovalFile(SEED_APPROVAL_FILE.replace(/\n/g, "\r\n")), { ok: true, value: SEED_PARSED });
  });

  it("renders a file that reads back to the same data, with the seed's field lines", () => {
    const text = renderApprovalFile(SEED_PARSED);
    assert.deepEqual(parseApprovalFile(text), { ok: true, value: SEED_PARSED });
    const fieldLines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    const seedFieldLines = SEED_APPROVAL_FILE.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    assert.deepEqual(fieldLines, seedFieldLines);
  });
});

describe("approval file: vendor parsing rules", () => {
  it("accepts header fields in any order and values after ':' or '=' runs", () => {
    const text = `Number of Approvals:1\nToken File Path =: ;\nMulti Token File Path  =  a b.token ; trailing\n${block(2, "o1", "s1")}`;
    const r = parseApprovalFile(text);
    assert.ok(r.ok);
    assert.equal(r.value.multiTokenFilePath, "a b.token");
    assert.equal(r.value.tokenFilePath, "");
  });

  it("accepts approver fields in any order within a block", () => {
    const text = `${header(2)}Approval File = s1;\nApprover Name = o1;\nApprover Type = 2;\nApprover Name = o2\nApprover Type = 1\nApproval File = s2\n`;
    const r = parseApprovalFile(text);
    assert.ok(r.ok);
    assert.deepEqual(r.value.approvals, [
      { approverType: 2, approverName: "o1", approvalFile: "s1" },
      { approverType: 1, approverName: "o2", approvalFile: "s2" },
    ]);
  });

  it("ignores a field with leading blanks, comments, and unknown lines", () => {
    const text = `  Multi Token File Path = wrong;\n${header(1)}# Approver Name = nobody;\nSomething = else;\n${block(2, "o1", "s1")}`;
    const r = parseApprovalFile(text);
    assert.ok(r.ok);
    assert.equal(r.value.multiTokenFilePath, "t.token");
    assert.equal(r.value.approvals[0]?.approverName, "o1");
  });

  it("requires the Token File Path line even when empty", () => {
    assert.match(
      errorOf(`Multi Token File Path = t;\nNumber of Approvals = 1;\n${block(2, "o", "s")}`),
      /Token File Path/,
    );
  });

  it("reads Number of Approvals in decimal or 0x hex", () => {
    assert.equal(parseCount("12"), 12);
    assert.equal(parseCount("0x14"), 20);
    assert.equal(parseCount("0X0a"), 10);
    assert.equal(parseCount("2abc"), null);
    assert.equal(parseCount(""), null);
    const r = parseApprovalFile(header("0x2") + block(2, "a", "s1") + block(2, "b", "s2"));
    assert.ok(r.ok);
    assert.equal(r.value.approvals.length, 2);
  });

  it("refuses more than 20 approvals with the vendor message", () => {
    assert.equal(errorOf(header(21)), "number of approvals in the file is more than 20");
    assert.equal(errorOf(header("0x15")), "number of approvals in the file is more than 20");
  });

  it("refuses a count that is not a number, or zero", () => {
    assert.match(errorOf(header("two")), /decimal or 0x-hex/);
    assert.match(errorOf(header(0)), /at least 1/);
  });

  it("reports missing approvers as the vendor does", () => {
    assert.equal(errorOf(header(2) + block(2, "o1", "s1")), "Could only read 1/2 approvers info");
    assert.equal(
      errorOf(`${header(1)}Approver Type = 2;\nApprover Name = o1;\n`),
      "Could only read 0/1 approvers info",
    );
  });

  it("accepts only approver types 1 (CU) and 2 (CO)", () => {
    assert.equal(errorOf(header(1) + block(3, "o1", "s1")), "Invalid User Type 3 for o1");
    assert.match(errorOf(header(1) + block("CO", "o1", "s1")), /Failed to read Approver Details/);
  });

  it("refuses empty names and files, and a field repeated inside a block", () => {
    assert.match(errorOf(header(1) + block(2, "", "s1")), /Failed to read Approver Details: empty "Approver Name"/);
    assert.match(errorOf(header(1) + block(2, "o1", "")), /Failed to read Approver Details: empty "Approval File"/);
    assert.match(
      errorOf(`${header(1)}Approver Type = 2;\nApprover Type = 2;\nApprover Name = o;\nApproval File = s;\n`),
      /repeats "Approver Type"/,
    );
  });

  it("refuses a duplicated header field and a file with no token path at all", () => {
    assert.match(errorOf(`Token File Path = ;\nToken File Path = x;\n${header(1)}`), /appears twice/);
    assert.match(
      errorOf(`Multi Token File Path = ;\nToken File Path = ;\nNumber of Approvals = 1;\n${block(2, "o", "s")}`),
      /no token file/,
    );
  });

  it("does not take 'Token File Pathology' for 'Token File Path'", () => {
    assert.match(
      errorOf(`Multi Token File Path = t;\nToken File Pathology = x;\nNumber of Approvals = 1;\n${block(2, "o", "s")}`),
      /Token File Path/,
    );
  });

  it("refuses binary input", () => {
    assert.match(errorOf("Multi Token File Path = t\u0000;"), /not a text file/);
  });
});

describe("approval file: paths", () => {
  it("resolves relative paths against the approval file's directory and keeps absolute ones", () => {
    const parsed = parseApprovalFile(header(2) + block(2, "a", "sig/a.sig") + block(2, "b", "/abs/b.sig"));
    assert.ok(parsed.ok);
    const r = resolveApprovalPaths(parsed.value, "/ceremony");
    assert.equal(r.multiTokenFilePath, "/ceremony/t.token");
    assert.equal(r.tokenFilePath, "");
    assert.deepEqual(
      r.approvals.map((a) => a.approvalFile),
      ["/ceremony/sig/a.sig", "/abs/b.sig"],
    );
  });

  it("uses the single-token path only when the multi-token path is empty", () => {
    assert.equal(tokenPathOf({ multiTokenFilePath: "m", tokenFilePath: "s", approvals: [] }), "m");
    assert.equal(tokenPathOf({ multiTokenFilePath: "", tokenFilePath: "s", approvals: [] }), "s");
  });
});
