// The gate's stable vocabulary and its purity: every code registry is unique snake_case, the
// grammar's refusals are verdict reasons, small helpers behave, and src/gate does no I/O, reads
// no clock, no randomness and no environment (the App and the Action call it as a pure function).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as gate from "../../src/gate/index.ts";
import { formatIssue, issue } from "../../src/gate/issues.ts";
import { isGithubLogin, normalizeLogin } from "../../src/gate/login.ts";

const SNAKE = /^[a-z]+(?:_[a-z]+)*$/;

describe("gate vocabulary", () => {
  const registries: [string, readonly string[]][] = [
    ["ISSUE_CODES", gate.ISSUE_CODES],
    ["COMMAND_REASONS", gate.COMMAND_REASONS],
    ["VERDICT_REASONS", gate.VERDICT_REASONS],
    ["PROBLEM_CODES", gate.PROBLEM_CODES],
    ["CANDIDATE_KINDS", gate.CANDIDATE_KINDS],
  ];
  for (const [name, codes] of registries) {
    it(`${name} is unique snake_case`, () => {
      assert.equal(new Set(codes).size, codes.length);
      for (const c of codes) assert.match(c, SNAKE, c);
    });
  }

  it("every refusal of the grammar is a verdict reason", () => {
    for (const r of gate.COMMAND_REASONS) {
      if (r !== "not_a_command") assert.ok((gate.VERDICT_REASONS as readonly string[]).includes(r), r);
    }
  });

  it("every verb other than approve is a noted reason", () => {
    for (const v of gate.COMMAND_VERBS)
      if (v !== "approve") assert.ok((gate.VERDICT_REASONS as readonly string[]).includes(v), v);
  });

  it("formats issues", () => {
    assert.equal(formatIssue(issue("bad_name", "operation.name", "bad", 3)), "operation.name: bad (line 3)");
    assert.equal(formatIssue(issue("too_large", "", "too big")), "too big");
  });

  const logins: [string, boolean][] = [
    ["octocat", true],
    ["Octo-Cat-2", true],
    ["a", true],
    ["a".repeat(39), true],
    ["a".repeat(40), false],
    ["-octo", false],
    ["octo-", false],
    ["oc--to", false],
    ["octo_cat", false],
    ["octo[bot]", false],
    ["", false],
  ];
  for (const [login, ok] of logins) it(`login ${JSON.stringify(login)}`, () => assert.equal(isGithubLogin(login), ok));
  it("compares logins case-insensitively", () => assert.equal(normalizeLogin("OctoCat"), "octocat"));
});

describe("gate purity", () => {
  const dir = join(import.meta.dirname, "../../src/gate");
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  const forbidden: [RegExp, string][] = [
    [/from "node:(?!crypto")[^"]+"/, "a node: module other than crypto"],
    [/from "(?!\.|node:|yaml")[^"]+"/, "a package other than yaml"],
    [/\bprocess\./, "process"],
    [/Date\.now|new Date\(\)/, "the clock"],
    [/Math\.random|randomBytes|randomUUID/, "randomness"],
    [/\bconsole\./, "logging"],
    [
      /from "\.\.\/(?!crypto\/|hsm\/(binding|model|rules|ret-codes|token-record)\.ts|formats\/(approval-file|cli-token-file|lenient-base64)\.ts|protocol\/messages\.ts)/,
      "a module outside the pure core",
    ],
  ];
  it("has its files", () => assert.ok(files.length >= 15));
  for (const f of files) {
    it(f, () => {
      const text = readFileSync(join(dir, f), "utf8");
      for (const [pattern, what] of forbidden) assert.doesNotMatch(text, pattern, `${f} uses ${what}`);
    });
  }
});
