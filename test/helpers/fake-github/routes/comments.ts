// Issue comments of pull requests: list, create, read, edit, delete.
import { fail, page, validationFailed } from "../http-io.ts";
import { repoKey, tick, nextId, type CommentState, type PullState, type RepoState } from "../model.ts";
import { commentJson } from "../rest-shapes.ts";
import {
  bodyObject,
  bodyString,
  intParam,
  pullOf,
  repoOf,
  requireWrite,
  route,
  type RouteContext,
  type Route,
} from "../router.ts";

/**
 * GitHub refuses a longer comment body with 422. Its "characters" are Unicode code points (Ruby's
 * String#length): 65,536 emoji pass, where JavaScript's `length` counts 131,072.
 */
export const MAX_COMMENT_BODY = 65536;

function commentBody(ctx: RouteContext, docs: string): string {
  const body = bodyString(bodyObject(ctx), "body") ?? "";
  if (body.length === 0) validationFailed("IssueComment", "body", "body is missing", docs);
  if (body.length > MAX_COMMENT_BODY && [...body].length > MAX_COMMENT_BODY)
    validationFailed("IssueComment", "body", `body is too long (maximum is ${MAX_COMMENT_BODY} characters)`, docs);
  return body;
}

function findComment(ctx: RouteContext, repo: RepoState): { pr: PullState; comment: CommentState } {
  const id = intParam(ctx, "id");
  for (const pr of ctx.state.pulls.get(repoKey(repo.fullName))?.values() ?? []) {
    const comment = pr.comments.find((c) => c.id === id);
    if (comment !== undefined) return { pr, comment };
  }
  return fail(404, "Not Found");
}

export const commentRoutes: readonly Route[] = [
  route("GET", "/repos/:owner/:repo/issues/:number/comments", "token", (ctx) => {
    const pr = pullOf(ctx, repoOf(ctx), intParam(ctx, "number"));
    return page(
      pr.comments.map((c) => commentJson(pr, c)),
      ctx.url,
    );
  }),
  route("POST", "/repos/:owner/:repo/issues/:number/comments", "token", (ctx) => {
    const repo = repoOf(ctx);
    const pr = pullOf(ctx, repo, intParam(ctx, "number"));
    const who = requireWrite(ctx, repo);
    const at = tick(ctx.state);
    const comment: CommentState = {
      id: nextId(ctx.state),
      user: who.user,
      body: commentBody(ctx, "https://docs.github.com/rest/issues/comments#create-an-issue-comment"),
      createdAt: at,
      updatedAt: at,
    };
    pr.comments.push(comment);
    return { status: 201, body: commentJson(pr, comment) };
  }),
  route("GET", "/repos/:owner/:repo/issues/comments/:id", "token", (ctx) => {
    const { pr, comment } = findComment(ctx, repoOf(ctx));
    return { status: 200, body: commentJson(pr, comment) };
  }),
  route("PATCH", "/repos/:owner/:repo/issues/comments/:id", "token", (ctx) => {
    const repo = repoOf(ctx);
    const { pr, comment } = findComment(ctx, repo);
    requireWrite(ctx, repo);
    comment.body = commentBody(ctx, "https://docs.github.com/rest/issues/comments#update-an-issue-comment");
    comment.updatedAt = tick(ctx.state);
    return { status: 200, body: commentJson(pr, comment) };
  }),
  route("DELETE", "/repos/:owner/:repo/issues/comments/:id", "token", (ctx) => {
    const repo = repoOf(ctx);
    const { pr, comment } = findComment(ctx, repo);
    requireWrite(ctx, repo);
    pr.comments.splice(pr.comments.indexOf(comment), 1);
    return { status: 204 };
  }),
];
