// The approval payload (docs/approvals.md, "The approval payload"): the exact bytes, a strict
// reader that refuses every other spelling, the expiry rules, and a signature by the real openssl
// binary that the gate verifies.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { verifyMessage } from "../../src/crypto/rsa.ts";
import {
  APPROVAL_PAYLOAD_TITLE,
  approvalPayloadOf,
  checkPayloadExpiry,
  parseApprovalPayload,
  payloadExpiry,
  renderApprovalPayload,
  type ApprovalPayload,
} from "../../src/gate/approval-payload.ts";
import { governancePayloadOf, parseGovernanceRequest } from "../../src/gate/governance.ts";
import { parseRequest, requestDigest } from "../../src/gate/request.ts";
import { policyText, requestText } from "../helpers/git-repo.ts";
import { testKey } from "../helpers/keys.ts";

const REQUEST = Buffer.from(
  requestText("cluster-7n3kq2m4x5a", "app7").replace(
    "reason: service account app7",
    'reason: "Zahlungsdienst \\u00fc \\"quoted\\" line\\nbreak"',
  ),
);
const parsed = parseRequest(REQUEST);
assert.ok(parsed.ok, "the test request parses");
const INPUT = {
  verdict: "approve" as const,
  request: parsed.request,
  requestDigest: requestDigest(REQUEST),
  requestPath: "hsm-requests/2026-12-06-create-app7.yml",
  repository: "acme/hsm",
  pullRequest: 12,
  expiresAt: "2026-12-13T03:00:00Z",
};

describe("approval payload", () => {
  const payload = approvalPayloadOf(INPUT);
  const bytes = renderApprovalPayload(payload);
  const text = bytes.toString("utf8");

  it("renders one key: value line per field, in order, with a final LF", () => {
    const lines = text.split("\n");
    assert.equal(lines[0], APPROVAL_PAYLOAD_TITLE);
    assert.equal(lines.at(-1), "");
    assert.deepEqual(
      lines.slice(1, -1).map((l) => l.slice(0, l.indexOf(":"))),
      [
        "verdict",
        "cluster",
        "repository",
        "pull-request",
        "request-file",
        "request-sha256",
        "binding-sha256",
        "operation",
        "user-type",
        "user-name",
        "sealed-password-sha256",
        "reason",
        "expires-at",
      ],
    );
    assert.match(text, /^reason: "Zahlungsdienst ü \\"quoted\\" line\\nbreak"$/m);
    assert.match(text, /^request-sha256: [0-9a-f]{64}$/m);
    assert.ok(
      !text.includes(parsed.request.operation.kind === "createUser" ? parsed.request.operation.sealedPassword : "x"),
      "the sealed password itself is not in the payload",
    );
  });

  it("reads back what it renders", () => {
    const back = parseApprovalPayload(bytes);
    assert.ok(back.ok);
    assert.deepEqual(back.payload, payload);
  });

  it("changes with the verdict, the reason, the pull request and the expiry", () => {
    const variants: ApprovalPayload[] = [
      { ...payload, verdict: "reject" },
      { ...payload, reason: `${payload.reason} ` },
      { ...payload, pullRequest: 13 },
      { ...payload, expiresAt: "2026-12-13T03:00:01Z" },
    ];
    for (const v of variants) assert.notDeepEqual(renderApprovalPayload(v), bytes);
    const edited = parseRequest(Buffer.from(REQUEST.toString().replace("Zahlungsdienst", "Zahlungsdienst2")));
    assert.ok(edited.ok);
    const other = approvalPayloadOf({
      ...INPUT,
      request: edited.request,
      requestDigest: requestDigest(Buffer.from(REQUEST.toString().replace("Zahlungsdienst", "Zahlungsdienst2"))),
    });
    assert.notEqual(other.requestSha256, payload.requestSha256);
    assert.notEqual(other.bindingSha256, payload.bindingSha256);
  });

  it("names a quorum change by service and value", () => {
    const setM = parseRequest(
      Buffer.from(
        "version: 1\ncluster: cluster-7n3kq2m4x5a\noperation:\n  kind: setMValue\n  service: 3\n  value: 2\nreason: two officers\n",
      ),
    );
    assert.ok(setM.ok);
    const p = renderApprovalPayload(approvalPayloadOf({ ...INPUT, request: setM.request })).toString();
    assert.match(p, /^operation: setMValue\nservice: 3\nvalue: 2\nreason: "two officers"\n/m);
    const back = parseApprovalPayload(Buffer.from(p));
    assert.ok(back.ok);
  });

  const refusals: [string, string][] = [
    ["CRLF line ends", text.replace(/\n/g, "\r\n")],
    ["no final LF", text.slice(0, -1)],
    ["another title", text.replace(APPROVAL_PAYLOAD_TITLE, "quorum-gate approval payload v2")],
    ["a field twice", text.replace("verdict: approve\n", "verdict: approve\nverdict: approve\n")],
    ["a missing field", text.replace(/^reason: .*\n/m, "")],
    ["fields out of order", text.replace(/^(cluster: .*\n)(repository: .*\n)/m, "$2$1")],
    ["an unknown verdict", text.replace("verdict: approve", "verdict: maybe")],
    ["an unknown field", text.replace("verdict: approve\n", "verdict: approve\nextra: 1\n")],
    ["a string not in JSON", text.replace(/^repository: .*$/m, "repository: acme/hsm")],
    ["another escape of the same string", text.replace("ü", "\\u00fc")],
    ["upper-case hex", text.replace(/^(request-sha256: )(.*)$/m, (_m, k: string, v: string) => k + v.toUpperCase())],
    ["a time with milliseconds", text.replace("2026-12-13T03:00:00Z", "2026-12-13T03:00:00.000Z")],
    ["an impossible date", text.replace("2026-12-13T03:00:00Z", "2026-02-30T03:00:00Z")],
    ["pull request 0", text.replace("pull-request: 12", "pull-request: 0")],
    ["a leading zero", text.replace("pull-request: 12", "pull-request: 012")],
    ["empty input", ""],
  ];
  for (const [name, body] of refusals) {
    it(`refuses ${name}`, () => {
      const r = parseApprovalPayload(Buffer.from(body));
      assert.equal(r.ok, false, name);
      if (!r.ok) assert.equal(r.reason, "malformed_payload");
    });
  }

  it("refuses more than 16 KiB without reading it", () => {
    const r = parseApprovalPayload(Buffer.alloc(16 * 1024 + 1, 0x61));
    assert.equal(r.ok, false);
  });
});

describe("payload expiry", () => {
  const now = Date.parse("2026-12-06T03:00:00.750Z");
  it("adds the lifetime to now, to the second", () => {
    assert.equal(payloadExpiry(now, 7 * 24 * 3600), "2026-12-13T03:00:00Z");
  });
  it("counts an approval until its time, never one that claims too long", () => {
    const max = 7 * 24 * 3600;
    assert.equal(checkPayloadExpiry("2026-12-13T03:00:00Z", now, max), "valid");
    assert.equal(checkPayloadExpiry("2026-12-06T03:00:00Z", now, max), "expired");
    assert.equal(checkPayloadExpiry("2026-12-13T03:00:01Z", now, max), "too_far");
    assert.equal(checkPayloadExpiry("next week", now, max), "malformed");
  });
});

describe("payload signed with openssl", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-payload-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("verifies what `openssl dgst -sha256 -sign` makes over the payload file, and nothing else", () => {
    const key = testKey("officer1");
    writeFileSync(join(dir, "officer1.key"), key.privatePem, { mode: 0o600 });
    const payload = renderApprovalPayload(approvalPayloadOf(INPUT));
    writeFileSync(join(dir, "payload.txt"), payload);
    execFileSync("openssl", [
      "dgst",
      "-sha256",
      "-sign",
      join(dir, "officer1.key"),
      "-out",
      join(dir, "payload.sig"),
      join(dir, "payload.txt"),
    ]);
    const sig = readFileSync(join(dir, "payload.sig"));
    assert.equal(verifyMessage(payload, key.publicKey, sig), true);
    const rejected = renderApprovalPayload({ ...approvalPayloadOf(INPUT), verdict: "reject" });
    assert.equal(verifyMessage(rejected, key.publicKey, sig), false, "an approval is not a veto");
  });
});

describe("the payload of a policy change (governance request)", () => {
  const current = Buffer.from(
    policyText({
      cluster: "cluster-7n3kq2m4x5a",
      officers: [{ login: "alice", officer: "officer1", key: testKey("officer1") }],
      backend: "cloudhsm-cli",
    }),
  );
  const proposed = Buffer.from(`${current.toString()}# a comment\n`);
  const change = (bytes: Buffer | null) => {
    const g = parseGovernanceRequest(bytes, current);
    if (!g.ok) throw new Error("the test policy change parses");
    return g.request;
  };
  const input = {
    verdict: "approve" as const,
    clusterId: "cluster-7n3kq2m4x5a",
    repository: "acme/hsm",
    pullRequest: 31,
    expiresAt: "2026-12-13T03:00:00Z",
  };

  it("names the policy file and its digest, reads back exactly, and differs per change and per pull request", () => {
    const p = governancePayloadOf({ ...input, change: change(proposed) });
    const bytes = renderApprovalPayload(p);
    const text = bytes.toString("utf8");
    assert.match(text, /^request-file: "\.github\/quorum-gate\.yml"$/m);
    assert.match(text, new RegExp(`^request-sha256: ${requestDigest(proposed)}$`, "m"));
    assert.match(text, /^operation: policyChange\nreason: ""\nexpires-at: /m);
    assert.doesNotMatch(text, /user-type|service:/);
    const back = parseApprovalPayload(bytes);
    assert.ok(back.ok);
    assert.deepEqual(back.payload, p);

    const deletion = renderApprovalPayload(governancePayloadOf({ ...input, change: change(null) }));
    assert.match(deletion.toString(), /^operation: policyDeletion$/m);
    assert.match(deletion.toString(), new RegExp(`^request-sha256: ${requestDigest(current)}$`, "m"));
    const elsewhere = renderApprovalPayload(
      governancePayloadOf({ ...input, pullRequest: 32, change: change(proposed) }),
    );
    assert.notEqual(elsewhere.toString(), text);
    assert.notEqual(
      elsewhere.toString().match(/^binding-sha256: .*$/m)?.[0],
      text.match(/^binding-sha256: .*$/m)?.[0],
      "the binding names the pull request",
    );
  });

  it("a policy change with a request's fields is not canonical", () => {
    const text = renderApprovalPayload(governancePayloadOf({ ...input, change: change(proposed) })).toString();
    const forged = text.replace(
      "operation: policyChange\n",
      'operation: policyChange\nuser-type: CU\nuser-name: "x"\n',
    );
    const r = parseApprovalPayload(Buffer.from(forged));
    assert.equal(r.ok, false);
  });
});
