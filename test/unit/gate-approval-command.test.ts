// The approval-comment grammar (docs/approvals.md): what is a command, what is not, and the
// reason for each refusal. The signature here is any 256 bytes: checking it is evaluate's job.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseApprovalComment,
  renderApprovalComment,
  renderCommand,
  renderCountersignComment,
  renderPayloadComment,
  type CommandReason,
  type CommandVerb,
} from "../../src/gate/approval-command.ts";

const SIG = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff));
const B64 = SIG.toString("base64");
const WRAPPED = (B64.match(/.{1,76}/g) ?? []).join("\n");
const FENCE = "```";

type Expect = { verb: CommandVerb; line?: number; until?: string } | { reason: CommandReason };
const UNTIL = "2026-12-13T03:00:00Z";

const CASES: { name: string; body: string; expect: Expect }[] = [
  // approvals
  { name: "one line", body: `/quorum approve ${B64}`, expect: { verb: "approve", line: 1 } },
  { name: "one line, CRLF and trailing blanks", body: `/quorum approve ${B64}  \r\n`, expect: { verb: "approve" } },
  { name: "wrapped at 76 (base64 default)", body: `/quorum approve ${WRAPPED}`, expect: { verb: "approve" } },
  {
    name: "wrapped, starting on the next line",
    body: `/quorum approve\n${WRAPPED}\n\nThanks!`,
    expect: { verb: "approve" },
  },
  {
    name: "in a fence right after the command",
    body: `/quorum approve\n${FENCE}\n${WRAPPED}\n${FENCE}\n`,
    expect: { verb: "approve" },
  },
  {
    name: "in a fence with an info string, after a blank line",
    body: `/quorum approve\n\n${FENCE}text\n${B64}\n${FENCE}`,
    expect: { verb: "approve" },
  },
  { name: "in a tilde fence", body: `/quorum approve\n~~~~\n${B64}\n~~~~`, expect: { verb: "approve" } },
  {
    name: "after a paragraph, on a later line",
    body: `Checked the token hash.\n\n/quorum approve ${B64}`,
    expect: { verb: "approve", line: 3 },
  },
  {
    name: "directly under a text line (still starts a line)",
    body: `LGTM\n/quorum approve ${B64}`,
    expect: { verb: "approve", line: 2 },
  },
  {
    name: "after a closed quote and a blank line",
    body: `> please sign\n\n/quorum approve ${B64}`,
    expect: { verb: "approve", line: 3 },
  },
  {
    name: "after a closed code block",
    body: `${FENCE}\nsha256sum token.bin\n${FENCE}\n/quorum approve ${B64}`,
    expect: { verb: "approve", line: 4 },
  },
  { name: "after a closed HTML comment", body: `<!-- note -->\n/quorum approve ${B64}`, expect: { verb: "approve" } },
  { name: "without padding", body: `/quorum approve ${B64.replace(/=+$/, "")}`, expect: { verb: "approve" } },
  // other commands
  { name: "withdraw", body: "/quorum withdraw", expect: { verb: "withdraw" } },
  { name: "retry, tab separated", body: "/quorum\tretry\n", expect: { verb: "retry" } },
  {
    name: "renew with text after it",
    body: "/quorum renew\n\nThe token expired over the weekend.",
    expect: { verb: "renew" },
  },
  { name: "execute", body: "/quorum execute", expect: { verb: "execute" } },
  // payload approvals, vetoes and countersignatures
  {
    name: "payload approval",
    body: `/quorum approve until=${UNTIL} ${B64}`,
    expect: { verb: "approve", until: UNTIL },
  },
  {
    name: "payload approval, wrapped",
    body: `/quorum approve until=${UNTIL}\n${WRAPPED}`,
    expect: { verb: "approve", until: UNTIL },
  },
  { name: "reject", body: `/quorum reject until=${UNTIL} ${B64}`, expect: { verb: "reject", until: UNTIL } },
  {
    name: "reject, signature in a fence",
    body: `/quorum reject until=${UNTIL}\n${FENCE}\n${WRAPPED}\n${FENCE}`,
    expect: { verb: "reject", until: UNTIL },
  },
  { name: "countersign", body: `/quorum countersign ${WRAPPED}`, expect: { verb: "countersign" } },
  // not commands
  { name: "empty", body: "", expect: { reason: "not_a_command" } },
  { name: "plain text", body: "Looks good to me", expect: { reason: "not_a_command" } },
  { name: "mid-line", body: `I would say /quorum approve ${B64}`, expect: { reason: "not_a_command" } },
  { name: "indented", body: ` /quorum approve ${B64}`, expect: { reason: "not_a_command" } },
  { name: "indented code block", body: `    /quorum approve ${B64}`, expect: { reason: "not_a_command" } },
  { name: "list item", body: `- /quorum approve ${B64}`, expect: { reason: "not_a_command" } },
  { name: "no word boundary", body: `/quorumapprove ${B64}`, expect: { reason: "not_a_command" } },
  { name: "upper case", body: `/Quorum approve ${B64}`, expect: { reason: "not_a_command" } },
  { name: "look-alike prefix", body: `/quorum\u200b approve ${B64}`, expect: { reason: "not_a_command" } },
  {
    name: "inside a code block",
    body: `${FENCE}\n/quorum approve ${B64}\n${FENCE}`,
    expect: { reason: "not_a_command" },
  },
  {
    name: "inside an unclosed code block",
    body: `${FENCE}sh\n/quorum approve ${B64}`,
    expect: { reason: "not_a_command" },
  },
  {
    name: "inside a longer fence closed only by a long enough one",
    body: `${FENCE}${FENCE}\n${FENCE}\n/quorum approve ${B64}\n${FENCE}${FENCE}`,
    expect: { reason: "not_a_command" },
  },
  { name: "inside a quote", body: `> /quorum approve ${B64}`, expect: { reason: "not_a_command" } },
  {
    name: "quote reply of someone's approval",
    body: `> /quorum approve\n> ${B64}\n\nThanks!`,
    expect: { reason: "not_a_command" },
  },
  {
    name: "lazy continuation of a quote",
    body: `> Alice wrote:\n/quorum approve ${B64}`,
    expect: { reason: "not_a_command" },
  },
  { name: "inside an HTML comment", body: `<!--\n/quorum approve ${B64}\n-->`, expect: { reason: "not_a_command" } },
  {
    name: "inside an inline HTML comment",
    body: `note <!-- hidden\n/quorum withdraw\n-->`,
    expect: { reason: "not_a_command" },
  },
  // refusals
  { name: "prefix alone", body: "/quorum", expect: { reason: "unknown_command" } },
  { name: "unknown verb", body: "/quorum approved", expect: { reason: "unknown_command" } },
  { name: "typo", body: `/quorum aprove ${B64}`, expect: { reason: "unknown_command" } },
  { name: "withdraw with an argument", body: "/quorum withdraw all", expect: { reason: "unexpected_argument" } },
  { name: "approve without a signature", body: "/quorum approve", expect: { reason: "malformed_signature" } },
  {
    name: "approve, then a blank line and text",
    body: "/quorum approve\n\nsignature follows",
    expect: { reason: "malformed_signature" },
  },
  { name: "not base64", body: "/quorum approve <paste the signature here>", expect: { reason: "malformed_signature" } },
  {
    name: "too short",
    body: `/quorum approve ${SIG.subarray(0, 255).toString("base64")}`,
    expect: { reason: "malformed_signature" },
  },
  {
    name: "too long",
    body: `/quorum approve ${Buffer.concat([SIG, SIG]).toString("base64")}`,
    expect: { reason: "malformed_signature" },
  },
  {
    name: "text glued on the next line",
    body: `/quorum approve ${B64}\nthanks!`,
    expect: { reason: "malformed_signature" },
  },
  { name: "unclosed fence", body: `/quorum approve\n${FENCE}\n${B64}`, expect: { reason: "malformed_signature" } },
  {
    name: "hex instead of base64",
    body: `/quorum approve ${SIG.toString("hex")}`,
    expect: { reason: "malformed_signature" },
  },
  {
    name: "two approvals",
    body: `/quorum approve ${B64}\n\n/quorum approve ${B64}`,
    expect: { reason: "multiple_commands" },
  },
  {
    name: "approve and withdraw",
    body: `/quorum approve ${B64}\n\n/quorum withdraw`,
    expect: { reason: "multiple_commands" },
  },
  {
    name: "a broken command and a good one",
    body: `/quorum aprove\n/quorum withdraw`,
    expect: { reason: "multiple_commands" },
  },
  { name: "reject without until", body: `/quorum reject ${B64}`, expect: { reason: "malformed_until" } },
  {
    name: "until without seconds",
    body: `/quorum reject until=2026-12-13T03:00Z ${B64}`,
    expect: { reason: "malformed_until" },
  },
  {
    name: "until in local time",
    body: `/quorum approve until=2026-12-13T03:00:00+01:00 ${B64}`,
    expect: { reason: "malformed_until" },
  },
  {
    name: "until with month 13",
    body: `/quorum approve until=2026-13-01T03:00:00Z ${B64}`,
    expect: { reason: "malformed_until" },
  },
  {
    name: "countersign with until",
    body: `/quorum countersign until=${UNTIL} ${B64}`,
    expect: { reason: "unexpected_argument" },
  },
  {
    name: "reject without a signature",
    body: `/quorum reject until=${UNTIL}`,
    expect: { reason: "malformed_signature" },
  },
  { name: "execute with an argument", body: "/quorum execute now", expect: { reason: "unexpected_argument" } },
  {
    name: "approve and reject",
    body: `/quorum approve ${B64}\n\n/quorum reject until=${UNTIL} ${B64}`,
    expect: { reason: "multiple_commands" },
  },
  { name: "longer than GitHub allows", body: `/quorum withdraw\n${"x".repeat(65536)}`, expect: { reason: "too_long" } },
];

describe("approval comments: the grammar", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const r = parseApprovalComment(c.body);
      if ("reason" in c.expect) {
        assert.equal(r.ok, false, JSON.stringify(r));
        if (!r.ok) {
          assert.equal(r.reason, c.expect.reason, r.message);
          assert.ok(r.message.length > 0);
        }
        return;
      }
      assert.ok(r.ok, r.ok ? "" : `${r.reason}: ${r.message}`);
      assert.equal(r.command.verb, c.expect.verb);
      if (c.expect.line !== undefined) assert.equal(r.command.line, c.expect.line);
      if (r.command.verb === "approve" || r.command.verb === "reject" || r.command.verb === "countersign") {
        assert.equal(r.command.signature, B64);
        assert.equal(r.command.until, c.expect.until);
      }
    });
  }
});

describe("approval comments: rendering", () => {
  it("renders what it parses, as one line", () => {
    const text = renderApprovalComment(SIG);
    assert.equal(text, `/quorum approve ${B64}\n`);
    const r = parseApprovalComment(text);
    assert.ok(r.ok && r.command.verb === "approve" && r.command.signature === B64);
  });

  it("renders the other commands", () => {
    for (const verb of ["withdraw", "retry", "renew", "execute"] as const) {
      const r = parseApprovalComment(renderCommand(verb));
      assert.ok(r.ok && r.command.verb === verb);
    }
  });

  it("renders payload approvals, vetoes and countersignatures as one line each", () => {
    for (const verb of ["approve", "reject"] as const) {
      const text = renderPayloadComment(verb, UNTIL, SIG);
      assert.equal(text, `/quorum ${verb} until=${UNTIL} ${B64}\n`);
      const r = parseApprovalComment(text);
      assert.ok(r.ok && r.command.verb === verb && "until" in r.command && r.command.until === UNTIL);
    }
    const r = parseApprovalComment(renderCountersignComment(SIG));
    assert.ok(r.ok && r.command.verb === "countersign" && r.command.signature === B64);
  });

  it("never throws on a non-string body", () => {
    assert.equal(parseApprovalComment(undefined as unknown as string).ok, false);
  });
});
