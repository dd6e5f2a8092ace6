// Payload approvals with `backend: cloudhsm-cli` (docs/real-cluster.md, "The long clock"): the
// gate verifies `/quorum approve until=<UTC> <sig>` against the key the policy pins, over the
// approval payload of this request; the HSM never sees it. Officer, pinned key, edits, until=,
// once per officer, self-approval and withdraw; the emulator backend still calls them
// not_applicable.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { renderPayloadComment } from "../../src/gate/approval-command.ts";
import { approvalPayloadOf, payloadExpiry, renderApprovalPayload } from "../../src/gate/approval-payload.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { evaluateQuorum, type EvaluationInput } from "../../src/gate/evaluate.ts";
import { parsePolicy, type Policy } from "../../src/gate/policy.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { testKey, type TestKey } from "../helpers/keys.ts";

const LOGINS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3" };
const KEYS: Record<string, TestKey> = Object.fromEntries(
  Object.values(LOGINS).map((o) => [o, testKey(`payload-${o}`)]),
);
const REPO = "acme/hsm";
const PR = 12;
const PATH = "hsm-requests/drop-old.yml";
const NOW = 1_800_000_000;
const BYTES = Buffer.from(
  "version: 1\ncluster: cluster-abc\noperation: {kind: deleteUser, type: CU, name: old}\nreason: retired service\n",
);
const parsed = parseRequest(BYTES);
assert.ok(parsed.ok);
const { request: REQUEST, digest: DIGEST } = parsed;

const indent = (pem: string): string =>
  pem
    .trimEnd()
    .split("\n")
    .map((l) => `      ${l}\n`)
    .join("");

function policyOf(backend: "cloudhsm-cli" | "emulator", extra = ""): Policy {
  const officers = Object.entries(LOGINS)
    .map(([l, o]) => `  ${l}:\n    officer: ${o}\n    public_key: |\n${indent(KEYS[o]!.publicPem)}`)
    .join("");
  const r = parsePolicy(
    Buffer.from(
      `version: 1\ncluster: cluster-abc\nbackend: ${backend}\napproval_lifetime_seconds: 604800\n${extra}officers:\n${officers}`,
    ),
  );
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
  return r.policy;
}

let clock = 0;
function cand(login: string, body: string, over: Partial<ApprovalCandidate> = {}): ApprovalCandidate {
  clock += 1;
  return {
    id: `issue_comment:${clock}`,
    kind: "issue_comment",
    author: login,
    authorIsBot: false,
    body,
    createdAt: new Date((NOW - 100_000 + clock) * 1000).toISOString(),
    ...over,
  };
}
const DAYS = (n: number): number => n * 24 * 3600;
const until = payloadExpiry(NOW * 1000, DAYS(3));

function payload(at: string, over: { pullRequest?: number } = {}): Buffer {
  return renderApprovalPayload(
    approvalPayloadOf({
      verdict: "approve",
      request: REQUEST,
      requestDigest: DIGEST,
      requestPath: PATH,
      repository: REPO,
      pullRequest: over.pullRequest ?? PR,
      expiresAt: at,
    }),
  );
}
function approve(
  login: string,
  opts: { signer?: string; at?: string; pullRequest?: number; edited?: boolean } = {},
): ApprovalCandidate {
  const at = opts.at ?? until;
  const signer = opts.signer ?? LOGINS[login]!;
  return cand(
    login,
    renderPayloadComment("approve", at, signMessage(payload(at, opts), KEYS[signer]!.privateKey)),
    opts.edited === true ? { edited: true } : {},
  );
}

function input(candidates: readonly ApprovalCandidate[], over: Partial<EvaluationInput> = {}): EvaluationInput {
  return {
    policy: policyOf("cloudhsm-cli"),
    request: REQUEST,
    requestDigest: DIGEST,
    requestPath: PATH,
    repository: REPO,
    pullRequest: PR,
    tokenFile: null,
    // The cloudhsm-cli backend cannot list keys (`user list` shows only that one is registered).
    officerKeys: new Map(),
    quorumValues: { user: 2, quorum: 1 },
    prAuthor: "someone",
    candidates,
    now: NOW,
    ...over,
  };
}

const reasons = (i: EvaluationInput): string[] =>
  evaluateQuorum(i).verdicts.map((v) => `${v.author}:${v.verdict}:${v.reason}`);

describe("payload approvals (backend cloudhsm-cli)", () => {
  it("counts an officer's approval of this request's payload under the pinned key, once per officer", () => {
    const d = evaluateQuorum(input([approve("alice"), approve("bob"), approve("alice")]));
    assert.deepEqual(d.approvers.map((a) => a.officer).sort(), ["officer1", "officer2"]);
    assert.equal(
      d.verdicts.filter((v) => v.verdict === "counted").length,
      2,
      "alice's second approval does not count twice",
    );
    assert.equal(d.missing, 0);
  });

  it("refuses another officer's key, another pull request's payload and an edited comment", () => {
    assert.deepEqual(
      reasons(
        input([
          approve("alice", { signer: "officer2" }),
          approve("bob", { pullRequest: PR + 1 }),
          approve("carol", { edited: true }),
        ]),
      ),
      ["alice:rejected:bad_signature", "bob:rejected:bad_signature", "carol:rejected:edited"],
    );
  });

  it("refuses an until= that has passed or lies beyond approval_lifetime_seconds", () => {
    const past = payloadExpiry((NOW - DAYS(2)) * 1000, DAYS(1));
    const far = payloadExpiry(NOW * 1000, DAYS(8));
    assert.deepEqual(reasons(input([approve("alice", { at: past }), approve("bob", { at: far })])), [
      "alice:rejected:expired",
      "bob:rejected:malformed_until",
    ]);
    // Days later, the same approval lapses by itself.
    assert.deepEqual(reasons(input([approve("alice")], { now: NOW + DAYS(4) })), ["alice:rejected:expired"]);
  });

  it("applies the self-approval rule and refuses a registered key that is not the pinned one", () => {
    const noSelf = policyOf("cloudhsm-cli", "allow_self_approval: false\n");
    assert.deepEqual(reasons(input([approve("alice")], { policy: noSelf, prAuthor: "Alice" })), [
      "alice:rejected:self_approval",
    ]);
    const other = new Map([["officer1", testKey("payload-somebody-else").publicPem]]);
    assert.deepEqual(reasons(input([approve("alice")], { officerKeys: other })), ["alice:rejected:revoked_key"]);
    const same = new Map([["officer1", KEYS["officer1"]!.publicPem]]);
    assert.deepEqual(reasons(input([approve("alice")], { officerKeys: same })), ["alice:counted:valid"]);
  });

  it("lets a withdraw take back an earlier payload approval", () => {
    const d = evaluateQuorum(input([approve("alice"), approve("bob"), cand("alice", "/quorum withdraw")]));
    assert.deepEqual(
      d.approvers.map((a) => a.officer),
      ["officer2"],
    );
  });

  it("decides on payload approvals alone: no HSM token is asked for before the execution window", () => {
    const one = evaluateQuorum(input([approve("alice")]));
    assert.equal(one.state, "pending");
    assert.equal(one.missing, 1);
    assert.deepEqual(
      one.problems.map((p) => p.code),
      [],
      "no token problem: on a real cluster the token comes at execution",
    );
    const two = evaluateQuorum(input([approve("alice"), approve("bob")]));
    assert.equal(two.state, "approved");
    assert.equal(two.token, null);
    // A token file left from an emulator policy changes nothing.
    const stale = evaluateQuorum(input([approve("alice"), approve("bob")], { tokenFile: Buffer.from("junk") }));
    assert.equal(stale.state, "approved");
    assert.deepEqual(stale.problems, []);
  });

  it("counts who could still approve by pinned keys, and by the cluster's key where it is known", () => {
    // Two of the three pinned officers could approve; one's registered key on the cluster is another.
    const other = new Map([["officer1", testKey("payload-somebody-else").publicPem]]);
    const d = evaluateQuorum(input([], { officerKeys: other }));
    assert.deepEqual(
      d.waitingFor.map((o) => o.officer).sort(),
      Object.values(LOGINS)
        .filter((o) => o !== "officer1")
        .sort(),
    );
    assert.equal(d.state, "pending");
    // The author may not approve: with M = 3 of 3 officers the request cannot be approved at all.
    const strict = policyOf("cloudhsm-cli", "allow_self_approval: false\n");
    const blocked = evaluateQuorum(
      input([], { policy: strict, prAuthor: "alice", quorumValues: { user: Object.keys(LOGINS).length, quorum: 1 } }),
    );
    assert.equal(blocked.state, "rejected");
    assert.deepEqual(
      blocked.problems.map((p) => p.code),
      ["quorum_unreachable"],
    );
    assert.match(
      blocked.problems[0]?.message ?? "",
      /with a pinned key the cluster does not contradict, not the author/,
    );
  });

  it("refuses a request that sets a password (backend_unsupported) and guards lock-outs with the cluster's registered officers", () => {
    const create = parseRequest(
      Buffer.from(
        `version: 1\ncluster: cluster-abc\noperation: {kind: createUser, type: CU, name: app1, sealed_password: ${Buffer.alloc(256, 7).toString("base64")}}\nreason: new service\n`,
      ),
    );
    assert.ok(create.ok, create.ok ? "" : JSON.stringify(create.issues));
    const refused = evaluateQuorum(input([], { request: create.request, requestDigest: create.digest }));
    assert.equal(refused.state, "rejected");
    assert.deepEqual(
      refused.problems.map((p) => p.code),
      ["backend_unsupported"],
    );
    // With the gate's password key: refused only when the password does not open with it.
    const opened: string[] = [];
    const keyed = (opens: boolean) =>
      evaluateQuorum(
        input([], {
          request: create.request,
          requestDigest: create.digest,
          opensSealedPassword: (sealed) => {
            opened.push(sealed);
            return opens;
          },
        }),
      );
    assert.deepEqual(
      keyed(false).problems.map((p) => p.code),
      ["sealed_password_unreadable"],
    );
    assert.deepEqual(keyed(true).problems, []);
    assert.equal(keyed(true).state, "pending");
    assert.ok(create.request.operation.kind === "createUser");
    assert.equal(opened[0], create.request.operation.sealedPassword);
    // Deleting one of two officers who hold a quorum key, with M = 2: the lock-out guard counts
    // the cluster's registered officers (from `user list`), as no key can be listed.
    const drop = parseRequest(
      Buffer.from(
        "version: 1\ncluster: cluster-abc\noperation: {kind: deleteUser, type: CO, name: officer1}\nreason: x\n",
      ),
    );
    assert.ok(drop.ok);
    const guarded = evaluateQuorum(
      input([], { request: drop.request, requestDigest: drop.digest, registeredOfficers: ["officer1", "officer2"] }),
    );
    assert.ok(
      guarded.problems.some((p) => p.code === "lockout"),
      JSON.stringify(guarded.problems),
    );
    const enough = evaluateQuorum(
      input([], {
        request: drop.request,
        requestDigest: drop.digest,
        registeredOfficers: ["officer1", "officer2", "officer3", "officer4"],
      }),
    );
    assert.ok(!enough.problems.some((p) => p.code === "lockout"), JSON.stringify(enough.problems));
  });

  it("stays not_applicable with the emulator backend, where officers sign the HSM's token", () => {
    assert.deepEqual(reasons(input([approve("alice")], { policy: policyOf("emulator") })), [
      "alice:rejected:not_applicable",
    ]);
  });
});
