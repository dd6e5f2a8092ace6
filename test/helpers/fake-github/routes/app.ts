// The app's own routes, authenticated by the app JWT: who am I, and an installation token.
import { newToken } from "../auth.ts";
import { fail } from "../http-io.ts";
import { intParam, repoOf, route, type Route } from "../router.ts";

export const appRoutes: readonly Route[] = [
  route("GET", "/app", "jwt", ({ app }) => ({
    status: 200,
    body: {
      id: app.id,
      slug: app.slug,
      name: app.slug,
      owner: { login: "quorum-gate", type: "Organization" },
      permissions: app.permissions,
      events: ["pull_request", "pull_request_review", "issue_comment"],
    },
  })),
  route("POST", "/app/installations/:installation_id/access_tokens", "jwt", (ctx) => {
    if (intParam(ctx, "installation_id") !== ctx.app.installationId) fail(404, "Not Found");
    const token = newToken();
    ctx.state.tokens.set(token, {
      user: ctx.app.bot,
      appId: ctx.app.id,
      appSlug: ctx.app.slug,
      permissions: ctx.app.permissions,
    });
    // Real time, not the fake clock: Octokit caches the token until expires_at by its own clock.
    const expires = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
      status: 201,
      body: { token, expires_at: expires, permissions: ctx.app.permissions, repository_selection: "all" },
    };
  }),
  route("GET", "/repos/:owner/:repo/installation", "jwt", (ctx) => {
    const repo = repoOf(ctx);
    if (!repo.installed) fail(404, "Not Found");
    return {
      status: 200,
      body: { id: ctx.app.installationId, app_id: ctx.app.id, app_slug: ctx.app.slug, account: { login: repo.owner } },
    };
  }),
];
