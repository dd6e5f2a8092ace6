// `quorum-gate verify` and `audit` end to end: a real git repository in a temporary directory,
// built with `git` as GitHub would leave it (the policy on main, pull request branches holding a
// request and the gate's evidence commit, a merge commit made with --no-ff, a squash commit, a
// governance change), the evidence made by the real engine over tokens issued by a real 2-node
// cluster, one request replayed on the nodes under the gate's idempotency key. The CLI runs as a
// subprocess (bin/quorum-gate.js); its output and exit codes are what is checked.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { replayIdempotencyKey } from "../../src/audit/replay-key.ts";
import { createClusterGateway, createClusterReader, type ClusterGateway } from "../../src/cluster/gateway.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { governanceBindingDigest, GOVERNANCE_SERVICE, parseGovernanceRequest } from "../../src/gate/governance.ts";
import { toBindingContext, toOperation } from "../../src/gate/operation.ts";
import { parsePolicy } from "../../src/gate/policy.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import {
  approveGovernance,
  approveRequest,
  createTestRepo,
  policyText,
  requestBinding,
  requestText,
  type ClusterFacts,
  type Officer,
  type TestRepo,
} from "../helpers/git-repo.ts";
import { testKey } from "../helpers/keys.ts";
import { passwordOf, setUpQuorumCluster, type QuorumCluster } from "../helpers/quorum-cluster.ts";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));
const REPOSITORY = "acme/hsm";
const POLICY_PATH = ".github/quorum-gate.yml";

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function cli(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

describe("quorum-gate verify and audit on a real git history", () => {
  const scratch = mkdtempSync(join(tmpdir(), "qg-audit-e2e-"));
  let cluster: TestCluster;
  let clients: NodeClient[];
  let q: QuorumCluster;
  let gateway: ClusterGateway;
  let repo: TestRepo;
  let officers: Officer[];
  let facts: ClusterFacts;
  const commits: Record<string, string> = {};
  let evidenceCommit7 = "";
  let token7: Uint8Array = new Uint8Array();
  let t = 0;

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    q = await setUpQuorumCluster(clients, { signers: ["officer1", "officer2", "officer3"], members: ["gate"], m: 2 });
    gateway = createClusterGateway(cluster.file, { userName: "gate", password: passwordOf("gate") });
    const keys = await gateway.officerKeys();
    const m = await gateway.quorumValues();
    assert.ok("keys" in keys && "user" in m);
    facts = { officerKeys: keys.keys, m: m.user };
    officers = [
      { login: "alice", officer: "officer1", key: testKey("officer1") },
      { login: "bob", officer: "officer2", key: testKey("officer2") },
      { login: "carol", officer: "officer3", key: testKey("officer3") },
    ];
    const [alice, bob, carol] = officers as [Officer, Officer, Officer];
    // Tokens come from the cluster's clock, so the history is written around now.
    t = Math.floor(Date.now() / 1000);
    repo = createTestRepo();
    const policy = policyText({ cluster: q.clusterId, officers });
    commits["policy"] = repo.commitFiles(
      { [POLICY_PATH]: policy, "README.md": "HSM requests\n" },
      "Adopt the quorum-gate policy",
      t - 3600,
    );

    // Pull request 7, merged with a merge commit, then replayed on every node.
    repo.git(["checkout", "--quiet", "-b", "req-app7"]);
    const request7 = requestText(q.clusterId, "app7", { sealedPassword: q.seal("app7-pass-1"), requestedBy: "erin" });
    repo.commitFiles({ "hsm-requests/app7.yml": request7 }, "Request app7", t - 900);
    const issued7 = await issue(requestBinding(request7, REPOSITORY, 7));
    token7 = issued7;
    const approved7 = approveRequest(policy, "hsm-requests/app7.yml", request7, {
      repository: REPOSITORY,
      pullRequest: 7,
      author: "dave",
      signers: [alice, bob],
      decidedAt: t - 600,
      cluster: facts,
      token: issued7,
    });
    evidenceCommit7 = repo.commitFiles(approved7.files, "quorum-gate: evidence for hsm-requests/app7.yml", t - 600);
    repo.git(["checkout", "--quiet", "main"]);
    repo.commitFiles({ "README.md": "HSM requests, reviewed\n" }, "Unrelated change on main", t - 500);
    repo.git(["merge", "--quiet", "--no-ff", "-m", "Merge pull request #7 from acme/req-app7", "req-app7"], t - 400);
    commits["merge7"] = repo.git(["rev-parse", "HEAD"]).trim();
    const parsed7 = parseRequest(Buffer.from(request7));
    assert.ok(parsed7.ok);
    const replay = await gateway.execute({
      idempotencyKey: replayIdempotencyKey(issued7),
      operation: toOperation(parsed7.request.operation),
      context: toBindingContext(REPOSITORY, 7, parsed7.digest),
      tokenData: issued7,
      signatures: [alice, bob].map((o) => ({ userName: o.officer, signature: signMessage(issued7, o.key.privateKey) })),
    });
    assert.deepEqual(
      replay.map((r) => r.ok),
      [true, true],
      JSON.stringify(replay),
    );

    // Pull request 8, squashed onto main; never replayed.
    repo.git(["checkout", "--quiet", "-b", "req-app8"]);
    const request8 = requestText(q.clusterId, "app8", { sealedPassword: q.seal("app8-pass-1") });
    repo.commitFiles({ "hsm-requests/app8.yml": request8 }, "Request app8", t - 350);
    const approved8 = approveRequest(policy, "hsm-requests/app8.yml", request8, {
      repository: REPOSITORY,
      pullRequest: 8,
      author: "dave",
      signers: [bob, carol],
      decidedAt: t - 300,
      cluster: facts,
      token: await issue(requestBinding(request8, REPOSITORY, 8)),
    });
    repo.commitFiles(approved8.files, "quorum-gate: evidence for hsm-requests/app8.yml", t - 300);
    repo.git(["checkout", "--quiet", "main"]);
    repo.git(["merge", "--quiet", "--squash", "req-app8"]);
    repo.git(["commit", "--quiet", "-m", "Create app8 (#8)"], t - 250);
    commits["squash8"] = repo.git(["rev-parse", "HEAD"]).trim();

    // Pull request 9, a governance change approved by the current officers, merged.
    repo.git(["checkout", "--quiet", "-b", "policy-strict"]);
    const strict = policyText({ cluster: q.clusterId, officers, allowSelfApproval: false });
    repo.commitFiles({ [POLICY_PATH]: strict }, "Forbid self-approval", t - 200);
    const current = parsePolicy(Buffer.from(policy));
    const change = parseGovernanceRequest(Buffer.from(strict), Buffer.from(policy));
    assert.ok(current.ok && change.ok);
    const govToken = await issue({
      binding: governanceBindingDigest(current.policy.cluster, change.request, REPOSITORY, 9),
      service: GOVERNANCE_SERVICE,
    });
    const gov = approveGovernance(policy, strict, {
      repository: REPOSITORY,
      pullRequest: 9,
      author: "carol",
      signers: [alice, carol],
      decidedAt: t - 150,
      cluster: facts,
      token: govToken,
    });
    repo.commitFiles(gov.files, "quorum-gate: evidence for .github/quorum-gate.yml", t - 150);
    repo.git(["checkout", "--quiet", "main"]);
    repo.git(
      ["merge", "--quiet", "--no-ff", "-m", "Merge pull request #9 from acme/policy-strict", "policy-strict"],
      t - 100,
    );
    commits["merge9"] = repo.git(["rev-parse", "HEAD"]).trim();

    // Off main: a history where app7's evidence is edited after it landed, and one with an unapproved request.
    repo.git(["checkout", "--quiet", "-b", "tampered", "main"]);
    repo.commitFiles(
      { "hsm-requests/app7.evidence/officer1.sig": approved7.files["hsm-requests/app7.evidence/officer2.sig"] ?? "" },
      "Touch up evidence",
      t - 50,
    );
    repo.git(["checkout", "--quiet", "-b", "unapproved", "main"]);
    repo.commitFiles(
      { "hsm-requests/app11.yml": requestText(q.clusterId, "app11") },
      "Request app11, pushed straight to the branch",
      t - 40,
    );
    repo.git(["checkout", "--quiet", "main"]);
  });

  after(async () => {
    gateway?.close();
    for (const c of clients ?? []) c.close();
    await cluster?.stop();
    repo?.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function issue(b: { binding: string; service: number }): Promise<Uint8Array> {
    const issued = await gateway.issueToken(b.service, b.binding, 86_400);
    assert.ok(issued.ok, JSON.stringify(issued));
    return issued.tokenData;
  }

  it("verify a merged request: every check ok, a verdict per signature, exit 0", async () => {
    const r = await cli(["verify", "--repo", repo.dir, "hsm-requests/app7.yml"], scratch);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^hsm-requests\/app7\.evidence\/ {2}acme\/hsm#7 {2}createUser CU app7$/m);
    assert.match(r.out, new RegExp(`landed in +${commits["merge7"]?.slice(0, 12)} \\(merge,`));
    assert.match(
      r.out,
      new RegExp(
        `at its first parent ${repo
          .git(["rev-parse", `${commits["merge7"]}^1`])
          .trim()
          .slice(0, 12)}`,
      ),
    );
    assert.match(
      r.out,
      new RegExp(`when ${evidenceCommit7.slice(0, 12)} made the evidence`),
      "the token is judged when the evidence was made",
    );
    assert.match(r.out, /requested by +dave \(for erin\)/);
    assert.match(r.out, /required +2 officers: M as the gate recorded it in evidence\.json: M is cluster state/);
    assert.match(r.out, /^ +counted +officer1 +alice +\S+ +valid +key [0-9a-f]{16}…/m);
    assert.match(r.out, /^ +counted +officer2 +bob +\S+ +valid/m);
    assert.match(r.out, /verdict +quorum holds \(2 of 2 required officers\)/);
    assert.doesNotMatch(r.out, /FAIL/);
  });

  it("verify --json of a squash commit: the squash lands it, the policy of its parent judges it", async () => {
    const r = await cli(["verify", "--repo", repo.dir, "--json", "hsm-requests/app8.evidence/"], scratch);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as { holds: boolean; operations: Record<string, unknown>[] };
    assert.equal(doc.holds, true);
    assert.equal(doc.operations.length, 1);
    const op = doc.operations[0] ?? {};
    assert.equal(op["commit"], commits["squash8"]);
    assert.equal(op["merge"], false);
    assert.equal(op["evidenceCommit"], commits["squash8"], "the branch is gone: the squash made the evidence");
    assert.equal(op["policyCommit"], repo.git(["rev-parse", `${commits["squash8"]}^1`]).trim());
    assert.equal(
      op["idempotencyKey"],
      replayIdempotencyKey(
        Buffer.from(
          repo
            .git(["show", `${commits["squash8"]}:hsm-requests/app8.evidence/evidence.json`])
            .match(/"base64": "([^"]+)"/)?.[1] ?? "",
          "base64",
        ),
      ),
    );
    assert.deepEqual(
      (op["signatures"] as { officer: string; reason: string }[]).map((s) => `${s.officer}:${s.reason}`),
      ["officer2:valid", "officer3:valid"],
    );
  });

  it("verify --commit: everything the merge commit lands; the policy change is judged by the policy it replaced", async () => {
    const merge7 = await cli(["verify", "--repo", repo.dir, "--commit", commits["merge7"] ?? ""], scratch);
    assert.equal(merge7.code, 0, merge7.err);
    const gov = await cli(["verify", "--repo", repo.dir, "--commit", commits["merge9"] ?? "", "--json"], scratch);
    assert.equal(gov.code, 0, gov.err);
    const op = (JSON.parse(gov.out) as { operations: Record<string, unknown>[] }).operations[0] ?? {};
    assert.equal(op["kind"], "governance");
    assert.equal(op["folder"], ".github/quorum-gate.evidence/pr-9/");
    assert.equal(op["pullRequestAuthor"], "carol", "carol approved her own change: the old policy allowed it");
    const byPolicyPath = await cli(["verify", "--repo", repo.dir, POLICY_PATH], scratch);
    assert.equal(byPolicyPath.code, 0, byPolicyPath.err);
    assert.match(byPolicyPath.out, /policyChange: who may approve and how many/);
  });

  it("audit: every operation oldest first, with each node's replay result; exit 0", async () => {
    const r = await cli(["audit", "--repo", repo.dir, "--cluster", cluster.clusterFile, "--json"], scratch);
    assert.equal(r.code, 0, r.err);
    const rows = JSON.parse(r.out) as {
      commit: string;
      folder: string;
      holds: boolean;
      operation: string;
      pullRequestAuthor: string;
      signatures: { officer: string; githubLogin: string; createdAt: string }[];
      replay: {
        state: string;
        idempotencyKey?: string;
        nodes?: { index: number; result: string; approvers?: string[] }[];
      };
    }[];
    assert.deepEqual(
      rows.map((x) => [x.commit, x.folder, x.holds]),
      [
        [commits["merge7"], "hsm-requests/app7.evidence/", true],
        [commits["squash8"], "hsm-requests/app8.evidence/", true],
        [commits["merge9"], ".github/quorum-gate.evidence/pr-9/", true],
      ],
    );
    const [app7, app8, gov] = rows;
    assert.deepEqual(app7?.replay, {
      state: "asked",
      idempotencyKey: replayIdempotencyKey(token7),
      nodes: [
        { index: 0, hsmId: cluster.file.nodes[0]?.hsmId, result: "applied", approvers: ["officer1", "officer2"] },
        { index: 1, hsmId: cluster.file.nodes[1]?.hsmId, result: "applied", approvers: ["officer1", "officer2"] },
      ],
    });
    assert.deepEqual(
      app8?.replay.nodes?.map((n) => n.result),
      ["not_recorded", "not_recorded"],
    );
    assert.equal(gov?.replay.state, "not_applicable");
    assert.deepEqual(
      app7?.signatures.map((s) => `${s.officer}/${s.githubLogin}`),
      ["officer1/alice", "officer2/bob"],
    );
    assert.ok(
      app7?.signatures.every((s) => !Number.isNaN(Date.parse(s.createdAt))),
      "when each officer approved",
    );
  });

  it("audit as a table; without --cluster the replay column is unknown", async () => {
    const r = await cli(["audit", "--repo", repo.dir], scratch);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n");
    assert.match(
      lines[0] ?? "",
      /^COMMIT +DATE +PULL REQUEST +OPERATION +REQUESTED BY +APPROVED BY +VERIFIES +REPLAY$/,
    );
    assert.match(
      lines[1] ?? "",
      new RegExp(
        `^${commits["merge7"]?.slice(0, 12)} +\\d{4}-\\d\\d-\\d\\d +acme/hsm#7 +createUser CU app7 +dave \\(for erin\\) +officer1 \\(alice, [^)]+\\), officer2 \\(bob, [^)]+\\) +yes +unknown \\(no --cluster given\\)$`,
      ),
    );
    assert.match(
      lines[3] ?? "",
      /acme\/hsm#9 +policyChange: who may approve and how many +carol .* yes +n\/a \(policy change\)$/,
    );
    assert.match(r.out, /3 operations: 3 verify, 0 do not\./);
  });

  it("evidence edited on the mainline after it landed: the edit lands it again, and it no longer verifies", async () => {
    const audit = await cli(["audit", "--repo", repo.dir, "--rev", "tampered", "--json"], scratch);
    assert.equal(audit.code, 1, audit.err);
    const rows = JSON.parse(audit.out) as { folder: string; holds: boolean; checks: { code: string }[] }[];
    assert.deepEqual(
      rows.map((x) => [x.folder, x.holds]),
      [
        ["hsm-requests/app7.evidence/", true],
        ["hsm-requests/app8.evidence/", true],
        [".github/quorum-gate.evidence/pr-9/", true],
        ["hsm-requests/app7.evidence/", false],
      ],
    );
    assert.deepEqual(
      rows[3]?.checks.filter((c) => c.code !== "ok").map((c) => c.code),
      ["signature_file_mismatch"],
    );
    const verify = await cli(["verify", "--repo", repo.dir, "--rev", "tampered", "hsm-requests/app7.yml"], scratch);
    assert.equal(verify.code, 1);
    assert.match(
      verify.out,
      /FAIL +signature_files +signature_file_mismatch +officer1\.sig: differs from officer1's signature in evidence\.json/,
    );
    assert.match(verify.out, /verdict +does NOT hold \(2 of 2 required officers\): signature_file_mismatch/);
  });

  it("a request on the history without evidence: exit 1; nothing to verify, a bad commit, not a repository: exit 2", async () => {
    const unapproved = await cli(
      ["verify", "--repo", repo.dir, "--rev", "unapproved", "hsm-requests/app11.yml"],
      scratch,
    );
    assert.equal(unapproved.code, 1);
    assert.match(unapproved.err, /not approved through the gate/);
    const none = await cli(["verify", "--repo", repo.dir, "hsm-requests/nothing.yml"], scratch);
    assert.equal(none.code, 2);
    assert.match(none.err, /no evidence in hsm-requests\/nothing\.evidence\//);
    const policyCommit = await cli(["verify", "--repo", repo.dir, "--commit", commits["policy"] ?? ""], scratch);
    assert.equal(policyCommit.code, 2);
    assert.match(policyCommit.err, /lands no evidence/);
    const wrongCommit = await cli(
      ["verify", "--repo", repo.dir, "--commit", commits["squash8"] ?? "", "hsm-requests/app7.yml"],
      scratch,
    );
    assert.equal(wrongCommit.code, 2);
    assert.match(wrongCommit.err, new RegExp(`it landed in ${commits["merge7"]?.slice(0, 12)}`));
    assert.equal(
      (await cli(["verify", "--repo", repo.dir, "--commit", "no-such-rev", "hsm-requests/app7.yml"], scratch)).code,
      2,
    );
    const notRepo = await cli(["verify", "hsm-requests/app7.yml"], scratch);
    assert.equal(notRepo.code, 2);
    assert.match(notRepo.err, /is not a git repository/);
    assert.equal((await cli(["audit", "--repo", scratch], scratch)).code, 2);
    assert.equal((await cli(["audit", "--repo", repo.dir, "--rev", "nope"], scratch)).code, 2);
    assert.equal((await cli(["verify", "--repo", repo.dir], scratch)).code, 2, "neither a path nor --commit");
    assert.equal((await cli(["verify", "--repo", repo.dir, "README.md"], scratch)).code, 2);
    assert.equal(
      (await cli(["verify", "--repo", repo.dir, "--required", "2", "hsm-requests/app7.yml"], scratch)).code,
      2,
    );
    assert.equal(
      (await cli(["audit", "--repo", repo.dir, "--cluster", join(scratch, "missing.json")], scratch)).code,
      2,
    );
  });

  it("--help for both commands, and both are listed", async () => {
    const verify = await cli(["verify", "--help"], scratch);
    assert.equal(verify.code, 0);
    assert.match(verify.out, /^Usage: quorum-gate verify/);
    const audit = await cli(["audit", "--help"], scratch);
    assert.equal(audit.code, 0);
    assert.match(audit.out, /^Usage: quorum-gate audit/);
    const all = await cli(["--help"], scratch);
    assert.match(all.out, /^ {2}verify +check an approved operation/m);
    assert.match(all.out, /^ {2}audit +list every operation/m);
  });

  it("the node's outcome read over the protocol: applied under the key, not recorded otherwise, nothing consumed", async () => {
    const reader = createClusterReader(cluster.file);
    try {
      const known = await reader.outcome(replayIdempotencyKey(token7));
      assert.deepEqual(
        known.map((o) => (o.ok ? o.value.state : o.code)),
        ["recorded", "recorded"],
      );
      const unknown = await reader.outcome("qg-000000000000000000000000000000000000000000000000");
      assert.deepEqual(
        unknown.map((o) => (o.ok ? o.value.state : o.code)),
        ["not_recorded", "not_recorded"],
      );
      const bad = await reader.outcome("not a key");
      assert.deepEqual(
        bad.map((o) => (o.ok ? "ok" : o.code)),
        ["RET_BAD_REQUEST", "RET_BAD_REQUEST"],
      );
    } finally {
      reader.close();
    }
  });
});
