// Governance requests end to end, without Probot: the real GitHub port over @octokit/rest against
// the fake GitHub API, and a real 3-node cluster. A pull request that changes the policy merges
// only with the approval of the *current* officers, over a MISC_CO token the cluster binds to this
// policy change; nothing is replayed, the token is deleted after the merge, and the new policy is
// in force from then on. The tests share one repository and run in order.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { readStickyToken, renderApprovalComment, STICKY_MARKER } from "../../src/gate/index.ts";
import { decodeRecords } from "../../src/hsm/token-record.ts";
import type { GateDeps, GateOutcome, PullRequestEvent } from "../../src/usecases/deps.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";
import type { FakeGitHub, FakeRepo } from "../helpers/fake-github.ts";
import { POLICY_FILE, startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { testKey } from "../helpers/keys.ts";

const POLICY = POLICY_FILE;
/** Login → officer. dave has an officer account and a registered key, but is not in the policy yet. */
const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3", dave: "officer4" };
const CURRENT = ["alice", "bob", "carol"];

describe("governance requests: policy changes approved by the current quorum (use case, fake GitHub, real cluster)", () => {
  let h: GateHarness;
  let gh: FakeGitHub;
  let repo: FakeRepo;
  let deps: GateDeps;
  let all: GateHarness["all"];
  let policyYaml: GateHarness["policyYaml"];
  let requestYaml: (name: string) => string;
  let event: GateHarness["event"];

  before(async () => {
    h = await startGateHarness({ officers: OFFICERS, policyLogins: CURRENT });
    ({ gh, repo, deps, all, policyYaml, event } = h);
    requestYaml = (name) => h.requestYaml(name);
  });
  after(async () => {
    await h?.stop();
  });

  const handle = (
    number: number,
    kind: "pull_request" | "comment" = "comment",
    action = "created",
  ): Promise<GateOutcome> => handlePullRequest(deps, event(number, kind, action));
  /** The app's own sticky comment on that pull request, as the API shows it now. */
  async function sticky(number: number): Promise<string> {
    const found = await deps.github.findStickyComment(
      { owner: "acme", repo: "hsm" },
      number,
      STICKY_MARKER,
      deps.botLogin,
    );
    assert.ok(found !== null, "the app wrote its sticky comment");
    return found.body;
  }
  async function tokenOf(number: number): Promise<Uint8Array> {
    const token = readStickyToken(await sticky(number));
    assert.ok(token !== null, "the sticky comment carries the token");
    return token;
  }
  /** The latest `quorum` check run on the pull request's head. */
  function check(number: number): { status: string; conclusion: string | null; title: string } {
    const head = (repo.pullRequestPayload(number)["head"] as { sha: string }).sha;
    const run = repo
      .checkRuns(head)
      .filter((r) => r["name"] === "quorum")
      .at(-1);
    assert.ok(run !== undefined, `a quorum check run on #${number}`);
    return {
      status: String(run["status"]),
      conclusion: (run["conclusion"] as string | null) ?? null,
      title: String((run["output"] as { title: string }).title),
    };
  }
  const approve = (number: number, login: string, token: Uint8Array, officer = OFFICERS[login] ?? "") =>
    repo.addComment(number, login, renderApprovalComment(signMessage(token, testKey(officer).privateKey)));
  /** Whether any node still holds one of the token file's records. */
  async function tokenOnNodes(token: Uint8Array): Promise<boolean> {
    const decoded = decodeRecords(token);
    assert.ok(decoded.ok);
    const lists = await all("list-tokens", {});
    return decoded.records.some((r) =>
      lists.some((l) => l.tokens.some((t) => t.nodeId === r.nodeId && t.id === r.tokenId)),
    );
  }

  let governance = 0;
  let request = 0;

  it("refuses a policy change mixed with another file, a rename of the policy, and governance evidence on its own", async () => {
    const mixed = repo.openPullRequest({
      head: "policy-and-readme",
      author: "carol",
      files: { [POLICY]: policyYaml([...CURRENT, "dave"]), "README.md": "changed\n" },
    });
    const r = await handle(mixed, "pull_request", "opened");
    assert.equal(r.code, "invalid");
    assert.match(
      await sticky(mixed),
      /changes \.github\/quorum-gate\.yml; policy changes are governance requests and cannot ride along with anything else .*also changed: README\.md/,
    );
    assert.equal(check(mixed).conclusion, "failure");

    const renamed = repo.openPullRequest({
      head: "policy-rename",
      author: "carol",
      files: { [POLICY]: null, ".github/quorum-gate-old.yml": policyYaml(CURRENT) },
    });
    assert.equal((await handle(renamed, "pull_request", "opened")).code, "invalid");
    assert.match(await sticky(renamed), /renames \.github\/quorum-gate\.yml to \.github\/quorum-gate-old\.yml/);

    const evidenceOnly = repo.openPullRequest({
      head: "fake-evidence",
      author: "carol",
      files: { ".github/quorum-gate.evidence/pr-1/approval.txt": "forged\n" },
    });
    assert.equal((await handle(evidenceOnly, "pull_request", "opened")).code, "invalid");

    const invalid = repo.openPullRequest({
      head: "policy-invalid",
      author: "carol",
      files: { [POLICY]: "version: 1\nofficers: {}\n" },
    });
    assert.equal((await handle(invalid, "pull_request", "opened")).code, "invalid");
    assert.match(await sticky(invalid), /the new policy is not valid[\s\S]*missing_field/);
  });

  it("signatures over a request's token do not count for a policy change's token, and the reverse", async () => {
    request = repo.openPullRequest({
      head: "req-app7",
      author: "carol",
      files: { "hsm-requests/app7.yml": requestYaml("app7") },
    });
    governance = repo.openPullRequest({
      head: "add-dave",
      author: "dave",
      files: { [POLICY]: policyYaml([...CURRENT, "dave"]) },
    });
    const r = await handle(request, "pull_request", "opened");
    const g = await handle(governance, "pull_request", "opened");
    assert.ok(r.code === "evaluated" && r.state === "pending" && r.required === 2, JSON.stringify(r));
    assert.ok(g.code === "evaluated" && g.state === "pending" && g.required === 2, JSON.stringify(g));
    const requestToken = await tokenOf(request);
    const governanceToken = await tokenOf(governance);
    const records = decodeRecords(governanceToken);
    assert.ok(
      records.ok &&
        records.records.length === 3 &&
        records.records.every((rec) => rec.service === 4 && rec.binding !== null),
      "a bound MISC_CO record from every node",
    );
    assert.match(await sticky(governance), /This pull request changes the policy: who may approve and how many/);
    assert.match(await sticky(governance), /officer added: dave → officer officer4/);

    approve(governance, "alice", requestToken);
    approve(request, "bob", governanceToken);
    const g2 = await handle(governance);
    const r2 = await handle(request);
    assert.ok(g2.code === "evaluated" && g2.approvals === 0 && g2.state === "pending", JSON.stringify(g2));
    assert.ok(r2.code === "evaluated" && r2.approvals === 0 && r2.state === "pending", JSON.stringify(r2));
    assert.match(await sticky(governance), /stale_token/);
    assert.match(await sticky(request), /stale_token/);
  });

  it("the new policy adding the pull request's author as an officer does not let the author's approval count", async () => {
    const token = await tokenOf(governance);
    approve(governance, "dave", token); // a valid signature by officer4's registered key
    approve(governance, "alice", token);
    const one = await handle(governance);
    assert.ok(one.code === "evaluated" && one.state === "pending" && one.approvals === 1, JSON.stringify(one));
    assert.match(
      await sticky(governance),
      /unknown_officer.*dave is not an officer in the policy; the signature is officer officer4's/,
    );
    assert.match(await sticky(governance), /maps this pull request's author \(`dave`\) to an officer/);
  });

  it("a policy change approved by the current officers merges: check success, evidence committed, token deleted, new policy in force", async () => {
    const token = await tokenOf(governance);
    approve(governance, "bob", token);
    const approved = await handle(governance);
    assert.ok(
      approved.code === "evaluated" && approved.state === "approved" && approved.evidence === "committed",
      JSON.stringify(approved),
    );
    const folder = `.github/quorum-gate.evidence/pr-${governance}/`;
    assert.match(repo.readText("add-dave", `${folder}approval.txt`) ?? "", /Number of Approvals = 2;/);
    assert.deepEqual(repo.readBytes("add-dave", `${folder}token.bin`), Buffer.from(token));
    const evidence = JSON.parse(repo.readText("add-dave", `${folder}evidence.json`) ?? "{}") as {
      request: { operation: { kind: string } };
      approvals: { officer: string }[];
    };
    assert.equal(evidence.request.operation.kind, "policyChange");
    assert.deepEqual(
      evidence.approvals.map((a) => a.officer),
      ["officer1", "officer2"],
    );

    const again = await handle(governance, "pull_request", "synchronize");
    assert.ok(
      again.code === "evaluated" && again.state === "approved" && again.evidence === "present",
      `the evidence commit is part of the governance request: ${JSON.stringify(again)}`,
    );
    assert.deepEqual(check(governance), {
      status: "completed",
      conclusion: "success",
      title: "Approved by 2 of 2 officers",
    });
    assert.ok(await tokenOnNodes(token), "the token is on the nodes until the merge");

    repo.merge(governance);
    const merged = await handle(governance, "pull_request", "closed");
    assert.deepEqual(merged, {
      code: "policy_merged",
      approved: true,
      approvals: 2,
      required: 2,
      message: "policy change merged with 2 approvals (2 required)",
    });
    assert.equal(await tokenOnNodes(token), false, "the token was deleted from every node");
    assert.equal(check(governance).conclusion, "success");
    assert.match(
      await sticky(governance),
      /## Policy change merged: approved \(2 of 2 officers\)[\s\S]*Nothing is replayed to the cluster/,
    );
    const redelivered = await handle(governance, "pull_request", "closed");
    assert.ok(redelivered.code === "policy_merged" && redelivered.approved, "a redelivery says the same");
    repo.addComment(governance, "alice", "thanks all");
    assert.equal((await handle(governance)).code, "ignored", "a comment on the merged pull request changes nothing");

    // dave is an officer now: his approval counts on the request that was waiting.
    const requestToken = await tokenOf(request);
    approve(request, "dave", requestToken);
    approve(request, "alice", requestToken);
    const r = await handle(request);
    assert.ok(r.code === "evaluated" && r.state === "approved" && r.approvals === 2, JSON.stringify(r));
  });

  it("a policy change merged without the current quorum gets a loud failure", async () => {
    const n = repo.openPullRequest({
      head: "self-approval-off",
      author: "carol",
      files: { [POLICY]: policyYaml([...CURRENT, "dave"], "allow_self_approval: false") },
    });
    await handle(n, "pull_request", "opened");
    const token = await tokenOf(n);
    approve(n, "alice", token);
    const one = await handle(n);
    assert.ok(one.code === "evaluated" && one.state === "pending" && one.approvals === 1, JSON.stringify(one));
    repo.merge(n); // what an admin bypassing branch protection can do
    const merged = await handle(n, "pull_request", "closed");
    assert.ok(
      merged.code === "policy_merged" && !merged.approved && merged.approvals === 1 && merged.required === 2,
      JSON.stringify(merged),
    );
    assert.deepEqual(check(n), {
      status: "completed",
      conclusion: "failure",
      title: "Policy change merged WITHOUT approval",
    });
    assert.match(await sticky(n), /Merged WITHOUT the approval of the current officers[\s\S]*revert this change/);
    assert.equal(await tokenOnNodes(token), false);

    // Merged before the gate ever saw it: no token, so no approval, and it says so.
    const silent = repo.openPullRequest({
      head: "lifetime",
      author: "carol",
      files: { [POLICY]: policyYaml([...CURRENT, "dave"], "allow_self_approval: false\ntoken_lifetime_seconds: 7200") },
    });
    repo.merge(silent);
    const unseen = await handle(silent, "pull_request", "closed");
    assert.ok(unseen.code === "policy_merged" && !unseen.approved, JSON.stringify(unseen));
    assert.equal(check(silent).conclusion, "failure");
    assert.match(await sticky(silent), /WITHOUT the approval of the current officers/);
  });

  it("a policy change closed without merge takes its token back", async () => {
    const n = repo.openPullRequest({
      head: "drop-carol",
      author: "dave",
      files: { [POLICY]: policyYaml(["alice", "bob", "dave"]) },
    });
    await handle(n, "pull_request", "opened");
    const token = await tokenOf(n);
    assert.ok(await tokenOnNodes(token));
    repo.closePullRequest(n);
    assert.equal((await handle(n, "pull_request", "closed")).code, "token_deleted");
    assert.equal(await tokenOnNodes(token), false);
  });

  it("deleting the policy is a governance request too: approved by the current officers, it turns the gate off", async () => {
    const n = repo.openPullRequest({ head: "remove-gate", author: "alice", files: { [POLICY]: null } });
    const opened = await handle(n, "pull_request", "opened");
    assert.ok(opened.code === "evaluated" && opened.state === "pending", JSON.stringify(opened));
    assert.match(await sticky(n), /This pull request deletes the policy: the gate stops guarding this repository/);
    const token = await tokenOf(n);
    approve(n, "alice", token); // the author: the policy in force (merged above) forbids self-approval
    approve(n, "bob", token);
    approve(n, "dave", token);
    const decided = await handle(n);
    assert.ok(
      decided.code === "evaluated" && decided.state === "approved" && decided.approvals === 2,
      JSON.stringify(decided),
    );
    assert.match(await sticky(n), /self_approval/);
    repo.merge(n);
    const merged = await handle(n, "pull_request", "closed");
    assert.ok(merged.code === "policy_merged" && merged.approved, JSON.stringify(merged));
    assert.equal(await tokenOnNodes(token), false);

    const after = repo.openPullRequest({
      head: "req-app8",
      author: "carol",
      files: { "hsm-requests/app8.yml": requestYaml("app8") },
    });
    assert.equal((await handle(after, "pull_request", "opened")).code, "unconfigured");
  });

  it("a merged policy that is not even valid is reported as merged without approval", async () => {
    const other = gh.createRepo("acme/other", { files: { [POLICY]: policyYaml(CURRENT) } });
    const n = other.openPullRequest({
      head: "broken",
      author: "carol",
      files: { [POLICY]: "version: 1\nofficers:\n  alice: officer1\n" },
    });
    const at = (action: string): PullRequestEvent => ({
      repo: { owner: "acme", repo: "other" },
      number: n,
      trigger: { kind: "pull_request", action },
    });
    assert.equal((await handlePullRequest(deps, at("opened"))).code, "invalid");
    other.merge(n);
    const merged = await handlePullRequest(deps, at("closed"));
    assert.ok(merged.code === "policy_merged" && !merged.approved, JSON.stringify(merged));
    const body =
      (await deps.github.findStickyComment({ owner: "acme", repo: "other" }, n, STICKY_MARKER, deps.botLogin))?.body ??
      "";
    assert.match(
      body,
      /^<!-- quorum-gate:sticky v1 -->\n## ⚠️ Policy change merged WITHOUT approval\n\nthe new \.github\/quorum-gate\.yml is not valid[\s\S]*missing_field/,
    );
  });
});
