// Repository, contents (read at any branch or SHA) and blobs. Writes go through the git data API
// (routes/git-data.ts), as the gate's evidence commit does.
import { resolveRef } from "../git.ts";
import { fail, type Reply } from "../http-io.ts";
import type { FakeState, RepoState } from "../model.ts";
import { repoJson } from "../rest-shapes.ts";
import { param, repoOf, route, type Route } from "../router.ts";

/** Above this the contents API sends no content (`encoding: "none"`); the blob API still does. */
export const INLINE_CONTENT_LIMIT = 1_000_000;

const wrap60 = (b64: string): string => (b64.match(/.{1,60}/g) ?? []).map((l) => `${l}\n`).join("");

function fileJson(
  state: FakeState,
  repo: RepoState,
  path: string,
  sha: string,
  withContent: boolean,
): Record<string, unknown> {
  const bytes = state.blobs.get(sha) ?? Buffer.alloc(0);
  const inline = withContent && bytes.length <= INLINE_CONTENT_LIMIT;
  return {
    type: "file",
    name: path.slice(path.lastIndexOf("/") + 1),
    path,
    sha,
    size: bytes.length,
    ...(withContent
      ? { encoding: inline ? "base64" : "none", content: inline ? wrap60(bytes.toString("base64")) : "" }
      : {}),
    html_url: `https://github.com/${repo.fullName}/blob/${repo.defaultBranch}/${path}`,
  };
}

function getContents(state: FakeState, repo: RepoState, path: string, ref: string): Reply {
  const commit = resolveRef(state, repo, ref) ?? fail(404, `No commit found for the ref ${ref}`);
  const sha = commit.tree.get(path);
  if (sha !== undefined) return { status: 200, body: fileJson(state, repo, path, sha, true) };
  const prefix = `${path}/`;
  const children = new Map<string, Record<string, unknown>>();
  for (const [p, blob] of commit.tree) {
    if (!p.startsWith(prefix)) continue;
    const rest = p.slice(prefix.length);
    const slash = rest.indexOf("/");
    const name = slash === -1 ? rest : rest.slice(0, slash);
    children.set(
      name,
      slash === -1 ? fileJson(state, repo, p, blob, false) : { type: "dir", name, path: `${prefix}${name}` },
    );
  }
  if (children.size === 0) fail(404, "Not Found");
  return { status: 200, body: [...children.values()] };
}

export const contentsRoutes: readonly Route[] = [
  route("GET", "/repos/:owner/:repo", "token", (ctx) => ({ status: 200, body: repoJson(repoOf(ctx)) })),
  route("GET", "/repos/:owner/:repo/contents/*path", "token", (ctx) => {
    const repo = repoOf(ctx);
    return getContents(ctx.state, repo, param(ctx, "path"), ctx.url.searchParams.get("ref") ?? repo.defaultBranch);
  }),
  route("GET", "/repos/:owner/:repo/git/blobs/:sha", "token", (ctx) => {
    repoOf(ctx);
    const sha = param(ctx, "sha");
    const bytes = ctx.state.blobs.get(sha) ?? fail(404, "Not Found");
    return {
      status: 200,
      body: { sha, size: bytes.length, encoding: "base64", content: wrap60(bytes.toString("base64")) },
    };
  }),
];
