// Where evidence landed. The gate reads the policy from the base branch, so an operation is judged
// by the mainline it landed on: a commit C that added or changed files of an evidence folder
// relative to its first parent, found on first-parent history (a merge commit, or a squash or
// rebase commit). The policy that judged it is the one at C's first parent. A later mainline
// commit that changes any file of the folder lands it again, and is verified again: evidence
// edited after the fact does not hide behind its first landing.
//
// The token's expiry is judged at the time the evidence was made: the committer time of the
// commit that introduced that exact evidence.json (the gate's evidence commit on the pull
// request's branch for a merge; C itself for a squash).
//
// Two `git log` runs, side by side, serve any number of operations; `verify` uses the same walk as
// `audit` and keeps the landings it was asked about. The first-parent log lists every change,
// oldest first once reversed, so replaying the changes to YAML files (requests, the policy) and
// evidence folders gives the blob of each at every landing commit and of the policy at its first
// parent. The whole-history log says which commit wrote each evidence.json. Blobs are then read
// by id, never by resolving a path through a tree: the gate keeps every request in one folder,
// whose tree grows with the history.
import { GOVERNANCE_EVIDENCE_ROOT } from "../gate/governance.ts";
import { EVIDENCE_FILE_NAME } from "../gate/evidence.ts";
import { POLICY_PATH } from "../gate/policy.ts";
import { runGit, type GitRepo } from "./git.ts";

export interface Landing {
  /** The mainline commit that brought the evidence in. */
  readonly commit: string;
  /** Its first parent: where the judging policy is read. Null for a root commit. */
  readonly firstParent: string | null;
  readonly isMerge: boolean;
  /** Committer time of `commit`, Unix seconds. */
  readonly committedAt: number;
  /** Repository-relative, ending in `/`: `hsm-requests/app7.evidence/` or `.github/quorum-gate.evidence/pr-12/`. */
  readonly folder: string;
  /** The folder's files at `commit`: name → blob id. */
  readonly files: ReadonlyMap<string, string>;
  /** Blob ids at `commit` of the files the evidence can be about (`<folder>.yml`, `.yaml`, the policy); absent ones are left out. */
  readonly subjects: ReadonlyMap<string, string>;
  /** The policy's blob at the first parent; null when there was none. */
  readonly policyBlob: string | null;
}

export interface EvidenceCommit {
  readonly commit: string;
  /** Committer time, Unix seconds: when the evidence was made, as far as git records it. */
  readonly committedAt: number;
}

const GOVERNANCE_FOLDER = new RegExp(`^${escapeRegExp(GOVERNANCE_EVIDENCE_ROOT)}pr-[1-9][0-9]{0,9}/$`);

/** Whether `folder` (ending in `/`) is where the gate writes an operation's evidence. */
export function isEvidenceFolder(folder: string): boolean {
  if (folder.startsWith(GOVERNANCE_EVIDENCE_ROOT)) return GOVERNANCE_FOLDER.test(folder);
  return folder.endsWith(".evidence/") && folder.length > ".evidence/".length && !folder.endsWith("/.evidence/");
}

export function isGovernanceFolder(folder: string): boolean {
  return GOVERNANCE_FOLDER.test(folder);
}

/** The files an evidence folder can be about: the request beside it, and the policy. */
function subjectPaths(folder: string): string[] {
  const base = folder.slice(0, -".evidence/".length);
  return isGovernanceFolder(folder) ? [POLICY_PATH] : [`${base}.yml`, `${base}.yaml`, POLICY_PATH];
}

/**
 * The paths the walk keeps: the evidence folders' files and every YAML file (requests, the
 * policy). Git is given no pathspec: with one, it matches every entry of every tree it compares,
 * and on a history of 10,000 operations in one request folder even a literal path took longer
 * than listing every change.
 */
function followed(path: string): boolean {
  return /\.ya?ml$/.test(path) || isEvidenceFolder(path.slice(0, path.lastIndexOf("/") + 1));
}

interface LoggedCommit {
  readonly commit: string;
  readonly parents: readonly string[];
  readonly committedAt: number;
  /** Each changed path with its new blob, or null when it is gone (deleted, or no longer a regular file). */
  readonly changes: readonly { readonly path: string; readonly blob: string | null }[];
}

const REGULAR_FILE = /^100(644|755)$/;

/** Parses `git log -z --format=%x01%H %P %ct --raw --no-abbrev --no-renames`, keeping the changes of paths `keep` accepts. */
function parseLog(out: Buffer, keep: (path: string) => boolean): LoggedCommit[] {
  const commits: LoggedCommit[] = [];
  const tokens = out.toString("utf8").split("\0");
  let current: {
    commit: string;
    parents: string[];
    committedAt: number;
    changes: { path: string; blob: string | null }[];
  } | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const token = (tokens[i] ?? "").replace(/^\n+/, "");
    if (token.startsWith("\x01")) {
      const [commit = "", ...rest] = token.slice(1).trim().split(" ");
      const time = Number(rest.pop());
      current = { commit, parents: rest.filter((p) => p !== ""), committedAt: time, changes: [] };
      commits.push(current);
    } else if (token.startsWith(":") && current !== null) {
      // :<old mode> <new mode> <old blob> <new blob> <status>, then the path as the next token.
      const [, newMode = "", , blob = "", status = ""] = token.slice(1).split(" ");
      const path = tokens[i + 1] ?? "";
      i += 1;
      if (keep(path)) current.changes.push({ path, blob: status === "D" || !REGULAR_FILE.test(newMode) ? null : blob });
    }
  }
  return commits;
}

const LOG_FORMAT = ["-z", "--format=%x01%H %P %ct", "--raw", "--no-abbrev", "--no-renames"];

/** Evidence landings on the first-parent history of `rev`, oldest first. */
export async function findLandings(repo: GitRepo, rev: string): Promise<Landing[]> {
  const out = await runGit(repo, ["log", "--first-parent", "--diff-merges=first-parent", "--root", ...LOG_FORMAT, rev]);
  const commits = parseLog(out, followed).reverse();
  // Every file the log follows, as the mainline holds it after each commit in turn.
  const files = new Map<string, string>();
  const folders = new Map<string, Map<string, string>>();
  const landings: Landing[] = [];
  for (const c of commits) {
    const policyBlob = files.get(POLICY_PATH) ?? null;
    const touched = new Set<string>();
    for (const { path, blob } of c.changes) {
      if (blob === null) files.delete(path);
      else files.set(path, blob);
      const slash = path.lastIndexOf("/");
      const folder = path.slice(0, slash + 1);
      if (!isEvidenceFolder(folder)) continue;
      let inFolder = folders.get(folder);
      if (inFolder === undefined) {
        inFolder = new Map();
        folders.set(folder, inFolder);
      }
      if (blob === null) inFolder.delete(path.slice(slash + 1));
      else inFolder.set(path.slice(slash + 1), blob);
      touched.add(folder);
    }
    for (const folder of [...touched].sort()) {
      const inFolder = folders.get(folder);
      // A commit that removes the whole folder lands nothing.
      if (inFolder === undefined || inFolder.size === 0) continue;
      const subjects = new Map<string, string>();
      for (const p of subjectPaths(folder)) {
        const blob = files.get(p);
        if (blob !== undefined) subjects.set(p, blob);
      }
      landings.push({
        commit: c.commit,
        firstParent: c.parents[0] ?? null,
        isMerge: c.parents.length > 1,
        committedAt: c.committedAt,
        folder,
        files: new Map(inFolder),
        subjects,
        policyBlob,
      });
    }
  }
  return landings;
}

/**
 * Which commit made each evidence.json: for every (path, blob), the earliest commit reachable from
 * `rev` (all of history, not only the mainline) that wrote that blob at that path.
 */
export async function evidenceCommits(repo: GitRepo, rev: string): Promise<ReadonlyMap<string, EvidenceCommit>> {
  const out = await runGit(repo, ["log", ...LOG_FORMAT, rev]);
  const made = new Map<string, EvidenceCommit>();
  const isEvidenceJson = (path: string): boolean =>
    path.endsWith(`/${EVIDENCE_FILE_NAME}`) && isEvidenceFolder(path.slice(0, -EVIDENCE_FILE_NAME.length));
  for (const c of parseLog(out, isEvidenceJson)) {
    for (const { path, blob } of c.changes) {
      if (blob === null) continue;
      const key = introductionKey(path, blob);
      const known = made.get(key);
      if (known === undefined || c.committedAt < known.committedAt)
        made.set(key, { commit: c.commit, committedAt: c.committedAt });
    }
  }
  return made;
}

function introductionKey(path: string, blob: string): string {
  return `${path}\0${blob}`;
}

/**
 * The commit whose time judges the token of `landing`: the earliest commit that wrote the
 * evidence.json it lands. For a merge it is the gate's evidence commit on the merged branch; for
 * a squash commit it is C itself (the branch is not in the history any more), so the token is
 * judged at the squash; C as well when only a merge wrote it, or when it has no evidence.json.
 */
export function evidenceCommitOf(landing: Landing, made: ReadonlyMap<string, EvidenceCommit>): EvidenceCommit {
  const own = { commit: landing.commit, committedAt: landing.committedAt };
  const blob = landing.files.get(EVIDENCE_FILE_NAME);
  const first =
    blob === undefined ? undefined : made.get(introductionKey(`${landing.folder}${EVIDENCE_FILE_NAME}`, blob));
  return first === undefined || first.committedAt > own.committedAt ? own : first;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
