// Rate limits as GitHub states them (src/github/rate-limit.ts): which answers are limits and how
// long they ask to wait, and the backoff around Octokit: wait and resend within the budget, a
// stable RateLimitedError past it, every other error untouched.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OctokitLike } from "../../src/github/octokit-like.ts";
import {
  RateLimitedError,
  rateLimitOf,
  SECONDARY_FALLBACK_SECONDS,
  withRateLimitBackoff,
} from "../../src/github/rate-limit.ts";

const NOW = 1_800_000_000;

/** What Octokit throws for a non-2xx answer: a RequestError with status and response. */
function httpError(status: number, message: string, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(message), { name: "HttpError", status, response: { headers, data: { message } } });
}

describe("rateLimitOf", () => {
  it("reads retry-after, the primary reset, and GitHub's minute for a bare secondary limit", () => {
    assert.deepEqual(
      rateLimitOf(httpError(403, "You have exceeded a secondary rate limit", { "retry-after": "30" }), NOW),
      {
        kind: "secondary",
        waitSeconds: 30,
      },
    );
    assert.deepEqual(rateLimitOf(httpError(429, "Too many requests", { "retry-after": "0" }), NOW), {
      kind: "secondary",
      waitSeconds: 1,
    });
    assert.deepEqual(
      rateLimitOf(
        httpError(403, "API rate limit exceeded", {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(NOW + 1234),
        }),
        NOW,
      ),
      { kind: "primary", waitSeconds: 1234 },
    );
    assert.deepEqual(rateLimitOf(httpError(403, "You have exceeded a secondary rate limit."), NOW), {
      kind: "secondary",
      waitSeconds: SECONDARY_FALLBACK_SECONDS,
    });
    assert.deepEqual(rateLimitOf(httpError(429, "slow down"), NOW), {
      kind: "secondary",
      waitSeconds: SECONDARY_FALLBACK_SECONDS,
    });
    const gql = Object.assign(new Error("rate limited"), {
      errors: [{ type: "RATE_LIMITED", message: "API rate limit exceeded" }],
      headers: { "x-ratelimit-reset": String(NOW + 90) },
    });
    assert.deepEqual(rateLimitOf(gql, NOW), { kind: "primary", waitSeconds: 90 });
  });

  it("a refusal is not a limit: permissions, protected branches, other statuses, junk headers", () => {
    assert.equal(rateLimitOf(httpError(403, "Resource not accessible by integration"), NOW), null);
    assert.equal(rateLimitOf(httpError(403, "forbidden", { "x-ratelimit-remaining": "17" }), NOW), null);
    assert.equal(rateLimitOf(httpError(404, "Not Found", { "retry-after": "5" }), NOW), null);
    assert.equal(rateLimitOf(httpError(500, "boom"), NOW), null);
    assert.equal(rateLimitOf(new Error("socket hang up"), NOW), null);
    assert.equal(rateLimitOf("a string", NOW), null);
    assert.deepEqual(
      rateLimitOf(httpError(429, "x", { "retry-after": "soon" }), NOW),
      { kind: "secondary", waitSeconds: SECONDARY_FALLBACK_SECONDS },
      "an unreadable retry-after falls back to GitHub's minute",
    );
  });
});

describe("withRateLimitBackoff", () => {
  function harness(answers: (unknown | Error)[]) {
    const waits: number[] = [];
    const lines: string[] = [];
    let calls = 0;
    const next = async (): Promise<unknown> => {
      calls++;
      const a = answers.shift();
      if (a instanceof Error) throw a;
      return a;
    };
    const inner: OctokitLike = {
      request: async () => ({ status: 200, data: await next() }),
      paginate: async () => [await next()],
      graphql: next,
    };
    const octokit = withRateLimitBackoff(inner, {
      now: () => NOW,
      sleep: async (ms) => {
        waits.push(ms);
      },
      maxWaitSeconds: 60,
      maxRetries: 3,
      log: (l) => lines.push(l),
    });
    return { octokit, waits, lines, calls: () => calls };
  }

  it("waits as long as GitHub says and sends the call again", async () => {
    const h = harness([
      httpError(429, "slow", { "retry-after": "2" }),
      httpError(403, "secondary rate limit", { "retry-after": "5" }),
      "ok",
    ]);
    assert.deepEqual(await h.octokit.request("GET /repos/{owner}/{repo}"), { status: 200, data: "ok" });
    assert.deepEqual(h.waits, [2000, 5000]);
    assert.equal(h.calls(), 3);
    assert.match(
      h.lines[0] ?? "",
      /secondary rate limit: waiting 2 s before sending GET \/repos\/\{owner\}\/\{repo\} again/,
    );
    const g = harness([httpError(403, "secondary rate limit", { "retry-after": "1" }), { viewer: 1 }]);
    assert.deepEqual(await g.octokit.graphql("query { viewer { login } }"), { viewer: 1 });
    const p = harness([httpError(429, "x", { "retry-after": "1" }), "page"]);
    assert.deepEqual(await p.octokit.paginate("GET /x"), ["page"]);
  });

  it("past the budget: RateLimitedError with GitHub's wait, after no wait at all", async () => {
    const h = harness([
      httpError(403, "API rate limit exceeded", {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(NOW + 3000),
      }),
    ]);
    await assert.rejects(h.octokit.request("POST /repos/{owner}/{repo}/check-runs"), (err: unknown) => {
      assert.ok(err instanceof RateLimitedError);
      assert.deepEqual(err.limit, { kind: "primary", waitSeconds: 3000 });
      assert.match(err.message, /primary rate limit refused POST .*check-runs; it asks to wait 3000 s/);
      return true;
    });
    assert.deepEqual(h.waits, [], "an hour's reset is not waited out inside a delivery");
  });

  it("a limit that keeps coming ends after maxRetries resends", async () => {
    const limited = () => httpError(429, "x", { "retry-after": "1" });
    const h = harness([limited(), limited(), limited(), limited(), "never"]);
    await assert.rejects(h.octokit.request("GET /x"), RateLimitedError);
    assert.equal(h.calls(), 4);
    assert.deepEqual(h.waits, [1000, 1000, 1000]);
  });

  it("any other error passes through as it was thrown, with no wait", async () => {
    const refused = httpError(403, "Resource not accessible by integration");
    const h = harness([refused]);
    await assert.rejects(h.octokit.request("GET /x"), (err: unknown) => err === refused);
    assert.deepEqual(h.waits, []);
  });
});
