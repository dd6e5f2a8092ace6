// The slice of Octokit the port uses, and nothing more. Probot's `context.octokit`,
// @octokit/rest's `Octokit` and @actions/github's `getOctokit()` all satisfy it structurally
// (test/adapters/github-port.test.ts passes the real clients without a cast), and a test can pass
// a plain object. Method syntax on purpose: Octokit's `request` is overloaded and generic, and
// method parameters are checked bivariantly, which is what lets those overloads fit.
//
// `data` is `unknown`: every response goes through src/github/parse.ts before the port uses it.
// Octokit throws on a non-2xx status (a RequestError with `status` and `response`); parse.ts also
// reads those thrown values, which are just as untrusted.

export interface OctokitLike {
  request(route: string, params?: Record<string, unknown>): Promise<{ readonly status: number; readonly data: unknown }>;
  paginate(route: string, params?: Record<string, unknown>): Promise<unknown[]>;
}
