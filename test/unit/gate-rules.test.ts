// The governance rules of docs/governance.md in the engine: required counts and AND groups (the
// HSM's M stays the floor), vetoes over the reject payload, early refusal, cooling-off, and the
// lock-out guard as a blocking problem.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { renderPayloadComment } from "../../src/gate/approval-command.ts";
import { approvalPayloadOf, payloadExpiry, renderApprovalPayload } from "../../src/gate/approval-payload.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { evaluateQuorum, type EvaluationInput } from "../../src/gate/evaluate.ts";
import { requestBindingDigest, toBindingContext } from "../../src/gate/operation.ts";
import { parsePolicy, type Policy } from "../../src/gate/policy.ts";
import { renderCheckRun, renderStickyComment } from "../../src/gate/render.ts";
import { parseRequest, type GateRequest } from "../../src/gate/request.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import { testKey, type TestKey } from "../helpers/keys.ts";

const NAMES = ["officer1", "officer2", "officer3", "officer4", "officer5"];
const KEYS: Record<string, TestKey> = Object.fromEntries(NAMES.map((n) => [n, testKey(`rules-${n}`)]));
const LOGINS: Record<string, string> = {
  alice: "officer1",
  bob: "officer2",
  carol: "officer3",
  dan: "officer4",
  erin: "officer5",
};
const REPO = "acme/hsm";
const PR = 9;
const PATH = "hsm-requests/drop-old.yml";
const NOW = 1_800_000_100;

function policyOf(extra = ""): Policy {
  const officers = Object.entries(LOGINS)
    .map(([l, o]) => `  ${l}: ${o}`)
    .join("\n");
  const r = parsePolicy(Buffer.from(`version: 1\ncluster: cluster-abc\n${extra}officers:\n${officers}\n`));
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
  return r.policy;
}

const BYTES = Buffer.from(
  "version: 1\ncluster: cluster-abc\noperation: {kind: deleteUser, type: CU, name: old}\nreason: retired service\n",
);
const parsed = parseRequest(BYTES);
assert.ok(parsed.ok);
const REQUEST: GateRequest = parsed.request;
const DIGEST = parsed.digest;
const TOKEN = Buffer.concat(
  [1, 2].map((nodeId) =>
    encodeRecord({
      service: 3,
      tokenId: 1,
      keyHandle: 0n,
      nonce: `${nodeId}`.repeat(32),
      userName: "gate",
      nodeId,
      createdAt: NOW - 100,
      binding: requestBindingDigest(REQUEST, toBindingContext(REPO, PR, DIGEST)),
    }),
  ),
);

let clock = 0;
function cand(login: string, body: string): ApprovalCandidate {
  clock += 1;
  return {
    id: `issue_comment:${clock}`,
    kind: "issue_comment",
    author: login,
    authorIsBot: false,
    body,
    createdAt: new Date((NOW - 1000 + clock) * 1000).toISOString(),
  };
}
const approve = (login: string): ApprovalCandidate =>
  cand(login, `/quorum approve ${signMessage(TOKEN, KEYS[LOGINS[login]!]!.privateKey).toString("base64")}`);
const until = payloadExpiry(NOW * 1000, 3600);
function veto(login: string, signer = login, at = until): ApprovalCandidate {
  const payload = renderApprovalPayload(
    approvalPayloadOf({
      verdict: "reject",
      request: REQUEST,
      requestDigest: DIGEST,
      requestPath: PATH,
      repository: REPO,
      pullRequest: PR,
      expiresAt: at,
    }),
  );
  return cand(login, renderPayloadComment("reject", at, signMessage(payload, KEYS[LOGINS[signer]!]!.privateKey)));
}

function input(candidates: readonly ApprovalCandidate[], over: Partial<EvaluationInput> = {}): EvaluationInput {
  return {
    policy: policyOf(),
    request: REQUEST,
    requestDigest: DIGEST,
    requestPath: PATH,
    repository: REPO,
    pullRequest: PR,
    tokenFile: TOKEN,
    officerKeys: new Map(Object.entries(KEYS).map(([n, k]) => [n, k.publicPem])),
    quorumValues: { user: 2, quorum: 2 },
    prAuthor: "someone",
    candidates,
    now: NOW,
    ...over,
  };
}

const GROUPS = "groups:\n  security: [alice, bob]\n  platform: [carol]\n";

describe("rules: required counts and AND groups", () => {
  it("a required count above M is asked for; M stays the floor when the policy asks for less", () => {
    const three = policyOf("operations:\n  deleteUser:\n    required: 3\n");
    assert.equal(evaluateQuorum(input([approve("alice"), approve("bob")], { policy: three })).state, "pending");
    const d = evaluateQuorum(input([approve("alice"), approve("bob"), approve("dan")], { policy: three }));
    assert.ok(d.state === "approved" && d.required === 3);
    const one = policyOf("operations:\n  deleteUser:\n    required: 1\n");
    const low = evaluateQuorum(input([approve("alice")], { policy: one }));
    assert.ok(low.required === 2 && low.state === "pending", "the HSM's M (2) is the floor");
  });

  it("every group must be met as well as the count, and the tally shows each group", () => {
    const policy = policyOf(
      `${GROUPS}operations:\n  deleteUser:\n    required: 3\n    groups:\n      security: 1\n      platform: 1\n`,
    );
    const noPlatform = evaluateQuorum(input([approve("alice"), approve("bob"), approve("dan")], { policy }));
    assert.equal(noPlatform.state, "pending");
    assert.deepEqual(
      noPlatform.groups.map((g) => [g.group, g.count, g.have, g.canStill]),
      [
        ["security", 1, 2, 0],
        ["platform", 1, 0, 1],
      ],
    );
    const sticky = renderStickyComment({ decision: noPlatform, request: REQUEST, requestPath: PATH, policy });
    assert.match(sticky, /\| `platform` \| 1 \| 0 \| 1 \|/);
    const met = evaluateQuorum(input([approve("alice"), approve("dan"), approve("carol")], { policy }));
    assert.equal(met.state, "approved");
  });

  it("policy errors: unknown group, group larger than its members, member not an officer", () => {
    const bad = (extra: string) => {
      const officers = Object.entries(LOGINS)
        .map(([l, o]) => `  ${l}: ${o}`)
        .join("\n");
      const r = parsePolicy(Buffer.from(`version: 1\ncluster: cluster-abc\n${extra}officers:\n${officers}\n`));
      assert.ok(!r.ok);
      return r.issues.map((i) => i.code);
    };
    assert.deepEqual(bad("operations:\n  deleteUser:\n    groups:\n      ops: 1\n"), ["unknown_group"]);
    assert.deepEqual(bad(`${GROUPS}operations:\n  deleteUser:\n    groups:\n      platform: 2\n`), ["bad_count"]);
    assert.deepEqual(bad("groups:\n  security: [mallory]\n"), ["bad_group", "bad_group"]);
    assert.deepEqual(bad("operations:\n  dropTable: {required: 2}\n"), ["unknown_field"]);
    assert.deepEqual(bad("rejections_to_block: 0\n"), ["bad_count"]);
    assert.deepEqual(bad("operations:\n  deleteUser: {delay_seconds: soon}\n"), ["bad_count"]);
  });
});

describe("rules: vetoes", () => {
  it("a veto signed over the reject payload blocks the request, even with the quorum met", () => {
    const d = evaluateQuorum(input([approve("alice"), approve("bob"), veto("carol")]));
    assert.equal(d.state, "rejected");
    assert.ok(d.problems.some((p) => p.code === "vetoed"));
    assert.deepEqual(
      d.vetoes.map((v) => v.officer),
      ["officer3"],
    );
    assert.match(
      renderCheckRun({ decision: d, request: REQUEST, requestPath: PATH, policy: policyOf() }).title,
      /Rejected: vetoed/,
    );
  });

  it("a vetoing officer's approval does not count, and a veto counts once per officer", () => {
    const policy = policyOf("rejections_to_block: 2\n");
    const d = evaluateQuorum(input([approve("alice"), approve("bob"), veto("bob"), veto("bob")], { policy }));
    assert.equal(d.state, "pending", "one veto of two needed: not blocked, but bob no longer approves");
    assert.deepEqual(
      d.approvers.map((a) => a.officer),
      ["officer1"],
    );
    assert.deepEqual(
      d.verdicts.filter((v) => v.command === "reject").map((v) => v.reason),
      ["reject", "duplicate"],
    );
    const two = evaluateQuorum(input([approve("alice"), veto("bob"), veto("carol")], { policy }));
    assert.equal(two.state, "rejected");
  });

  it("a veto with another officer's signature, an expired until= or none at all does not count", () => {
    const d = evaluateQuorum(
      input([
        veto("carol", "dan"),
        veto("dan", "dan", payloadExpiry((NOW - 7200) * 1000, 3600)),
        approve("alice"),
        approve("bob"),
      ]),
    );
    assert.deepEqual(
      d.verdicts.filter((v) => v.command === "reject").map((v) => v.reason),
      ["bad_signature", "expired"],
    );
    assert.equal(d.state, "approved");
    const { requestPath: _path, ...withoutPath } = input([veto("carol")]);
    const noPath = evaluateQuorum(withoutPath);
    assert.deepEqual(
      noPath.verdicts.map((v) => v.reason),
      ["not_applicable"],
    );
  });

  it("a withdraw after a veto lifts it", () => {
    const d = evaluateQuorum(
      input([veto("carol"), cand("carol", "/quorum withdraw"), approve("alice"), approve("bob")]),
    );
    assert.equal(d.state, "approved");
    assert.deepEqual(d.vetoes, []);
  });
});

describe("rules: early refusal", () => {
  it("fails at once when vetoes, missing keys and the author leave M out of reach", () => {
    const keys = new Map(
      Object.entries(KEYS)
        .filter(([n]) => n !== "officer4" && n !== "officer5")
        .map(([n, k]) => [n, k.publicPem]),
    );
    const policy = policyOf("allow_self_approval: false\nrejections_to_block: 2\n");
    const d = evaluateQuorum(input([veto("carol")], { officerKeys: keys, policy, prAuthor: "alice" }));
    assert.equal(d.state, "rejected");
    const p = d.problems.find((x) => x.code === "quorum_unreachable");
    assert.match(p?.message ?? "", /2 officers must approve, but only 1 can/);
  });

  it("fails at once when a group cannot be met any more", () => {
    const policy = policyOf(
      `${GROUPS}rejections_to_block: 3\noperations:\n  deleteUser:\n    groups:\n      platform: 1\n`,
    );
    const d = evaluateQuorum(input([veto("carol")], { policy }));
    assert.equal(d.state, "rejected");
    assert.match(
      d.problems.map((x) => x.message).join(" "),
      /group platform needs 1 approval, but only 0 of its officers can give one/,
    );
  });
});

describe("rules: cooling-off", () => {
  const policy = policyOf("operations:\n  deleteUser:\n    delay_seconds: 3600\n");
  it("stays pending until the delay after the approval that met the rule, and says when", () => {
    clock = 0;
    const list = [approve("alice"), approve("bob"), approve("carol")];
    const metAt = Date.parse(list[1]!.createdAt) / 1000;
    const d = evaluateQuorum(input(list, { policy }));
    assert.equal(d.state, "pending");
    assert.equal(d.coolingOffUntil, new Date((metAt + 3600) * 1000).toISOString().replace(".000Z", "Z"));
    assert.match(
      renderCheckRun({ decision: d, request: REQUEST, requestPath: PATH, policy }).title,
      /^Cooling off: may go at /,
    );
    assert.equal(evaluateQuorum(input(list, { policy, now: metAt + 3600 })).state, "approved");
  });

  it("a veto during the cooling-off still blocks", () => {
    const d = evaluateQuorum(input([approve("alice"), approve("bob"), veto("carol")], { policy }));
    assert.equal(d.state, "rejected");
  });
});

describe("rules: the lock-out guard", () => {
  it("deleting a signer that leaves fewer than M + 1 is rejected with the numbers", () => {
    const bytes = Buffer.from(
      "version: 1\ncluster: cluster-abc\noperation: {kind: deleteUser, type: CO, name: officer1}\nreason: leaves the team\n",
    );
    const r = parseRequest(bytes);
    assert.ok(r.ok);
    const three = new Map(
      Object.entries(KEYS)
        .slice(0, 3)
        .map(([n, k]) => [n, k.publicPem]),
    );
    const d = evaluateQuorum(
      input([], { request: r.request, requestDigest: r.digest, officerKeys: three, tokenFile: null }),
    );
    assert.equal(d.state, "rejected");
    assert.match(
      d.problems.find((p) => p.code === "lockout")?.message ?? "",
      /lockout_delete_officer: .*leave 2 officers .* M is 2 .* at least 3/,
    );
    assert.ok(
      evaluateQuorum(input([], { request: r.request, requestDigest: r.digest, tokenFile: null })).problems.every(
        (p) => p.code !== "lockout",
      ),
      "five signers: four remain",
    );
  });
});
