// Files added or replaced on a branch with one commit (the evidence of an approved request),
// through the git data API: the branch's commit, a blob per binary file, a tree on top of the
// commit's tree (text files inline), a commit with that one parent, and a fast-forward of the
// branch. One commit means one `synchronize` event, however many files. The branch moves only if nobody pushed
// meanwhile (`force: false`): a concurrent push makes this a `conflict`, never a lost commit.
// A branch the app may not write (a fork, a protected branch) is an outcome for the caller, not
// an exception.
import type { OctokitLike } from "./octokit-like.ts";
import { parseGitCommitTree, parseGitRef, parseSha } from "./parse.ts";
import type { CommitResult, FileToCommit, RepoRef } from "./port.ts";
import { checkRepoPath } from "./read-file.ts";
import { describe, send } from "./send.ts";

const REFUSED = [403, 404, 409, 422] as const;

type Refusal = Extract<CommitResult, { ok: false }>["reason"];

function refusal(status: number): Refusal {
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  // 409: a protected branch, a ruleset or an empty repository said no. 422: the branch moved since
  // we read it (not a fast forward), or a protected branch refused the update. Both mean "not now,
  // not like this".
  return "conflict";
}

/**
 * The bytes as a string when they are UTF-8 text that survives JSON both ways exactly (no control
 * characters but tab, newline and carriage return), else null: those go through a base64 blob.
 */
function plainText(content: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(content);
  } catch {
    return null;
  }
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return null;
  return Buffer.from(text, "utf8").equals(Buffer.from(content)) ? text : null;
}

export async function commitFiles(octokit: OctokitLike, repo: RepoRef, branch: string, files: readonly FileToCommit[], message: string): Promise<CommitResult> {
  if (branch === "") throw new Error("[github] commitFiles needs a branch");
  if (files.length === 0) throw new Error("[github] commitFiles needs at least one file");
  const seen = new Set<string>();
  for (const f of files) {
    checkRepoPath(f.path);
    if (seen.has(f.path)) throw new Error(`[github] commitFiles: ${JSON.stringify(f.path)} is given twice`);
    seen.add(f.path);
  }
  const base = { owner: repo.owner, repo: repo.repo };
  /** One request; a refusal ends the commit with its reason, anything else unexpected throws. */
  const step = async <T>(route: string, params: Record<string, unknown>, parse: (data: unknown, where: string) => T): Promise<{ readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: Refusal }> => {
    const full = { ...base, ...params };
    const answer = await send(octokit, route, full, REFUSED);
    return answer.ok ? { ok: true, value: parse(answer.data, describe(route, full)) } : { ok: false, reason: refusal(answer.status) };
  };

  const parent = await step("GET /repos/{owner}/{repo}/git/ref/heads/{branch}", { branch }, parseGitRef);
  if (!parent.ok) return parent;
  const baseTree = await step("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", { commit_sha: parent.value }, parseGitCommitTree);
  if (!baseTree.ok) return baseTree;
  const entries: ({ path: string; mode: "100644"; type: "blob" } & ({ sha: string } | { content: string }))[] = [];
  // Text goes into the tree itself; other bytes need a blob first, one after the other, as GitHub
  // asks of writes (concurrent ones meet secondary rate limits). Every request here is a write that
  // Probot's throttling paces to one a second, so each blob saved is a second of the delivery.
  for (const f of files) {
    const text = plainText(f.content);
    if (text !== null) {
      entries.push({ path: f.path, mode: "100644", type: "blob", content: text });
      continue;
    }
    const blob = await step("POST /repos/{owner}/{repo}/git/blobs", { content: Buffer.from(f.content).toString("base64"), encoding: "base64" }, parseSha);
    if (!blob.ok) return blob;
    entries.push({ path: f.path, mode: "100644", type: "blob", sha: blob.value });
  }
  const tree = await step("POST /repos/{owner}/{repo}/git/trees", { base_tree: baseTree.value, tree: entries }, parseSha);
  if (!tree.ok) return tree;
  const commit = await step("POST /repos/{owner}/{repo}/git/commits", { message, tree: tree.value, parents: [parent.value] }, parseSha);
  if (!commit.ok) return commit;
  const refRoute = "PATCH /repos/{owner}/{repo}/git/refs/heads/{branch}";
  const moved = await step(refRoute, { branch, sha: commit.value, force: false }, parseGitRef);
  if (!moved.ok) return moved;
  if (moved.value !== commit.value) throw new Error(`[github] ${describe(refRoute, { ...base, branch })}: the branch points at ${moved.value}, not at the new commit ${commit.value}`);
  return { ok: true, sha: commit.value };
}
