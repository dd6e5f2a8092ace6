// Command lines: words, quotes, and CMU's unique-prefix abbreviations.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMMAND_NAMES } from "../../src/cmu/commands/index.ts";
import { parseLine, resolveCommand, tokenize } from "../../src/cmu/line-parser.ts";

describe("tokenize", () => {
  it("splits on blanks and keeps quotes inside a word", () => {
    assert.deepEqual(tokenize('  createUser\tCU user1  pa"ss  '), {
      ok: true,
      words: ["createUser", "CU", "user1", 'pa"ss'],
    });
  });

  it("reads a quoted word with spaces", () => {
    assert.deepEqual(tokenize('registerMofnPubKey CO "my match string" officer1 k.pem'), {
      ok: true,
      words: ["registerMofnPubKey", "CO", "my match string", "officer1", "k.pem"],
    });
    assert.deepEqual(tokenize('a ""'), { ok: true, words: ["a", ""] });
  });

  it("reports an unterminated quote and a quote glued to the next word", () => {
    assert.deepEqual(tokenize('a "b c'), { ok: false, error: "unterminated quote" });
    assert.equal(tokenize('a "b"c').ok, false);
  });
});

describe("resolveCommand", () => {
  it("takes exact names, unique prefixes, and case-insensitive matches", () => {
    assert.deepEqual(resolveCommand("listU", COMMAND_NAMES), { ok: true, name: "listUsers" });
    assert.deepEqual(resolveCommand("listT", COMMAND_NAMES), { ok: true, name: "listTokens" });
    assert.deepEqual(resolveCommand("approveToken", COMMAND_NAMES), { ok: true, name: "approveToken" });
    assert.deepEqual(resolveCommand("listusers", COMMAND_NAMES), { ok: true, name: "listUsers" });
    assert.deepEqual(resolveCommand("q", COMMAND_NAMES), { ok: true, name: "quit" });
  });

  it("refuses ambiguous prefixes and unknown words", () => {
    const ambiguous = resolveCommand("get", COMMAND_NAMES);
    assert.equal(ambiguous.ok, false);
    assert.deepEqual(ambiguous.ok ? [] : [...ambiguous.candidates].sort(), ["getHSMInfo", "getMValue", "getToken"]);
    assert.deepEqual(resolveCommand("list", COMMAND_NAMES).ok, false);
    assert.deepEqual(resolveCommand("nope", COMMAND_NAMES), { ok: false, reason: "unknown", candidates: [] });
  });
});

describe("parseLine", () => {
  it("gives the command and its arguments", () => {
    assert.deepEqual(parseLine("getToken 3 officer1 officer1.token", COMMAND_NAMES), {
      kind: "command",
      name: "getToken",
      args: ["3", "officer1", "officer1.token"],
    });
    assert.deepEqual(parseLine("   ", COMMAND_NAMES), { kind: "empty" });
  });

  it("explains what is wrong", () => {
    assert.deepEqual(parseLine("frobnicate", COMMAND_NAMES), {
      kind: "error",
      message: "unknown command 'frobnicate'; type 'help' for the list of commands",
    });
    const r = parseLine("get 3", COMMAND_NAMES);
    assert.equal(r.kind, "error");
    assert.match(r.kind === "error" ? r.message : "", /^ambiguous command 'get': could be /);
    assert.equal(parseLine('"" x', COMMAND_NAMES).kind, "error");
  });
});
