// Check runs: listed per commit (newest per name and app unless filter=all), created and updated
// only by a GitHub App, and only by the app that created them.
import { resolveRef } from "../git.ts";
import { fail, page, validationFailed } from "../http-io.ts";
import { nextId, tick, type CheckRunState, type Identity } from "../model.ts";
import { checkRunJson } from "../rest-shapes.ts";
import { bodyObject, intParam, param, repoOf, requireWrite, route, type RouteContext, type Route } from "../router.ts";

const STATUSES = ["queued", "in_progress", "completed"] as const;
const CONCLUSIONS = ["success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"];
/** `output.summary` and `output.text`: GitHub counts UTF-8 bytes (docs/testing.md). */
export const OUTPUT_MAX_BYTES = 65535;
/** `output.annotations` and `output.images`, per create or update request. */
export const ITEMS_PER_REQUEST = 50;
const CREATE_DOCS = "https://docs.github.com/rest/checks/runs#create-a-check-run";
const UPDATE_DOCS = "https://docs.github.com/rest/checks/runs#update-a-check-run";

function appOf(who: Identity): { id: number; slug: string } {
  if (who.appId === null || who.appSlug === null) return fail(403, "You must authenticate via a GitHub App.");
  return { id: who.appId, slug: who.appSlug };
}

function optString(body: Readonly<Record<string, unknown>>, key: string): string | null | undefined {
  const v = body[key];
  if (v === undefined || v === null) return v;
  return typeof v === "string" ? v : fail(422, `Invalid request: "${key}" is not a string`);
}

/** Status, conclusion and output of a create or update body, applied onto `run`. */
function applyReport(
  ctx: RouteContext,
  run: CheckRunState,
  body: Readonly<Record<string, unknown>>,
  docs: string,
): void {
  const status = optString(body, "status");
  const conclusion = optString(body, "conclusion");
  if (status != null) run.status = STATUSES.find((s) => s === status) ?? fail(422, `Invalid status ${status}`);
  if (conclusion != null) {
    if (!CONCLUSIONS.includes(conclusion)) fail(422, `Invalid conclusion ${conclusion}`);
    run.conclusion = conclusion;
    run.status = "completed";
  }
  if (run.status === "completed" && run.conclusion === null)
    fail(422, "conclusion is required when status is completed");
  if (run.status === "completed" && run.completedAt === null) run.completedAt = tick(ctx.state);
  const output = body["output"];
  if (output !== undefined) {
    if (typeof output !== "object" || output === null) throw fail(422, "Invalid output");
    const o = Object.fromEntries(Object.entries(output));
    const title = optString(o, "title");
    const summary = optString(o, "summary");
    if (typeof title !== "string" || typeof summary !== "string") fail(422, "output needs a title and a summary");
    const text = optString(o, "text");
    for (const [field, v] of [
      ["summary", summary],
      ["text", text],
    ] as const) {
      if (typeof v === "string" && Buffer.byteLength(v, "utf8") > OUTPUT_MAX_BYTES)
        validationFailed("CheckRun", field, `${field} exceeds a maximum bytesize of ${OUTPUT_MAX_BYTES}`, docs);
    }
    // Annotations and images are appended by every update; each request carries at most 50.
    for (const list of ["annotations", "images"] as const) {
      const given = o[list];
      if (given === undefined) continue;
      if (!Array.isArray(given)) fail(422, `Invalid request: "${list}" is not an array`);
      if (given.length > ITEMS_PER_REQUEST)
        fail(
          422,
          `Invalid request.\n\nNo more than ${ITEMS_PER_REQUEST} items are allowed; ${given.length} were supplied.`,
        );
      if (list === "annotations") run.annotationsCount += given.length;
    }
    run.output = { title: title ?? null, summary: summary ?? null, text: text ?? null };
  }
  const details = optString(body, "details_url");
  if (details !== undefined) run.detailsUrl = details;
  const external = optString(body, "external_id");
  if (external !== undefined) run.externalId = external;
}

function findRun(ctx: RouteContext): { run: CheckRunState; repo: ReturnType<typeof repoOf> } {
  const repo = repoOf(ctx);
  const id = intParam(ctx, "id");
  const run = repo.checkRuns.find((c) => c.id === id) ?? fail(404, "Not Found");
  return { run, repo };
}

export const checkRoutes: readonly Route[] = [
  route("GET", "/repos/:owner/:repo/commits/:ref/check-runs", "token", (ctx) => {
    const repo = repoOf(ctx);
    const q = ctx.url.searchParams;
    const commit =
      resolveRef(ctx.state, repo, param(ctx, "ref")) ?? fail(422, `No commit found for SHA: ${param(ctx, "ref")}`);
    let runs = repo.checkRuns.filter((c) => c.headSha === commit.sha);
    const name = q.get("check_name");
    const appId = q.get("app_id");
    const status = q.get("status");
    if (name !== null) runs = runs.filter((c) => c.name === name);
    if (appId !== null) runs = runs.filter((c) => String(c.appId) === appId);
    if (status !== null) runs = runs.filter((c) => c.status === status);
    runs = [...runs].sort((a, b) => b.id - a.id);
    // filter=latest (the default): only the newest run per name and app.
    if (q.get("filter") !== "all")
      runs = runs.filter((c, i) => runs.findIndex((d) => d.name === c.name && d.appId === c.appId) === i);
    const total = runs.length;
    return page(runs, ctx.url, (slice) => ({
      total_count: total,
      check_runs: slice.map((c) => checkRunJson(ctx.state, repo, c)),
    }));
  }),
  route("POST", "/repos/:owner/:repo/check-runs", "token", (ctx) => {
    const repo = repoOf(ctx);
    const app = appOf(requireWrite(ctx, repo));
    const body = bodyObject(ctx);
    const name = optString(body, "name");
    const head = optString(body, "head_sha");
    if (typeof name !== "string" || name === "" || typeof head !== "string")
      return fail(422, "name and head_sha are required");
    if (!/^[0-9a-f]{40}$/.test(head) || !ctx.state.commits.has(head)) fail(422, `No commit found for SHA: ${head}`);
    const run: CheckRunState = {
      id: nextId(ctx.state),
      name,
      headSha: head,
      status: "queued",
      conclusion: null,
      output: { title: null, summary: null, text: null },
      appId: app.id,
      appSlug: app.slug,
      startedAt: tick(ctx.state),
      completedAt: null,
      detailsUrl: null,
      externalId: null,
      annotationsCount: 0,
    };
    applyReport(ctx, run, body, CREATE_DOCS);
    repo.checkRuns.push(run);
    return { status: 201, body: checkRunJson(ctx.state, repo, run) };
  }),
  route("GET", "/repos/:owner/:repo/check-runs/:id", "token", (ctx) => {
    const { run, repo } = findRun(ctx);
    return { status: 200, body: checkRunJson(ctx.state, repo, run) };
  }),
  route("PATCH", "/repos/:owner/:repo/check-runs/:id", "token", (ctx) => {
    const { run, repo } = findRun(ctx);
    const app = appOf(requireWrite(ctx, repo));
    if (app.id !== run.appId) fail(403, "Invalid app_id: this check run belongs to another app");
    // Validate on a copy so that a refused update changes nothing.
    const next: CheckRunState = { ...run, output: { ...run.output } };
    applyReport(ctx, next, bodyObject(ctx), UPDATE_DOCS);
    Object.assign(run, next);
    return { status: 200, body: checkRunJson(ctx.state, repo, run) };
  }),
];
