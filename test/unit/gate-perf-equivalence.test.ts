// The gate's fast paths against the slow paths they shortcut: the same answer for every input.
// (1) Canonical base64 is decoded by a round trip instead of a character pattern: the lenient
//     decoder must answer exactly as the pattern-first version it replaced, kept here verbatim.
// (2) An approve command takes its canonical signature text from the comment when that text is
//     canonical already, instead of encoding the decoded bytes again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeCanonicalBase64, decodeLenientBase64, type Base64Result } from "../../src/formats/lenient-base64.ts";
import { parseApprovalComment } from "../../src/gate/approval-command.ts";
import { mutate, pick } from "../helpers/mutate.ts";
import { prng } from "../helpers/prng.ts";

/** decodeLenientBase64 before its canonical fast path, verbatim: the reference. */
function lenientReference(text: string): Base64Result {
  const compact = /\s/.test(text) ? text.replace(/\s+/g, "") : text;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return { ok: false, error: "not base64 (only A-Z, a-z, 0-9, +, / and = padding are allowed)" };
  if (compact.length % 4 === 0) return { ok: true, bytes: Buffer.from(compact, "base64") };
  const body = compact.replace(/=+$/, "");
  if (body.length % 4 === 1) return { ok: false, error: "not base64 (truncated)" };
  const padded = body + "=".repeat((4 - (body.length % 4)) % 4);
  if (compact.length !== body.length && compact.length !== padded.length) return { ok: false, error: "not base64 (bad padding)" };
  return { ok: true, bytes: Buffer.from(padded, "base64") };
}

/** Base64 texts as they arrive, and broken the ways they break: seeded, so a failure replays. */
function base64Corpus(seed: number, count: number): string[] {
  const rnd = prng(seed);
  const fixed = ["", "=", "==", "A", "AA", "AA=", "AA==", "AAA", "AAA=", "AAAA", "QR==", "QUJ=", "QUI=", "Zg", "Zg=", "Zm8", "Zm8=", "Zm9v", "Zm9v====", "Zm=v", "-_-_", "ab-c", "ab_c", "YW Jj", "YW\nJj", " YWJj ", "YWJj\r\n", "YW\u00a0Jj", "YWJj\u200b", "ÿÿÿÿ", "YWJj!", "Y\tW\tJ\tj"];
  const fragments = ["=", "==", " ", "\n", "\r\n", "\t", "-", "_", "!", ".", "\u00a0", "é", "A", "+", "/"];
  const out = [...fixed];
  for (let i = 0; i < count; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
    const canonical = bytes.toString("base64");
    const shapes = [canonical, canonical.replace(/=+$/, ""), (canonical.match(/.{1,76}/g) ?? []).join("\n"), canonical.toLowerCase(), bytes.toString("base64url")];
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
      const pasted = pick(rnd, [b64, b64.replace(/=+$/, ""), (b64.match(/.{1,76}/g) ?? []).join("\n"), `\n\`\`\`\n${b64}\n\`\`\``, `${b64}  `]);
      const r = parseApprovalComment(`/quorum approve ${pasted}\n`);
      assert.ok(r.ok && r.command.verb === "approve", JSON.stringify(r));
      assert.equal(r.command.signature, b64);
      assert.deepEqual(r.command.bytes, sig);
    }
  });
});
