// Property test over the shell's three parsers of user input: the approval file, the authdata
// file and the command line. Thousands of generated and mutated inputs from a seeded PRNG (so a
// failure can be replayed): none may throw, and each answers ok or a non-empty error.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { COMMAND_NAMES } from "../../src/cmu/commands/index.ts";
import { parseLine } from "../../src/cmu/line-parser.ts";
import { parseApprovalFile, renderApprovalFile } from "../../src/formats/approval-file.ts";
import { parseAuthData, renderAuthData } from "../../src/formats/authdata.ts";
import { SEED_APPROVAL_FILE } from "../helpers/cmu-seeds.ts";
import { prng } from "../helpers/prng.ts";
import { mutate, pick } from "../helpers/mutate.ts";

const SEED = 0x5eed_c0de;
const ROUNDS = 4000;

const FRAGMENTS = [
  "Multi Token File Path",
  "Token File Path",
  "Number of Approvals",
  "Approver Type",
  "Approver Name",
  "Approval File",
  " = ",
  ":",
  "=",
  ";",
  "#",
  "\n",
  "\r\n",
  " ",
  "\t",
  "0x",
  "0x14",
  "21",
  "2",
  "1",
  "3",
  "-1",
  "officer1",
  "\u0000",
  "\u00e9",
  "\ud83d\ude00",
  '"',
  "\\",
  "{",
  "}",
  "[",
  "]",
  ",",
  "Version",
  "PublicKey",
  "Data",
  "HsmId",
  "Digest",
  "Signature",
  "1.0",
  "null",
  "true",
  "-----BEGIN PUBLIC KEY-----",
  "\\n",
  "AAAA",
  "====",
  "\u201c",
  "\u201d",
  "createUser",
  "-2fa",
  "-hpswd",
  "listU",
  "get",
];

function randomText(rnd: () => number): string {
  let s = "";
  const n = Math.floor(rnd() * 30);
  for (let i = 0; i < n; i++) s += pick(rnd, FRAGMENTS);
  return s;
}

function assertResult(r: { ok: boolean; error?: string }, input: string): void {
  assert.equal(typeof r.ok, "boolean");
  if (!r.ok) assert.ok(typeof r.error === "string" && r.error.length > 0, `empty error for ${JSON.stringify(input)}`);
}

describe("fuzz: user-input parsers never throw", () => {
  it(`approval file: ${ROUNDS} mutated and generated files`, () => {
    const rnd = prng(SEED);
    const rendered = renderApprovalFile({
      multiTokenFilePath: "t.token",
      tokenFilePath: "",
      approvals: [1, 2, 3].map((n) => ({
        approverType: 2 as const,
        approverName: `officer${n}`,
        approvalFile: `s${n}`,
      })),
    });
    let oks = 0;
    for (let i = 0; i < ROUNDS; i++) {
      let text = i % 5 === 0 ? randomText(rnd) : rnd() < 0.5 ? SEED_APPROVAL_FILE : rendered;
      const edits = 1 + Math.floor(rnd() * 4);
      for (let e = 0; e < edits; e++) text = mutate(rnd, text, FRAGMENTS);
      const r = parseApprovalFile(text);
      assertResult(r, text);
      if (r.ok) {
        oks++;
        assert.ok(r.value.approvals.length >= 1 && r.value.approvals.length <= 20);
        for (const a of r.value.approvals)
          assert.ok(a.approverName !== "" && a.approvalFile !== "" && (a.approverType === 1 || a.approverType === 2));
      }
    }
    // The mutations must leave some files valid, or the test would only exercise error paths.
    assert.ok(oks > ROUNDS / 20, `only ${oks} valid files`);
  });

  it(`authdata: ${ROUNDS} mutated and generated files`, () => {
    const rnd = prng(SEED + 1);
    const digest = randomBytes(32).toString("base64");
    const base = renderAuthData([
      { hsmId: "hsm-aaaaaaaaaaa", digest },
      { hsmId: "hsm-bbbbbbbbbbb", digest },
    ]);
    let oks = 0;
    for (let i = 0; i < ROUNDS; i++) {
      let text = i % 5 === 0 ? randomText(rnd) : base;
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) text = mutate(rnd, text, FRAGMENTS);
      const r = parseAuthData(text);
      assertResult(r, text);
      if (r.ok) {
        oks++;
        for (const entry of r.value.entries) assert.equal(entry.digestBytes.length, 32);
      }
    }
    assert.ok(oks > ROUNDS / 50, `only ${oks} valid files`);
  });

  it(`command line: ${ROUNDS} generated lines`, () => {
    const rnd = prng(SEED + 2);
    for (let i = 0; i < ROUNDS; i++) {
      let line = `${pick(rnd, [...COMMAND_NAMES, "", "x"])} ${randomText(rnd)}`;
      if (rnd() < 0.5) line = mutate(rnd, line, FRAGMENTS);
      const r = parseLine(line, COMMAND_NAMES);
      assert.ok(
        r.kind === "empty" || r.kind === "command" || (r.kind === "error" && r.message.length > 0),
        JSON.stringify(line),
      );
      if (r.kind === "command") assert.ok(COMMAND_NAMES.includes(r.name));
    }
  });
});
