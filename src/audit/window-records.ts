// The execution windows' records in a clone (docs/audit.md, "The execution window's record"): the
// refs under refs/quorum-gate/windows/, which `git clone` does not fetch (an auditor fetches
// them by name), each read as a record commit: its parents, the paths it changes against its
// first parent, and the files of its record folder; then given to the landing it belongs to and
// verified there. Records are few (one per window), so a `git` run per record is fine.
import { parseWindowRecordRef, WINDOW_RECORD_REF_PREFIX, windowRecordFolder } from "../gate/window-record.ts";
import { runGit, type GitRepo, type ObjectReader } from "./git.ts";
import type { ReplayColumn } from "./replay-status.ts";
import type { LandedVerification } from "./verify-landing.ts";
import { verifyWindowRecord, type WindowRecordInput } from "./verify-window.ts";

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

/**
 * The replay column of each landing that has window records, verified. A record belongs to the
 * payload-approval landing of its pull request that is its parent; over the whole history
 * (`audit`) one whose parent is no such landing goes to its pull request's newest landing, where
 * it fails as misplaced. `verify`, which sees only the landings it was asked about, shows only
 * the records on them.
 */
export async function recordedWindows(
  repo: GitRepo,
  reader: ObjectReader,
  verified: readonly LandedVerification[],
  refs: readonly WindowRef[],
  options: { readonly wholeHistory: boolean },
): Promise<Map<LandedVerification, ReplayColumn>> {
  const columns = new Map<LandedVerification, ReplayColumn>();
  for (const [v, mine] of recordOwners(verified, refs, options.wholeHistory)) {
    const column = await windowsOf(repo, reader, v, mine);
    if (column !== null) columns.set(v, column);
  }
  return columns;
}

function recordOwners(
  verified: readonly LandedVerification[],
  refs: readonly WindowRef[],
  fallback: boolean,
): Map<LandedVerification, WindowRef[]> {
  const owners = new Map<LandedVerification, WindowRef[]>();
  for (const ref of refs) {
    const candidates = verified.filter(
      (v) =>
        v.kind === "request" &&
        v.evidence !== null &&
        v.evidence.token === undefined &&
        v.evidence.pullRequest === ref.pullRequest,
    );
    const owner =
      candidates.find((v) => ref.parents[0] === v.landing.commit) ?? (fallback ? candidates.at(-1) : undefined);
    if (owner !== undefined) owners.set(owner, [...(owners.get(owner) ?? []), ref]);
  }
  return owners;
}

/**
 * The execution windows recorded for a request run on a real cluster (payload approvals), each
 * verified against the landing; null when the landing has none to show (then the column says why).
 */
async function windowsOf(
  repo: GitRepo,
  reader: ObjectReader,
  v: LandedVerification,
  refs: readonly WindowRef[],
): Promise<ReplayColumn | null> {
  const e = v.evidence;
  if (e === null || e.token !== undefined || v.kind !== "request") return null;
  if (refs.length === 0) return null;
  const payloadOf = v.judged?.payloadOf ?? null;
  if (v.judged === undefined || payloadOf === null)
    return {
      state: "unknown",
      reason: `${refs.length} execution window record${refs.length === 1 ? "" : "s"} not verified: the evidence they build on does not verify`,
    };
  const subject = { landingCommit: v.landing.commit, evidence: e, policy: v.judged.policy, payloadOf };
  const windows = [];
  for (const ref of refs)
    windows.push(verifyWindowRecord(await readWindowRecord(repo, reader, ref, e.request.path), subject));
  windows.sort((a, b) => (a.openedAt ?? "").localeCompare(b.openedAt ?? ""));
  return { state: "recorded", windows };
}
