// verifyWindowRecord (src/audit/verify-window.ts): a record the gate would write verifies, and
// each way a record can claim more than happened is its own stable code. Records are built with
// the gate's own builder (src/gate/window-record.ts) from keys generated at run time.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { verifyWindowRecord, type WindowRecordInput, type WindowSubject } from "../../src/audit/verify-window.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import type { EvidenceRecord } from "../../src/gate/evidence-document.ts";
import { renderApprovalFile } from "../../src/gate/execution-window.ts";
import { parsePolicy } from "../../src/gate/policy.ts";
import {
  buildWindowRecord,
  windowRecordRef,
  type WindowRecordInput as BuildInput,
} from "../../src/gate/window-record.ts";
import { policyText } from "../helpers/git-repo.ts";
import { testKey } from "../helpers/keys.ts";

const OFFICERS = [
  { login: "alice", officer: "officer1", key: testKey("officer1") },
  { login: "bob", officer: "officer2", key: testKey("officer2") },
  { login: "carol", officer: "officer3", key: testKey("officer3") },
];
const parsed = parsePolicy(
  Buffer.from(
    policyText({ cluster: "cluster-1", officers: OFFICERS, backend: "cloudhsm-cli", allowSelfApproval: false }),
  ),
);
assert.ok(parsed.ok);
const policy = parsed.policy;

const MERGE = "a".repeat(40);
const OPENED = 1_800_000_000;
const DEADLINE = OPENED + 595;
const iso = (s: number): string => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const UNTIL = iso(OPENED + 86_400);
const DIGEST = "b".repeat(64);
const PATH = "hsm-requests/app1.yml";
const evidence = {
  repository: "acme/real",
  pullRequest: 7,
  pullRequestAuthor: "dave",
  required: 2,
  request: { path: PATH, sha256: DIGEST },
} as unknown as EvidenceRecord;
const payloadOf = (until: string): Uint8Array => Buffer.from(`payload of ${PATH} until ${until}`);
const subject: WindowSubject = { landingCommit: MERGE, evidence, policy, payloadOf };

const approvalData = Buffer.from("records of the HSMs");
const tokenFile = Buffer.from(
  `${JSON.stringify({ version: "2.0", approval_data: approvalData.toString("base64"), token: createHash("sha256").update(approvalData).digest("base64"), signatures: [] })}\n`,
);

function countersignature(i: number, over: Partial<{ at: number; until: string; data: Uint8Array }> = {}) {
  const o = OFFICERS[i] ?? OFFICERS[0];
  if (o === undefined) throw new Error("no officer");
  const until = over.until ?? UNTIL;
  return {
    officer: o.officer,
    githubLogin: o.login,
    candidateId: `issue_comment:${100 + i}`,
    createdAt: iso(over.at ?? OPENED + 30),
    signature: signMessage(over.data ?? approvalData, o.key.privateKey).toString("base64"),
    approval: {
      candidateId: `issue_comment:${i}`,
      createdAt: iso(OPENED - 86_400),
      until,
      signature: signMessage(payloadOf(until), o.key.privateKey).toString("base64"),
    },
  };
}

type Countersignature = ReturnType<typeof countersignature>;

function record(
  signatures: readonly Countersignature[] = [countersignature(0), countersignature(1)],
  edit: Partial<BuildInput> = {},
  state: "applied" | "lapsed" = "applied",
): WindowRecordInput {
  const approvalFile =
    state === "applied"
      ? renderApprovalFile(
          tokenFile,
          signatures.map((s) => ({ officer: s.officer, signature: Buffer.from(s.signature, "base64") })),
        )
      : null;
  const built = buildWindowRecord({
    repository: "acme/real",
    pullRequest: 7,
    requestPath: PATH,
    requestDigest: DIGEST,
    mergeCommit: MERGE,
    openedAt: OPENED,
    deadline: DEADLINE,
    required: 2,
    tokenFile,
    countersignatures: signatures,
    approvalFile,
    result: { state, at: OPENED + 60, code: state === "lapsed" ? "window_lapsed" : null, message: "done" },
    ...edit,
  });
  const files = new Map(built.files.map((f) => [f.path.slice(built.folder.length), f.content]));
  return {
    ref: windowRecordRef(7, OPENED),
    commit: "c".repeat(40),
    parents: [MERGE],
    changedPaths: built.files.map((f) => f.path),
    files,
  };
}

const codes = (input: WindowRecordInput): string[] => verifyWindowRecord(input, subject).failures.map((f) => f.code);

describe("verifyWindowRecord", () => {
  it("a record the gate writes verifies: who countersigned, the result", () => {
    const v = verifyWindowRecord(record(), subject);
    assert.deepEqual(v.failures, []);
    assert.equal(v.holds, true);
    assert.equal(v.result, "applied");
    assert.deepEqual(v.countersignedBy, ["officer1", "officer2"]);
  });

  it("a lapsed window with one countersignature and no approval file verifies as lapsed", () => {
    const v = verifyWindowRecord(record([countersignature(0)], {}, "lapsed"), subject);
    assert.deepEqual([v.holds, v.result, v.countersignedBy], [true, "lapsed", ["officer1"]]);
  });

  it("a record on another commit, or named for another pull request: record_misplaced", () => {
    assert.deepEqual(codes({ ...record(), parents: ["d".repeat(40)] }), ["record_misplaced"]);
    assert.deepEqual(codes({ ...record(), ref: windowRecordRef(8, OPENED) }), ["record_misplaced"]);
  });

  it("a commit that also changes other files: record_outside_folder", () => {
    const r = record();
    assert.deepEqual(codes({ ...r, changedPaths: [...r.changedPaths, ".github/quorum-gate.yml"] }), [
      "record_outside_folder",
    ]);
  });

  it("window.json for another request, another merge or another opening: record_mismatch", () => {
    assert.deepEqual(codes(record(undefined, { requestDigest: "e".repeat(64) })), ["record_mismatch"]);
    assert.deepEqual(codes(record(undefined, { mergeCommit: "f".repeat(40) })), ["record_mismatch"]);
  });

  it("window.json or token.json missing or malformed: record_unreadable", () => {
    const r = record();
    const without = (name: string, bytes?: Uint8Array) => {
      const files = new Map(r.files);
      if (bytes === undefined) files.delete(name);
      else files.set(name, bytes);
      return { ...r, files };
    };
    assert.deepEqual(codes(without("window.json")), ["record_unreadable"]);
    assert.deepEqual(codes(without("window.json", Buffer.from("{}"))), ["record_unreadable"]);
    assert.deepEqual(codes(without("token.json", Buffer.from('{"version":"2.0"}'))), ["record_unreadable"]);
  });

  it("countersignatures that were not the officer's to give, or do not verify: bad_countersignature", () => {
    const cases: [string, Countersignature, RegExp][] = [
      ["over other bytes", countersignature(1, { data: Buffer.from("another token") }), /does not verify over token/],
      ["before the window", countersignature(1, { at: OPENED - 1 }), /outside the window/],
      ["after the deadline", countersignature(1, { at: DEADLINE + 1 }), /outside the window/],
      ["an approval lapsed before the window", countersignature(1, { until: iso(OPENED - 1) }), /approval lapsed/],
      ["under another login", { ...countersignature(1), githubLogin: "mallory" }, /not mapped to officer officer2/],
      ["the author's", { ...countersignature(1), githubLogin: "dave" }, /not mapped/],
      ["twice", countersignature(0), /counted twice/],
      [
        "an approval over another payload",
        {
          ...countersignature(1),
          approval: {
            ...countersignature(1).approval,
            signature: signMessage(Buffer.from("other"), OFFICERS[1]?.key.privateKey ?? "").toString("base64"),
          },
        },
        /approval does not verify/,
      ],
    ];
    for (const [what, bad, message] of cases) {
      const v = verifyWindowRecord(record([countersignature(0), bad], {}, "lapsed"), subject);
      assert.deepEqual(
        v.failures.map((f) => f.code),
        ["bad_countersignature"],
        what,
      );
      assert.match(v.failures[0]?.message ?? "", message, what);
      assert.deepEqual(v.countersignedBy, ["officer1"], what);
    }
  });

  it("a run with fewer than M countersignatures, or another approval file: quorum_not_met", () => {
    assert.deepEqual(codes(record([countersignature(0)])), ["quorum_not_met"]);
    const r = record();
    const files = new Map(r.files);
    files.set("approval.json", renderApprovalFile(tokenFile, []));
    assert.deepEqual(codes({ ...r, files }), ["quorum_not_met"]);
    files.delete("approval.json");
    assert.deepEqual(codes({ ...r, files }), ["quorum_not_met"]);
  });

  it("an approval file beside a window that ran nothing: record_mismatch", () => {
    const r = record([countersignature(0)], {}, "lapsed");
    const files = new Map(r.files);
    files.set("approval.json", renderApprovalFile(tokenFile, []));
    assert.deepEqual(codes({ ...r, files }), ["record_mismatch"]);
  });
});
