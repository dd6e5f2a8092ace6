// The gate's fast paths against the slow paths they shortcut: the same answer for every input.
// (1) Canonical base64 is decoded by a round trip instead of a character pattern: the lenient
//     decoder must answer exactly as the pattern-first version it replaced, kept here verbatim.
// (2) An approve command takes its canonical signature text from the comment when that text is
//     canonical already, instead of encoding the decoded bytes again.
// (3) The comment `quorum-gate sign` prints is recognised without the line-by-line grammar: the
//     result must be the grammar's for every comment, that shape or not.
// (4) An evaluation examines every candidate before running the RSA checks back to back: the
//     judgements must be those of judging each candidate whole, in order, as before.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeCanonicalBase64, decodeLenientBase64, type Base64Result } from "../../src/formats/lenient-base64.ts";
import {
  parseApprovalComment,
  parseApprovalCommentLines,
  renderApprovalComment,
} from "../../src/gate/approval-command.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import {
  concludeExaminations,
  examineCandidate,
  judgeCandidate,
  MAX_SIGNER_LOOKUPS,
  type JudgeContext,
} from "../../src/gate/judge-candidate.ts";
import { buildKeyRing } from "../../src/gate/officer-keys.ts";
import { requestBindingDigest, serviceOf, toBindingContext } from "../../src/gate/operation.ts";
import { parsePolicy } from "../../src/gate/policy.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { inspectToken } from "../../src/gate/token.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import { testKey } from "../helpers/keys.ts";
import { mutate, pick } from "../helpers/mutate.ts";
import { prng } from "../helpers/prng.ts";

/** decodeLenientBase64 before its canonical fast path, verbatim: the reference. */
function lenientReference(text: string): Base64Result {
  const compact = /\s/.test(text) ? text.replace(/\s+/g, "") : text;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
    return { ok: false, error: "not base64 (only A-Z, a-z, 0-9, +, / and = padding are allowed)" };
  if (compact.length % 4 === 0) return { ok: true, bytes: Buffer.from(compact, "base64") };
  const body = compact.replace(/=+$/, "");
  if (body.length % 4 === 1) return { ok: false, error: "not base64 (truncated)" };
  const padded = body + "=".repeat((4 - (body.length % 4)) % 4);
  if (compact.length !== body.length && compact.length !== padded.length)
    return { ok: false, error: "not base64 (bad padding)" };
  return { ok: true, bytes: Buffer.from(padded, "base64") };
}

/** Base64 texts as they arrive, and broken the ways they break: seeded, so a failure replays. */
function base64Corpus(seed: number, count: number): string[] {
  const rnd = prng(seed);
  const fixed = [
    "",
    "=",
    "==",
    "A",
    "AA",
    "AA=",
    "AA==",
    "AAA",
    "AAA=",
    "AAAA",
    "QR==",
    "QUJ=",
    "QUI=",
    "Zg",
    "Zg=",
    "Zm8",
    "Zm8=",
    "Zm9v",
    "Zm9v====",
    "Zm=v",
    "-_-_",
    "ab-c",
    "ab_c",
    "YW Jj",
    "YW\nJj",
    " YWJj ",
    "YWJj\r\n",
    "YW\u00a0Jj",
    "YWJj\u200b",
    "ÿÿÿÿ",
    "YWJj!",
    "Y\tW\tJ\tj",
  ];
  const fragments = ["=", "==", " ", "\n", "\r\n", "\t", "-", "_", "!", ".", "\u00a0", "é", "A", "+", "/"];
  const out = [...fixed];
  for (let i = 0; i < count; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
    const canonical = bytes.toString("base64");
    const shapes = [
      canonical,
      canonical.replace(/=+$/, ""),
      (canonical.match(/.{1,76}/g) ?? []).join("\n"),
      canonical.toLowerCase(),
      bytes.toString("base64url"),
    ];
    const text = pick(rnd, shapes);
    out.push(text, mutate(rnd, text, fragments));
  }
  return out;
}

describe("canonical base64 fast path", () => {
  it("decodes every text exactly as the pattern-first decoder did", () => {
    for (const text of base64Corpus(0x5eed64, 3000)) {
      assert.deepEqual(decodeLenientBase64(text), lenientReference(text), JSON.stringify(text));
    }
  });

  it("takes only text that is its bytes' canonical encoding, with the bytes the slow path gives", () => {
    for (const text of base64Corpus(0xb64, 3000)) {
      const fast = decodeCanonicalBase64(text);
      if (fast === null) continue;
      assert.equal(fast.toString("base64"), text);
      assert.deepEqual(lenientReference(text), { ok: true, bytes: fast });
    }
  });
});

describe("approve commands: the signature's canonical text", () => {
  it("is the canonical encoding of the decoded bytes, however the signature was pasted", () => {
    const rnd = prng(0xa99);
    for (let i = 0; i < 300; i++) {
      const sig = Buffer.from(Array.from({ length: 256 }, () => Math.floor(rnd() * 256)));
      const b64 = sig.toString("base64");
      const pasted = pick(rnd, [
        b64,
        b64.replace(/=+$/, ""),
        (b64.match(/.{1,76}/g) ?? []).join("\n"),
        `\n\`\`\`\n${b64}\n\`\`\``,
        `${b64}  `,
      ]);
      const r = parseApprovalComment(`/quorum approve ${pasted}\n`);
      assert.ok(r.ok && r.command.verb === "approve", JSON.stringify(r));
      assert.equal(r.command.signature, b64);
      assert.deepEqual(r.command.bytes, sig);
    }
  });
});

describe("approve commands: the one-line shortcut", () => {
  it("gives the grammar's result for every comment, in the signed shape or near it", () => {
    const rnd = prng(0x1e57);
    const fragments = [
      "\n",
      "\r\n",
      "\r",
      " ",
      "\t",
      "=",
      "==",
      "A",
      "-",
      "_",
      "> ",
      "```\n",
      "<!--",
      "/quorum withdraw\n",
      "/quorum approve ",
      "\u00a0",
      "\u200b",
    ];
    let shortcut = 0;
    for (let i = 0; i < 4000; i++) {
      const size = pick(rnd, [256, 256, 256, 255, 257, 0, 1]);
      const sig = Buffer.from(Array.from({ length: size }, () => Math.floor(rnd() * 256)));
      const rendered = renderApprovalComment(sig);
      const shapes = [
        rendered,
        rendered.trimEnd(),
        `${rendered}\n`,
        rendered.replace("\n", "\r\n"),
        rendered.replace(/=+\n$/, "\n"),
        rendered.replace("approve ", "approve  "),
        rendered.replace(" approve", "\tapprove"),
        `${rendered}thanks!`,
        ` ${rendered}`,
      ];
      const shaped = pick(rnd, shapes);
      const body = rnd() < 0.5 ? shaped : mutate(rnd, shaped, fragments);
      const fast = parseApprovalComment(body);
      assert.deepEqual(fast, parseApprovalCommentLines(body), JSON.stringify(body));
      if (fast.ok && size === 256 && (body === rendered || body === rendered.trimEnd())) shortcut += 1;
    }
    assert.ok(shortcut > 100, `the corpus holds the signed shape itself often enough (${shortcut})`);
  });
});

describe("an evaluation's RSA checks run after every candidate is examined", () => {
  const officers = ["officer1", "officer2", "officer3"];
  const keys = Object.fromEntries(officers.map((o) => [o, testKey(`perf-eq-${o}`)]));
  const outsider = testKey("perf-eq-outsider");
  const policy = (() => {
    const r = parsePolicy(
      Buffer.from(
        "version: 1\ncluster: cluster-eq\ntoken_lifetime_seconds: 3600\nofficers:\n  alice: officer1\n  bob: officer2\n  carol: officer3\n  erin: officer4\n",
      ),
    );
    assert.ok(r.ok);
    return r.policy;
  })();
  const request = (() => {
    const r = parseRequest(
      Buffer.from(
        `version: 1\ncluster: cluster-eq\noperation:\n  kind: createUser\n  type: CU\n  name: app9\n  sealed_password: ${Buffer.alloc(256, 3).toString("base64")}\nreason: equivalence\n`,
      ),
    );
    assert.ok(r.ok);
    return r;
  })();
  const now = 1_800_000_000;
  const binding = requestBindingDigest(request.request, toBindingContext("acme/ops", 9, request.digest));
  const tokenAt = (tokenId: number) =>
    Buffer.concat(
      [1, 2].map((nodeId) =>
        encodeRecord({
          service: 3,
          tokenId,
          keyHandle: 0n,
          nonce: `${nodeId}${tokenId}`.padEnd(32, "n"),
          userName: "gate",
          nodeId,
          createdAt: now - 100,
          binding,
        }),
      ),
    );
  const token = tokenAt(2);
  const oldToken = tokenAt(1);
  // officer4 is mapped but has no registered key.
  const ring = buildKeyRing(new Map(officers.map((o) => [o, keys[o]!.publicPem])));
  const tokenCheck = inspectToken(token, {
    binding,
    service: serviceOf(request.request.operation),
    lifetimeSeconds: 3600,
    now,
  });
  assert.ok(tokenCheck.ok);

  const sign = (who: string, over: Uint8Array = token) =>
    `/quorum approve ${signMessage(over, (keys[who] ?? outsider).privateKey).toString("base64")}`;
  let seq = 0;
  const cand = (author: string, body: string, extra: Partial<ApprovalCandidate> = {}): ApprovalCandidate => {
    seq += 1;
    return {
      id: `issue_comment:${seq}`,
      kind: "issue_comment",
      author,
      authorIsBot: false,
      body,
      createdAt: new Date((now - 500 + seq) * 1000).toISOString(),
      url: `https://github.com/acme/ops/pull/9#c${seq}`,
      ...extra,
    };
  };
  const candidates: ApprovalCandidate[] = [
    cand("alice", sign("officer1")),
    cand("bob", sign("officer1")), // not_the_officer
    cand("carol", sign("officer3", oldToken)), // stale_token
    cand("carol", `/quorum approve ${Buffer.alloc(256, 1).toString("base64")}`), // bad_signature
    cand("erin", sign("officer2")), // revoked_key: no registered key
    cand("dave", sign("officer2")), // self-approval is off, but dave is no officer
    cand("alice", sign("officer1"), { edited: true }),
    cand("bob", sign("officer2"), { deleted: true }),
    cand("dependabot[bot]", sign("officer2"), { authorIsBot: true }),
    cand("bob", sign("officer2"), { createdAt: "yesterday" }),
    cand("bob", "/quorum withdraw"),
    cand("carol", "/quorum renew"),
    cand("alice", "Looks good"),
    cand("alice", "/quorum aprove"),
    ...Array.from({ length: MAX_SIGNER_LOOKUPS + 3 }, (_, i) =>
      cand(`stranger${i}`, sign(i % 2 === 0 ? "officer3" : "outsider")),
    ),
    cand("stranger-late", "/quorum withdraw"),
    cand("bob", sign("officer2")),
    cand("carol", sign("officer3")),
  ];
  const context = (prAuthor: string, tokenOk = true): JudgeContext => ({
    policy,
    ring,
    token: tokenOk ? tokenCheck : { ok: false, problem: "no_token", message: "none" },
    tokenBytes: tokenOk ? token : null,
    prAuthor,
    signerLookups: { remaining: MAX_SIGNER_LOOKUPS },
  });

  for (const [name, prAuthor, tokenOk] of [
    ["with a token", "dave", true],
    ["the author is an officer", "alice", true],
    ["without a token", "dave", false],
  ] as const) {
    it(`gives each candidate's judgement as judging it whole does (${name})`, () => {
      // One context each, as one evaluation has: both paths spend the signer lookups in order.
      const wholeCtx = context(prAuthor, tokenOk);
      const whole = candidates.flatMap((c, i) => judgeCandidate(c, i, wholeCtx) ?? []);
      const batchedCtx = context(prAuthor, tokenOk);
      const batched = concludeExaminations(candidates.flatMap((c, i) => examineCandidate(c, i, batchedCtx) ?? []));
      assert.deepEqual(batched, whole);
      assert.equal(batchedCtx.signerLookups.remaining, wholeCtx.signerLookups.remaining);
      if (tokenOk) {
        const reasons = new Set(batched.map((j) => j.verdict.reason));
        for (const r of [
          "valid",
          "not_the_officer",
          "stale_token",
          "bad_signature",
          "revoked_key",
          "unknown_officer",
          "edited",
          "deleted",
          "bot_author",
          "invalid_candidate",
          "withdraw",
          "renew",
          "unknown_command",
        ]) {
          assert.ok(reasons.has(r as never), `the mix covers ${r}`);
        }
        const traced = batched.filter(
          (j) => j.verdict.reason === "unknown_officer" && j.verdict.message.includes("'s own mapped account"),
        );
        assert.ok(traced.length > 0 && traced.length <= MAX_SIGNER_LOOKUPS);
      }
    });
  }
});
