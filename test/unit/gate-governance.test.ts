// Governance requests: a pull request that changes or deletes the policy is judged by the policy it
// replaces. The binding (pinned byte for byte), the approvals it needs, the decision (the current
// officers count, the new ones do not; signatures never cross between requests and policy
// changes), the readable diff, the warnings, the sticky comment and the evidence.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHash } from "node:crypto";
import { signMessage } from "../../src/crypto/rsa.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { evaluateQuorum, type Decision } from "../../src/gate/evaluate.ts";
import { buildGovernanceEvidence, type EvidenceDocument } from "../../src/gate/evidence.ts";
import {
  addsAuthor,
  describePolicyDiff,
  diffPolicies,
  evaluateGovernance,
  governanceBindingDigest,
  governanceEvidenceFolder,
  governanceRequiredApprovals,
  governanceWarnings,
  isEmptyDiff,
  isGovernanceEvidencePath,
  parseGovernanceRequest,
  type GovernanceEvaluationInput,
  type GovernanceRequest,
} from "../../src/gate/governance.ts";
import { parseApprovalComment } from "../../src/gate/approval-command.ts";
import { requestBindingDigest, toBindingContext } from "../../src/gate/operation.ts";
import { parsePolicy, type Policy } from "../../src/gate/policy.ts";
import { readStickyToken } from "../../src/gate/render.ts";
import {
  renderGovernanceCheckRun,
  renderGovernanceComment,
  type GovernanceStickyInput,
} from "../../src/gate/render-governance.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import { testKey, type TestKey } from "../helpers/keys.ts";

const KEYS: Record<string, TestKey> = {
  officer1: testKey("gate-alice"),
  officer2: testKey("gate-bob"),
  officer3: testKey("gate-carol"),
  officer4: testKey("gate-dave"),
};
const REPO = "acme/hsm-ops";
const PR = 12;
const NOW = 1_800_000_100;
const CLUSTER = "cluster-abc";

const CURRENT_BYTES = Buffer.from(
  `version: 1\ncluster: ${CLUSTER}\ntoken_lifetime_seconds: 3600\nofficers:\n  alice: officer1\n  bob: officer2\n  carol: officer3\n`,
);
const NEW_BYTES = Buffer.from(
  `version: 1\ncluster: ${CLUSTER}\ntoken_lifetime_seconds: 3600\nallow_self_approval: false\nofficers:\n  alice: officer1\n  bob:\n    officer: officer5\n  dave: officer4\n`,
);

function policy(bytes: Uint8Array): Policy {
  const r = parsePolicy(bytes);
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
  return r.policy;
}
const CURRENT = policy(CURRENT_BYTES);

function change(bytes: Uint8Array | null = NEW_BYTES): GovernanceRequest {
  const r = parseGovernanceRequest(bytes, CURRENT_BYTES);
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
  return r.request;
}
const CHANGE = change();

function tokenOf(binding: string, service = 4, createdAt = NOW - 100): Buffer {
  return Buffer.concat(
    [1, 2].map((nodeId) =>
      encodeRecord({
        service,
        tokenId: nodeId,
        keyHandle: 0n,
        nonce: `${nodeId}`.repeat(32),
        userName: "gate",
        nodeId,
        createdAt,
        binding,
      }),
    ),
  );
}
const GOV_TOKEN = tokenOf(governanceBindingDigest(CLUSTER, CHANGE, REPO, PR));

const SEALED = Buffer.alloc(256, 9).toString("base64");
const REQ = parseRequest(
  Buffer.from(
    `version: 1\ncluster: ${CLUSTER}\noperation:\n  kind: createUser\n  type: CU\n  name: app7\n  sealed_password: ${SEALED}\nreason: payments\n`,
  ),
);
assert.ok(REQ.ok);
const REQUEST_TOKEN = tokenOf(requestBindingDigest(REQ.request, toBindingContext(REPO, PR, REQ.digest)), 3);

const sign = (officer: string, token: Uint8Array): string =>
  `/quorum approve ${signMessage(token, (KEYS[officer] as TestKey).privateKey).toString("base64")}`;
let clock = 0;
function cand(author: string, body: string): ApprovalCandidate {
  clock += 1;
  return {
    id: `issue_comment:${clock}`,
    kind: "issue_comment",
    author,
    authorIsBot: false,
    body,
    createdAt: new Date((NOW - 1000 + clock) * 1000).toISOString(),
  };
}

function govInput(
  candidates: readonly ApprovalCandidate[],
  over: Partial<GovernanceEvaluationInput> = {},
): GovernanceEvaluationInput {
  return {
    policy: CURRENT,
    change: CHANGE,
    repository: REPO,
    pullRequest: PR,
    tokenFile: GOV_TOKEN,
    officerKeys: new Map(Object.entries(KEYS).map(([name, k]) => [name, k.publicPem])),
    quorumValues: { user: 2, quorum: 1 },
    prAuthor: "dave",
    candidates,
    now: NOW,
    ...over,
  };
}
const reasons = (d: Decision): string[] => d.verdicts.map((v) => v.reason);

describe("governance: the request", () => {
  it("a valid new policy is a policy change bound to the SHA-256 of its exact bytes", () => {
    assert.equal(CHANGE.kind, "policyChange");
    assert.equal(CHANGE.policyDigest, createHash("sha256").update(NEW_BYTES).digest("hex"));
    assert.ok(CHANGE.kind === "policyChange" && CHANGE.policy.officers.some((o) => o.login === "dave"));
  });

  it("an invalid new policy gives the policy parser's issues, never a request", () => {
    const r = parseGovernanceRequest(Buffer.from("version: 2\ncluster: x y\n"), CURRENT_BYTES);
    assert.ok(!r.ok);
    assert.deepEqual(r.issues.map((i) => i.code).sort(), ["bad_cluster", "missing_field", "unsupported_version"]);
    assert.equal(r.digest.length, 64);
    const yaml = parseGovernanceRequest(Buffer.from("officers: [\n"), CURRENT_BYTES);
    assert.ok(!yaml.ok && yaml.issues.every((i) => i.code === "invalid_yaml"));
  });

  it("a deletion is a governance request bound to the deleted policy's digest", () => {
    const d = change(null);
    assert.deepEqual(d, {
      kind: "policyDeletion",
      policyDigest: createHash("sha256").update(CURRENT_BYTES).digest("hex"),
    });
  });
});

describe("governance: the binding", () => {
  it("is SHA-256 of the canonical JSON the issue specifies, byte for byte", () => {
    const digest = CHANGE.policyDigest;
    const json = `{"clusterId":"${CLUSTER}","context":{"pullRequest":${PR},"repository":"${REPO}","requestDigest":"${digest}"},"operation":{"kind":"policyChange","policyDigest":"${digest}"},"v":1}`;
    assert.equal(
      governanceBindingDigest(CLUSTER, CHANGE, REPO, PR),
      createHash("sha256").update(json, "utf8").digest("hex"),
    );
  });

  it("changes with the cluster, the repository, the pull request, the policy bytes and the kind", () => {
    const base = governanceBindingDigest(CLUSTER, CHANGE, REPO, PR);
    const others = [
      governanceBindingDigest("cluster-other", CHANGE, REPO, PR),
      governanceBindingDigest(CLUSTER, CHANGE, "acme/other", PR),
      governanceBindingDigest(CLUSTER, CHANGE, REPO, PR + 1),
      governanceBindingDigest(CLUSTER, change(Buffer.concat([NEW_BYTES, Buffer.from("# reviewed\n")])), REPO, PR),
      governanceBindingDigest(CLUSTER, { kind: "policyDeletion", policyDigest: CHANGE.policyDigest }, REPO, PR),
    ];
    assert.equal(new Set([base, ...others]).size, others.length + 1);
  });
});

describe("governance: how many approvals", () => {
  const table: [number, number, number][] = [
    [0, 0, 1],
    [1, 1, 1],
    [2, 1, 2],
    [1, 3, 3],
    [2, 2, 2],
    [4, 3, 4],
  ];
  for (const [user, quorum, want] of table)
    it(`M(3)=${user}, M(4)=${quorum}: ${want}`, () =>
      assert.equal(governanceRequiredApprovals({ user, quorum }), want));
});

describe("governance: the decision", () => {
  it("the current officers approve at max(M(3), M(4))", () => {
    const d = evaluateGovernance(
      govInput([cand("alice", sign("officer1", GOV_TOKEN)), cand("carol", sign("officer3", GOV_TOKEN))]),
    );
    assert.equal(d.state, "approved");
    assert.equal(d.required, 2);
    assert.deepEqual(
      d.approvers.map((a) => a.officer),
      ["officer1", "officer3"],
    );
    assert.equal(d.requestDigest, CHANGE.policyDigest);
    assert.equal(d.bindingDigest, governanceBindingDigest(CLUSTER, CHANGE, REPO, PR));
    const strict = evaluateGovernance(
      govInput([cand("alice", sign("officer1", GOV_TOKEN)), cand("carol", sign("officer3", GOV_TOKEN))], {
        quorumValues: { user: 2, quorum: 3 },
      }),
    );
    assert.equal(strict.state, "pending");
    assert.equal(strict.required, 3);
  });

  it("an officer the new policy adds does not count: the current policy decides", () => {
    // dave is the author, and the new policy maps him to officer4, whose key is registered.
    const d = evaluateGovernance(
      govInput([cand("dave", sign("officer4", GOV_TOKEN)), cand("alice", sign("officer1", GOV_TOKEN))]),
    );
    assert.equal(d.state, "pending");
    assert.deepEqual(reasons(d), ["unknown_officer", "valid"]);
    assert.match(
      d.verdicts[0]?.message ?? "",
      /dave is not an officer in the policy; the signature is officer officer4's/,
    );
    assert.deepEqual(
      d.waitingFor.map((o) => o.officer),
      ["officer2", "officer3"],
    );
  });

  it("the current self-approval rule applies, whatever the new policy says", () => {
    const noSelf = policy(
      Buffer.from(
        `version: 1\ncluster: ${CLUSTER}\nallow_self_approval: false\ntoken_lifetime_seconds: 3600\nofficers:\n  alice: officer1\n  bob: officer2\n  carol: officer3\n`,
      ),
    );
    const permissive = parseGovernanceRequest(CURRENT_BYTES, Buffer.from("unused"));
    assert.ok(permissive.ok);
    const token = tokenOf(governanceBindingDigest(CLUSTER, permissive.request, REPO, PR));
    const d = evaluateGovernance(
      govInput([cand("alice", sign("officer1", token)), cand("bob", sign("officer2", token))], {
        policy: noSelf,
        change: permissive.request,
        tokenFile: token,
        prAuthor: "alice",
      }),
    );
    assert.deepEqual(reasons(d), ["self_approval", "valid"]);
    assert.equal(d.state, "pending");
  });

  it("a signature over a request's token is stale on a policy change", () => {
    const d = evaluateGovernance(
      govInput([cand("alice", sign("officer1", REQUEST_TOKEN)), cand("bob", sign("officer2", REQUEST_TOKEN))]),
    );
    assert.deepEqual(reasons(d), ["stale_token", "stale_token"]);
    assert.equal(d.state, "pending");
  });

  it("a signature over a policy change's token is stale on a request", () => {
    const d = evaluateQuorum({
      ...govInput([cand("alice", sign("officer1", GOV_TOKEN)), cand("bob", sign("officer2", GOV_TOKEN))]),
      request: REQ.ok ? REQ.request : ({} as never),
      requestDigest: REQ.digest,
      tokenFile: REQUEST_TOKEN,
    });
    assert.deepEqual(reasons(d), ["stale_token", "stale_token"]);
    assert.equal(d.state, "pending");
  });

  it("neither kind of token is accepted as the other", () => {
    const requestTokenHere = evaluateGovernance(govInput([], { tokenFile: REQUEST_TOKEN }));
    assert.equal(requestTokenHere.state, "rejected");
    assert.deepEqual(
      requestTokenHere.problems.map((p) => p.code),
      ["token_binding_mismatch"],
    );
    const govTokenThere = evaluateQuorum({
      ...govInput([]),
      request: REQ.ok ? REQ.request : ({} as never),
      requestDigest: REQ.digest,
      tokenFile: GOV_TOKEN,
    });
    assert.deepEqual(
      govTokenThere.problems.map((p) => p.code),
      ["token_binding_mismatch"],
    );
    // The right binding for the wrong service is refused too: a governance token is a MISC_CO token.
    const wrongService = evaluateGovernance(
      govInput([], { tokenFile: tokenOf(governanceBindingDigest(CLUSTER, CHANGE, REPO, PR), 3) }),
    );
    assert.deepEqual(
      wrongService.problems.map((p) => p.code),
      ["token_service_mismatch"],
    );
  });

  it("one policy change's signatures never count for another, nor for the same change in another pull request", () => {
    const other = change(Buffer.concat([NEW_BYTES, Buffer.from("# v2\n")]));
    const otherToken = tokenOf(governanceBindingDigest(CLUSTER, other, REPO, PR));
    const otherPr = tokenOf(governanceBindingDigest(CLUSTER, CHANGE, REPO, PR + 1));
    const d = evaluateGovernance(
      govInput([cand("alice", sign("officer1", otherToken)), cand("bob", sign("officer2", otherPr))]),
    );
    assert.deepEqual(reasons(d), ["stale_token", "stale_token"]);
    // A new push of the policy file makes the old token the wrong one.
    assert.deepEqual(
      evaluateGovernance(govInput([], { change: other })).problems.map((p) => p.code),
      ["token_binding_mismatch"],
    );
  });

  it("too few current officers with keys: rejected as quorum_unreachable", () => {
    const keys = new Map([["officer1", (KEYS["officer1"] as TestKey).publicPem]]);
    const d = evaluateGovernance(govInput([], { officerKeys: keys }));
    assert.equal(d.state, "rejected");
    assert.ok(d.problems.some((p) => p.code === "quorum_unreachable"));
  });
});

describe("governance: what changes", () => {
  const NEW = CHANGE.kind === "policyChange" ? CHANGE.policy : CURRENT;
  it("lists officers added, removed and changed, and fields changed", () => {
    const d = diffPolicies(CURRENT, NEW);
    assert.deepEqual(
      d.officersAdded.map((o) => o.login),
      ["dave"],
    );
    assert.deepEqual(
      d.officersRemoved.map((o) => o.login),
      ["carol"],
    );
    assert.deepEqual(
      d.officersChanged.map((c) => [c.login, c.before.officer, c.after.officer]),
      [["bob", "officer2", "officer5"]],
    );
    assert.deepEqual(d.fields, [{ field: "allow_self_approval", before: "true", after: "false" }]);
    assert.deepEqual(describePolicyDiff(d), [
      "officer added: dave → officer officer4",
      "officer removed: carol → officer officer3",
      "officer changed: bob: officer officer2 → officer5",
      "allow_self_approval: true → false",
    ]);
    assert.ok(addsAuthor(d, "Dave"));
    assert.ok(!addsAuthor(d, "alice"));
  });

  it("says when a key pin is added, and when nothing changes in effect", () => {
    const fp = "ab".repeat(32);
    const pinned = policy(
      Buffer.from(
        `version: 1\ncluster: ${CLUSTER}\ntoken_lifetime_seconds: 3600\nofficers:\n  alice:\n    officer: officer1\n    key_fingerprint: ${fp}\n  bob: officer2\n  carol: officer3\n`,
      ),
    );
    assert.deepEqual(describePolicyDiff(diffPolicies(CURRENT, pinned)), [
      `officer changed: alice: no key pin → key pin ${fp.slice(0, 16)}…`,
    ]);
    const reformatted = policy(
      Buffer.from(
        `# comments and order only\nofficers:\n  carol: officer3\n  Bob: officer2\n  alice: officer1\ntoken_lifetime_seconds: "3600"\ncluster: ${CLUSTER}\nversion: 1\n`,
      ),
    );
    assert.ok(isEmptyDiff(diffPolicies(CURRENT, reformatted)));
  });

  it("names a switch to a real cluster: the backend and the officers' pinned keys", () => {
    const key = testKey("officer1");
    const pem = key.publicPem
      .trim()
      .split("\n")
      .map((l) => `      ${l}`)
      .join("\n");
    const real = policy(
      Buffer.from(
        `version: 1\ncluster: ${CLUSTER}\ntoken_lifetime_seconds: 3600\nbackend: cloudhsm-cli\nofficers:\n  alice:\n    officer: officer1\n    public_key: |\n${pem}\n`,
      ),
    );
    const lines = describePolicyDiff(diffPolicies(CURRENT, real));
    assert.ok(lines.includes("backend: emulator → cloudhsm-cli"), lines.join("\n"));
    assert.ok(
      lines.some((l) => l.startsWith("officer changed: alice: no key pin → key pin ")),
      lines.join("\n"),
    );
  });

  it("warns about officers without a usable key and about a policy that would lock the gate out", () => {
    const keys = new Map(Object.entries(KEYS).map(([name, k]) => [name, k.publicPem]));
    const w = governanceWarnings(CURRENT, NEW, keys, { user: 2, quorum: 1 });
    assert.equal(w.length, 1);
    assert.match(w[0] ?? "", /no usable quorum key .* officer5/);
    const lockout = governanceWarnings(CURRENT, NEW, keys, { user: 3, quorum: 3 });
    assert.match(
      lockout[1] ?? "",
      /only 2 officers can approve, fewer than the 3 a policy change needs and the 3 a user-management request needs/,
    );
    assert.deepEqual(governanceWarnings(CURRENT, CURRENT, keys, { user: 2, quorum: 2 }), []);
    const moved = policy(Buffer.from(`version: 1\ncluster: cluster-new\nofficers:\n  alice: officer1\n`));
    assert.match(
      governanceWarnings(CURRENT, moved, keys, { user: 2, quorum: 2 }).join("\n"),
      /governs cluster cluster-new, not cluster-abc/,
    );
  });
});

describe("governance: the sticky comment and the check run", () => {
  const decision = evaluateGovernance(
    govInput([cand("alice", sign("officer1", GOV_TOKEN)), cand("dave", sign("officer4", GOV_TOKEN))]),
  );
  const view = (over: Partial<GovernanceStickyInput> = {}): GovernanceStickyInput => ({
    decision,
    change: CHANGE,
    policy: CURRENT,
    pullRequest: PR,
    prAuthor: "dave",
    warnings: ["officer5 has no key"],
    ...over,
  });
  const body = renderGovernanceComment(view());

  it("says that the pull request changes who may approve and how many, with the changes", () => {
    assert.match(body, /^<!-- quorum-gate:sticky v1 -->\n/);
    assert.match(body, /## Policy change: pending \(1 of 2 officers\)/);
    assert.match(body, /This pull request changes the policy: who may approve and how many/);
    assert.match(body, /officer added: dave → officer officer4/);
    assert.match(body, /officer removed: carol → officer officer3/);
    assert.match(body, /allow\\_self\\_approval: true → false/);
    assert.match(body, /maps this pull request's author \(`dave`\) to an officer/);
    assert.match(body, /⚠️ officer5 has no key/);
    assert.match(body, new RegExp(`\\.github/quorum-gate\\.evidence/pr-${PR}/`));
    assert.match(body, /2 distinct crypto officers: the higher of M\(3\) and M\(4\)/);
  });

  it("carries the token to sign, the tally and the reasons, like a request's", () => {
    assert.deepEqual(readStickyToken(body), GOV_TOKEN);
    assert.match(body, /openssl dgst -sha256 -sign officer\.key/);
    assert.match(body, /unknown_officer/);
    assert.equal(parseApprovalComment(body).ok, false, "a copy of it approves nothing");
  });

  it("a deletion says the gate stops guarding the repository", () => {
    const del = change(null);
    const d = evaluateGovernance(govInput([], { change: del }));
    const text = renderGovernanceComment(view({ decision: d, change: del, warnings: [] }));
    assert.match(text, /This pull request deletes the policy: the gate stops guarding this repository/);
    assert.match(text, /token_binding_mismatch/);
  });

  it("the check run is pending, then success at M", () => {
    assert.equal(renderGovernanceCheckRun(view()).status, "in_progress");
    const approved = evaluateGovernance(
      govInput([cand("alice", sign("officer1", GOV_TOKEN)), cand("bob", sign("officer2", GOV_TOKEN))]),
    );
    const run = renderGovernanceCheckRun(view({ decision: approved }));
    assert.equal(run.conclusion, "success");
    assert.match(run.summary, /\*\*Policy change\*\* \(who may approve and how many\)/);
  });
});

describe("governance: evidence", () => {
  const approved = evaluateGovernance(
    govInput([cand("alice", sign("officer1", GOV_TOKEN)), cand("bob", sign("officer2", GOV_TOKEN))]),
  );
  const evidenceFacts = { officerKeys: govInput([]).officerKeys, pullRequestAuthor: "dave" };
  const result = buildGovernanceEvidence({
    decision: approved,
    change: CHANGE,
    policy: CURRENT,
    repository: REPO,
    pullRequest: PR,
    tokenFile: GOV_TOKEN,
    ...evidenceFacts,
    now: NOW,
  });

  it("writes the request's files into the pull request's own folder beside the policy", () => {
    assert.ok(result.ok);
    assert.equal(result.folder, ".github/quorum-gate.evidence/pr-12/");
    assert.deepEqual(
      result.files.map((f) => f.path.slice(result.folder.length)),
      ["token.bin", "officer1.sig", "officer2.sig", "approval.txt", "evidence.json"],
    );
    assert.ok(result.files.every((f) => isGovernanceEvidencePath(PR, f.path)));
    assert.deepEqual(result.files[0]?.content, GOV_TOKEN);
  });

  it("the document names the policy digest, the binding and the changes", () => {
    assert.ok(result.ok);
    const doc = JSON.parse(Buffer.from(result.files.at(-1)?.content ?? []).toString("utf8")) as EvidenceDocument;
    assert.deepEqual(doc.request.operation, { kind: "policyChange", policyDigest: CHANGE.policyDigest });
    assert.equal(doc.request.path, ".github/quorum-gate.yml");
    assert.equal(doc.request.sha256, CHANGE.policyDigest);
    assert.equal(doc.request.reason, undefined);
    assert.ok(doc.request.policyChanges?.includes("officer added: dave → officer officer4"));
    assert.equal(doc.bindingDigest, approved.bindingDigest);
    assert.equal(doc.cluster, CLUSTER);
    assert.equal(doc.pullRequestAuthor, "dave");
    assert.deepEqual(
      doc.approvals.map((a) => [a.officer, a.publicKey]),
      [
        ["officer1", KEYS["officer1"]?.publicPem],
        ["officer2", KEYS["officer2"]?.publicPem],
      ],
    );
  });

  it("refuses a decision that is not approved", () => {
    const r = buildGovernanceEvidence({
      decision: evaluateGovernance(govInput([])),
      change: CHANGE,
      policy: CURRENT,
      repository: REPO,
      pullRequest: PR,
      tokenFile: GOV_TOKEN,
      ...evidenceFacts,
      now: NOW,
    });
    assert.ok(!r.ok && r.reason === "not_approved");
  });

  it("knows its paths", () => {
    assert.equal(governanceEvidenceFolder(7), ".github/quorum-gate.evidence/pr-7/");
    const table: [number, string, boolean][] = [
      [7, ".github/quorum-gate.evidence/pr-7/token.bin", true],
      [7, ".github/quorum-gate.evidence/pr-7/", false],
      [7, ".github/quorum-gate.evidence/pr-70/token.bin", false],
      [7, ".github/quorum-gate.evidence/pr-7/x/y", false],
      [7, ".github/quorum-gate.evidence/token.bin", false],
      [7, ".github/quorum-gate.yml", false],
    ];
    for (const [pr, path, want] of table) assert.equal(isGovernanceEvidencePath(pr, path), want, path);
  });
});
