// Route table plumbing: `/repos/:owner/:repo/contents/*path` templates, the context a handler
// gets, and the lookups every handler repeats (repository, pull request, write permission).
import type { FakeApp } from "./auth.ts";
import { fail, type Reply } from "./http-io.ts";
import { repoKey, type FakeState, type Identity, type PullState, type RepoState } from "./model.ts";

export interface RouteContext {
  readonly state: FakeState;
  readonly app: FakeApp;
  readonly params: Readonly<Record<string, string>>;
  /** The request's absolute URL as the client sent it (with /api/v3 when it used one). */
  readonly url: URL;
  readonly body: unknown;
  /** The token's identity; null on the app (JWT) routes. */
  readonly identity: Identity | null;
}

export interface Route {
  readonly method: string;
  /** As written, e.g. `/repos/:owner/:repo/pulls/:number`: the key of its permission rule. */
  readonly template: string;
  readonly pattern: RegExp;
  /** "jwt": the app's own routes; "token": everything else. */
  readonly auth: "jwt" | "token";
  readonly handle: (ctx: RouteContext) => Reply;
}

export function route(
  method: string,
  template: string,
  auth: "jwt" | "token",
  handle: (ctx: RouteContext) => Reply,
): Route {
  const source = template
    .split("/")
    .map((part) =>
      part.startsWith(":")
        ? `(?<${part.slice(1)}>[^/]+)`
        : part.startsWith("*")
          ? `(?<${part.slice(1)}>.+)`
          : part.replace(/[.]/g, "\\."),
    )
    .join("/");
  return { method, template, pattern: new RegExp(`^${source}$`), auth, handle };
}

export function param(ctx: RouteContext, name: string): string {
  const v = ctx.params[name];
  if (v === undefined) throw new Error(`[fake-github] route has no :${name}`);
  return v;
}

export function intParam(ctx: RouteContext, name: string): number {
  const v = param(ctx, name);
  if (!/^\d+$/.test(v)) fail(404, "Not Found");
  return Number(v);
}

export function repoOf(ctx: RouteContext): RepoState {
  const repo = ctx.state.repos.get(repoKey(`${param(ctx, "owner")}/${param(ctx, "repo")}`));
  return repo ?? fail(404, "Not Found");
}

export function pullOf(ctx: RouteContext, repo: RepoState, number: number): PullState {
  return ctx.state.pulls.get(repoKey(repo.fullName))?.get(number) ?? fail(404, "Not Found");
}

export function identityOf(ctx: RouteContext): Identity {
  return ctx.identity ?? fail(401, "Requires authentication");
}

/** The app may write only where it is installed: a fork answers 403, as on GitHub. */
export function requireWrite(ctx: RouteContext, repo: RepoState): Identity {
  const who = identityOf(ctx);
  if (!repo.installed) fail(403, "Resource not accessible by integration");
  return who;
}

export function bodyObject(ctx: RouteContext): Readonly<Record<string, unknown>> {
  const b = ctx.body;
  if (typeof b !== "object" || b === null || Array.isArray(b)) return fail(400, "Problems parsing JSON");
  return Object.fromEntries(Object.entries(b));
}

export function bodyString(body: Readonly<Record<string, unknown>>, key: string, required = true): string | undefined {
  const v = body[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string") return fail(422, `Invalid request: "${key}" is not a string`);
  return v;
}
