// The app's own routes, authenticated by the app JWT: who am I, and an installation token.
import { newToken } from "../auth.ts";
import { fail } from "../http-io.ts";
import { appJson, userJson } from "../rest-shapes.ts";
import { intParam, repoOf, route, type Route } from "../router.ts";

/** The webhook events the App subscribes to (`app.yml`, `default_events`). */
const EVENTS = ["pull_request", "pull_request_review", "pull_request_review_comment", "issue_comment", "check_run"];

export const appRoutes: readonly Route[] = [
  route("GET", "/app", "jwt", ({ app }) => ({
    status: 200,
    body: appJson(app.id, app.slug, app.permissions, EVENTS),
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
    const id = ctx.app.installationId;
    const account = userJson({ login: repo.owner, type: "User" });
    return {
      status: 200,
      body: {
        id,
        app_id: ctx.app.id,
        app_slug: ctx.app.slug,
        client_id: appJson(ctx.app.id, ctx.app.slug, {}, [])["client_id"],
        account,
        target_id: account["id"],
        target_type: "User",
        repository_selection: "all",
        access_tokens_url: `https://api.github.com/app/installations/${id}/access_tokens`,
        repositories_url: "https://api.github.com/installation/repositories",
        html_url: `https://github.com/settings/installations/${id}`,
        permissions: ctx.app.permissions,
        events: EVENTS,
        created_at: "2025-12-01T00:00:00Z",
        updated_at: "2025-12-01T00:00:00Z",
        single_file_name: null,
        suspended_by: null,
        suspended_at: null,
      },
    };
  }),
];
