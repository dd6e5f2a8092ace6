// The execution windows' records in a clone (docs/audit.md, "The execution window's record"): the
// refs under refs/quorum-gate/windows/, which `git clone` does not fetch (an auditor fetches
// them by name), each read as a record commit: its parents, the paths it changes against its
// first parent, and the files of its record folder. Records are few (one per window), so a
// `git` run per record is fine.
import { parseWindowRecordRef, WINDOW_RECORD_REF_PREFIX, windowRecordFolder } from "../gate/window-record.ts";
import { runGit, type GitRepo, type ObjectReader } from "./git.ts";
import type { WindowRecordInput } from "./verify-window.ts";

export interface WindowRef {
  readonly ref: string;
  readonly commit: string;
  /** The commit's parents: a record's one parent is the landing it belongs to. */
  readonly parents: readonly string[];
  /** From the ref's name; null for a name the gate never writes. */
  readonly pullRequest: number | null;
}

/** Every ref under refs/quorum-gate/windows/ that points at a commit. */
export async function listWindowRefs(repo: GitRepo): Promise<WindowRef[]> {
  const out = await runGit(repo, [
    "for-each-ref",
    "--format=%(objecttype)%00%(objectname)%00%(parent)%00%(refname)",
    WINDOW_RECORD_REF_PREFIX,
  ]);
  return out
    .toString("utf8")
    .split("\n")
    .flatMap((line) => {
      const [type, commit, parents, ref] = line.split("\0");
      if (type !== "commit" || commit === undefined || parents === undefined || ref === undefined) return [];
      const parentList = parents.split(" ").filter((p) => p !== "");
      return [{ ref, commit, parents: parentList, pullRequest: parseWindowRecordRef(ref)?.pullRequest ?? null }];
    });
}

/** One record commit as verify-window.ts takes it; the folder is the one its ref names for `requestPath`. */
export async function readWindowRecord(
  repo: GitRepo,
  reader: ObjectReader,
  ref: WindowRef,
  requestPath: string,
): Promise<WindowRecordInput> {
  const parents = ref.parents;
  const changedPaths =
    parents[0] === undefined
      ? ["(a root commit)"]
      : (await runGit(repo, ["diff-tree", "-r", "-z", "--no-renames", "--name-only", parents[0], ref.commit]))
          .toString("utf8")
          .split("\0")
          .filter((p) => p !== "");
  const files = new Map<string, Uint8Array>();
  const named = parseWindowRecordRef(ref.ref);
  if (named !== null) {
    const folder = windowRecordFolder(requestPath, named.openedAt);
    for (const path of changedPaths) {
      if (!path.startsWith(folder) || path.slice(folder.length).includes("/")) continue;
      const object = await reader.read(`${ref.commit}:${path}`);
      if (object !== null && object.type === "blob") files.set(path.slice(folder.length), object.content);
    }
  }
  return { ref: ref.ref, commit: ref.commit, parents, changedPaths, files };
}
