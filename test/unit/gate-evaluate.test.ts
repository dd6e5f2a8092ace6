// The quorum decision, re-evaluated from scratch: the ordinary flow, every rejection reason, and
// the attacks of docs/approvals.md (unregistered key, someone else's signature, another PR's or
// an older token, duplicates, revoked keys, withdrawals, look-alikes of the sticky comment).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fingerprint, signMessage } from "../../src/crypto/rsa.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { evaluateQuorum, type Decision, type EvaluationInput } from "../../src/gate/evaluate.ts";
import { requestBindingDigest, toBindingContext } from "../../src/gate/operation.ts";
import { parsePolicy, type Policy } from "../../src/gate/policy.ts";
import { renderStickyComment } from "../../src/gate/render.ts";
import { parseRequest, type GateRequest } from "../../src/gate/request.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import { testKey, type TestKey } from "../helpers/keys.ts";

const KEYS: Record<string, TestKey> = {
  officer1: testKey("gate-alice"),
  officer2: testKey("gate-bob"),
  officer3: testKey("gate-carol"),
};
const OUTSIDER = testKey("gate-outsider");
const key = (officer: string): TestKey => KEYS[officer] ?? OUTSIDER;
const REPO = "acme/hsm-ops";
const PR = 7;
const NOW = 1_800_000_100;
const SEALED = Buffer.alloc(256, 9).toString("base64");

function policyOf(extra = "", officers = "  alice: officer1\n  bob: officer2\n  carol: officer3\n"): Policy {
  const r = parsePolicy(
    Buffer.from(`version: 1\ncluster: cluster-abc\ntoken_lifetime_seconds: 3600\n${extra}officers:\n${officers}`),
  );
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
  return r.policy;
}

const REQUEST_BYTES = Buffer.from(
  `version: 1\ncluster: cluster-abc\noperation:\n  kind: createUser\n  type: CU\n  name: app7\n  sealed_password: ${SEALED}\nreason: payments\n`,
);
const parsed = parseRequest(REQUEST_BYTES);
assert.ok(parsed.ok);
const REQUEST: GateRequest = parsed.request;
const DIGEST = parsed.digest;

function tokenFor(pullRequest: number, createdAt = NOW - 100, request = REQUEST, digest = DIGEST): Buffer {
  const binding = requestBindingDigest(request, toBindingContext(REPO, pullRequest, digest));
  return Buffer.concat(
    [1, 2].map((nodeId) =>
      encodeRecord({
        service: 3,
        tokenId: 1,
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
const TOKEN = tokenFor(PR);

const approve = (officer: string, token: Uint8Array = TOKEN): string =>
  `/quorum approve ${signMessage(token, key(officer).privateKey).toString("base64")}`;

let clock = 0;
function cand(author: string, body: string, extra: Partial<ApprovalCandidate> = {}): ApprovalCandidate {
  clock += 1;
  return {
    id: `issue_comment:${clock}`,
    kind: "issue_comment",
    author,
    authorIsBot: false,
    body,
    createdAt: new Date((NOW - 1000 + clock) * 1000).toISOString(),
    ...extra,
  };
}

function input(candidates: readonly ApprovalCandidate[], over: Partial<EvaluationInput> = {}): EvaluationInput {
  return {
    policy: policyOf(),
    request: REQUEST,
    requestDigest: DIGEST,
    repository: REPO,
    pullRequest: PR,
    tokenFile: TOKEN,
    officerKeys: new Map(Object.entries(KEYS).map(([name, k]) => [name, k.publicPem])),
    quorumValues: { user: 2, quorum: 2 },
    prAuthor: "dave",
    candidates,
    now: NOW,
    ...over,
  };
}

const reasons = (d: Decision): string[] => d.verdicts.map((v) => v.reason);
const approvers = (d: Decision): string[] => d.approvers.map((a) => a.officer);

describe("evaluate: the ordinary flow", () => {
  it("no approvals yet: pending, everyone eligible is waited for", () => {
    const d = evaluateQuorum(input([cand("dave", "Please approve, thanks!")]));
    assert.equal(d.state, "pending");
    assert.equal(d.required, 2);
    assert.equal(d.missing, 2);
    assert.deepEqual(d.verdicts, []);
    assert.deepEqual(
      d.waitingFor.map((o) => o.officer),
      ["officer1", "officer2", "officer3"],
    );
    assert.deepEqual(d.problems, []);
    assert.ok(d.token !== null && !d.token.expired);
  });

  it("M distinct officers: approved, with signatures and key fingerprints", () => {
    const d = evaluateQuorum(
      input([cand("alice", approve("officer1")), cand("dave", "thanks"), cand("Bob", approve("officer2"))]),
    );
    assert.equal(d.state, "approved");
    assert.deepEqual(approvers(d), ["officer1", "officer2"]);
    assert.equal(d.missing, 0);
    assert.deepEqual(
      d.waitingFor.map((o) => o.officer),
      ["officer3"],
    );
    assert.equal(d.approvers[0]?.keyFingerprint, fingerprint(key("officer1").publicKey));
    assert.equal(d.approvers[1]?.login, "Bob");
    assert.deepEqual(reasons(d), ["valid", "valid"]);
  });

  it("is a pure function of its input: the same answer twice, and for any order of candidates", () => {
    const list = [
      cand("alice", approve("officer1")),
      cand("alice", approve("officer1")),
      cand("bob", "/quorum withdraw"),
      cand("carol", approve("officer3")),
      cand("bob", approve("officer2")),
    ];
    const first = evaluateQuorum(input(list));
    assert.deepEqual(evaluateQuorum(input(list)), first);
    assert.deepEqual(evaluateQuorum(input([...list].reverse())), first);
  });

  it("does not depend on the adapter's order even for comments posted in the same second", () => {
    const at = new Date(NOW * 1000 - 500_000).toISOString();
    const list = [
      cand("alice", approve("officer1"), { createdAt: at }),
      cand("alice", approve("officer1"), { createdAt: at, kind: "review" }),
      cand("bob", approve("officer2"), { createdAt: at }),
    ];
    const first = evaluateQuorum(input(list));
    assert.deepEqual(evaluateQuorum(input([...list].reverse())), first);
    assert.deepEqual(
      first.approvers.map((a) => a.candidateId),
      [list[0]?.id, list[2]?.id],
    );
  });

  it("the quorum values decide M (setMValue: max of M(s) and M(4))", () => {
    const bytes = Buffer.from(
      "version: 1\ncluster: cluster-abc\noperation: {kind: setMValue, service: 3, value: 3}\nreason: more officers\n",
    );
    const r = parseRequest(bytes);
    assert.ok(r.ok);
    const token = Buffer.concat(
      [1, 2].map((nodeId) =>
        encodeRecord({
          service: 4,
          tokenId: 1,
          keyHandle: 0n,
          nonce: "ab".repeat(16),
          userName: "gate",
          nodeId,
          createdAt: NOW,
          binding: requestBindingDigest(r.request, toBindingContext(REPO, PR, r.digest)),
        }),
      ),
    );
    const d = evaluateQuorum(
      input([cand("alice", approve("officer1", token)), cand("bob", approve("officer2", token))], {
        request: r.request,
        requestDigest: r.digest,
        tokenFile: token,
        quorumValues: { user: 2, quorum: 3 },
        policy: { ...policyOf(), lockoutMargin: 0 },
      }),
    );
    // Three officers hold keys: M = 3 leaves no spare signer, so only a margin of 0 lets it through the lock-out guard.
    assert.equal(d.required, 3);
    assert.equal(d.state, "pending");
    assert.deepEqual(approvers(d), ["officer1", "officer2"]);
  });

  it("lists accepted retry and renew requests for the adapter", () => {
    const list = [cand("alice", "/quorum renew"), cand("mallory", "/quorum retry"), cand("bob", "/quorum retry")];
    const d = evaluateQuorum(input(list));
    assert.deepEqual(
      d.commands.map((c) => [c.verb, c.officer]),
      [
        ["renew", "officer1"],
        ["retry", "officer2"],
      ],
    );
    assert.deepEqual(
      d.commands.map((c) => c.createdAt),
      [list[0]?.createdAt, list[2]?.createdAt],
    );
    assert.deepEqual(
      d.verdicts.map((v) => [v.verdict, v.reason]),
      [
        ["noted", "renew"],
        ["rejected", "unknown_officer"],
        ["noted", "retry"],
      ],
    );
  });
});

describe("evaluate: renew requests", () => {
  const at = (unix: number): Partial<ApprovalCandidate> => ({ createdAt: new Date(unix * 1000).toISOString() });
  const table: {
    name: string;
    candidates: () => ApprovalCandidate[];
    over?: Partial<EvaluationInput>;
    renew: boolean;
  }[] = [
    { name: "none", candidates: () => [], renew: false },
    {
      name: "a renew older than the current token was already served",
      candidates: () => [cand("alice", "/quorum renew", at(NOW - 200))],
      renew: false,
    },
    {
      name: "a renew after the token was issued",
      candidates: () => [cand("alice", "/quorum renew", at(NOW - 50))],
      renew: true,
    },
    {
      name: "a renew by someone outside the policy",
      candidates: () => [cand("mallory", "/quorum renew", at(NOW - 50))],
      renew: false,
    },
    {
      name: "an edited renew",
      candidates: () => [cand("alice", "/quorum renew", { ...at(NOW - 50), edited: true })],
      renew: false,
    },
    {
      name: "any renew while there is no usable token",
      candidates: () => [cand("alice", "/quorum renew", at(NOW - 5000))],
      over: { tokenFile: null },
      renew: true,
    },
  ];
  for (const c of table) {
    it(c.name, () => assert.equal(evaluateQuorum(input(c.candidates(), c.over ?? {})).renewRequested, c.renew));
  }
});

describe("evaluate: attacks and rejections", () => {
  const otherPrToken = tokenFor(PR + 1);
  const olderToken = tokenFor(PR, NOW - 5000);
  const table: {
    name: string;
    candidates: () => ApprovalCandidate[];
    over?: () => Partial<EvaluationInput>;
    state: string;
    approvers: string[];
    reasons: string[];
  }[] = [
    {
      name: "a signature by an unregistered key",
      candidates: () => [
        cand("alice", `/quorum approve ${signMessage(TOKEN, OUTSIDER.privateKey).toString("base64")}`),
        cand("bob", approve("officer2")),
      ],
      state: "pending",
      approvers: ["officer2"],
      reasons: ["bad_signature", "valid"],
    },
    {
      name: "a valid officer signature posted by an account outside the policy",
      candidates: () => [cand("mallory", approve("officer1")), cand("bob", approve("officer2"))],
      state: "pending",
      approvers: ["officer2"],
      reasons: ["unknown_officer", "valid"],
    },
    {
      name: "a valid officer signature posted by another officer's account",
      candidates: () => [cand("bob", approve("officer1")), cand("carol", approve("officer3"))],
      state: "pending",
      approvers: ["officer3"],
      reasons: ["not_the_officer", "valid"],
    },
    {
      name: "a signature over another PR's token",
      candidates: () => [cand("alice", approve("officer1", otherPrToken)), cand("bob", approve("officer2"))],
      state: "pending",
      approvers: ["officer2"],
      reasons: ["stale_token", "valid"],
    },
    {
      name: "a signature over an older token of this PR",
      candidates: () => [cand("alice", approve("officer1", olderToken)), cand("bob", approve("officer2"))],
      state: "pending",
      approvers: ["officer2"],
      reasons: ["stale_token", "valid"],
    },
    {
      name: "duplicate approvals by one officer count once",
      candidates: () => [
        cand("alice", approve("officer1")),
        cand("alice", approve("officer1")),
        cand("ALICE", approve("officer1")),
      ],
      state: "pending",
      approvers: ["officer1"],
      reasons: ["valid", "duplicate", "duplicate"],
    },
    {
      name: "a revoked officer key (no longer registered on the cluster)",
      candidates: () => [cand("alice", approve("officer1")), cand("bob", approve("officer2"))],
      over: () => ({
        officerKeys: new Map([
          ["officer1", key("officer1").publicPem],
          ["officer3", key("officer3").publicPem],
        ]),
      }),
      state: "pending",
      approvers: ["officer1"],
      reasons: ["valid", "revoked_key"],
    },
    {
      name: "a registered key that is not the one the policy pins",
      candidates: () => [cand("alice", approve("officer1")), cand("bob", approve("officer2"))],
      over: () => ({
        policy: policyOf(
          "",
          `  alice: officer1\n  bob: {officer: officer2, key_fingerprint: ${fingerprint(OUTSIDER.publicKey)}}\n  carol: officer3\n`,
        ),
      }),
      state: "pending",
      approvers: ["officer1"],
      reasons: ["valid", "revoked_key"],
    },
    {
      name: "withdraw after approve",
      candidates: () => [
        cand("alice", approve("officer1")),
        cand("bob", approve("officer2")),
        cand("alice", "/quorum withdraw"),
      ],
      state: "pending",
      approvers: ["officer2"],
      reasons: ["withdrawn", "valid", "withdraw"],
    },
    {
      name: "approve again after a withdraw",
      candidates: () => [
        cand("alice", approve("officer1")),
        cand("alice", "/quorum withdraw"),
        cand("alice", approve("officer1")),
        cand("bob", approve("officer2")),
      ],
      state: "approved",
      approvers: ["officer1", "officer2"],
      reasons: ["withdrawn", "withdraw", "valid", "valid"],
    },
    {
      name: "a withdraw by someone else withdraws nothing",
      candidates: () => [
        cand("alice", approve("officer1")),
        cand("mallory", "/quorum withdraw"),
        cand("bob", approve("officer2")),
      ],
      state: "approved",
      approvers: ["officer1", "officer2"],
      reasons: ["valid", "unknown_officer", "valid"],
    },
    {
      name: "an edited approval does not count",
      candidates: () => [cand("alice", approve("officer1"), { edited: true }), cand("bob", approve("officer2"))],
      state: "pending",
      approvers: ["officer2"],
      reasons: ["edited", "valid"],
    },
    {
      name: "an edited withdraw still withdraws, even approvals posted after it",
      candidates: () => [
        cand("alice", "/quorum withdraw", { edited: true }),
        cand("alice", approve("officer1")),
        cand("bob", approve("officer2")),
      ],
      state: "pending",
      approvers: ["officer2"],
      reasons: ["withdraw", "withdrawn", "valid"],
    },
    {
      name: "a deleted or dismissed approval counts for nothing",
      candidates: () => [
        cand("alice", approve("officer1"), { deleted: true }),
        cand("bob", approve("officer2"), { kind: "review", dismissed: true }),
      ],
      state: "pending",
      approvers: [],
      reasons: ["deleted", "dismissed"],
    },
    {
      name: "a review in a state GitHub does not document approves nothing, and the other approvals still count",
      candidates: () => [
        cand("alice", approve("officer1"), { kind: "review", unknownReviewState: "SUPER_APPROVED" }),
        cand("bob", approve("officer2")),
        cand("carol", approve("officer3")),
      ],
      state: "approved",
      approvers: ["officer2", "officer3"],
      reasons: ["unknown_review_state", "valid", "valid"],
    },
    {
      name: "a bot posting an approval",
      candidates: () => [
        cand("alice[bot]", approve("officer1"), { authorIsBot: true }),
        cand("alice", approve("officer1"), { authorIsBot: true }),
      ],
      state: "pending",
      approvers: [],
      reasons: ["bot_author", "bot_author"],
    },
    {
      name: "self-approval when the policy forbids it",
      candidates: () => [
        cand("dave", approve("officer1")),
        cand("alice", approve("officer1")),
        cand("bob", approve("officer2")),
      ],
      over: () => ({ policy: policyOf("allow_self_approval: false\n"), prAuthor: "Alice" }),
      state: "pending",
      approvers: ["officer2"],
      reasons: ["unknown_officer", "self_approval", "valid"],
    },
    {
      name: "self-approval when the policy allows it (the HSM's rule)",
      candidates: () => [cand("alice", approve("officer1")), cand("bob", approve("officer2"))],
      over: () => ({ prAuthor: "alice" }),
      state: "approved",
      approvers: ["officer1", "officer2"],
      reasons: ["valid", "valid"],
    },
    {
      name: "malformed commands are shown, not counted",
      candidates: () => [
        cand("alice", "/quorum approve <signature>"),
        cand("bob", "/quorum aprove x"),
        cand("carol", `${approve("officer3")}\n\n/quorum withdraw`),
      ],
      state: "pending",
      approvers: [],
      reasons: ["malformed_signature", "unknown_command", "multiple_commands"],
    },
    {
      name: "a candidate without a valid time",
      candidates: () => [cand("alice", approve("officer1"), { createdAt: "yesterday" })],
      state: "pending",
      approvers: [],
      reasons: ["invalid_candidate"],
    },
    {
      name: "an expired token counts nothing",
      candidates: () => [cand("alice", approve("officer1")), cand("bob", approve("officer2"))],
      over: () => ({ now: NOW + 3600 }),
      state: "pending",
      approvers: [],
      reasons: ["expired", "expired"],
    },
    {
      name: "no token yet",
      candidates: () => [cand("alice", approve("officer1"))],
      over: () => ({ tokenFile: null }),
      state: "pending",
      approvers: [],
      reasons: ["no_token"],
    },
    {
      name: "a token bound to another PR is refused as a whole",
      candidates: () => [
        cand("alice", approve("officer1", otherPrToken)),
        cand("bob", approve("officer2", otherPrToken)),
      ],
      over: () => ({ tokenFile: otherPrToken }),
      state: "rejected",
      approvers: [],
      reasons: ["no_token", "no_token"],
    },
    {
      name: "a request for another cluster",
      candidates: () => [cand("alice", approve("officer1")), cand("bob", approve("officer2"))],
      over: () => ({ request: { ...REQUEST, cluster: "cluster-other" } }),
      state: "rejected",
      approvers: [],
      reasons: ["no_token", "no_token"],
    },
    {
      name: "more approvals required than officers who can give them",
      candidates: () => [cand("bob", approve("officer2")), cand("carol", approve("officer3"))],
      over: () => ({
        policy: policyOf("allow_self_approval: false\n"),
        prAuthor: "alice",
        quorumValues: { user: 3, quorum: 2 },
      }),
      state: "rejected",
      approvers: ["officer2", "officer3"],
      reasons: ["valid", "valid"],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const d = evaluateQuorum(input(c.candidates(), c.over?.() ?? {}));
      assert.equal(d.state, c.state, JSON.stringify(d.problems));
      assert.deepEqual(approvers(d), c.approvers);
      assert.deepEqual(reasons(d), c.reasons, JSON.stringify(d.verdicts.map((v) => v.message)));
      assert.equal(d.missing, Math.max(0, d.required - d.approvers.length));
      for (const v of d.verdicts) assert.ok(v.message.length > 0);
    });
  }

  it("says whose signature was reposted", () => {
    const d = evaluateQuorum(input([cand("mallory", approve("officer1")), cand("bob", approve("officer1"))]));
    assert.match(d.verdicts[0]?.message ?? "", /officer1/);
    assert.match(d.verdicts[1]?.message ?? "", /officer1's, but bob is mapped to officer2/);
  });

  it("a user's copy of the sticky comment is just a comment", () => {
    const real = evaluateQuorum(input([cand("alice", approve("officer1")), cand("bob", approve("officer2"))]));
    const sticky = renderStickyComment({
      decision: real,
      request: REQUEST,
      requestPath: "hsm-requests/app7.yml",
      policy: policyOf(),
    });
    const d = evaluateQuorum(
      input([
        cand("mallory", sticky),
        cand("alice", sticky),
        cand("alice", sticky.replace("<!-- quorum-gate:sticky v1 -->", "")),
      ]),
    );
    assert.equal(d.state, "pending");
    assert.deepEqual(d.verdicts, []);
    assert.deepEqual(d.approvers, []);
  });

  it("names the problems that hold the decision", () => {
    const d = evaluateQuorum(
      input([], { request: { ...REQUEST, cluster: "cluster-other" }, tokenFile: Buffer.from("junk") }),
    );
    assert.deepEqual(
      d.problems.map((p) => p.code),
      ["cluster_mismatch", "bad_token_file"],
    );
    const expired = evaluateQuorum(input([], { now: NOW + 7200 }));
    assert.deepEqual(
      expired.problems.map((p) => p.code),
      ["token_expired"],
    );
    assert.equal(expired.state, "pending");
  });
});

describe("reposted signatures from accounts outside the policy", () => {
  it("traces only a bounded number to their officer per evaluation, so spam cannot multiply the RSA work", async () => {
    const { MAX_SIGNER_LOOKUPS } = await import("../../src/gate/judge-candidate.ts");
    const spam = Array.from({ length: MAX_SIGNER_LOOKUPS + 4 }, (_, i) => cand(`stranger${i}`, approve("officer1")));
    const d = evaluateQuorum(input(spam));
    assert.deepEqual(new Set(reasons(d)), new Set(["unknown_officer"]));
    const traced = d.verdicts.filter((v) => v.message.includes("officer1's"));
    assert.equal(traced.length, MAX_SIGNER_LOOKUPS);
    assert.equal(d.approvers.length, 0);
  });
});
