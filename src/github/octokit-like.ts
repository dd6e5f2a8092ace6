// The slice of Octokit the port uses, and nothing more. Probot's `context.octokit`,
// @octokit/rest's `Octokit` and @actions/github's `getOctokit()` all satisfy it structurally
// (test/adapters/github-port.test.ts passes the real clients without a cast), and a test can pass
// a plain object. Method syntax on purpose: Octokit's `request` and `graphql` are overloaded and
// generic, and method parameters are checked bivariantly, which is what lets those overloads fit.
//
// `data` is `unknown`: every response goes through src/github/parse.ts before the port uses it.
// Octokit throws on a non-2xx status (a RequestError with `status` and `response`); parse.ts also
// reads those thrown values, which are just as untrusted.
//
// `graphql` POSTs one query to the GraphQL endpoint (for a GitHub Enterprise Server `baseUrl`
// ending in /api/v3, Octokit sends it to /api/graphql) and resolves to the answer's `data`. An
// answer with an `errors` list arrives with HTTP 200, and Octokit throws it (a
// GraphqlResponseError carrying `errors`, each with GitHub's `type` and `message`).

export interface OctokitLike {
  request(
    route: string,
    params?: Record<string, unknown>,
  ): Promise<{ readonly status: number; readonly data: unknown }>;
  paginate(route: string, params?: Record<string, unknown>): Promise<unknown[]>;
  graphql(query: string, variables?: Record<string, unknown>): Promise<unknown>;
}
