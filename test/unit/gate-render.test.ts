// The sticky comment and the check run: what they must show (operation, cluster, M, token, the
// signing commands, the tally with reasons), what they must never show (a sealed password, live
// Markdown or HTML from a request), and that no copy of them is a command.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { parseApprovalComment } from "../../src/gate/approval-command.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { evaluateQuorum, type Decision } from "../../src/gate/evaluate.ts";
import { escapeText, fencedBlock, inlineCode, wrap } from "../../src/gate/markdown.ts";
import { requestBindingDigest, sealedPasswordFingerprint, toBindingContext } from "../../src/gate/operation.ts";
import { parsePolicy, type Policy } from "../../src/gate/policy.ts";
import { parseRequest } from "../../src/gate/request.ts";
import {
  STICKY_MARKER,
  readStickyToken,
  renderCheckRun,
  renderIssuesCheckRun,
  renderIssuesComment,
  renderStickyComment,
  type StickyInput,
} from "../../src/gate/render.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import { testKey } from "../helpers/keys.ts";

const alice = testKey("gate-alice");
const bob = testKey("gate-bob");
const NOW = 1_800_000_000;
const SEALED = Buffer.alloc(256, 0x33).toString("base64");

const policyResult = parsePolicy(
  Buffer.from("version: 1\ncluster: cluster-abc\nofficers:\n  alice: officer1\n  bob: officer2\n  carol: officer3\n"),
);
assert.ok(policyResult.ok);
const POLICY: Policy = policyResult.policy;
const requestResult = parseRequest(
  Buffer.from(
    `version: 1\ncluster: cluster-abc\noperation:\n  kind: createUser\n  type: CU\n  name: app7\n  sealed_password: ${SEALED}\nreason: |\n  <img src=x onerror=alert(1)> | @everyone [link](javascript:x)\n  \`\`\`\n  <!-- quorum-gate:sticky v1 -->\nrequested_by: dave\n`,
  ),
);
assert.ok(requestResult.ok, requestResult.ok ? "" : JSON.stringify(requestResult.issues));
const REQUEST = requestResult.request;
const binding = requestBindingDigest(REQUEST, toBindingContext("acme/ops", 7, requestResult.digest));
const TOKEN = Buffer.concat(
  [1, 2].map((nodeId) =>
    encodeRecord({
      service: 3,
      tokenId: nodeId,
      keyHandle: 0n,
      nonce: "ab".repeat(16),
      userName: "gate",
      nodeId,
      createdAt: NOW - 60,
      binding,
    }),
  ),
);

function cand(id: number, author: string, body: string): ApprovalCandidate {
  return {
    id: `issue_comment:${id}`,
    kind: "issue_comment",
    author,
    authorIsBot: false,
    body,
    createdAt: new Date((NOW - 30 + id) * 1000).toISOString(),
    url: `https://github.com/acme/ops/pull/7#issuecomment-${id}`,
  };
}

function decide(candidates: readonly ApprovalCandidate[], tokenFile: Uint8Array | null = TOKEN, now = NOW): Decision {
  return evaluateQuorum({
    policy: POLICY,
    request: REQUEST,
    requestDigest: requestResult.ok ? requestResult.digest : "",
    repository: "acme/ops",
    pullRequest: 7,
    tokenFile,
    officerKeys: new Map([
      ["officer1", alice.publicPem],
      ["officer2", bob.publicPem],
    ]),
    quorumValues: { user: 2, quorum: 2 },
    prAuthor: "dave",
    candidates,
    now,
  });
}

const sign = (k: typeof alice): string => `/quorum approve ${signMessage(TOKEN, k.privateKey).toString("base64")}`;
const view = (decision: Decision): StickyInput => ({
  decision,
  request: REQUEST,
  requestPath: "hsm-requests/app7.yml",
  policy: POLICY,
});

describe("sticky comment", () => {
  const pending = decide([cand(1, "alice", sign(alice)), cand(2, "mallory", sign(bob))]);
  const body = renderStickyComment(view(pending));

  it("starts with the marker and says only the app's comment counts", () => {
    assert.ok(body.startsWith(`${STICKY_MARKER}\n`));
    assert.match(body, /Only this comment, written and updated by the quorum-gate app, is authoritative/);
    assert.match(body, /HSM quorum: pending \(1 of 2 officers\)/);
  });

  it("shows what will run, where, and how many must approve", () => {
    for (const part of [
      "`createUser CU app7`",
      "`cluster-abc`",
      "2 distinct crypto officers",
      "3 (USER_MGMT)",
      "`hsm-requests/app7.yml`",
      binding,
    ]) {
      assert.ok(body.includes(part), part);
    }
  });

  it("shows the token and the exact commands to sign it", () => {
    assert.ok(pending.token !== null);
    for (const line of wrap(TOKEN.toString("base64")).split("\n")) assert.ok(body.includes(line));
    for (const command of [
      "base64 -d > token.bin <<'EOF'",
      `sha256sum token.bin   # must print ${pending.token.sha256}`,
      "openssl dgst -sha256 -sign officer.key -out officer.sig token.bin",
      "base64 -w0 officer.sig",
      "quorum-gate sign --key officer.key --token-file token.bin",
    ]) {
      assert.ok(body.includes(command), command);
    }
  });

  it("shows the tally: who signed, who is missing, each rejection and why, with links", () => {
    assert.match(body, /1 of 2 counted; 1 missing/);
    assert.match(
      body,
      /\| `officer1` \| `alice` \| signed \(\[`issue_comment:1`\]\(https:\/\/github\.com\/acme\/ops\/pull\/7#issuecomment-1\)/,
    );
    assert.match(body, /\| `officer2` \| `bob` \| waiting \|/);
    assert.ok(
      !body.includes("| `officer3` | `carol` | waiting |"),
      "an officer without a registered key cannot be waited for",
    );
    assert.match(
      body,
      /`unknown_officer` mallory is not an officer in the policy; the signature is officer officer2's/,
    );
  });

  it("never prints the sealed password, only its fingerprint", () => {
    assert.ok(!body.includes(SEALED));
    assert.ok(!body.includes(SEALED.slice(0, 40)));
    assert.ok(body.includes(sealedPasswordFingerprint(SEALED)));
  });

  it("keeps the request's free text inert", () => {
    assert.ok(
      body.includes("````text\n<img src=x onerror=alert(1)>"),
      "the reason sits in a fence longer than any inside it",
    );
    assert.equal(body.split(STICKY_MARKER).length, 3, "the marker quoted from the reason is inside the fence only");
    assert.ok(body.indexOf(STICKY_MARKER, 1) > body.indexOf("````text"));
  });

  it("holds no command: a copy of it approves nothing", () => {
    assert.deepEqual(parseApprovalComment(body), {
      ok: false,
      reason: "not_a_command",
      message: "no /quorum command at the start of a line",
    });
  });

  it("records the token on its second line, for the next event to read back", () => {
    assert.equal(Buffer.from(readStickyToken(body) ?? []).toString("base64"), TOKEN.toString("base64"));
    assert.equal(body.split("\n")[1], `<!-- quorum-gate:token ${TOKEN.toString("base64")} -->`);
    assert.equal(readStickyToken(renderStickyComment(view(decide([], null)))), null);
    assert.equal(readStickyToken(body.replace(STICKY_MARKER, "hello")), null);
    const planted = `${STICKY_MARKER}\n## x\n<!-- quorum-gate:token ${TOKEN.toString("base64")} -->`;
    assert.equal(readStickyToken(planted), null, "only the second line counts");
    assert.equal(readStickyToken(`${STICKY_MARKER}\n<!-- quorum-gate:token not*base64 -->`), null);
  });

  it("explains a missing or expired token", () => {
    assert.match(renderStickyComment(view(decide([], null))), /No valid token yet/);
    assert.match(renderStickyComment(view(decide([], TOKEN, NOW + 90_000))), /expired: post `\/quorum renew`/);
  });

  it("lists the problems of a rejected request", () => {
    const rejected = renderStickyComment(view(decide([], Buffer.from("junk"))));
    assert.match(rejected, /HSM quorum: rejected \(bad_token_file\)/);
    assert.match(rejected, /### Problems\n\n- `bad_token_file`: the token file is not valid/);
  });
});

describe("check run", () => {
  const table: {
    name: string;
    decision: () => Decision;
    status: string;
    conclusion: string | undefined;
    title: RegExp;
  }[] = [
    {
      name: "pending",
      decision: () => decide([cand(1, "alice", sign(alice))]),
      status: "in_progress",
      conclusion: undefined,
      title: /^Waiting for 1 more officer \(1 of 2\)$/,
    },
    {
      name: "approved",
      decision: () => decide([cand(1, "alice", sign(alice)), cand(2, "bob", sign(bob))]),
      status: "completed",
      conclusion: "success",
      title: /^Approved by 2 of 2 officers$/,
    },
    {
      name: "rejected",
      decision: () => decide([], Buffer.from("junk")),
      status: "completed",
      conclusion: "failure",
      title: /^Rejected: bad_token_file$/,
    },
    {
      name: "no token",
      decision: () => decide([], null),
      status: "in_progress",
      conclusion: undefined,
      title: /^Waiting for a token \(0 of 2\)$/,
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const out = renderCheckRun(view(c.decision()));
      assert.equal(out.name, "quorum");
      assert.equal(out.status, c.status);
      assert.equal(out.conclusion, c.conclusion);
      assert.match(out.title, c.title);
      assert.match(out.summary, /\*\*createUser CU app7\*\* on cluster `cluster-abc`/);
      assert.match(out.text, /### Tally/);
      assert.ok(!JSON.stringify(out).includes(SEALED));
    });
  }
});

describe("invalid files", () => {
  const issues = [
    { code: "plaintext_password" as const, path: "operation.password", message: "never a plaintext password", line: 7 },
  ];
  it("renders the issues as the sticky comment", () => {
    const body = renderIssuesComment("the request", "hsm-requests/app7.yml", issues);
    assert.ok(body.startsWith(STICKY_MARKER));
    assert.match(body, /the request is not valid/);
    assert.match(body, /- `plaintext_password` operation\.password: never a plaintext password \(line 7\)/);
  });
  it("fails the check run", () => {
    const out = renderIssuesCheckRun("the policy", ".github/quorum-gate.yml", issues);
    assert.equal(out.conclusion, "failure");
    assert.equal(out.status, "completed");
  });
});

describe("markdown helpers", () => {
  const table: [string, string, string][] = [
    ["escapeText", "<b>x</b> | *y* @team", "&lt;b&gt;x&lt;/b&gt; \\| \\*y\\* @\u200bteam"],
    ["escapeText", "a\nb\u202ec", "a b c"],
    ["inlineCode", "a`b", "``a`b``"],
    ["inlineCode", "`x`", "`` `x` ``"],
    ["inlineCode", "a|b", "`a\\|b`"],
  ];
  for (const [fn, input, expected] of table) {
    it(`${fn}(${JSON.stringify(input)})`, () =>
      assert.equal((fn === "escapeText" ? escapeText : inlineCode)(input), expected));
  }
  it("fencedBlock outlasts any fence inside", () => {
    assert.equal(fencedBlock("a\n````\nb", "text"), "`````text\na\n````\nb\n`````");
    assert.equal(fencedBlock("plain\n"), "```\nplain\n```");
  });
  it("wrap", () => {
    assert.equal(wrap("abcdefgh", 3), "abc\ndef\ngh");
    assert.equal(wrap(""), "");
  });
});

describe("size", () => {
  it("stays under GitHub's comment limit when many bad commands are posted", () => {
    const spam = Array.from({ length: 1000 }, (_, i) =>
      cand(i + 1, `user${i}`, `/quorum approve ${Buffer.alloc(256, i & 0xff).toString("base64")}`),
    );
    const body = renderStickyComment(view(decide(spam)));
    assert.ok(body.length < 65536, `${body.length} characters`);
    assert.match(body, /…and 960 earlier ones\./);
    assert.ok(body.includes("`user999`"));
    assert.ok(!body.includes("`user0`"));
  });
});
