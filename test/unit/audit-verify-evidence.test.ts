// The offline verifier on bytes alone: evidence made by the real engine verifies; every kind of
// tampering, an unpinned or wrongly pinned key, a duplicated officer, a wrong approval file, an
// expired token and governance evidence each give their own stable code.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fingerprint } from "../../src/crypto/rsa.ts";
import { renderApprovalFile } from "../../src/formats/approval-file.ts";
import { subjectPath, verifyEvidence, type VerifyInput } from "../../src/audit/verify-evidence.ts";
import { replayIdempotencyKey } from "../../src/audit/replay-key.ts";
import { parseEvidenceDocument } from "../../src/gate/evidence-document.ts";
import {
  approveGovernance,
  approvePayloadRequest,
  approveRequest,
  clusterFacts,
  policyText,
  requestText,
  type Approved,
  type Officer,
} from "../helpers/git-repo.ts";
import { testKey } from "../helpers/keys.ts";

const CLUSTER = "cluster-audit";
const T = 1_800_000_000;
const officers: Officer[] = [
  { login: "alice", officer: "officer1", key: testKey("audit-officer1") },
  { login: "bob", officer: "officer2", key: testKey("audit-officer2") },
  { login: "carol", officer: "officer3", key: testKey("audit-officer3") },
];
const [alice, bob, carol] = officers as [Officer, Officer, Officer];
const FACTS = clusterFacts(officers, 2);
const POLICY = policyText({ cluster: CLUSTER, officers });
const PATH = "hsm-requests/app7.yml";
const FOLDER = "hsm-requests/app7.evidence/";
const REQUEST = requestText(CLUSTER, "app7", { requestedBy: "dave" });
const SPEC = {
  repository: "acme/hsm",
  pullRequest: 7,
  author: "dave",
  signers: [alice, bob],
  decidedAt: T,
  cluster: FACTS,
};
const approved = approveRequest(POLICY, PATH, REQUEST, SPEC);

function filesOf(a: Approved, folder: string): Map<string, Uint8Array> {
  return new Map(Object.entries(a.files).map(([path, bytes]) => [path.slice(folder.length), bytes]));
}

function input(over: Partial<VerifyInput> = {}): VerifyInput {
  return {
    folder: FOLDER,
    files: filesOf(approved, FOLDER),
    subject: Buffer.from(REQUEST),
    policy: Buffer.from(POLICY),
    now: T,
    ...over,
  };
}

/** The folder's files with some replaced (null removes one). */
function withFiles(
  changes: Readonly<Record<string, Uint8Array | string | null>>,
  base = filesOf(approved, FOLDER),
): Map<string, Uint8Array> {
  const files = new Map(base);
  for (const [name, content] of Object.entries(changes)) {
    if (content === null) files.delete(name);
    else files.set(name, typeof content === "string" ? Buffer.from(content) : content);
  }
  return files;
}

function editEvidence(
  edit: (doc: { approvals: Record<string, unknown>[] } & Record<string, unknown>) => void,
  base = filesOf(approved, FOLDER),
): Map<string, Uint8Array> {
  const doc = JSON.parse(Buffer.from(base.get("evidence.json") ?? new Uint8Array()).toString("utf8")) as {
    approvals: Record<string, unknown>[];
  } & Record<string, unknown>;
  edit(doc);
  return withFiles({ "evidence.json": `${JSON.stringify(doc, null, 2)}\n` }, base);
}

const failed = (v: ReturnType<typeof verifyEvidence>): string[] => v.checks.filter((c) => !c.ok).map((c) => c.code);
const reasons = (v: ReturnType<typeof verifyEvidence>): string[] => v.signatures.map((s) => `${s.officer}:${s.reason}`);

describe("offline verification of a request's evidence", () => {
  it("evidence made by the engine verifies: every check passes, each signature counted", () => {
    const v = verifyEvidence(input());
    assert.deepEqual(failed(v), []);
    assert.equal(v.holds, true);
    assert.equal(v.kind, "request");
    assert.deepEqual(reasons(v), ["officer1:valid", "officer2:valid"]);
    assert.deepEqual(
      v.checks.map((c) => c.name),
      ["evidence", "policy", "request", "token", "approval_file", "signature_files", "binding", "quorum"],
    );
    assert.equal(v.counted, 2);
    assert.equal(v.required, 2);
    assert.equal(v.signatures[0]?.keyFingerprint, fingerprint(alice.key.publicKey));
    assert.equal(v.replay?.idempotencyKey, replayIdempotencyKey(approved.token));
    assert.match(v.replay?.idempotencyKey ?? "", /^qg-[0-9a-f]{48}$/);
  });

  it("a tampered token.bin: token_digest_mismatch, and the signatures are over another token (stale_token)", () => {
    const token = Buffer.from(approved.token);
    token[20] = (token[20] ?? 0) ^ 1;
    const v = verifyEvidence(input({ files: withFiles({ "token.bin": token }) }));
    assert.equal(v.holds, false);
    assert.deepEqual(failed(v), ["token_digest_mismatch", "quorum_not_met"]);
    assert.deepEqual(reasons(v), ["officer1:stale_token", "officer2:stale_token"]);
  });

  it("a missing token.bin: token_missing", () => {
    const v = verifyEvidence(input({ files: withFiles({ "token.bin": null }) }));
    assert.deepEqual(failed(v), ["token_missing", "quorum_not_met"]);
  });

  it("a request file changed after approval: request_digest_mismatch, and the token is bound to something else", () => {
    const v = verifyEvidence(input({ subject: Buffer.from(REQUEST.replace("name: app7", "name: app8")) }));
    assert.equal(v.holds, false);
    assert.deepEqual(failed(v), ["request_digest_mismatch", "binding_digest_mismatch", "quorum_not_met"]);
    assert.match(v.checks.find((c) => c.name === "quorum")?.message ?? "", /token_binding_mismatch/);
  });

  it("a request file that is gone from the landing commit: request_missing, nothing judged", () => {
    const v = verifyEvidence(input({ subject: null }));
    assert.deepEqual(failed(v), ["request_missing", "binding_digest_mismatch", "quorum_not_met"]);
    assert.deepEqual(reasons(v), ["officer1:not_judged", "officer2:not_judged"]);
  });

  it("a signature whose key the policy does not pin: key_not_pinned, and it does not count", () => {
    const unpinned = policyText({ cluster: CLUSTER, officers, pins: { officer2: false } });
    const v = verifyEvidence(input({ policy: Buffer.from(unpinned) }));
    assert.equal(v.holds, false);
    assert.deepEqual(reasons(v), ["officer1:valid", "officer2:key_not_pinned"]);
    assert.equal(v.signatures[1]?.counted, false);
    assert.deepEqual(failed(v), ["quorum_not_met"]);
    assert.match(v.signatures[1]?.message ?? "", /pins no key for officer officer2/);
  });

  it("a key pinned to another fingerprint: key_pin_mismatch", () => {
    const other = policyText({ cluster: CLUSTER, officers, pins: { officer1: fingerprint(carol.key.publicKey) } });
    const v = verifyEvidence(input({ policy: Buffer.from(other) }));
    assert.deepEqual(reasons(v), ["officer1:key_pin_mismatch", "officer2:valid"]);
    assert.deepEqual(failed(v), ["quorum_not_met"]);
  });

  it("a public key swapped in evidence.json for one the policy does not pin: key_pin_mismatch", () => {
    const files = editEvidence((doc) => {
      (doc.approvals[0] as Record<string, unknown>)["publicKey"] = carol.key.publicPem;
    });
    const v = verifyEvidence(input({ files }));
    assert.deepEqual(reasons(v), ["officer1:key_pin_mismatch", "officer2:valid"]);
    assert.equal(v.holds, false);
  });

  it("evidence without public keys: no_public_key", () => {
    const files = editEvidence((doc) => {
      for (const a of doc.approvals) delete a["publicKey"];
    });
    assert.deepEqual(reasons(verifyEvidence(input({ files }))), ["officer1:no_public_key", "officer2:no_public_key"]);
  });

  it("one officer recorded twice counts once: duplicate, and the quorum fails", () => {
    let files = editEvidence((doc) => {
      const first = doc.approvals[0] as Record<string, unknown>;
      doc.approvals = [
        first,
        { ...first, candidateId: "issue_comment:99", createdAt: new Date((T - 5) * 1000).toISOString() },
      ];
    });
    const approval = renderApprovalFile({
      multiTokenFilePath: "token.bin",
      tokenFilePath: "",
      approvals: [1, 2].map(() => ({ approverType: 2, approverName: "officer1", approvalFile: "officer1.sig" })),
    });
    files = withFiles({ "approval.txt": approval, "officer2.sig": null }, files);
    const v = verifyEvidence(input({ files }));
    assert.deepEqual(reasons(v), ["officer1:valid", "officer1:duplicate"]);
    assert.deepEqual(failed(v), ["quorum_not_met"]);
    assert.match(v.checks.find((c) => c.name === "quorum")?.message ?? "", /^1 of 2/);
  });

  it("an approval file that names another signature file, or none: approval_file_mismatch", () => {
    const wrong = renderApprovalFile({
      multiTokenFilePath: "token.bin",
      tokenFilePath: "",
      approvals: [
        { approverType: 2, approverName: "officer1", approvalFile: "officer1.sig" },
        { approverType: 2, approverName: "officer3", approvalFile: "officer3.sig" },
      ],
    });
    const v = verifyEvidence(input({ files: withFiles({ "approval.txt": wrong }) }));
    assert.equal(v.holds, false);
    assert.deepEqual(failed(v), ["approval_file_mismatch"]);
    assert.match(v.checks.find((c) => c.name === "approval_file")?.message ?? "", /officer3 → officer3\.sig/);

    assert.deepEqual(failed(verifyEvidence(input({ files: withFiles({ "approval.txt": null }) }))), [
      "approval_file_mismatch",
    ]);
    assert.deepEqual(
      failed(verifyEvidence(input({ files: withFiles({ "approval.txt": "not an approval file\n" }) }))),
      ["approval_file_mismatch"],
    );
    const otherToken = Buffer.from(approved.files[`${FOLDER}approval.txt`] ?? [])
      .toString("utf8")
      .replace("Multi Token File Path = token.bin;", "Multi Token File Path = other.bin;");
    assert.deepEqual(failed(verifyEvidence(input({ files: withFiles({ "approval.txt": otherToken }) }))), [
      "approval_file_mismatch",
    ]);
    assert.deepEqual(
      failed(verifyEvidence(input({ files: withFiles({ "officer3.sig": Buffer.alloc(256) }) }))),
      ["approval_file_mismatch"],
      "a signature file nobody names",
    );
  });

  it("a signature file that differs from evidence.json: signature_file_mismatch", () => {
    const v = verifyEvidence(
      input({ files: withFiles({ "officer2.sig": approved.files[`${FOLDER}officer1.sig`] ?? "" }) }),
    );
    assert.deepEqual(failed(v), ["signature_file_mismatch"]);
  });

  it("a recorded binding digest that is not the request's: binding_digest_mismatch", () => {
    const files = editEvidence((doc) => {
      doc["bindingDigest"] = "00".repeat(32);
    });
    assert.deepEqual(failed(verifyEvidence(input({ files }))), ["binding_digest_mismatch"]);
  });

  it("a token expired at the time the evidence was made: quorum_not_met with token_expired, each approval expired", () => {
    const v = verifyEvidence(input({ now: T - 60 + 86_400 }));
    assert.equal(v.holds, false);
    assert.deepEqual(failed(v), ["quorum_not_met"]);
    assert.deepEqual(reasons(v), ["officer1:expired", "officer2:expired"]);
    assert.match(v.checks.find((c) => c.name === "quorum")?.message ?? "", /token_expired/);
    assert.equal(verifyEvidence(input({ now: T - 60 + 86_399 })).holds, true, "a second before, it holds");
  });

  it("the judging policy's self-approval rule applies: the author's own signature does not count", () => {
    const selfApproved = approveRequest(POLICY, PATH, REQUEST, { ...SPEC, author: "alice" });
    const strict = policyText({ cluster: CLUSTER, officers, allowSelfApproval: false });
    const v = verifyEvidence(input({ files: filesOf(selfApproved, FOLDER), policy: Buffer.from(strict) }));
    assert.deepEqual(reasons(v), ["officer1:self_approval", "officer2:valid"]);
    assert.equal(v.holds, false);
  });

  it("required is the M the gate recorded: three approvals needed, two recorded, fails", () => {
    const files = editEvidence((doc) => {
      doc["required"] = 3;
    });
    const v = verifyEvidence(input({ files }));
    assert.equal(v.required, 3);
    assert.deepEqual(failed(v), ["quorum_not_met"]);
  });

  it("no policy where it landed, or an invalid one: no_policy / invalid_policy, nothing judged", () => {
    assert.deepEqual(failed(verifyEvidence(input({ policy: null }))), [
      "no_policy",
      "binding_digest_mismatch",
      "quorum_not_met",
    ]);
    assert.deepEqual(failed(verifyEvidence(input({ policy: Buffer.from("version: 2\n") }))).slice(0, 1), [
      "invalid_policy",
    ]);
  });

  it("unreadable evidence.json, or one for another folder: evidence_unreadable / folder_mismatch", () => {
    const v = verifyEvidence(input({ files: withFiles({ "evidence.json": "{" }) }));
    assert.deepEqual(failed(v), ["evidence_unreadable"]);
    assert.equal(v.evidence, null);
    assert.deepEqual(failed(verifyEvidence(input({ files: withFiles({ "evidence.json": null }) }))), [
      "evidence_unreadable",
    ]);
    const moved = verifyEvidence(input({ folder: "hsm-requests/app8.evidence/" }));
    assert.equal(failed(moved)[0], "folder_mismatch");
    const doc = parseEvidenceDocument(approved.files[`${FOLDER}evidence.json`] ?? new Uint8Array());
    assert.ok(doc.ok);
    assert.equal(subjectPath(FOLDER, doc.evidence), PATH);
    assert.equal(subjectPath("other.evidence/", doc.evidence), null);
  });
});

describe("offline verification of a governance request's evidence", () => {
  const GOV = ".github/quorum-gate.evidence/pr-12/";
  const NEW_POLICY = policyText({ cluster: CLUSTER, officers, allowSelfApproval: false });
  const gov = approveGovernance(POLICY, NEW_POLICY, { ...SPEC, pullRequest: 12, signers: [bob, carol] });
  const govInput = (over: Partial<VerifyInput> = {}): VerifyInput => ({
    folder: GOV,
    files: filesOf(gov, GOV),
    subject: Buffer.from(NEW_POLICY),
    policy: Buffer.from(POLICY),
    now: T,
    ...over,
  });

  it("a policy change approved by the old policy's officers verifies, judged by the old policy", () => {
    const v = verifyEvidence(govInput());
    assert.deepEqual(failed(v), []);
    assert.equal(v.kind, "governance");
    assert.deepEqual(reasons(v), ["officer2:valid", "officer3:valid"]);
    assert.equal(v.replay, null, "nothing is replayed for a policy change");
  });

  it("officers only the new policy adds do not count", () => {
    const dave: Officer = { login: "dave", officer: "officer4", key: testKey("audit-officer4") };
    const grown = policyText({ cluster: CLUSTER, officers: [...officers, dave] });
    const g = approveGovernance(grown, NEW_POLICY, {
      ...SPEC,
      pullRequest: 12,
      signers: [bob, dave],
      cluster: clusterFacts([...officers, dave], 2),
    });
    const v = verifyEvidence(govInput({ files: filesOf(g, GOV) }));
    assert.equal(v.holds, false);
    assert.deepEqual(reasons(v), ["officer2:valid", "officer4:unknown_officer"]);
  });

  it("a merged policy that is not the one signed: request_digest_mismatch", () => {
    const v = verifyEvidence(govInput({ subject: Buffer.from(`${NEW_POLICY}# edited\n`) }));
    assert.deepEqual(failed(v), ["request_digest_mismatch", "binding_digest_mismatch", "quorum_not_met"]);
  });

  it("a policy deletion verifies against the deleted bytes", () => {
    const deletion = approveGovernance(POLICY, null, { ...SPEC, pullRequest: 12, signers: [alice, carol] });
    const v = verifyEvidence(govInput({ files: filesOf(deletion, GOV), subject: null }));
    assert.deepEqual(failed(v), []);
    assert.equal(v.evidence?.request.operation["kind"], "policyDeletion");
  });

  it("governance evidence in another pull request's folder: folder_mismatch", () => {
    assert.equal(
      failed(verifyEvidence(govInput({ folder: ".github/quorum-gate.evidence/pr-13/" })))[0],
      "folder_mismatch",
    );
  });
});

describe("offline verification of payload approvals (backend cloudhsm-cli)", () => {
  const policy = policyText({ cluster: CLUSTER, officers, backend: "cloudhsm-cli" });
  const request = requestText(CLUSTER, "app8").replace(
    /operation:[\s\S]*?reason:/,
    "operation: {kind: deleteUser, type: CU, name: app8}\nreason:",
  );
  const path = "hsm-requests/app8.yml";
  const folder = "hsm-requests/app8.evidence/";
  const until = new Date((T + 5 * 86_400) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const made = approvePayloadRequest(policy, path, request, { ...SPEC, until });
  const payloadInput = (over: Partial<VerifyInput> = {}): VerifyInput => ({
    folder,
    files: filesOf(made, folder),
    subject: Buffer.from(request),
    policy: Buffer.from(policy),
    now: T,
    ...over,
  });

  it("payloads and signatures, no token: every check passes and each approval counts", () => {
    assert.deepEqual([...filesOf(made, folder).keys()].sort(), [
      "evidence.json",
      "officer1.payload",
      "officer1.sig",
      "officer2.payload",
      "officer2.sig",
    ]);
    const v = verifyEvidence(payloadInput());
    assert.equal(v.holds, true, JSON.stringify(v.checks));
    assert.deepEqual(
      v.signatures.map((s) => [s.officer, s.counted, s.reason]),
      [
        ["officer1", true, "valid"],
        ["officer2", true, "valid"],
      ],
    );
  });

  it("an edited payload file, or a missing one: approval_file_mismatch", () => {
    const edited = verifyEvidence(
      payloadInput({ files: withFiles({ "officer1.payload": "forged\n" }, filesOf(made, folder)) }),
    );
    assert.deepEqual(failed(edited), ["approval_file_mismatch"]);
    const gone = verifyEvidence(
      payloadInput({ files: withFiles({ "officer2.payload": null }, filesOf(made, folder)) }),
    );
    assert.deepEqual(failed(gone), ["approval_file_mismatch"]);
  });

  it("a token.bin or approval.txt beside payload approvals is not the gate's: token_digest_mismatch / approval_file_mismatch", () => {
    const token = verifyEvidence(payloadInput({ files: withFiles({ "token.bin": "x" }, filesOf(made, folder)) }));
    assert.deepEqual(failed(token), ["token_digest_mismatch"]);
    const approval = verifyEvidence(payloadInput({ files: withFiles({ "approval.txt": "x" }, filesOf(made, folder)) }));
    assert.deepEqual(failed(approval), ["approval_file_mismatch"]);
  });

  it("an until= moved later in evidence.json: the signature is over another payload and does not count", () => {
    const later = new Date((T + 6 * 86_400) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const files = editEvidence(
      (doc) => {
        (doc.approvals[0] as Record<string, unknown>)["until"] = later;
      },
      filesOf(made, folder),
    );
    const v = verifyEvidence(payloadInput({ files }));
    assert.equal(v.holds, false);
    assert.equal(v.signatures[0]?.reason, "bad_signature");
    assert.ok(failed(v).includes("quorum_not_met"), JSON.stringify(v.checks));
  });

  it("judged when the evidence was made: an approval whose until= had passed does not count", () => {
    const v = verifyEvidence(payloadInput({ now: T + 6 * 86_400 }));
    assert.equal(v.holds, false);
    assert.deepEqual(
      v.signatures.map((s) => s.reason),
      ["expired", "expired"],
    );
  });

  it("the same files under an emulator policy: there is no token, so nothing counts", () => {
    const v = verifyEvidence(payloadInput({ policy: Buffer.from(POLICY) }));
    assert.equal(v.holds, false);
    assert.ok(failed(v).includes("quorum_not_met"));
  });

  it("evidence.json without a token must record only payload approvals, each with until and payloadFile", () => {
    const doc = JSON.parse(Buffer.from(filesOf(made, folder).get("evidence.json") ?? "").toString()) as {
      approvals: Record<string, unknown>[];
    };
    const first = doc.approvals[0] as Record<string, unknown>;
    delete first["payloadFile"];
    const r = parseEvidenceDocument(Buffer.from(JSON.stringify(doc)));
    assert.ok(!r.ok);
    assert.match(r.message, /until and payloadFile must both be strings, or both absent/);
    delete first["until"];
    const r2 = parseEvidenceDocument(Buffer.from(JSON.stringify(doc)));
    assert.ok(!r2.ok);
    assert.match(r2.message, /token must be an object \(only payload approvals/);
  });
});
