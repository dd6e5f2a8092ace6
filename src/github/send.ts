// One place that talks to Octokit. Statuses a caller expects (404 for "no such file", 403 for
// "a fork refuses") come back as values; any other failure becomes one `[github]` error naming
// the concrete request, so a log line says which call broke without showing a token or a body.
import type { OctokitLike } from "./octokit-like.ts";
import { httpFailure } from "./parse.ts";
import { RateLimitedError } from "./rate-limit.ts";

export type Answer =
  | { readonly ok: true; readonly status: number; readonly data: unknown }
  | { readonly ok: false; readonly status: number; readonly message: string };

/** "GET /repos/{owner}/{repo}/pulls/{pull_number}" with its parameters filled in, for messages. */
export function describe(route: string, params: Readonly<Record<string, unknown>>): string {
  return route.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    return typeof v === "string" || typeof v === "number" ? encodeURIComponent(String(v)) : whole;
  });
}

function failure(where: string, err: unknown): Error {
  // A rate limit is an outcome of its own (rate_limited), not a broken call: it passes as it is.
  if (err instanceof RateLimitedError) return err;
  const http = httpFailure(err);
  const detail =
    http === null
      ? err instanceof Error
        ? err.message
        : String(err)
      : `HTTP ${http.status}${http.message ? ` (${http.message.slice(0, 200)})` : ""}`;
  return new Error(`[github] ${where} failed: ${detail}`, { cause: err });
}

/** A failed GraphQL query as one `[github]` error naming it (a rate limit passes as it is). */
export function graphqlFailure(where: string, err: unknown): Error {
  return failure(where, err);
}

/** One request; the statuses in `expected` are returned as `{ ok: false }` instead of thrown. */
export async function send(
  octokit: OctokitLike,
  route: string,
  params: Record<string, unknown>,
  expected: readonly number[] = [],
): Promise<Answer> {
  try {
    const res = await octokit.request(route, params);
    return { ok: true, status: res.status, data: res.data };
  } catch (err) {
    const http = httpFailure(err);
    if (http !== null && expected.includes(http.status))
      return { ok: false, status: http.status, message: http.message };
    throw failure(describe(route, params), err);
  }
}

/** One request whose every failure is an error; the response body, still untrusted. */
export async function sendData(octokit: OctokitLike, route: string, params: Record<string, unknown>): Promise<unknown> {
  try {
    return (await octokit.request(route, params)).data;
  } catch (err) {
    throw failure(describe(route, params), err);
  }
}

/** Every page of a list (100 per page: the fewest round trips GitHub allows). */
export async function sendPaged(
  octokit: OctokitLike,
  route: string,
  params: Record<string, unknown>,
): Promise<unknown[]> {
  try {
    return await octokit.paginate(route, { ...params, per_page: 100 });
  } catch (err) {
    throw failure(describe(route, params), err);
  }
}
