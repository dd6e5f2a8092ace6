// The git data API on the fake's git model: read, create and delete refs (branches, and refs
// outside refs/heads such as the gate's claims), read a commit, create blobs, trees and commits,
// and move a branch. Writes need the app installed (a fork answers 403); a branch
// update must be a fast forward unless forced (422), and a protected branch refuses it (409).
import { createHash } from "node:crypto";
import { commitOf, isAncestor, makeCommit, putBlob, treeSha } from "../git.ts";
import { fail, type Reply } from "../http-io.ts";
import type { Commit, FakeState, RepoState } from "../model.ts";
import { nodeId } from "../rest-shapes.ts";
import { bodyObject, bodyString, param, repoOf, requireWrite, route, type Route } from "../router.ts";

const SHA = /^[0-9a-f]{40}$/;
const API = "https://api.github.com";

/** `heads/<branch>` (as the URL names it) → the branch; tags and other refs are not modelled. */
function branchOfRef(ref: string): string {
  const m = /^(?:refs\/)?heads\/(.+)$/.exec(ref);
  return m?.[1] ?? fail(404, "Not Found");
}

function refJson(repo: RepoState, ref: string, sha: string): Record<string, unknown> {
  const nodeId = createHash("sha1").update(`${repo.fullName} ${ref}`).digest("base64url");
  return {
    ref,
    node_id: nodeId,
    url: `${API}/repos/${repo.fullName}/git/${ref}`,
    object: { type: "commit", sha, url: `${API}/repos/${repo.fullName}/git/commits/${sha}` },
  };
}

/** A ref as the URL names it (`heads/x`, `quorum-gate/claims/y`): its SHA, or 404. */
function shaOfRef(repo: RepoState, ref: string): { full: string; sha: string } {
  const full = `refs/${ref.replace(/^refs\//, "")}`;
  const branch = /^refs\/heads\/(.+)$/.exec(full)?.[1];
  const sha = branch === undefined ? repo.otherRefs.get(full) : repo.branches.get(branch);
  return sha === undefined ? fail(404, "Not Found") : { full, sha };
}

function gitCommitJson(state: FakeState, repo: RepoState, c: Commit): Record<string, unknown> {
  const person = { name: "quorum-gate fake", email: "fake@example.invalid", date: c.date };
  const html = (sha: string): string => `https://github.com/${repo.fullName}/commit/${sha}`;
  return {
    sha: c.sha,
    node_id: nodeId("Commit", c.sha),
    url: `${API}/repos/${repo.fullName}/git/commits/${c.sha}`,
    html_url: html(c.sha),
    message: c.message,
    author: person,
    committer: person,
    tree: { sha: treeSha(state, c.tree), url: `${API}/repos/${repo.fullName}/git/trees/${treeSha(state, c.tree)}` },
    parents: c.parents.map((sha) => ({
      sha,
      url: `${API}/repos/${repo.fullName}/git/commits/${sha}`,
      html_url: html(sha),
    })),
    // The fake signs nothing: GitHub's answer for an unsigned commit.
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
  };
}

function blobContent(body: Readonly<Record<string, unknown>>): Buffer {
  const content = bodyString(body, "content") ?? "";
  const encoding = bodyString(body, "encoding", false) ?? "utf-8";
  if (encoding === "utf-8" || encoding === "utf8") return Buffer.from(content, "utf8");
  if (encoding !== "base64") return fail(422, `Invalid request: encoding ${encoding} is not utf-8 or base64`);
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(content)) fail(422, "content is not valid Base64");
  return Buffer.from(content, "base64");
}

/** POST git/trees: `tree` entries onto `base_tree` (or onto nothing); `sha: null` deletes a path. */
function createTree(state: FakeState, body: Readonly<Record<string, unknown>>): Map<string, string> {
  const baseSha = bodyString(body, "base_tree", false);
  const base =
    baseSha === undefined
      ? new Map<string, string>()
      : (state.trees.get(baseSha) ?? fail(422, "Invalid request: base_tree is not a valid tree"));
  const given = body["tree"];
  if (!Array.isArray(given)) return fail(422, 'Invalid request: "tree" is not an array');
  const entries: readonly unknown[] = given;
  const next = new Map(base);
  for (const raw of entries) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      return fail(422, "Invalid request: a tree entry is not an object");
    const e = Object.fromEntries(Object.entries(raw));
    const path = bodyString(e, "path") ?? "";
    if (path === "" || path.split("/").some((s) => s === "" || s === "." || s === ".."))
      fail(422, `Invalid tree entry path ${JSON.stringify(path)}`);
    if (e["mode"] !== "100644" || e["type"] !== "blob")
      fail(422, "Invalid tree entry: the fake models files only (mode 100644, type blob)");
    if (e["sha"] === null) {
      next.delete(path);
    } else if (e["content"] !== undefined) {
      next.set(path, putBlob(state, bodyString(e, "content") ?? ""));
    } else {
      const sha = bodyString(e, "sha") ?? "";
      if (!state.blobs.has(sha)) fail(422, `Invalid tree info: ${sha} is not a blob`);
      next.set(path, sha);
    }
  }
  return next;
}

function updateRef(state: FakeState, repo: RepoState, branch: string, body: Readonly<Record<string, unknown>>): Reply {
  const sha = bodyString(body, "sha") ?? "";
  const force = body["force"] === true;
  const tip = repo.branches.get(branch) ?? fail(422, "Reference does not exist");
  if (!SHA.test(sha) || !state.commits.has(sha)) fail(422, "Object does not exist");
  if (repo.protectedBranches.has(branch))
    fail(409, "Repository rule violations found\n\nChanges must be made through a pull request.");
  if (!force && !isAncestor(state, tip, sha)) fail(422, "Update is not a fast forward");
  repo.branches.set(branch, sha);
  return { status: 200, body: refJson(repo, `refs/heads/${branch}`, sha) };
}

export const gitDataRoutes: readonly Route[] = [
  route("GET", "/repos/:owner/:repo/git/ref/*ref", "token", (ctx) => {
    const repo = repoOf(ctx);
    const { full, sha } = shaOfRef(repo, param(ctx, "ref"));
    return { status: 200, body: refJson(repo, full, sha) };
  }),
  // Creating a ref is atomic on GitHub: of two creators of one name, the second gets 422.
  route("POST", "/repos/:owner/:repo/git/refs", "token", (ctx) => {
    const repo = repoOf(ctx);
    requireWrite(ctx, repo);
    const body = bodyObject(ctx);
    const ref = bodyString(body, "ref") ?? "";
    const sha = bodyString(body, "sha") ?? "";
    if (!/^refs\/[^/]+\/.+$/.test(ref) || ref.includes("..") || /[\s~^:?*[\\]/.test(ref))
      fail(422, `${ref} is not a valid ref name.`);
    if (!ctx.state.commits.has(sha)) fail(422, "Object does not exist");
    const branch = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
    if (branch === undefined ? repo.otherRefs.has(ref) : repo.branches.has(branch))
      fail(422, "Reference already exists");
    if (branch === undefined) repo.otherRefs.set(ref, sha);
    else repo.branches.set(branch, sha);
    return { status: 201, body: refJson(repo, ref, sha) };
  }),
  route("DELETE", "/repos/:owner/:repo/git/refs/*ref", "token", (ctx) => {
    const repo = repoOf(ctx);
    requireWrite(ctx, repo);
    const full = `refs/${param(ctx, "ref").replace(/^refs\//, "")}`;
    const branch = /^refs\/heads\/(.+)$/.exec(full)?.[1];
    const gone = branch === undefined ? repo.otherRefs.delete(full) : repo.branches.delete(branch);
    if (!gone) fail(422, "Reference does not exist");
    return { status: 204 };
  }),
  route("GET", "/repos/:owner/:repo/git/commits/:sha", "token", (ctx) => {
    const repo = repoOf(ctx);
    const sha = param(ctx, "sha");
    if (!SHA.test(sha) || !ctx.state.commits.has(sha)) fail(404, "Not Found");
    return { status: 200, body: gitCommitJson(ctx.state, repo, commitOf(ctx.state, sha)) };
  }),
  route("POST", "/repos/:owner/:repo/git/blobs", "token", (ctx) => {
    const repo = repoOf(ctx);
    requireWrite(ctx, repo);
    const sha = putBlob(ctx.state, blobContent(bodyObject(ctx)));
    return { status: 201, body: { sha, url: `${API}/repos/${repo.fullName}/git/blobs/${sha}` } };
  }),
  route("POST", "/repos/:owner/:repo/git/trees", "token", (ctx) => {
    const repo = repoOf(ctx);
    requireWrite(ctx, repo);
    const tree = createTree(ctx.state, bodyObject(ctx));
    const sha = treeSha(ctx.state, tree);
    const entries = [...tree.entries()].map(([path, blob]) => ({
      path,
      mode: "100644",
      type: "blob",
      sha: blob,
      size: ctx.state.blobs.get(blob)?.length ?? 0,
    }));
    return {
      status: 201,
      body: { sha, url: `${API}/repos/${repo.fullName}/git/trees/${sha}`, tree: entries, truncated: false },
    };
  }),
  route("POST", "/repos/:owner/:repo/git/commits", "token", (ctx) => {
    const repo = repoOf(ctx);
    requireWrite(ctx, repo);
    const body = bodyObject(ctx);
    const message = bodyString(body, "message") ?? "";
    const tree =
      ctx.state.trees.get(bodyString(body, "tree") ?? "") ?? fail(422, "Invalid request: tree is not a valid tree");
    const given = body["parents"] ?? [];
    const list: readonly unknown[] = Array.isArray(given)
      ? given
      : fail(422, 'Invalid request: "parents" is not an array');
    const parents = list.map((p) =>
      typeof p === "string" && ctx.state.commits.has(p)
        ? p
        : fail(422, "Invalid request: parents must be existing commit SHAs"),
    );
    const commit = makeCommit(ctx.state, parents, tree, message);
    return { status: 201, body: gitCommitJson(ctx.state, repo, commit) };
  }),
  route("PATCH", "/repos/:owner/:repo/git/refs/*ref", "token", (ctx) => {
    const repo = repoOf(ctx);
    requireWrite(ctx, repo);
    return updateRef(ctx.state, repo, branchOfRef(param(ctx, "ref")), bodyObject(ctx));
  }),
];
