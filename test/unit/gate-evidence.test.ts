// The evidence an approved PR carries into git: the token file, one signature file per officer,
// a CMU approval file that reads back (and names those files), and the JSON document.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fingerprint, signMessage, verifyMessage } from "../../src/crypto/rsa.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { evaluateQuorum, type Decision } from "../../src/gate/evaluate.ts";
import {
  buildEvidence,
  evidenceFolder,
  isEvidencePath,
  type EvidenceDocument,
  type EvidenceInput,
} from "../../src/gate/evidence.ts";
import { requestBindingDigest, sealedPasswordFingerprint, toBindingContext } from "../../src/gate/operation.ts";
import { parsePolicy } from "../../src/gate/policy.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { parseApprovalFile } from "../../src/formats/approval-file.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import { testKey } from "../helpers/keys.ts";

const alice = testKey("gate-alice");
const bob = testKey("gate-bob");
const NOW = 1_800_000_000;
const SEALED = Buffer.alloc(256, 0x44).toString("base64");
const PATH = "hsm-requests/app7.yml";

const policy = parsePolicy(
  Buffer.from("version: 1\ncluster: cluster-abc\nofficers:\n  alice: officer1\n  bob: officer2\n"),
);
const request = parseRequest(
  Buffer.from(
    `version: 1\ncluster: cluster-abc\noperation:\n  kind: createUser\n  type: CU\n  name: app7\n  sealed_password: ${SEALED}\nreason: payments\nrequested_by: dave\n`,
  ),
);
assert.ok(policy.ok && request.ok);
const binding = requestBindingDigest(request.request, toBindingContext("acme/ops", 7, request.digest));
const TOKEN = Buffer.concat(
  [1, 2].map((nodeId) =>
    encodeRecord({
      service: 3,
      tokenId: nodeId,
      keyHandle: 0n,
      nonce: "cd".repeat(16),
      userName: "gate",
      nodeId,
      createdAt: NOW - 60,
      binding,
    }),
  ),
);

const OFFICER_KEYS: ReadonlyMap<string, string> = new Map([
  ["officer1", alice.publicPem],
  ["officer2", bob.publicPem],
]);

function cand(id: number, author: string, key: typeof alice): ApprovalCandidate {
  return {
    id: `review:${id}`,
    kind: "review",
    author,
    authorIsBot: false,
    body: `/quorum approve ${signMessage(TOKEN, key.privateKey).toString("base64")}`,
    createdAt: new Date((NOW - 30 + id) * 1000).toISOString(),
  };
}

function decide(candidates: readonly ApprovalCandidate[]): Decision {
  assert.ok(policy.ok && request.ok);
  return evaluateQuorum({
    policy: policy.policy,
    request: request.request,
    requestDigest: request.digest,
    repository: "acme/ops",
    pullRequest: 7,
    tokenFile: TOKEN,
    officerKeys: OFFICER_KEYS,
    quorumValues: { user: 2, quorum: 2 },
    prAuthor: "dave",
    candidates,
    now: NOW,
  });
}

function evidenceInput(decision: Decision, tokenFile: Uint8Array = TOKEN): EvidenceInput {
  assert.ok(request.ok);
  return {
    decision,
    request: request.request,
    requestPath: PATH,
    repository: "acme/ops",
    pullRequest: 7,
    tokenFile,
    officerKeys: OFFICER_KEYS,
    pullRequestAuthor: "dave",
    now: NOW,
  };
}

describe("evidence", () => {
  const approved = decide([cand(1, "alice", alice), cand(2, "bob", bob)]);
  const result = buildEvidence(evidenceInput(approved));
  assert.ok(result.ok);
  const file = (name: string): Buffer =>
    Buffer.from(result.files.find((f) => f.path === `${result.folder}${name}`)?.content ?? new Uint8Array());

  it("writes one folder beside the request", () => {
    assert.equal(result.folder, "hsm-requests/app7.evidence/");
    assert.deepEqual(
      result.files.map((f) => f.path.slice(result.folder.length)),
      ["token.bin", "officer1.sig", "officer2.sig", "approval.txt", "evidence.json"],
    );
  });

  it("the token and signature files are the verified bytes", () => {
    assert.deepEqual(file("token.bin"), TOKEN);
    assert.ok(verifyMessage(file("token.bin"), alice.publicKey, file("officer1.sig")));
    assert.ok(verifyMessage(file("token.bin"), bob.publicKey, file("officer2.sig")));
  });

  it("the CMU approval file reads back and names those files", () => {
    const parsed = parseApprovalFile(file("approval.txt").toString("utf8"));
    assert.deepEqual(parsed, {
      ok: true,
      value: {
        multiTokenFilePath: "token.bin",
        tokenFilePath: "",
        approvals: [
          { approverType: 2, approverName: "officer1", approvalFile: "officer1.sig" },
          { approverType: 2, approverName: "officer2", approvalFile: "officer2.sig" },
        ],
      },
    });
  });

  it("the JSON document ties request, token, keys, signatures and decision together", () => {
    const doc = JSON.parse(file("evidence.json").toString("utf8")) as EvidenceDocument;
    assert.deepEqual(doc, result.document);
    assert.equal(doc.format, "quorum-gate-evidence");
    assert.equal(doc.request.sha256, request.ok ? request.digest : "");
    assert.deepEqual(doc.request.operation, {
      kind: "createUser",
      type: "CU",
      name: "app7",
      sealedPasswordSha256: sealedPasswordFingerprint(SEALED),
    });
    assert.equal(doc.bindingDigest, binding);
    assert.equal(doc.token?.base64, TOKEN.toString("base64"));
    assert.deepEqual(
      doc.approvals.map((a) => [a.officer, a.githubLogin, a.candidateId, a.keyFingerprint]),
      approved.approvers.map((a) => [a.officer, a.login, a.candidateId, a.keyFingerprint]),
    );
    assert.deepEqual(
      doc.approvals.map((a) => a.publicKey),
      [alice.publicPem, bob.publicPem],
      "each officer's key as the cluster registered it",
    );
    assert.equal(doc.approvals[0]?.keyFingerprint, fingerprint(alice.publicKey));
    assert.equal(doc.pullRequestAuthor, "dave");
    assert.equal(doc.decision.state, "approved");
    assert.equal(doc.evaluatedAt, new Date(NOW * 1000).toISOString());
    assert.ok(!file("evidence.json").toString("utf8").includes(SEALED));
  });

  it("is deterministic", () => {
    assert.deepEqual(buildEvidence(evidenceInput(approved)), result);
  });

  it("refuses a decision that is not approved", () => {
    const r = buildEvidence(evidenceInput(decide([cand(1, "alice", alice)])));
    assert.ok(!r.ok);
    assert.equal(r.reason, "not_approved");
  });

  it("refuses a token other than the one decided over", () => {
    const r = buildEvidence(evidenceInput(approved, Buffer.concat([TOKEN, Buffer.alloc(1)])));
    assert.ok(!r.ok);
    assert.equal(r.reason, "token_mismatch");
  });

  it("refuses officer keys that do not hold the key each approver was counted with", () => {
    const keys = new Map([
      ["OFFICER1", alice.publicPem],
      ["officer2", alice.publicPem],
    ]);
    const r = buildEvidence({ ...evidenceInput(approved), officerKeys: keys });
    assert.ok(!r.ok);
    assert.equal(r.reason, "key_mismatch");
    assert.match(r.message, /officer2/);
    const upper = buildEvidence({
      ...evidenceInput(approved),
      officerKeys: new Map([
        ["OFFICER1", alice.publicPem],
        ["officer2", bob.publicPem],
      ]),
    });
    assert.ok(upper.ok, "officer names compare without case, as on the HSM");
  });

  it("knows its paths", () => {
    const table: [string, string, boolean][] = [
      ["hsm-requests/app7.yml", "hsm-requests/app7.evidence/evidence.json", true],
      ["hsm-requests/app7.yaml", "hsm-requests/app7.evidence/officer1.sig", true],
      ["hsm-requests/app7.yml", "hsm-requests/app7.evidence/", false],
      ["hsm-requests/app7.yml", "hsm-requests/app7.evidence/x/y", false],
      ["hsm-requests/app7.yml", "hsm-requests/app8.evidence/evidence.json", false],
      ["hsm-requests/app7.yml", "hsm-requests/app7.yml", false],
    ];
    for (const [req, path, expected] of table) assert.equal(isEvidencePath(req, path), expected, `${req} ${path}`);
    assert.equal(evidenceFolder("hsm-requests/app7.yaml"), "hsm-requests/app7.evidence/");
  });
});
