// A commit on top of a given commit, reachable only from a new ref outside refs/heads: how the
// gate keeps an execution window's record in git after the pull request has been merged and
// takes no more commits (docs/audit.md, "The execution window's record").
// Through the git data API, in three writes: a tree (the parent's, with the record's files added
// as text), a commit, and the ref. GitHub creates a ref atomically, so a second writer of the
// same name gets 422 and the result is a `conflict`, never a moved ref; no branch and no tag moves.
//
// The files are text (JSON): a tree entry can carry its content inline, which spares a blob
// write per file. Bytes that are not UTF-8 would not survive that and are refused up front.
import type { OctokitLike } from "./octokit-like.ts";
import { parseCreatedObject, parseGitCommitTree } from "./parse.ts";
import type { CommitResult, FileToCommit, RepoRef } from "./port.ts";
import { checkRepoPath } from "./read-file.ts";
import { describe, send } from "./send.ts";

const REF = /^refs\/quorum-gate\/[a-z]+\/[a-z0-9][a-z0-9-]{0,99}$/;
const SHA = /^[0-9a-f]{40}$/;

function refusal(status: number): Extract<CommitResult, { ok: false }>["reason"] {
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  return "conflict";
}

function text(f: FileToCommit): string {
  const s = new TextDecoder("utf-8", { fatal: false }).decode(f.content);
  if (!Buffer.from(s, "utf8").equals(Buffer.from(f.content)))
    throw new Error(`[github] commitOnRef: ${JSON.stringify(f.path)} is not UTF-8 text`);
  return s;
}

export async function commitOnRef(
  octokit: OctokitLike,
  repo: RepoRef,
  ref: string,
  parent: string,
  files: readonly FileToCommit[],
  message: string,
): Promise<CommitResult> {
  if (!REF.test(ref))
    throw new Error(`[github] commitOnRef: not a quorum-gate ref: ${JSON.stringify(ref.slice(0, 80))}`);
  if (!SHA.test(parent)) throw new Error("[github] commitOnRef needs the parent's commit id");
  if (files.length === 0) throw new Error("[github] commitOnRef needs at least one file");
  if (message.trim() === "") throw new Error("[github] commitOnRef needs a commit message");
  const seen = new Set<string>();
  const entries = files.map((f) => {
    checkRepoPath(f.path);
    if (seen.has(f.path)) throw new Error(`[github] commitOnRef: ${JSON.stringify(f.path)} is given twice`);
    seen.add(f.path);
    return { path: f.path, mode: "100644", type: "blob", content: text(f) };
  });
  const at = { owner: repo.owner, repo: repo.repo };

  const commitRoute = "GET /repos/{owner}/{repo}/git/commits/{commit_sha}";
  const got = await send(octokit, commitRoute, { ...at, commit_sha: parent }, [404]);
  if (!got.ok) return { ok: false, reason: "not_found" };
  const baseTree = parseGitCommitTree(got.data, describe(commitRoute, { ...at, commit_sha: parent }));

  const treeRoute = "POST /repos/{owner}/{repo}/git/trees";
  const tree = await send(octokit, treeRoute, { ...at, base_tree: baseTree, tree: entries }, [403, 404]);
  if (!tree.ok) return { ok: false, reason: refusal(tree.status) };
  const treeSha = parseCreatedObject(tree.data, describe(treeRoute, at));

  const newCommitRoute = "POST /repos/{owner}/{repo}/git/commits";
  const made = await send(octokit, newCommitRoute, { ...at, message, tree: treeSha, parents: [parent] }, [403, 404]);
  if (!made.ok) return { ok: false, reason: refusal(made.status) };
  const sha = parseCreatedObject(made.data, describe(newCommitRoute, at));

  const refRoute = "POST /repos/{owner}/{repo}/git/refs";
  const created = await send(octokit, refRoute, { ...at, ref, sha }, [403, 404, 422]);
  if (!created.ok) return { ok: false, reason: refusal(created.status) };
  return { ok: true, sha };
}
