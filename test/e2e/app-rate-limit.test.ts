// GitHub's rate limits through the App as it runs in production (`probot run`, signed deliveries,
// fake GitHub, real cluster): a secondary limit with a short `retry-after` is waited out and the
// delivery completes; one that asks for longer than a delivery holds ends it as `rate_limited`,
// with GitHub's wait in the log and no write made; a redelivery afterwards evaluates as usual.
// The classification and the budget are unit-tested in test/unit/github-rate-limit.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pick, startAppE2E, type AppE2E } from "../helpers/app-e2e.ts";

const SECONDARY = {
  message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
};

describe("the GitHub App at GitHub's rate limits (probot run, fake GitHub, real cluster)", () => {
  let h: AppE2E;
  let number = 0;

  before(async () => {
    h = await startAppE2E({ officers: { alice: "officer1", bob: "officer2" }, tmpPrefix: "qg-app-ratelimit-" });
    number = h.repo.openPullRequest({
      head: "req-rl1",
      author: "alice",
      title: "Create CU rl1",
      files: {
        "hsm-requests/rl1.yml": [
          `version: 1`,
          `cluster: ${h.quorum.clusterId}`,
          `operation:`,
          `  kind: createUser`,
          `  type: CU`,
          `  name: rl1`,
          `  sealed_password: ${h.quorum.seal("rl1-pass-1")}`,
          `reason: rate limit drill`,
          "",
        ].join("\n"),
      },
    });
  });

  after(async () => {
    await h?.stop();
  });

  /** The outcome line the app logs for a delivery; for a failed one it can follow the response. */
  async function loggedOutcome(id: string): Promise<Record<string, unknown> | null> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      for (const line of h.appLog) {
        try {
          const e = JSON.parse(line) as Record<string, unknown>;
          if (e["id"] === id && typeof e["outcome"] === "string") return e;
        } catch {
          // Not a JSON line.
        }
      }
      if (Date.now() > deadline) return null;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const writes = () =>
    h.gh.calls.filter((c) => c.method !== "GET" && c.path !== "/graphql" && !c.path.includes("access_tokens"));

  it("past the budget (retry-after: 3600): rate_limited with GitHub's wait, and no write", async () => {
    h.gh.clearCalls();
    h.gh.failNext("POST", /^\/graphql$/, 403, SECONDARY, { "retry-after": "3600" });
    const d = await h.deliver("pull_request", h.pullRequestEvent(number, "opened", "alice"));
    assert.equal(d.status, 500, "the delivery shows as failed on GitHub, so it can be redelivered");
    const logged = await loggedOutcome(d.id);
    assert.deepEqual(pick(logged ?? null, "outcome", "limit", "retryAfterSeconds"), [
      "rate_limited",
      "secondary",
      3600,
    ]);
    assert.deepEqual(writes(), [], "nothing written before or after the refused read");
    assert.equal(await h.stickyComment(number), null);
  });

  it("a short retry-after is waited out: the redelivery completes, after one resend", async () => {
    h.gh.clearCalls();
    // A 403 naming the secondary limit: Probot's throttling hands it on at once (it resends only
    // primary limits), so this is the gate's own backoff at work.
    h.gh.failNext("POST", /^\/graphql$/, 403, SECONDARY, { "retry-after": "1" });
    const started = Date.now();
    const d = await h.deliver("pull_request", h.pullRequestEvent(number, "opened", "alice"));
    assert.deepEqual(pick(d.outcome, "outcome", "state"), ["evaluated", "pending"]);
    assert.ok(Date.now() - started >= 1000, "it waited as GitHub said");
    // The first read is the one GraphQL query for the pull request.
    const reads = h.gh.calls.filter((c) => c.path === "/graphql");
    assert.deepEqual(
      reads.map((c) => c.status),
      [403, 200],
    );
    assert.ok(h.appLog.some((l) => /secondary rate limit: waiting 1 s before sending a GraphQL query again/.test(l)));
    assert.ok((await h.stickyComment(number)) !== null);
  });
});
