// Pull requests: the PR itself, its files (a three-dot diff, capped at 3000 as GitHub caps it),
// its reviews and review comments, and the PRs a commit belongs to.
import { pullDiff } from "../git.ts";
import { page } from "../http-io.ts";
import { repoKey } from "../model.ts";
import { baseSha, headSha, pullJson, pullSimpleJson, reviewCommentJson, reviewJson } from "../rest-shapes.ts";
import { intParam, param, pullOf, repoOf, route, type Route } from "../router.ts";

/** GitHub lists at most this many files of a pull request, whatever the PR holds. */
export const PULL_FILES_CAP = 3000;

export const pullRoutes: readonly Route[] = [
  route("GET", "/repos/:owner/:repo/pulls/:number", "token", (ctx) => {
    const pr = pullOf(ctx, repoOf(ctx), intParam(ctx, "number"));
    return { status: 200, body: pullJson(ctx.state, pr) };
  }),
  route("GET", "/repos/:owner/:repo/pulls/:number/files", "token", (ctx) => {
    const pr = pullOf(ctx, repoOf(ctx), intParam(ctx, "number"));
    const head = headSha(pr);
    const full = pr.headRepo.fullName;
    const files = pullDiff(ctx.state, baseSha(ctx.state, pr), head)
      .slice(0, PULL_FILES_CAP)
      .map((f) => {
        const path = f.path.split("/").map(encodeURIComponent).join("/");
        return {
          sha: f.blobSha,
          filename: f.path,
          status: f.status,
          additions: 0,
          deletions: 0,
          changes: 0,
          blob_url: `https://github.com/${full}/blob/${head}/${path}`,
          raw_url: `https://github.com/${full}/raw/${head}/${path}`,
          contents_url: `https://api.github.com/repos/${full}/contents/${path}?ref=${head}`,
          ...(f.previousPath === undefined ? {} : { previous_filename: f.previousPath }),
        };
      });
    return page(files, ctx.url);
  }),
  route("GET", "/repos/:owner/:repo/pulls/:number/reviews", "token", (ctx) => {
    const pr = pullOf(ctx, repoOf(ctx), intParam(ctx, "number"));
    // A pending review is a draft that only its author sees.
    const me = ctx.identity?.user.login.toLowerCase();
    const visible = pr.reviews.filter((r) => r.state !== "PENDING" || r.user.login.toLowerCase() === me);
    return page(
      visible.map((r) => reviewJson(pr, r)),
      ctx.url,
    );
  }),
  route("GET", "/repos/:owner/:repo/pulls/:number/comments", "token", (ctx) => {
    const pr = pullOf(ctx, repoOf(ctx), intParam(ctx, "number"));
    return page(
      pr.reviewComments.map((c) => reviewCommentJson(pr, c)),
      ctx.url,
    );
  }),
  route("GET", "/repos/:owner/:repo/commits/:sha/pulls", "token", (ctx) => {
    const repo = repoOf(ctx);
    const sha = param(ctx, "sha");
    const pulls = [...(ctx.state.pulls.get(repoKey(repo.fullName))?.values() ?? [])];
    const hits = pulls.filter((pr) => headSha(pr) === sha || pr.mergeCommitSha === sha);
    // GitHub answers this list with the short pull request shape, which has no `merged` field.
    return page(
      hits.map((pr) => pullSimpleJson(ctx.state, pr)),
      ctx.url,
    );
  }),
];
