// `quorum-gate approve` against the fake GitHub on 127.0.0.1 with the real openssl: both
// ceremonies (the HSM's token on the emulator backend, the approval payload on cloudhsm-cli),
// and every refusal posting nothing: a sticky token bound to something else, a request edited at
// head after the token was issued, another cluster, not an officer, the wrong key for a pinned
// officer, a closed pull request, bad arguments.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash, createPublicKey, verify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runApprove, type ApproveDeps } from "../../src/cli/approve.ts";
import { renderTokenFile } from "../../src/cloudhsm-cli/approval-file.ts";
import { renderWindowSection } from "../../src/gate/render-window.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { fingerprint } from "../../src/crypto/rsa.ts";
import {
  approvalPayloadOf,
  parseApprovalComment,
  parseRequest,
  renderApprovalPayload,
  requestBindingDigest,
  serviceOf,
  STICKY_MARKER,
  toBindingContext,
} from "../../src/gate/index.ts";
import { evaluateGovernance, parseGovernanceRequest } from "../../src/gate/governance.ts";
import { parsePolicy } from "../../src/gate/policy.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import { startFakeGitHub, type FakeGitHub, type FakeRepo } from "../helpers/fake-github.ts";
import { testKey } from "../helpers/keys.ts";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));
const CLUSTER = "cluster-abc123";
const REQUEST_PATH = "hsm-requests/2026-12-06-delete-app7.yml";
const REQUEST = `version: 1
cluster: ${CLUSTER}
operation:
  kind: deleteUser
  type: CU
  name: app7
reason: The payments service moved to another HSM.
`;

const alice = testKey("approve-alice");
const bob = testKey("approve-bob");
const mallory = testKey("approve-mallory");

/** A `public_key:` block for the policy, indented under an officer. */
const pinned = (pem: string): string =>
  `    public_key: |\n${pem
    .trim()
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n")}\n`;

/** With `backend: cloudhsm-cli` the policy must pin every officer's public key. */
function policyText(backend: "emulator" | "cloudhsm-cli", extra = ""): string {
  const two = backend === "cloudhsm-cli";
  return `version: 1
cluster: ${CLUSTER}
backend: ${backend}
approval_lifetime_seconds: 86400
officers:
${two ? `  alice:\n    officer: officer1\n${pinned(alice.publicPem)}` : "  alice: officer1\n"}  bob:
    officer: officer2
    key_fingerprint: ${fingerprint(bob.publicKey)}
${two ? pinned(bob.publicPem) : ""}${extra}`;
}

/** The HSM's operation-bound token for `request` in `repository#pr`: one record per node. */
function tokenFor(requestBytes: Buffer, repository: string, pr: number, createdAt: number, nodes = 3): Buffer {
  const parsed = parseRequest(requestBytes);
  assert.ok(parsed.ok);
  const binding = requestBindingDigest(parsed.request, toBindingContext(repository, pr, parsed.digest));
  const records = Array.from({ length: nodes }, (_, i) =>
    encodeRecord({
      service: serviceOf(parsed.request.operation),
      tokenId: 7,
      keyHandle: 0n,
      nonce: `${i}`.padStart(32, "a"),
      userName: "gate",
      nodeId: i + 1,
      createdAt,
      binding,
    }),
  );
  return Buffer.concat(records);
}

function stickyBody(token: Uint8Array): string {
  return `${STICKY_MARKER}\n<!-- quorum-gate:token ${Buffer.from(token).toString("base64")} -->\n## HSM quorum\n`;
}

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function captureIo(input = "", isTTY = false): { io: CliIo; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const stdin = new PassThrough();
  stdin.end(input);
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _e, done) {
        append(chunk.toString());
        done();
      },
    });
  return {
    io: { stdin, stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), isTTY, version: "0.0.0-test" },
    out: () => out,
    err: () => err,
  };
}

describe("quorum-gate approve", () => {
  let gh: FakeGitHub;
  let dir: string;
  let n = 0;
  const path = (name: string): string => join(dir, name);
  const nowMs = Date.parse("2026-12-06T12:00:00Z");
  const nowSec = nowMs / 1000;

  before(async () => {
    gh = await startFakeGitHub();
    dir = mkdtempSync(join(tmpdir(), "approve-test-"));
    writeFileSync(path("alice.key"), alice.privatePem, { mode: 0o600 });
    writeFileSync(path("bob.key"), bob.privatePem, { mode: 0o600 });
    writeFileSync(path("mallory.key"), mallory.privatePem, { mode: 0o600 });
    execFileSync("openssl", [
      "pkey",
      "-in",
      path("alice.key"),
      "-aes-256-cbc",
      "-passout",
      "pass:correct horse",
      "-out",
      path("alice-enc.key"),
    ]);
    writeFileSync(path("pass"), "correct horse\n", { mode: 0o600 });
  });
  after(async () => {
    await gh.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh repository with the policy on main and an open request pull request. */
  function setUp(
    backend: "emulator" | "cloudhsm-cli",
    request = REQUEST,
  ): { repo: FakeRepo; pr: number; full: string } {
    n += 1;
    const full = `acme/hsm${n}`;
    const repo = gh.createRepo(full, { files: { ".github/quorum-gate.yml": policyText(backend) } });
    const pr = repo.openPullRequest({ head: `req-${n}`, files: { [REQUEST_PATH]: request } });
    return { repo, pr, full };
  }

  function postSticky(repo: FakeRepo, pr: number, token: Uint8Array): void {
    repo.addComment(pr, { login: gh.app.botLogin, type: "Bot" }, stickyBody(token));
  }

  async function approve(
    args: readonly string[],
    login = "alice",
    options: { input?: string; isTTY?: boolean; now?: number; sleep?: (ms: number) => Promise<void> } = {},
  ): Promise<Run> {
    const cap = captureIo(options.input ?? "", options.isTTY ?? false);
    const deps: ApproveDeps = {
      env: { GITHUB_TOKEN: gh.issueToken({ user: login, appId: null }), GITHUB_API_URL: gh.url },
      now: () => options.now ?? nowMs,
      ghToken: async () => null,
      openssl: "openssl",
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    };
    const code = await runApprove([...args], cap.io, deps);
    return { code, out: cap.out(), err: cap.err() };
  }

  /** The comments the tool posted (read from the fake's call log). */
  const commentsOf = (repo: FakeRepo, pr: number): string[] =>
    gh.calls
      .filter((c) => c.method === "POST" && c.path === `/repos/${repo.fullName}/issues/${pr}/comments`)
      .map((c) => String((c.body as { body: string }).body));

  it("emulator: signs the sticky comment's token after checking its binding, and posts /quorum approve (as openssl dgst would sign)", async () => {
    const { repo, pr, full } = setUp("emulator");
    const token = tokenFor(Buffer.from(REQUEST), full, pr, nowSec - 60);
    postSticky(repo, pr, token);
    const r = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /deleteUser CU app7 on cluster cluster-abc123/);
    assert.match(r.err, /you sign as officer officer1/);
    const posted = commentsOf(repo, pr);
    assert.equal(posted.length, 1);
    writeFileSync(path("token.bin"), token);
    const expected = execFileSync("openssl", [
      "dgst",
      "-sha256",
      "-sign",
      path("alice.key"),
      path("token.bin"),
    ]).toString("base64");
    assert.equal(posted[0], `/quorum approve ${expected}\n`);
    const parsed = parseApprovalComment(posted[0] ?? "");
    assert.ok(parsed.ok && parsed.command.verb === "approve");
  });

  it("cloudhsm-cli: builds the approval payload from the request at head and posts /quorum approve until=", async () => {
    const { repo, pr, full } = setUp("cloudhsm-cli");
    const r = await approve([`${full}#${pr}`, "--key", path("bob.key"), "--yes"], "bob");
    assert.equal(r.code, 0, r.err);
    const until = "2026-12-07T12:00:00Z"; // now + approval_lifetime_seconds
    const posted = commentsOf(repo, pr);
    assert.equal(posted.length, 1);
    const m = /^\/quorum approve until=(\S+) (\S+)\n$/.exec(posted[0] ?? "");
    assert.ok(m, posted[0]);
    assert.equal(m[1], until);
    const parsed = parseRequest(Buffer.from(REQUEST));
    assert.ok(parsed.ok);
    const payload = renderApprovalPayload(
      approvalPayloadOf({
        verdict: "approve",
        request: parsed.request,
        requestDigest: parsed.digest,
        requestPath: REQUEST_PATH,
        repository: full,
        pullRequest: pr,
        expiresAt: until,
      }),
    );
    assert.ok(verify("sha256", payload, createPublicKey(bob.privatePem), Buffer.from(m[2] ?? "", "base64")));
    assert.match(r.err, /quorum-gate approval payload v1/);
  });

  describe("--watch: countersigning the execution window", () => {
    const approvalData = Buffer.from("records of the HSM token, opaque to the officer");
    const tokenFile = Buffer.from(renderTokenFile(approvalData, createHash("sha256").update(approvalData).digest()));
    /** What the gate does on merge: its quorum check run and its sticky comment with an open window. */
    async function gateOpensWindow(repo: FakeRepo, pr: number, author = gh.app.botLogin): Promise<void> {
      const head = String((repo.pullRequestPayload(pr)["head"] as { sha: string }).sha);
      const app = gh.issueToken();
      const res = await fetch(`${gh.url}/repos/${repo.fullName}/check-runs`, {
        method: "POST",
        headers: { authorization: `token ${app}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "quorum", head_sha: head, status: "in_progress" }),
      });
      assert.equal(res.status, 201);
      const window = renderWindowSection({
        state: "open",
        tokenFile,
        openedAt: nowSec,
        deadline: nowSec + 595,
        waitingFor: ["bob"],
        counted: 0,
        required: 1,
      });
      repo.addComment(pr, { login: author, type: "Bot" }, `${STICKY_MARKER}\n## HSM quorum\n${window}`);
    }

    it("posts the approval, waits for the merge and the gate's window, and countersigns the HSM token once", async () => {
      const { repo, pr, full } = setUp("cloudhsm-cli");
      let looks = 0;
      const r = await approve([`${full}#${pr}`, "--key", path("bob.key"), "--yes", "--watch"], "bob", {
        sleep: async () => {
          looks += 1;
          if (looks === 2) repo.merge(pr);
          if (looks === 3) {
            // Someone else's bot shows a window first: not believed.
            repo.addComment(pr, { login: "other-app[bot]", type: "Bot" }, `${STICKY_MARKER}\nfake`);
            await gateOpensWindow(repo, pr);
          }
        },
      });
      assert.equal(r.code, 0, r.err);
      const posted = commentsOf(repo, pr);
      assert.equal(posted.length, 2, JSON.stringify(posted));
      assert.match(posted[0] ?? "", /^\/quorum approve until=/);
      const m = /^\/quorum countersign (\S+)\n$/.exec(posted[1] ?? "");
      assert.ok(m, posted[1]);
      assert.ok(verify("sha256", approvalData, createPublicKey(bob.privatePem), Buffer.from(m[1] ?? "", "base64")));
      assert.match(r.err, /countersigned the HSM token of the window open until /);
    });

    it("refuses to countersign a window whose comment is not the quorum check's app's, until the approval lapses", async () => {
      const { repo, pr, full } = setUp("cloudhsm-cli");
      let now = nowMs;
      let looks = 0;
      const cap = captureIo();
      const code = await runApprove([`${full}#${pr}`, "--key", path("bob.key"), "--yes", "--watch"], cap.io, {
        env: { GITHUB_TOKEN: gh.issueToken({ user: "bob", appId: null }), GITHUB_API_URL: gh.url },
        now: () => now,
        ghToken: async () => null,
        openssl: "openssl",
        sleep: async () => {
          looks += 1;
          if (looks === 1) {
            repo.merge(pr);
            await gateOpensWindow(repo, pr, "impostor[bot]");
          }
          now += 6 * 3600 * 1000;
        },
      });
      assert.equal(code, 1, cap.err());
      assert.match(cap.err(), /watch_timeout: your approval lapsed/);
      assert.equal(commentsOf(repo, pr).length, 1, "only the approval");
    });

    it("refuses to countersign when the request file that merged is not the one approved (request_changed)", async () => {
      const { repo, pr, full } = setUp("cloudhsm-cli");
      let looks = 0;
      const r = await approve([`${full}#${pr}`, "--key", path("bob.key"), "--yes", "--watch"], "bob", {
        sleep: async () => {
          looks += 1;
          if (looks === 1) {
            // After bob approved, the branch gets another reason, then merges, and a window opens.
            repo.commit(`req-${n}`, {
              [REQUEST_PATH]: REQUEST.replace(/reason: .*/, "reason: changed after approval"),
            });
            repo.merge(pr);
            await gateOpensWindow(repo, pr);
          }
        },
      });
      assert.equal(r.code, 1, r.err);
      assert.match(
        r.err,
        /request_changed: the request file merged \(SHA-256 [0-9a-f]{64}\) is not the one you approved/,
      );
      assert.equal(commentsOf(repo, pr).length, 1, "only the approval: nothing countersigned");
    });

    it("stops with pr_closed when the pull request is closed without merge, and refuses --watch with the emulator", async () => {
      const { repo, pr, full } = setUp("cloudhsm-cli");
      const r = await approve([`${full}#${pr}`, "--key", path("bob.key"), "--yes", "--watch"], "bob", {
        sleep: async () => repo.closePullRequest(pr),
      });
      assert.equal(r.code, 1);
      assert.match(r.err, /pr_closed: .* closed without merge; nothing to countersign/);
      const emu = setUp("emulator");
      const e = await approve([`${emu.full}#${emu.pr}`, "--key", path("alice.key"), "--yes", "--watch"]);
      assert.equal(e.code, 2);
      assert.match(e.err, /bad_arguments: --watch is for a real cluster/);
      const both = await approve([`${full}#${pr}`, "--key", path("bob.key"), "--watch", "--dry-run"], "bob");
      assert.equal(both.code, 2);
    });
  });

  it("--reject posts a veto with --until, bounded by the policy's lifetime", async () => {
    const { repo, pr, full } = setUp("cloudhsm-cli");
    const tooFar = await approve([
      `${full}#${pr}`,
      "--key",
      path("alice.key"),
      "--reject",
      "--until",
      "2026-12-09T00:00:00Z",
      "--yes",
    ]);
    assert.equal(tooFar.code, 1);
    assert.match(tooFar.err, /^quorum-gate approve: bad_until: /m);
    const r = await approve([
      `${full}#${pr}`,
      "--key",
      path("alice.key"),
      "--reject",
      "--until",
      "2026-12-06T18:00:00Z",
      "--yes",
    ]);
    assert.equal(r.code, 0, r.err);
    const posted = commentsOf(repo, pr);
    assert.equal(posted.length, 1);
    assert.match(posted[0] ?? "", /^\/quorum reject until=2026-12-06T18:00:00Z [A-Za-z0-9+/=]{344}\n$/);
  });

  it("an encrypted PEM key takes its pass phrase from --passphrase-file; --dry-run prints and posts nothing", async () => {
    const { repo, pr, full } = setUp("cloudhsm-cli");
    const noPass = await approve([`${full}#${pr}`, "--key", path("alice-enc.key"), "--dry-run"]);
    assert.equal(noPass.code, 2);
    assert.match(noPass.err, /--passphrase-file/);
    const r = await approve([
      `${full}#${pr}`,
      "--key",
      path("alice-enc.key"),
      "--passphrase-file",
      path("pass"),
      "--dry-run",
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\/quorum approve until=2026-12-07T12:00:00Z [A-Za-z0-9+/=]{344}\n$/);
    assert.deepEqual(commentsOf(repo, pr), []);
  });

  it("refuses a sticky token bound to another pull request, and one bound to another cluster", async () => {
    const { repo, pr, full } = setUp("emulator");
    postSticky(repo, pr, tokenFor(Buffer.from(REQUEST), full, pr + 1, nowSec - 60));
    const r = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^quorum-gate approve: token_binding_mismatch: /m);
    assert.match(r.err, /record 0 \(node 1, token 7\): bound to [0-9a-f]{64}/);

    const other = REQUEST.replace(CLUSTER, "cluster-zzz999");
    const second = setUp("emulator");
    postSticky(second.repo, second.pr, tokenFor(Buffer.from(other), second.full, second.pr, nowSec - 60));
    const wrongCluster = await approve([`${second.full}#${second.pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(wrongCluster.code, 1);
    assert.match(wrongCluster.err, /^quorum-gate approve: token_binding_mismatch: /m);
    assert.deepEqual([...commentsOf(repo, pr), ...commentsOf(second.repo, second.pr)], []);
  });

  it("refuses a request that names another cluster than the policy's", async () => {
    const { repo, pr, full } = setUp("cloudhsm-cli", REQUEST.replace(CLUSTER, "cluster-zzz999"));
    const r = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^quorum-gate approve: wrong_cluster: /m);
    assert.deepEqual(commentsOf(repo, pr), []);
  });

  it("refuses a policy change by name (governance_request) and says how it is signed", async () => {
    n += 1;
    const full = `acme/hsm${n}`;
    const repo = gh.createRepo(full, { files: { ".github/quorum-gate.yml": policyText("emulator") } });
    const pr = repo.openPullRequest({
      head: `policy-${n}`,
      files: { ".github/quorum-gate.yml": `${policyText("emulator")}allow_self_approval: true\n` },
    });
    const r = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^quorum-gate approve: governance_request: .* changes \.github\/quorum-gate\.yml/m);
    assert.match(r.err, /quorum-gate sign/);
    assert.deepEqual(commentsOf(repo, pr), []);
  });

  it("cloudhsm-cli: a policy change is signed over the gate's payload of the change, which the gate's engine counts", async () => {
    n += 1;
    const full = `acme/hsm${n}`;
    const current = policyText("cloudhsm-cli");
    const proposed = `${current}allow_self_approval: false\n`;
    const repo = gh.createRepo(full, { files: { ".github/quorum-gate.yml": current } });
    const pr = repo.openPullRequest({ head: `policy-${n}`, files: { ".github/quorum-gate.yml": proposed } });
    const r = await approve([`${full}#${pr}`, "--key", path("bob.key"), "--yes"], "bob");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /policyChange of \.github\/quorum-gate\.yml on cluster cluster-abc123/);
    assert.match(r.err, /change: allow_self_approval: true → false/);
    assert.match(r.err, /operation: policyChange/);
    const posted = commentsOf(repo, pr);
    assert.equal(posted.length, 1);
    const m = /^\/quorum approve until=(\S+) (\S+)\n$/.exec(posted[0] ?? "");
    assert.ok(m, posted[0]);
    // The engine, as the gate runs it, counts the posted comment.
    const g = parseGovernanceRequest(Buffer.from(proposed), Buffer.from(current));
    assert.ok(g.ok);
    const policy = parsePolicy(Buffer.from(current));
    assert.ok(policy.ok);
    const decision = evaluateGovernance({
      policy: policy.policy,
      change: g.request,
      repository: full,
      pullRequest: pr,
      tokenFile: null,
      officerKeys: new Map(),
      quorumValues: { user: 1, quorum: 1 },
      prAuthor: "dave",
      candidates: [
        {
          id: "issue_comment:1",
          kind: "issue_comment",
          author: "bob",
          authorIsBot: false,
          body: posted[0] ?? "",
          createdAt: new Date(nowSec * 1000).toISOString(),
        },
      ],
      now: nowSec,
    });
    assert.deepEqual(
      decision.approvers.map((a) => a.officer),
      ["officer2"],
      JSON.stringify(decision.verdicts),
    );
  });

  it("cloudhsm-cli: a policy deletion is signed too; --watch is refused for a policy change (there is no window)", async () => {
    n += 1;
    const full = `acme/hsm${n}`;
    const repo = gh.createRepo(full, { files: { ".github/quorum-gate.yml": policyText("cloudhsm-cli") } });
    const pr = repo.openPullRequest({ head: `policy-${n}`, files: { ".github/quorum-gate.yml": null } });
    const watch = await approve([`${full}#${pr}`, "--key", path("bob.key"), "--yes", "--watch"], "bob");
    assert.equal(watch.code, 2);
    assert.match(watch.err, /bad_arguments: --watch .* a policy change runs nothing on the HSMs/);
    const r = await approve([`${full}#${pr}`, "--key", path("bob.key"), "--dry-run"], "bob");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /policyDeletion of \.github\/quorum-gate\.yml/);
    assert.match(r.out, /^\/quorum approve until=/);
    assert.deepEqual(commentsOf(repo, pr), [], "a dry run posts nothing");
  });

  it("refuses when the request was edited at head after the sticky token was issued", async () => {
    const { repo, pr, full } = setUp("emulator");
    postSticky(repo, pr, tokenFor(Buffer.from(REQUEST), full, pr, nowSec - 60));
    repo.commit(`req-${n}`, { [REQUEST_PATH]: REQUEST.replace("app7", "app8") }, { message: "edit the request" });
    const r = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^quorum-gate approve: token_binding_mismatch: /m);
    assert.deepEqual(commentsOf(repo, pr), []);
  });

  it("refuses an expired token, and says when there is none yet", async () => {
    const { repo, pr, full } = setUp("emulator");
    const none = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(none.code, 1);
    assert.match(none.err, /^quorum-gate approve: no_token: /m);
    // A look-alike posted by a user is not the gate's comment.
    repo.addComment(pr, "mallory", stickyBody(tokenFor(Buffer.from(REQUEST), full, pr, nowSec - 60)));
    assert.match((await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"])).err, /no_token/);
    postSticky(repo, pr, tokenFor(Buffer.from(REQUEST), full, pr, nowSec - 86400 - 1));
    const expired = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(expired.code, 1);
    assert.match(expired.err, /^quorum-gate approve: token_expired: /m);
    assert.deepEqual(commentsOf(repo, pr), []);
  });

  it("refuses a user who is not an officer, and the wrong key for a pinned officer", async () => {
    const { repo, pr, full } = setUp("cloudhsm-cli");
    const stranger = await approve([`${full}#${pr}`, "--key", path("mallory.key"), "--yes"], "mallory");
    assert.equal(stranger.code, 1);
    assert.match(stranger.err, /^quorum-gate approve: not_an_officer: your GitHub account mallory/m);
    const wrongKey = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"], "bob");
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.err, /^quorum-gate approve: wrong_key: the policy pins officer officer2/m);
    assert.deepEqual(commentsOf(repo, pr), []);
  });

  it("refuses a closed or merged pull request", async () => {
    const { repo, pr, full } = setUp("cloudhsm-cli");
    repo.closePullRequest(pr);
    const closed = await approve([`${full}#${pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(closed.code, 1);
    assert.match(closed.err, /^quorum-gate approve: pr_closed: /m);
    const second = setUp("cloudhsm-cli");
    second.repo.merge(second.pr);
    const merged = await approve([`${second.full}#${second.pr}`, "--key", path("alice.key"), "--yes"]);
    assert.equal(merged.code, 1);
    assert.match(merged.err, /^quorum-gate approve: pr_merged: /m);
    const missing = await approve([`${full}#999`, "--key", path("alice.key"), "--yes"]);
    assert.match(missing.err, /^quorum-gate approve: pr_not_found: /m);
  });

  it("asks before posting: no terminal and no --yes is refused; on a terminal only 'y' posts", async () => {
    const { repo, pr, full } = setUp("cloudhsm-cli");
    const script = await approve([`${full}#${pr}`, "--key", path("alice.key")]);
    assert.equal(script.code, 2);
    assert.match(script.err, /not_confirmed: .*--yes/);
    const no = await approve([`${full}#${pr}`, "--key", path("alice.key")], "alice", { isTTY: true, input: "n\n" });
    assert.equal(no.code, 1);
    assert.match(no.err, /Sign and post\? \[y\/N\] /);
    assert.deepEqual(commentsOf(repo, pr), []);
    const yes = await approve([`${full}#${pr}`, "--key", path("alice.key")], "alice", { isTTY: true, input: "y\n" });
    assert.equal(yes.code, 0, yes.err);
    assert.equal(commentsOf(repo, pr).length, 1);
  });

  it("bad arguments exit 2 and never echo a secret-looking argument", async () => {
    const cases: readonly (readonly string[])[] = [
      [],
      ["acme/hsm#12"],
      ["acme/hsm", "--key", "k"],
      ["acme/hsm#0", "--key", "k"],
      ["acme/hsm#1", "--key", "k", "--until", "tomorrow"],
      ["acme/hsm#1", "--key", "k", "--yes", "--dry-run"],
      ["acme/hsm#1", "--key", "k", "--passphrase", "hunter2"],
      ["acme/hsm#1", "--key", "k", "extra-secret-looking"],
    ];
    for (const args of cases) {
      const r = await approve(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.doesNotMatch(r.err, /hunter2|extra-secret-looking/);
      assert.equal(r.out, "");
    }
    const help = await approve(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: quorum-gate approve/);
  });

  it("runs as a real process: GITHUB_TOKEN and GITHUB_API_URL from the environment, the comment posted", async () => {
    const { repo, pr, full } = setUp("emulator");
    const token = tokenFor(Buffer.from(REQUEST), full, pr, Math.floor(Date.now() / 1000) - 60);
    postSticky(repo, pr, token);
    const env = { ...process.env, GITHUB_TOKEN: gh.issueToken({ user: "alice", appId: null }), GITHUB_API_URL: gh.url };
    const child = spawn(process.execPath, [BIN, "approve", `${full}#${pr}`, "--key", path("alice.key"), "--yes"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((done) => child.on("close", done));
    assert.equal(code, 0, err);
    assert.match(out, /github\.com|posted comment/);
    writeFileSync(path("token-real.bin"), token);
    const expected = execFileSync("openssl", [
      "dgst",
      "-sha256",
      "-sign",
      path("alice.key"),
      path("token-real.bin"),
    ]).toString("base64");
    assert.deepEqual(commentsOf(repo, pr), [`/quorum approve ${expected}\n`]);
  });
});
