// Repository, contents (read at any branch or SHA) and blobs. Writes go through the git data API
// (routes/git-data.ts), as the gate's evidence commit does.
import { createHash } from "node:crypto";
import { resolveRef } from "../git.ts";
import { fail, type Reply } from "../http-io.ts";
import type { FakeState, RepoState } from "../model.ts";
import { nodeId, repoJson } from "../rest-shapes.ts";
import { param, repoOf, route, type Route } from "../router.ts";

/** Above this the contents API sends no content (`encoding: "none"`); the blob API still does. */
export const INLINE_CONTENT_LIMIT = 1_000_000;
const API = "https://api.github.com";

const wrap60 = (b64: string): string => (b64.match(/.{1,60}/g) ?? []).map((l) => `${l}\n`).join("");

function fileJson(
  state: FakeState,
  repo: RepoState,
  ref: string,
  path: string,
  sha: string,
  withContent: boolean,
): Record<string, unknown> {
  const bytes = state.blobs.get(sha) ?? Buffer.alloc(0);
  const inline = withContent && bytes.length <= INLINE_CONTENT_LIMIT;
  const links = entryLinks(repo, path, ref, `${API}/repos/${repo.fullName}/git/blobs/${sha}`, "blob");
  return {
    type: "file",
    name: path.slice(path.lastIndexOf("/") + 1),
    path,
    sha,
    size: bytes.length,
    ...(withContent
      ? { encoding: inline ? "base64" : "none", content: inline ? wrap60(bytes.toString("base64")) : "" }
      : {}),
    ...links,
    download_url: `https://raw.githubusercontent.com/${repo.fullName}/${ref}/${encodePath(path)}`,
  };
}

const encodePath = (path: string): string => path.split("/").map(encodeURIComponent).join("/");

/** `url`, `html_url`, `git_url` and `_links` of a file or directory entry, as GitHub links them. */
function entryLinks(
  repo: RepoState,
  path: string,
  ref: string,
  gitUrl: string,
  kind: "blob" | "tree",
): Record<string, unknown> {
  const url = `${API}/repos/${repo.fullName}/contents/${encodePath(path)}?ref=${encodeURIComponent(ref)}`;
  const html = `https://github.com/${repo.fullName}/${kind}/${ref}/${encodePath(path)}`;
  return { url, html_url: html, git_url: gitUrl, _links: { self: url, git: gitUrl, html } };
}

/** A directory's id, stable per commit and path (the fake's trees are flat, so it has no real one). */
function dirSha(commitSha: string, path: string): string {
  return createHash("sha1").update(`tree ${commitSha} ${path}`).digest("hex");
}

function getContents(state: FakeState, repo: RepoState, path: string, ref: string): Reply {
  const commit = resolveRef(state, repo, ref) ?? fail(404, `No commit found for the ref ${ref}`);
  const sha = commit.tree.get(path);
  if (sha !== undefined) return { status: 200, body: fileJson(state, repo, ref, path, sha, true) };
  const prefix = `${path}/`;
  const children = new Map<string, Record<string, unknown>>();
  for (const [p, blob] of commit.tree) {
    if (!p.startsWith(prefix)) continue;
    const rest = p.slice(prefix.length);
    const slash = rest.indexOf("/");
    const name = slash === -1 ? rest : rest.slice(0, slash);
    children.set(
      name,
      slash === -1 ? fileJson(state, repo, ref, p, blob, false) : dirJson(repo, ref, commit.sha, `${prefix}${name}`),
    );
  }
  if (children.size === 0) fail(404, "Not Found");
  return { status: 200, body: [...children.values()] };
}

function dirJson(repo: RepoState, ref: string, commitSha: string, path: string): Record<string, unknown> {
  const sha = dirSha(commitSha, path);
  return {
    type: "dir",
    name: path.slice(path.lastIndexOf("/") + 1),
    path,
    sha,
    size: 0,
    ...entryLinks(repo, path, ref, `${API}/repos/${repo.fullName}/git/trees/${sha}`, "tree"),
    download_url: null,
  };
}

export const contentsRoutes: readonly Route[] = [
  route("GET", "/repos/:owner/:repo", "token", (ctx) => ({ status: 200, body: repoJson(repoOf(ctx)) })),
  route("GET", "/repos/:owner/:repo/contents/*path", "token", (ctx) => {
    const repo = repoOf(ctx);
    return getContents(ctx.state, repo, param(ctx, "path"), ctx.url.searchParams.get("ref") ?? repo.defaultBranch);
  }),
  route("GET", "/repos/:owner/:repo/git/blobs/:sha", "token", (ctx) => {
    const repo = repoOf(ctx);
    const sha = param(ctx, "sha");
    const bytes = ctx.state.blobs.get(sha) ?? fail(404, "Not Found");
    return {
      status: 200,
      body: {
        sha,
        node_id: nodeId("Blob", sha),
        url: `${API}/repos/${repo.fullName}/git/blobs/${sha}`,
        size: bytes.length,
        encoding: "base64",
        content: wrap60(bytes.toString("base64")),
      },
    };
  }),
];
