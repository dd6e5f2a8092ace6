// Texts cut to GitHub's limits as GitHub counts them: UTF-8 bytes for a check run's summary and
// text, code points for a comment body; at, one under and one over each limit, with CJK and emoji
// (three and four bytes; one and two UTF-16 units), never splitting a code point.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CHECK_RUN_TEXT_MAX_BYTES,
  COMMENT_BODY_MAX_CODE_POINTS,
  clipCodePoints,
  clipUtf8,
  codePoints,
  utf8Bytes,
} from "../../src/github/clip.ts";

const CJK = "界"; // 3 bytes, 1 UTF-16 unit
const EMOJI = "😀"; // 4 bytes, 2 UTF-16 units
const NOTE = /\n\n… \(cut here: GitHub limits the length of this text\)$/;

/** No lone surrogate anywhere (a split pair would be one). */
const wellFormed = (s: string): boolean => s.isWellFormed();

describe("clipUtf8 (check run summary and text: 65,535 bytes)", () => {
  test("the limit is GitHub's", () => {
    assert.equal(CHECK_RUN_TEXT_MAX_BYTES, 65535);
  });

  const cases: readonly [string, string][] = [
    ["CJK at the limit", CJK.repeat(21845)],
    ["CJK one byte under", `${CJK.repeat(21844)}ab`],
    ["emoji at the limit (16,383 emoji and one CJK)", EMOJI.repeat(16383) + CJK],
    ["emoji one byte under", `${EMOJI.repeat(16383)}ab`],
  ];
  for (const [name, text] of cases) {
    test(`${name} is sent as it is`, () => {
      assert.ok(utf8Bytes(text) <= 65535 && utf8Bytes(text) >= 65534, `${utf8Bytes(text)} bytes`);
      assert.equal(clipUtf8(text), text);
    });
  }

  const over: readonly [string, string, RegExp][] = [
    ["CJK one byte over", `${CJK.repeat(21845)}a`, /^界+$/u],
    ["emoji one byte over", EMOJI.repeat(16384), /^😀+$/u],
    [
      "emoji far over (what JavaScript's length would have let through: 131,070 bytes)",
      `${EMOJI.repeat(32767)}a`,
      /^😀+$/u,
    ],
  ];
  for (const [name, text, kept] of over) {
    test(`${name} is cut to at most 65,535 bytes, on a code point, with a note`, () => {
      assert.ok(utf8Bytes(text) > 65535);
      const cut = clipUtf8(text);
      assert.ok(utf8Bytes(cut) <= 65535, `${utf8Bytes(cut)} bytes`);
      // As long as it can be: one more whole character would not fit.
      assert.ok(utf8Bytes(cut) > 65535 - 4, `${utf8Bytes(cut)} bytes`);
      assert.match(cut, NOTE);
      assert.ok(wellFormed(cut));
      assert.match(cut.replace(NOTE, ""), kept);
    });
  }

  test("the cut never splits a pair, whichever byte the budget ends on", () => {
    for (let pad = 0; pad < 4; pad += 1) {
      const cut = clipUtf8("a".repeat(pad) + EMOJI.repeat(20000));
      assert.ok(wellFormed(cut) && utf8Bytes(cut) <= 65535);
      assert.match(cut.replace(NOTE, ""), /^a*😀+$/u);
    }
  });

  test("a lone surrogate counts as the three bytes of U+FFFD it is sent as", () => {
    const lone = "\ud800".repeat(21845);
    assert.equal(utf8Bytes(lone), 65535);
    assert.equal(clipUtf8(lone), lone);
    assert.ok(utf8Bytes(clipUtf8(`${lone}a`)) <= 65535);
  });
});

describe("clipCodePoints (comment body: 65,536 characters as GitHub counts them)", () => {
  test("the limit is GitHub's", () => {
    assert.equal(COMMENT_BODY_MAX_CODE_POINTS, 65536);
  });

  test("65,536 emoji (131,072 UTF-16 units) and 65,535 are sent as they are", () => {
    for (const n of [65536, 65535]) {
      const body = EMOJI.repeat(n);
      assert.equal(codePoints(body), n);
      assert.equal(clipCodePoints(body), body);
    }
  });

  test("65,537 emoji, or 65,537 CJK, are cut to 65,536 code points on a code point, with a note", () => {
    for (const unit of [EMOJI, CJK]) {
      const cut = clipCodePoints(unit.repeat(65537));
      assert.equal(codePoints(cut), 65536);
      assert.ok(wellFormed(cut));
      assert.match(cut, NOTE);
      assert.match(cut.replace(NOTE, ""), unit === EMOJI ? /^😀+$/u : /^界+$/u);
    }
  });
});
