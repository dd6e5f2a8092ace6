// GitHub's rate limits, as its answers state them (docs/github-app.md, "Operations"):
//
// - primary: 403 or 429 with `x-ratelimit-remaining: 0`; the budget comes back at
//   `x-ratelimit-reset` (Unix seconds);
// - secondary: 403 or 429 with `retry-after` (seconds), or a 403 whose message says "secondary
//   rate limit" and gives no header, for which GitHub asks to wait at least a minute;
// - GraphQL's primary limit: HTTP 200 with an error of type RATE_LIMITED.
//
// `withRateLimitBackoff` wraps the Octokit both runners use: a limited call waits as long as
// GitHub says and is sent again, within a budget; past the budget it throws RateLimitedError, which
// the App and the Action report as the outcome `rate_limited` with the wait GitHub asked for. A
// call GitHub refused for a limit was not carried out, so sending it again cannot apply it twice.
// Probot's own throttling (the App) retries a primary limit twice and a secondary one never; this
// wrapper sits outside it and sees what it hands on.
import type { OctokitLike } from "./octokit-like.ts";
import { graphqlErrors, httpFailure } from "./parse.ts";

/** GitHub's advice when a secondary limit comes without a header: wait at least a minute. */
export const SECONDARY_FALLBACK_SECONDS = 60;

export interface RateLimit {
  readonly kind: "primary" | "secondary";
  /** How long GitHub asks to wait before the next call, in whole seconds (at least 1). */
  readonly waitSeconds: number;
}

/** Thrown when GitHub asks for a longer wait than the budget allows, or keeps asking. */
export class RateLimitedError extends Error {
  readonly limit: RateLimit;
  constructor(limit: RateLimit, what: string) {
    super(`GitHub's ${limit.kind} rate limit refused ${what}; it asks to wait ${limit.waitSeconds} s`);
    this.name = "RateLimitedError";
    this.limit = limit;
  }
}

/** A response header of a thrown Octokit error: RequestError has `response.headers`, GraphqlResponseError `headers`. */
function headerOf(err: unknown, name: string): string | null {
  if (typeof err !== "object" || err === null) return null;
  const response = "response" in err ? err.response : undefined;
  const headers =
    typeof response === "object" && response !== null && "headers" in response
      ? response.headers
      : "headers" in err
        ? err.headers
        : undefined;
  if (typeof headers !== "object" || headers === null) return null;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === "string" || typeof value === "number" ? String(value) : null;
}

function seconds(value: string | null): number | null {
  return value !== null && /^[0-9]{1,10}$/.test(value.trim()) ? Number(value.trim()) : null;
}

/** The limit an error from Octokit reports, or null when it is not a rate limit. `now`: Unix seconds. */
export function rateLimitOf(err: unknown, now: number): RateLimit | null {
  const untilReset = (): number => {
    const reset = seconds(headerOf(err, "x-ratelimit-reset"));
    return reset === null ? SECONDARY_FALLBACK_SECONDS : Math.max(1, reset - now);
  };
  const gql = graphqlErrors(err);
  if (gql?.some((e) => e.type === "RATE_LIMITED")) return { kind: "primary", waitSeconds: untilReset() };
  const failure = httpFailure(err);
  if (failure === null || (failure.status !== 403 && failure.status !== 429)) return null;
  const retryAfter = seconds(headerOf(err, "retry-after"));
  if (retryAfter !== null) return { kind: "secondary", waitSeconds: Math.max(1, retryAfter) };
  if (headerOf(err, "x-ratelimit-remaining") === "0") return { kind: "primary", waitSeconds: untilReset() };
  if (failure.status === 429 || /secondary rate limit/i.test(failure.message))
    return { kind: "secondary", waitSeconds: SECONDARY_FALLBACK_SECONDS };
  // A 403 without any of these is a refusal (a permission, a protected branch), not a limit.
  return null;
}

export interface BackoffOptions {
  /** Unix seconds. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** The longest single wait honoured; a longer one ends the delivery as rate_limited. */
  readonly maxWaitSeconds: number;
  /** Retries per call. */
  readonly maxRetries: number;
  readonly log: (line: string) => void;
}

/** The defaults of both runners: a minute's wait is worth it; an hour's reset is not. */
export const DEFAULT_BACKOFF = { maxWaitSeconds: 60, maxRetries: 3 } as const;

export function withRateLimitBackoff(octokit: OctokitLike, options: BackoffOptions): OctokitLike {
  async function attempt<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await call();
      } catch (err) {
        const limit = rateLimitOf(err, options.now());
        if (limit === null) throw err;
        if (limit.waitSeconds > options.maxWaitSeconds || retry >= options.maxRetries)
          throw new RateLimitedError(limit, what);
        options.log(`GitHub's ${limit.kind} rate limit: waiting ${limit.waitSeconds} s before sending ${what} again`);
        await options.sleep(limit.waitSeconds * 1000);
      }
    }
  }
  return {
    request: (route, params) => attempt(route, () => octokit.request(route, params)),
    paginate: (route, params) => attempt(route, () => octokit.paginate(route, params)),
    graphql: (query, variables) => attempt("a GraphQL query", () => octokit.graphql(query, variables)),
  };
}
