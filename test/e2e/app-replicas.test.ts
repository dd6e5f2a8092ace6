// Two App processes behind a round-robin proxy, as a deployment with replicas runs (`probot run`
// twice, signed deliveries, fake GitHub, real cluster, openssl): GitHub's deliveries, and the same
// delivery redelivered while the first is still running, land on both replicas at once. The
// replicas share nothing but GitHub and the cluster, and still the pull request gets one sticky
// comment, one `quorum` check run per head, and the merged request is applied once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readStickyToken, STICKY_MARKER } from "../../src/gate/index.ts";
import { startAppE2E, type AppE2E } from "../helpers/app-e2e.ts";

const OFFICERS = { alice: "officer1", bob: "officer2" } as const;
const HEAD = "req-rep1";

describe("two App replicas behind a round-robin proxy (probot run ×2, fake GitHub, real cluster)", () => {
  let h: AppE2E;
  let number = 0;

  before(async () => {
    h = await startAppE2E({ officers: OFFICERS, tmpPrefix: "qg-app-replicas-", replicas: 2 });
    number = h.repo.openPullRequest({
      head: HEAD,
      author: "alice",
      title: "Create CU rep1",
      files: {
        "hsm-requests/rep1.yml": [
          `version: 1`,
          `cluster: ${h.quorum.clusterId}`,
          `operation:`,
          `  kind: createUser`,
          `  type: CU`,
          `  name: rep1`,
          `  sealed_password: ${h.quorum.seal("rep1-pass-1")}`,
          `reason: replicas drill`,
          "",
        ].join("\n"),
      },
    });
  });

  after(async () => {
    await h?.stop();
  });

  /**
   * The same delivery (same body, same id) posted `n` times at once: the proxy spreads them. All
   * carry one id, so the outcomes are read from the log: one line per copy, whichever replica.
   */
  async function burst(event: string, payload: unknown, n: number): Promise<Record<string, unknown>[]> {
    const body = JSON.stringify(payload);
    const id = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: n }, () => h.deliver(event, null, { body, id })));
    for (const a of answers) assert.equal(a.status, 200);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const lines = h.appLog.flatMap((l) => {
        try {
          const e = JSON.parse(l) as Record<string, unknown>;
          return e["id"] === id && typeof e["outcome"] === "string" ? [e] : [];
        } catch {
          return [];
        }
      });
      if (lines.length >= n) return lines;
      assert.ok(Date.now() < deadline, `${lines.length} of ${n} outcomes logged for ${id}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stickies(): Promise<{ id: number; body: string }[]> {
    const res = await fetch(`${h.gh.url}/repos/acme/hsm/issues/${number}/comments?per_page=100`, {
      headers: { authorization: `token ${h.gh.issueToken({ user: "observer", appId: null })}` },
    });
    const all = (await res.json()) as { id: number; body: string; user: { login: string } }[];
    return all.filter((c) => c.user.login === h.gh.app.botLogin && c.body.startsWith(STICKY_MARKER));
  }
  /** Whether a claim ref is left on the repository (there should be none once deliveries end). */
  async function claimLeft(name: string): Promise<boolean> {
    const res = await fetch(`${h.gh.url}/repos/acme/hsm/git/ref/quorum-gate/claims/${name}`, {
      headers: { authorization: `token ${h.gh.issueToken()}` },
    });
    await res.text();
    return res.status === 200;
  }
  const quorumRuns = (sha: string) => h.repo.checkRuns(sha).filter((c) => c["name"] === "quorum");

  let token: Uint8Array | null = null;

  it("opened, delivered to both replicas at once: one sticky comment, one check run", async () => {
    const results = await burst("pull_request", h.pullRequestEvent(number, "opened", "alice"), 4);
    assert.deepEqual(
      results.map((r) => r["outcome"]),
      ["evaluated", "evaluated", "evaluated", "evaluated"],
      JSON.stringify(results),
    );
    assert.equal((await stickies()).length, 1, "one sticky comment, whichever replica wrote it");
    assert.equal(quorumRuns(h.repo.branchSha(HEAD) ?? "").length, 1, "one quorum check run for the head");
    token = readStickyToken((await stickies())[0]?.body ?? "");
    assert.ok(token !== null);
    assert.equal(await claimLeft(`pr-${number}`), false, "the claim is let go");
    assert.equal(await claimLeft(`check-${h.repo.branchSha(HEAD)}`), false);
  });

  it("approvals reach either replica; the one that reaches M commits the evidence once", async () => {
    assert.ok(token !== null);
    const head = h.repo.branchSha(HEAD) ?? "";
    const a = h.repo.addComment(number, "alice", `/quorum approve ${h.sign(OFFICERS.alice, token)}`);
    await burst("issue_comment", h.commentEvent(number, a, "alice"), 2);
    const b = h.repo.addComment(number, "bob", `/quorum approve ${h.sign(OFFICERS.bob, token)}`);
    const results = await burst("issue_comment", h.commentEvent(number, b, "bob"), 3);
    assert.deepEqual(
      results.map((r) => r["state"]),
      ["approved", "approved", "approved"],
    );
    assert.equal(
      results.filter((r) => r["evidence"] === "committed").length,
      1,
      `one evidence commit: ${results.map((r) => r["evidence"]).join(" ")}`,
    );
    assert.equal((await stickies()).length, 1);
    assert.equal(quorumRuns(head).length, 1);
    const newHead = h.repo.branchSha(HEAD) ?? "";
    assert.notEqual(newHead, head, "the evidence commit moved the head");
    // The evidence commit's own synchronize, delivered twice at once: one check run on the new head.
    await burst("pull_request", h.pullRequestEvent(number, "synchronize", "alice"), 2);
    assert.equal(quorumRuns(newHead).length, 1, "one check run on the evidence head");
    assert.equal(await claimLeft(`check-${newHead}`), false);
  });

  it("merged, the closed delivery redelivered to both replicas at once: applied once on every node", async () => {
    assert.deepEqual(await h.usersNamed("rep1"), [0, 0, 0]);
    h.repo.merge(number);
    const results = await burst("pull_request", h.pullRequestEvent(number, "closed", "maintainer"), 4);
    const nodes = results.map((r) => String(r["nodes"]).split(" "));
    // Each node applies the operation for exactly one of the copies, whichever got there first;
    // every other copy finds it done (the node's idempotency key).
    for (const index of [0, 1, 2])
      assert.deepEqual(
        nodes.map((n) => n[index]).filter((r) => r === `${index}:applied`).length,
        1,
        `server ${index}: ${nodes.map((n) => n[index]).join(" ")}`,
      );
    assert.ok(
      nodes.flat().every((r) => /^\d:(applied|already_applied)$/.test(r)),
      nodes.join(" | "),
    );
    assert.deepEqual(await h.usersNamed("rep1"), [1, 1, 1]);
    assert.equal((await stickies()).length, 1, "still one sticky comment");
  });
});
