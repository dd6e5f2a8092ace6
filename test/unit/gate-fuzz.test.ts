// Property test over the gate's three parsers of untrusted text: approval comments, request files
// and policy files. Thousands of generated and mutated inputs from a seeded PRNG (a failure prints
// its seed and round, so it can be replayed): none may throw, every refusal carries a code and a
// message, and the grammar's safety properties hold for every input.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMMAND_REASONS, parseApprovalComment, renderApprovalComment } from "../../src/gate/approval-command.ts";
import { ISSUE_CODES } from "../../src/gate/issues.ts";
import { parsePolicy } from "../../src/gate/policy.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { prng } from "../helpers/prng.ts";
import { mutate, pick } from "../helpers/mutate.ts";

const SEED = 0x9a7e_5eed;
const ROUNDS = 3000;

const SIG = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 131 + 7) & 0xff)).toString("base64");

const COMMENT_FRAGMENTS = [
  "/quorum",
  " approve",
  " withdraw",
  " retry",
  " renew",
  " ",
  "\t",
  "\n",
  "\r\n",
  "\n\n",
  "> ",
  ">",
  "```",
  "~~~",
  "````",
  "<!--",
  "-->",
  SIG,
  SIG.slice(0, 76),
  SIG.slice(76),
  "=",
  "==",
  "+/",
  "LGTM",
  "    ",
  "- ",
  "/Quorum",
  "/quorumapprove",
  "\u200b",
  "\u00e9",
  "\ud83d\ude00",
  "`",
  "\\",
  "\u0000",
];
const SEALED = Buffer.alloc(256, 5).toString("base64");
const VALID_REQUEST = `version: 1\ncluster: cluster-abc\noperation:\n  kind: createUser\n  type: CU\n  name: app7\n  sealed_password: ${SEALED}\nreason: payments\nrequested_by: dave\n`;
const VALID_POLICY = `version: 1\ncluster: cluster-abc\nrequest_folder: hsm-requests/\nallow_self_approval: false\ntoken_lifetime_seconds: 3600\nofficers:\n  alice: officer1\n  bob:\n    officer: officer2\n    key_fingerprint: ${"ab".repeat(32)}\n`;
const YAML_FRAGMENTS = [
  "version",
  "cluster",
  "operation",
  "kind",
  "type",
  "name",
  "sealed_password",
  "password",
  "reason",
  "requested_by",
  "service",
  "value",
  "officers",
  "officer",
  "key_fingerprint",
  "request_folder",
  "allow_self_approval",
  "token_lifetime_seconds",
  "createUser",
  "deleteUser",
  "changePswd",
  "setMValue",
  "CO",
  "CU",
  ": ",
  ":",
  "\n",
  "  ",
  "\t",
  "- ",
  "[",
  "]",
  "{",
  "}",
  ",",
  "&a ",
  "*a",
  "!!binary ",
  "!tag ",
  "'",
  '"',
  "|",
  ">-",
  "#",
  "---",
  "...",
  "? ",
  "~",
  "null",
  "true",
  "1",
  "3",
  "8",
  "0x10",
  "-1",
  "1e3",
  "\u0000",
  "\u00e9",
  "\ud83d\ude00",
  "\u202e",
  "__proto__",
  "constructor",
  SEALED,
  "%YAML 1.2\n",
  "<<: ",
];

function generate(rnd: () => number, seedText: string, fragments: readonly string[]): string {
  let text = rnd() < 0.2 ? "" : seedText;
  const edits = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < edits; i++) text = mutate(rnd, text, fragments);
  return text;
}

describe("gate parsers never throw (seeded property test)", () => {
  it(`approval comments: ${ROUNDS} inputs, seed ${SEED.toString(16)}`, () => {
    const rnd = prng(SEED);
    let commands = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const command = pick(rnd, [
        `/quorum approve ${SIG}`,
        `/quorum approve\n\`\`\`\n${SIG}\n\`\`\``,
        "/quorum withdraw",
        "/quorum renew",
      ]);
      const noise = (): string =>
        Array.from({ length: Math.floor(rnd() * 4) }, () => pick(rnd, COMMENT_FRAGMENTS)).join("");
      // Half mutate a command; half put a whole command between random paragraphs, which tests
      // whether whatever comes before it (an open fence, quote or HTML comment) makes it inert.
      const body = rnd() < 0.5 ? generate(rnd, command, COMMENT_FRAGMENTS) : `${noise()}\n\n${command}\n\n${noise()}`;
      const where = `seed ${SEED.toString(16)} round ${round}: ${JSON.stringify(body).slice(0, 200)}`;
      let r: ReturnType<typeof parseApprovalComment>;
      try {
        r = parseApprovalComment(body);
      } catch (error) {
        assert.fail(`threw ${String(error)} at ${where}`);
      }
      if (!r.ok) {
        assert.ok((COMMAND_REASONS as readonly string[]).includes(r.reason), where);
        assert.ok(r.message.length > 0, where);
        continue;
      }
      commands++;
      if (r.command.verb === "approve") assert.equal(Buffer.from(r.command.signature, "base64").length, 256, where);
      // Safety: the same text quoted, fenced or hidden is never a command.
      const quoted = body
        .split(/\r\n|\r|\n/)
        .map((l) => `> ${l}`)
        .join("\n");
      assert.equal(parseApprovalComment(quoted).ok, false, `quoted: ${where}`);
      if (!body.includes("```") && !body.includes("-->")) {
        assert.equal(parseApprovalComment(`\`\`\`\n${body}\n\`\`\``).ok, false, `fenced: ${where}`);
        assert.equal(parseApprovalComment(`<!--\n${body}\n-->`).ok, false, `hidden: ${where}`);
      }
    }
    assert.ok(commands > ROUNDS / 5, `only ${commands} inputs were commands: the safety checks need more`);
  });

  it("approval comments: render then parse gives back any signature", () => {
    const rnd = prng(SEED + 1);
    for (let round = 0; round < 500; round++) {
      const sig = Buffer.from(Array.from({ length: 256 }, () => Math.floor(rnd() * 256)));
      const r = parseApprovalComment(renderApprovalComment(sig));
      assert.ok(
        r.ok && r.command.verb === "approve" && r.command.signature === sig.toString("base64"),
        `round ${round}`,
      );
    }
  });

  for (const [name, seedText, parse] of [
    ["request files", VALID_REQUEST, (b: Uint8Array) => parseRequest(b)],
    ["policy files", VALID_POLICY, (b: Uint8Array) => parsePolicy(b)],
  ] as const) {
    it(`${name}: ${ROUNDS} inputs`, () => {
      const rnd = prng(SEED + name.length);
      let accepted = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const text = generate(rnd, seedText, YAML_FRAGMENTS);
        const bytes =
          rnd() < 0.05
            ? Buffer.from(Array.from({ length: 64 }, () => Math.floor(rnd() * 256)))
            : Buffer.from(text, "utf8");
        const where = `seed ${(SEED + name.length).toString(16)} round ${round}: ${JSON.stringify(text).slice(0, 300)}`;
        let r: ReturnType<typeof parse>;
        try {
          r = parse(bytes);
        } catch (error) {
          assert.fail(`threw ${String(error)} at ${where}`);
        }
        if (r.ok) {
          accepted++;
          continue;
        }
        assert.ok(r.issues.length > 0, where);
        for (const i of r.issues) {
          assert.ok((ISSUE_CODES as readonly string[]).includes(i.code), where);
          assert.ok(i.message.length > 0, where);
        }
      }
      assert.ok(accepted > 0, "some mutations keep the file valid");
    });
  }
});

// The veto's grammar (docs/governance.md, "Veto") and the governance keys of the policy, with
// their own seeds so the streams above stay as they were.
const UNTIL = "2026-12-13T03:00:00Z";
const VETO_FRAGMENTS = [
  ...COMMENT_FRAGMENTS,
  " reject",
  " until=",
  UNTIL,
  "2026-13-40T99:00:00Z",
  "until=",
  "T",
  "Z",
  "+00:00",
];
const GOVERNANCE_POLICY =
  "version: 1\ncluster: cluster-abc\nlockout_margin: 1\nrejections_to_block: 2\nofficers:\n  alice: officer1\n  bob: officer2\n  carol: officer3\ngroups:\n  security: [alice, bob]\n  platform: [carol]\noperations:\n  deleteUser:\n    required: 3\n    groups:\n      security: 1\n      platform: 1\n    delay_seconds: 3600\n";
const GOVERNANCE_FRAGMENTS = [
  ...YAML_FRAGMENTS,
  "lockout_margin",
  "rejections_to_block",
  "groups",
  "operations",
  "required",
  "delay_seconds",
  "security",
  "platform",
  "[alice, bob]",
  "99999999",
];

describe("governance grammar never throws (seeded property test)", () => {
  it(`vetoes: ${ROUNDS} inputs`, () => {
    const seed = SEED + 13;
    const rnd = prng(seed);
    let vetoes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const command = `/quorum reject until=${UNTIL} ${SIG}`;
      const noise = (): string =>
        Array.from({ length: Math.floor(rnd() * 4) }, () => pick(rnd, VETO_FRAGMENTS)).join("");
      const body = rnd() < 0.5 ? generate(rnd, command, VETO_FRAGMENTS) : `${noise()}\n\n${command}\n\n${noise()}`;
      const where = `seed ${seed.toString(16)} round ${round}: ${JSON.stringify(body).slice(0, 200)}`;
      let r: ReturnType<typeof parseApprovalComment>;
      try {
        r = parseApprovalComment(body);
      } catch (error) {
        assert.fail(`threw ${String(error)} at ${where}`);
      }
      if (!r.ok) {
        assert.ok((COMMAND_REASONS as readonly string[]).includes(r.reason) && r.message.length > 0, where);
        continue;
      }
      if (r.command.verb !== "reject") continue;
      vetoes++;
      // A veto always carries a well-formed until= and a whole signature.
      assert.ok(r.command.until !== undefined && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(r.command.until), where);
      assert.equal(Buffer.from(r.command.signature, "base64").length, 256, where);
      assert.equal(
        parseApprovalComment(
          body
            .split(/\r\n|\r|\n/)
            .map((l) => `> ${l}`)
            .join("\n"),
        ).ok,
        false,
        `quoted: ${where}`,
      );
    }
    assert.ok(vetoes > ROUNDS / 10, `only ${vetoes} inputs were vetoes`);
  });

  it(`governance policy files: ${ROUNDS} inputs`, () => {
    const seed = SEED + 17;
    const rnd = prng(seed);
    let accepted = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const text = generate(rnd, GOVERNANCE_POLICY, GOVERNANCE_FRAGMENTS);
      const where = `seed ${seed.toString(16)} round ${round}: ${JSON.stringify(text).slice(0, 300)}`;
      let r: ReturnType<typeof parsePolicy>;
      try {
        r = parsePolicy(Buffer.from(text, "utf8"));
      } catch (error) {
        assert.fail(`threw ${String(error)} at ${where}`);
      }
      if (r.ok) {
        accepted++;
        // Whatever was accepted keeps M as the floor and stays within the documented bounds.
        for (const rule of Object.values(r.policy.operations ?? {})) {
          assert.ok(rule.required === undefined || (rule.required >= 1 && rule.required <= 20), where);
          for (const g of rule.groups) assert.ok((r.policy.groups?.get(g.group)?.length ?? 0) >= g.count, where);
        }
        continue;
      }
      for (const i of r.issues)
        assert.ok((ISSUE_CODES as readonly string[]).includes(i.code) && i.message.length > 0, where);
    }
    assert.ok(accepted > 0, "some mutations keep the file valid");
  });
});
