// The audit against the gate itself: a request approved and replayed by the real gate use case
// (fake GitHub API, real 2-node cluster, the policy pinning the officers' keys), its evidence
// exactly as the gate committed it copied into a real git repository and merged there, then
// `quorum-gate verify` and `audit --cluster` as subprocesses. The replay column must find the
// outcome under the idempotency key the gate really used.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { signMessage } from "../../src/crypto/rsa.ts";
import { readStickyToken, renderApprovalComment, STICKY_MARKER } from "../../src/gate/index.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";
import { startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { createTestRepo, policyText, type Officer, type TestRepo } from "../helpers/git-repo.ts";
import { testKey } from "../helpers/keys.ts";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));
const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2" };
const FOLDER = "hsm-requests/app7.evidence/";
const EVIDENCE = ["token.bin", "officer1.sig", "officer2.sig", "approval.txt", "evidence.json"];

function cli(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: "utf8" }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, out: stdout, err: stderr });
    });
  });
}

describe("audit of what the gate itself committed and replayed", () => {
  let h: GateHarness;
  let git: TestRepo;

  /** The gate's token, from its sticky comment; the evidence will hold the same bytes. */
  function tokenOf(pr: number): Uint8Array | null {
    const posted = h.gh.calls
      .filter((c) => c.method === "POST" && c.path.endsWith(`/issues/${pr}/comments`))
      .map((c) => (c.body as { body?: string } | null)?.body ?? "");
    const sticky = posted.find((b) => b.startsWith(STICKY_MARKER));
    return sticky === undefined ? null : readStickyToken(sticky);
  }

  before(async () => {
    h = await startGateHarness({ nodes: 2, officers: OFFICERS });
    const officers: Officer[] = Object.entries(OFFICERS).map(([login, officer]) => ({
      login,
      officer,
      key: testKey(officer),
    }));
    const policy = policyText({ cluster: h.q.clusterId, officers });
    h.repo.commit(h.repo.defaultBranch, { ".github/quorum-gate.yml": policy }, { message: "Pin the officers' keys" });

    const request = h.requestYaml("app7", "app7-pass-1");
    const number = h.repo.openPullRequest({
      head: "req-app7",
      author: "carol",
      files: { "hsm-requests/app7.yml": request },
    });
    await handlePullRequest(h.deps, h.event(number, "pull_request", "opened"));
    const token = tokenOf(number);
    assert.ok(token !== null, "the gate posted its token");
    for (const [login, officer] of Object.entries(OFFICERS))
      h.repo.addComment(number, login, renderApprovalComment(signMessage(token, testKey(officer).privateKey)));
    const approved = await handlePullRequest(h.deps, h.event(number));
    assert.ok(
      approved.code === "evaluated" && approved.state === "approved" && approved.evidence === "committed",
      JSON.stringify(approved),
    );
    h.repo.merge(number);
    const replayed = await handlePullRequest(h.deps, h.event(number, "pull_request", "closed"));
    assert.ok(
      replayed.code === "replayed" && replayed.nodes.every((n) => n.result === "applied"),
      JSON.stringify(replayed),
    );

    // The same history in a real repository: the policy, the request, the gate's evidence commit, the merge.
    const t = Math.floor(Date.now() / 1000);
    git = createTestRepo();
    git.commitFiles({ ".github/quorum-gate.yml": policy }, "Pin the officers' keys", t - 600);
    git.git(["checkout", "--quiet", "-b", "req-app7"]);
    git.commitFiles({ "hsm-requests/app7.yml": request }, "Request app7", t - 300);
    const evidence = Object.fromEntries(
      EVIDENCE.map((name) => [
        `${FOLDER}${name}`,
        h.repo.readBytes("req-app7", `${FOLDER}${name}`) ?? new Uint8Array(),
      ]),
    );
    git.commitFiles(evidence, "quorum-gate: evidence for hsm-requests/app7.yml", t - 120);
    git.git(["checkout", "--quiet", "main"]);
    git.git(["merge", "--quiet", "--no-ff", "-m", `Merge pull request #${number}`, "req-app7"], t - 60);
    assert.equal(number, 1, "the fake repository's first pull request, as the evidence records");
  });

  after(async () => {
    await h?.stop();
    git?.remove();
  });

  it("the gate's own evidence verifies offline, and every node recorded the replay under its key", async () => {
    const verify = await cli(["verify", "--repo", git.dir, "hsm-requests/app7.yml"]);
    assert.equal(verify.code, 0, verify.err + verify.out);
    assert.match(verify.out, /requested by +carol/);
    const audit = await cli(["audit", "--repo", git.dir, "--cluster", h.cluster.clusterFile, "--json"]);
    assert.equal(audit.code, 0, audit.err);
    const [row] = JSON.parse(audit.out) as {
      holds: boolean;
      replay: { state: string; nodes: { result: string; approvers: string[] }[] };
    }[];
    assert.equal(row?.holds, true);
    assert.equal(row?.replay.state, "asked");
    assert.deepEqual(
      row?.replay.nodes.map((n) => [n.result, n.approvers]),
      [
        ["applied", ["officer1", "officer2"]],
        ["applied", ["officer1", "officer2"]],
      ],
    );
  });
});
