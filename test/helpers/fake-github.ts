// A fake GitHub REST API on 127.0.0.1 for end-to-end tests of the App and the Action: an app
// whose JWT buys installation tokens, repositories with real commits, pull requests, comments,
// reviews and check runs, pages with Link headers, a log of every call and one-shot faults; and
// GraphQL: the port's createCommitOnBranch mutation and its read of a pull request, executed by
// graphql-js over GitHub's schema (fake-github/routes/graphql.ts).
//
//   const gh = await startFakeGitHub();
//   const repo = gh.createRepo("acme/hsm", { files: { "quorum/policy.yml": "..." } });
//   const n = repo.openPullRequest({ head: "req-1", files: { "requests/1.yml": "..." } });
//   const octokit = new Octokit({ baseUrl: gh.url, auth: gh.issueToken() });
//   ...
//   await gh.close();
//
// Probot: `Probot.defaults({ appId: gh.app.id, privateKey: gh.app.privateKeyPem, baseUrl: gh.url })`
// or GHE_HOST=gh.host GHE_PROTOCOL=http (requests then carry /api/v3, which the fake strips, and
// GraphQL goes to /api/graphql, which the fake reads as /graphql).
// Action: GITHUB_API_URL=gh.url and a token from `gh.issueToken({ login: "github-actions[bot]", ... })`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp, jwtProblem, newToken, signAppJwt, type FakeApp } from "./fake-github/auth.ts";
import { createRepoState, fakeRepo, type FakeRepo } from "./fake-github/fake-repo.ts";
import {
  checkPermissions,
  readManifestPermissions,
  repositoryManifestPermissions,
  type Permissions,
} from "./fake-github/permissions.ts";
import type { FileChanges } from "./fake-github/git.ts";
import { HttpFailure, readBody, sendReply, type Reply } from "./fake-github/http-io.ts";
import { checkRequest, description, responseProblems } from "./fake-github/openapi.ts";
import {
  asUser,
  newState,
  repoKey,
  type FakeState,
  type FakeUser,
  type Identity,
  type RepoState,
} from "./fake-github/model.ts";
import type { Route } from "./fake-github/router.ts";
import { appRoutes } from "./fake-github/routes/app.ts";
import { checkRoutes } from "./fake-github/routes/checks.ts";
import { commentRoutes } from "./fake-github/routes/comments.ts";
import { contentsRoutes } from "./fake-github/routes/contents.ts";
import { gitDataRoutes } from "./fake-github/routes/git-data.ts";
import { graphqlRoutes } from "./fake-github/routes/graphql.ts";
import { pullRoutes } from "./fake-github/routes/pulls.ts";
import { userRoutes } from "./fake-github/routes/user.ts";

export type { Created, FakeRepo, ForkPullRequest, OpenPullRequest } from "./fake-github/fake-repo.ts";
export type { FileChanges } from "./fake-github/git.ts";
export type { FakeUser, ReviewStateName } from "./fake-github/model.ts";
export type { Permissions } from "./fake-github/permissions.ts";
export { signAppJwt } from "./fake-github/auth.ts";

export interface FakeGitHubOptions {
  readonly appId?: number;
  /** The app slug; the bot login is `<slug>[bot]`. Default "quorum-gate-test". */
  readonly slug?: string;
  readonly installationId?: number;
  /** Reuse a key (PEM); by default a fresh RSA-2048 pair is generated. */
  readonly privateKeyPem?: string;
  /** Start of the fake clock that dates comments, reviews and commits. */
  readonly startTime?: Date;
  /**
   * Date comments, reviews and commits by the machine's clock (never backwards) instead of one
   * second per write: for an App in another process whose time-dependent rules (a cooling-off)
   * read the real clock.
   */
  readonly realClock?: boolean;
  /**
   * The App manifest whose `default_permissions` the installation holds (its tokens get 403 for
   * anything else). Default: the repository's own `app.yml`.
   */
  readonly manifest?: string;
}

/** One request as the fake saw it (never the credentials, only their kind). */
export interface FakeCall {
  readonly method: string;
  /** Decoded, without /api/v3 and without the query; GHE's /api/graphql reads /graphql. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly status: number;
  readonly auth: "none" | "jwt" | "token";
  /** The parsed JSON body, or undefined. */
  readonly body: unknown;
  /** GraphQL: the `type` of each error of the answer (HTTP 200), e.g. FORBIDDEN; else absent. */
  readonly errorTypes?: readonly string[];
}

export interface FakeGitHub {
  /** http://127.0.0.1:<port>: Octokit's baseUrl, GITHUB_API_URL. */
  readonly url: string;
  /** 127.0.0.1:<port>: Probot's GHE_HOST (with GHE_PROTOCOL=http). */
  readonly host: string;
  readonly app: FakeApp & { readonly botLogin: string };
  /** Every request so far, oldest first. */
  readonly calls: readonly FakeCall[];
  clearCalls(): void;
  createRepo(fullName: string, options?: { readonly defaultBranch?: string; readonly files?: FileChanges }): FakeRepo;
  repo(fullName: string): FakeRepo;
  /**
   * A token without the JWT exchange. Default: an installation token of the app (its bot, its app
   * id). `appId: null` makes a user token (no check runs); another app id stands for another app,
   * e.g. `{ user: "github-actions[bot]", appId: 15368, appSlug: "github-actions" }` for GITHUB_TOKEN.
   * `permissions`: what the token may do; default: the manifest's for the app's own token, not
   * limited for any other (a user's token, another app's).
   */
  issueToken(identity?: {
    readonly user?: string | FakeUser;
    readonly appId?: number | null;
    readonly appSlug?: string | null;
    readonly permissions?: Permissions | null;
  }): string;
  /** A JWT of the app, as @octokit/auth-app would sign it. */
  appJwt(): string;
  /**
   * The fake clock, which dates comments, reviews and commits: it starts at `startTime` and moves
   * one second per write. A use case under test whose `now()` reads it agrees with those dates.
   */
  now(): Date;
  /** Moves the fake clock forward (a test of a deadline: an execution window's, say). */
  advance(seconds: number): void;
  /**
   * The next request matching method and path (no /api/v3; GraphQL is /graphql) gets this status,
   * body and headers (a rate limit's `retry-after`, say) instead.
   */
  failNext(
    method: string,
    path: RegExp,
    status: number,
    body?: unknown,
    headers?: Readonly<Record<string, string>>,
  ): void;
  /**
   * Answers of the fake that broke GitHub's description (a bug of the fake, answered 500): `close()`
   * rejects while this is not empty, so the test that met one fails even if it tolerated the 500.
   */
  readonly violations: readonly string[];
  close(): Promise<void>;
}

const ROUTES: readonly Route[] = [
  ...appRoutes,
  ...contentsRoutes,
  ...gitDataRoutes,
  ...pullRoutes,
  ...commentRoutes,
  ...checkRoutes,
  ...graphqlRoutes,
  ...userRoutes,
];
const BODY_LIMIT = 20 * 1024 * 1024;
/** GitHub's REST description of the routes above, read on the first request (fake-github/openapi.ts). */
const DESCRIBED = description(ROUTES);
/** The one route GitHub's REST description does not cover: GraphQL is checked against its own schema. */
const GRAPHQL_TEMPLATE = "/graphql";

type Credential =
  | { readonly kind: "none" }
  | { readonly kind: "jwt"; readonly problem: string | null }
  | { readonly kind: "token"; readonly identity: Identity | null };

function credentialOf(req: IncomingMessage, state: FakeState, app: FakeApp): Credential {
  const m = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  const secret = m?.[1];
  if (secret === undefined) return { kind: "none" };
  if (secret.split(".").length === 3) return { kind: "jwt", problem: jwtProblem(secret, app) };
  return { kind: "token", identity: state.tokens.get(secret) ?? null };
}

function refusal(route: Route, cred: Credential): Reply | null {
  if (route.auth === "jwt") {
    if (cred.kind !== "jwt") return { status: 401, body: { message: "A JSON web token could not be decoded" } };
    return cred.problem === null ? null : { status: 401, body: { message: cred.problem } };
  }
  if (cred.kind === "none") return { status: 401, body: { message: "Requires authentication" } };
  if (cred.kind !== "token" || cred.identity === null) return { status: 401, body: { message: "Bad credentials" } };
  return null;
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpFailure(400, "Problems parsing JSON");
  }
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const state = options.realClock
    ? newState(new Date(), true)
    : newState(options.startTime ?? new Date("2026-01-01T00:00:00Z"));
  const permissions =
    options.manifest === undefined ? repositoryManifestPermissions() : readManifestPermissions(options.manifest);
  const app = createApp(
    options.appId ?? 424242,
    options.slug ?? "quorum-gate-test",
    options.installationId ?? 1,
    permissions,
    options.privateKeyPem,
  );
  const calls: FakeCall[] = [];
  const violations: string[] = [];
  const faults: { method: string; path: RegExp; reply: Reply }[] = [];
  const handles = new Map<RepoState, FakeRepo>();
  const handleOf = (repo: RepoState): FakeRepo => {
    let h = handles.get(repo);
    if (h === undefined) {
      h = fakeRepo(state, repo, handleOf);
      handles.set(repo, h);
    }
    return h;
  };

  async function answer(
    req: IncomingMessage,
    url: URL,
    path: string,
  ): Promise<{ reply: Reply; auth: FakeCall["auth"]; body: unknown }> {
    const cred = credentialOf(req, state, app);
    const auth = cred.kind;
    let body: unknown;
    try {
      body = parseJson(await readBody(req, BODY_LIMIT));
      const fault = faults.findIndex((f) => f.method === req.method && f.path.test(path));
      const injected = faults.splice(fault, fault === -1 ? 0 : 1)[0];
      if (injected !== undefined) return { reply: injected.reply, auth, body };
      for (const r of ROUTES) {
        const m = r.method === req.method ? r.pattern.exec(path) : null;
        if (m === null) continue;
        const refused = refusal(r, cred);
        if (refused !== null) return { reply: refused, auth, body };
        const params = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
        const identity = cred.kind === "token" ? cred.identity : null;
        if (r.auth === "token") checkPermissions(identity?.permissions ?? null, r.method, r.template);
        const op = DESCRIBED.operation(r.method, r.template);
        if (op === null && r.template !== GRAPHQL_TEMPLATE)
          throw new Error(`no operation for ${r.method} ${r.template} in GitHub's REST description`);
        // As on GitHub: authentication and permissions first, then the schema, then the model.
        if (op !== null) checkRequest(DESCRIBED, op, body, url);
        const reply = r.handle({ state, app, params, url, body, identity });
        if (op === null || reply.status < 200 || reply.status > 299 || typeof reply.body === "string")
          return { reply, auth, body };
        const problems = responseProblems(DESCRIBED, op, reply.status, reply.body);
        if (problems.length === 0) return { reply, auth, body };
        const message = `[fake-github] the fake's ${reply.status} answer to ${req.method} ${path} breaks ${op.key} of GitHub's description: ${problems.join("; ")}`;
        violations.push(message);
        process.stderr.write(`${message}\n`);
        return { reply: { status: 500, body: { message } }, auth, body };
      }
      return { reply: { status: 404, body: { message: "Not Found" } }, auth, body };
    } catch (err) {
      if (err instanceof HttpFailure)
        return { reply: { status: err.status, body: err.body ?? { message: err.message } }, auth, body };
      // A bug in the fake or a test: say so loudly instead of hiding it behind a plausible answer,
      // on stderr too, since clients seldom show a 500's body.
      process.stderr.write(
        `[fake-github] 500 on ${req.method} ${path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      return {
        reply: { status: 500, body: { message: `[fake-github] ${err instanceof Error ? err.message : String(err)}` } },
        auth,
        body,
      };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    const path = apiPath(url.pathname);
    const { reply, auth, body } = await answer(req, url, path);
    const query = Object.fromEntries(url.searchParams);
    const types = errorTypesOf(reply.body);
    calls.push({
      method: req.method ?? "GET",
      path: safeDecode(path),
      query,
      status: reply.status,
      auth,
      body,
      ...(types === null ? {} : { errorTypes: types }),
    });
    sendReply(res, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  // A client reuses an idle keep-alive socket for up to its own timeout (undici: 4 s); a server
  // that closes idle sockets after about as long (Node's default, 5 s) races it, and the loser
  // sees ECONNRESET, which Octokit reports as HTTP 500. GitHub keeps them far longer; so does the
  // fake, and close() still ends every connection.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo; // listen() on a TCP port always yields AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    app: { ...app, botLogin: app.bot.login },
    calls,
    clearCalls: () => void calls.splice(0),
    createRepo(fullName, o = {}) {
      const repo = createRepoState(state, fullName, {
        defaultBranch: o.defaultBranch ?? "main",
        installed: true,
        forkOf: null,
      });
      const handle = handleOf(repo);
      handle.commit(repo.defaultBranch, o.files ?? { "README.md": `# ${fullName}\n` }, { message: "Initial commit" });
      return handle;
    },
    repo(fullName) {
      const repo = state.repos.get(repoKey(fullName));
      if (repo === undefined) throw new Error(`[fake-github] no repository ${fullName}`);
      return handleOf(repo);
    },
    issueToken(identity = {}) {
      const token = newToken();
      const user = identity.user === undefined ? app.bot : asUser(identity.user);
      const appId = identity.appId === undefined ? app.id : identity.appId;
      const defaultSlug = appId === null ? null : appId === app.id ? app.slug : `app-${appId}`;
      const held =
        identity.permissions === undefined ? (appId === app.id ? app.permissions : null) : identity.permissions;
      state.tokens.set(token, {
        user,
        appId,
        appSlug: identity.appSlug === undefined ? defaultSlug : identity.appSlug,
        permissions: held,
      });
      return token;
    },
    appJwt: () => signAppJwt(app.id, app.privateKeyPem),
    now: () => new Date(state.clockMs),
    advance: (seconds) => {
      state.clockMs += seconds * 1000;
    },
    failNext(method, path, status, body = { message: `injected HTTP ${status}` }, headers) {
      faults.push({
        method: method.toUpperCase(),
        path,
        reply: headers === undefined ? { status, body } : { status, body, headers },
      });
    },
    violations,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      });
      if (violations.length > 0)
        throw new Error(
          `[fake-github] ${violations.length} answer(s) broke GitHub's description:\n${violations.join("\n")}`,
        );
    },
  };
}

/**
 * The path a route matches. A GitHub Enterprise Server serves REST under /api/v3 and GraphQL at
 * /api/graphql; /api/v3/graphql is no endpoint there, so it is left alone (and answers 404).
 */
function apiPath(pathname: string): string {
  if (pathname === "/api/graphql") return "/graphql";
  if (/^\/api\/v3\/graphql\/?$/.test(pathname)) return pathname;
  return pathname.replace(/^\/api\/v3(?=\/)/, "");
}

function errorTypesOf(body: unknown): string[] | null {
  if (typeof body !== "object" || body === null || !("errors" in body) || !Array.isArray(body.errors)) return null;
  const list: readonly unknown[] = body.errors;
  return list.map((e) =>
    typeof e === "object" && e !== null && "type" in e && typeof e.type === "string" ? e.type : "",
  );
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
