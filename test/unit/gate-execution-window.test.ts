// The execution window of a real cluster (src/gate/execution-window.ts): countersignatures of the
// HSM's own token count only from officers whose payload approval counts, inside the window, once
// each, under the pinned key; at M the approval file carries them in the shape the CloudHSM CLI
// shell reads. The whole ceremony against the shell is in test/e2e/execution-window.test.ts.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { parseApprovalFile, renderTokenFile } from "../../src/cloudhsm-cli/approval-file.ts";
import { signMessage, verifyMessage } from "../../src/crypto/rsa.ts";
import { renderCountersignComment } from "../../src/gate/approval-command.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { judgeWindow, renderApprovalFile, type WindowInput } from "../../src/gate/execution-window.ts";
import { parsePolicy, type Policy } from "../../src/gate/policy.ts";
import type { Approver } from "../../src/gate/tally.ts";
import { testKey, type TestKey } from "../helpers/keys.ts";

const LOGINS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3" };
const KEYS: Record<string, TestKey> = Object.fromEntries(Object.values(LOGINS).map((o) => [o, testKey(`window-${o}`)]));
const OPENED = 1_800_000_000;
const DEADLINE = OPENED + 600;

function policy(): Policy {
  const officers = Object.entries(LOGINS)
    .map(
      ([l, o]) =>
        `  ${l}:\n    officer: ${o}\n    public_key: |\n${KEYS[o]!.publicPem.trimEnd()
          .split("\n")
          .map((x) => `      ${x}\n`)
          .join("")}`,
    )
    .join("");
  const r = parsePolicy(Buffer.from(`version: 1\ncluster: cluster-abc\nbackend: cloudhsm-cli\nofficers:\n${officers}`));
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
  return r.policy;
}

const approvalData = randomBytes(96);
const tokenFile = Buffer.from(renderTokenFile(approvalData, createHash("sha256").update(approvalData).digest()));
const window = { tokenFile, openedAt: OPENED, deadline: DEADLINE };

const approver = (login: string): Approver => ({
  officer: LOGINS[login]!,
  login,
  candidateId: `issue_comment:${login}`,
  kind: "issue_comment",
  createdAt: "2026-11-30T10:00:00Z",
  signature: "",
  keyFingerprint: "",
});

let n = 0;
function countersign(
  login: string,
  at: number,
  over: { signer?: string; data?: Buffer; edited?: boolean } = {},
): ApprovalCandidate {
  n += 1;
  const key = KEYS[over.signer ?? LOGINS[login] ?? "officer1"]!;
  return {
    id: `issue_comment:${n}`,
    kind: "issue_comment",
    author: login,
    authorIsBot: false,
    body: renderCountersignComment(signMessage(over.data ?? approvalData, key.privateKey)),
    createdAt: new Date(at * 1000).toISOString(),
    ...(over.edited === true ? { edited: true } : {}),
  };
}

function input(candidates: ApprovalCandidate[], over: Partial<WindowInput> = {}): WindowInput {
  return {
    window,
    policy: policy(),
    approvers: [approver("alice"), approver("bob")],
    required: 2,
    candidates,
    now: OPENED + 60,
    ...over,
  };
}

describe("execution window", () => {
  it("is ready at M countersignatures of approvers, and the approval file carries them for the shell", () => {
    const one = judgeWindow(input([countersign("alice", OPENED + 10)]));
    assert.ok(one.ok);
    assert.equal(one.state, "open");
    assert.deepEqual(one.waitingFor, ["officer2"]);
    const two = judgeWindow(input([countersign("alice", OPENED + 10), countersign("bob", OPENED + 20)]));
    assert.ok(two.ok);
    assert.equal(two.state, "ready");
    assert.deepEqual(
      two.signers.map((s) => s.officer),
      ["officer1", "officer2"],
    );
    const file = parseApprovalFile(renderApprovalFile(tokenFile, two.signers));
    assert.ok(file.ok, file.ok ? "" : file.message);
    assert.ok(file.approval.approvalData.equals(approvalData));
    for (const s of file.approval.signatures)
      assert.ok(verifyMessage(approvalData, KEYS[s.username]!.publicKey, s.signature), s.username);
  });

  it("counts nobody who did not approve, nothing outside the window, no edit, no other token, nobody twice", () => {
    const j = judgeWindow(
      input([
        countersign("carol", OPENED + 1), // did not approve the payload
        countersign("alice", OPENED - 1), // before the window: an earlier token
        countersign("bob", DEADLINE + 1), // too late
        countersign("alice", OPENED + 2, { edited: true }),
        countersign("alice", OPENED + 3, { data: randomBytes(96) }), // a reused or another token
        countersign("alice", OPENED + 4, { signer: "officer2" }),
        countersign("mallory", OPENED + 5),
        countersign("alice", OPENED + 6),
        countersign("alice", OPENED + 7),
      ]),
    );
    assert.ok(j.ok);
    assert.deepEqual(
      j.verdicts.map((v) => `${v.author}:${v.reason}`),
      [
        "carol:not_an_approver",
        "alice:before_window",
        "bob:window_closed",
        "alice:edited",
        "alice:bad_signature",
        "alice:bad_signature",
        "mallory:unknown_officer",
        "alice:valid",
        "alice:duplicate",
      ],
    );
    assert.equal(j.state, "open");
  });

  it("lapses when the deadline passes before M, and refuses a token file that is not one", () => {
    const lapsed = judgeWindow(input([countersign("alice", OPENED + 10)], { now: DEADLINE + 1 }));
    assert.ok(lapsed.ok);
    assert.equal(lapsed.state, "lapsed");
    // M signatures in time, judged after the deadline: the HSM's token is gone, nothing can run.
    const late = judgeWindow(
      input([countersign("alice", OPENED + 10), countersign("bob", OPENED + 20)], { now: DEADLINE + 1 }),
    );
    assert.ok(late.ok);
    assert.equal(late.state, "lapsed");
    const bad = judgeWindow(input([], { window: { ...window, tokenFile: Buffer.from("{}") } }));
    assert.deepEqual(bad.ok ? null : bad.reason, "bad_token_file");
    assert.throws(() => renderApprovalFile(Buffer.from("not json"), []), /token file/);
  });
});
