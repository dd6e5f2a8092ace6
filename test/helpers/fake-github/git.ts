// Git objects of the fake: blobs with git's own SHA-1, commits with parents, three-dot diffs
// (what a pull request shows) and a three-way merge (what the merge button does).
import { createHash } from "node:crypto";
import type { Commit, FakeState, RepoState } from "./model.ts";
import { tick } from "./model.ts";

/** Path → new content; null deletes the path. */
export type FileChanges = Readonly<Record<string, string | Uint8Array | null>>;

export interface FileDiff {
  readonly path: string;
  readonly status: "added" | "modified" | "removed" | "renamed";
  readonly previousPath?: string;
  readonly blobSha: string | null;
}

/** `git hash-object`: SHA-1 over "blob <size>\0<bytes>". */
export function putBlob(state: FakeState, content: string | Uint8Array): string {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
  const sha = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
  state.blobs.set(sha, bytes);
  return sha;
}

export function applyChanges(
  state: FakeState,
  tree: ReadonlyMap<string, string>,
  changes: FileChanges,
): Map<string, string> {
  const next = new Map(tree);
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) next.delete(path);
    else next.set(path, putBlob(state, content));
  }
  return next;
}

export function makeCommit(
  state: FakeState,
  parents: readonly string[],
  tree: ReadonlyMap<string, string>,
  message: string,
): Commit {
  const date = tick(state);
  const entries = [...tree.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sha = createHash("sha1")
    .update(JSON.stringify({ entries, parents, message, date, n: state.commits.size }))
    .digest("hex");
  const commit: Commit = { sha, parents, tree, message, date };
  state.commits.set(sha, commit);
  return commit;
}

/**
 * The SHA the git data API shows for a flat tree, registered so that a new tree can build on it
 * (`base_tree`). Not git's own tree hash (the fake has no tree objects), but as stable: the same
 * paths and blobs always give the same SHA.
 */
export function treeSha(state: FakeState, tree: ReadonlyMap<string, string>): string {
  const entries = [...tree.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sha = createHash("sha1")
    .update(`tree ${JSON.stringify(entries)}`)
    .digest("hex");
  if (!state.trees.has(sha)) state.trees.set(sha, new Map(entries));
  return sha;
}

/** Whether `ancestor` is `sha` or one of its ancestors (a fast forward from it to `sha`). */
export function isAncestor(state: FakeState, ancestor: string, sha: string): boolean {
  return ancestors(state, sha).includes(ancestor);
}

/** A branch name (or refs/heads/…) of this repository, or a full commit SHA. */
export function resolveRef(state: FakeState, repo: RepoState, ref: string): Commit | null {
  const branch = repo.branches.get(ref.replace(/^refs\/heads\//, ""));
  const sha = branch ?? (/^[0-9a-f]{40}$/.test(ref) ? ref : undefined);
  return sha === undefined ? null : (state.commits.get(sha) ?? null);
}

export function commitOf(state: FakeState, sha: string): Commit {
  const commit = state.commits.get(sha);
  if (commit === undefined) throw new Error(`[fake-github] no commit ${sha}`);
  return commit;
}

function ancestors(state: FakeState, sha: string): string[] {
  const seen: string[] = [];
  const queue = [sha];
  while (queue.length > 0) {
    const next = queue.shift();
    if (next === undefined || seen.includes(next)) continue;
    seen.push(next);
    queue.push(...commitOf(state, next).parents);
  }
  return seen;
}

/** The nearest common ancestor, as `git merge-base` finds it for these simple histories. */
export function mergeBase(state: FakeState, a: string, b: string): Commit | null {
  const ofB = new Set(ancestors(state, b));
  const hit = ancestors(state, a).find((sha) => ofB.has(sha));
  return hit === undefined ? null : commitOf(state, hit);
}

/** What changed from one tree to another; an exact-content move reads as a rename. */
export function diffTrees(from: ReadonlyMap<string, string>, to: ReadonlyMap<string, string>): FileDiff[] {
  const added: string[] = [];
  const removed: string[] = [];
  const out: FileDiff[] = [];
  for (const [path, sha] of to) {
    const before = from.get(path);
    if (before === undefined) added.push(path);
    else if (before !== sha) out.push({ path, status: "modified", blobSha: sha });
  }
  for (const path of from.keys()) if (!to.has(path)) removed.push(path);
  for (const path of added) {
    const sha = to.get(path) ?? null;
    const source = removed.findIndex((old) => from.get(old) === sha);
    const previousPath = source === -1 ? undefined : removed.splice(source, 1)[0];
    out.push(
      previousPath === undefined
        ? { path, status: "added", blobSha: sha }
        : { path, status: "renamed", previousPath, blobSha: sha },
    );
  }
  for (const path of removed) out.push({ path, status: "removed", blobSha: null });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** The files of a pull request: head against the merge base of base and head (a three-dot diff). */
export function pullDiff(state: FakeState, baseSha: string, headSha: string): FileDiff[] {
  const base = mergeBase(state, baseSha, headSha);
  return diffTrees(base?.tree ?? new Map(), commitOf(state, headSha).tree);
}

/** The head's changes since the merge base, applied onto the base tip; a clash is a test bug. */
export function mergeTrees(state: FakeState, baseSha: string, headSha: string): Map<string, string> {
  const base = mergeBase(state, baseSha, headSha);
  const ancestorTree = base?.tree ?? new Map<string, string>();
  const ours = commitOf(state, baseSha).tree;
  const theirs = commitOf(state, headSha).tree;
  const merged = new Map(ours);
  for (const change of diffTrees(ancestorTree, theirs)) {
    const paths = change.previousPath === undefined ? [change.path] : [change.previousPath, change.path];
    for (const path of paths) {
      if (ours.get(path) !== ancestorTree.get(path) && ours.get(path) !== theirs.get(path)) {
        throw new Error(`[fake-github] merge conflict on ${path}`);
      }
      const sha = theirs.get(path);
      if (sha === undefined) merged.delete(path);
      else merged.set(path, sha);
    }
  }
  return merged;
}
