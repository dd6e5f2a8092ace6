// Where evidence landed. The gate reads the policy from the base branch, so an operation is judged
// by the mainline it landed on: a commit C that added or changed files of an evidence folder
// relative to its first parent, found on first-parent history (a merge commit, or a squash or
// rebase commit). The policy that judged it is the one at C's first parent. A later mainline
// commit that changes any file of the folder lands it again, and is verified again: evidence
// edited after the fact does not hide behind its first landing.
//
// The token's expiry is judged at the time the evidence was made: the committer time of the
// commit that introduced that exact evidence.json (the gate's evidence commit on the pull
// request's branch for a merge; C itself for a squash). Both come from two `git log` runs over the
// whole history, so finding them costs the same for one operation as for ten thousand.
import { GOVERNANCE_EVIDENCE_ROOT } from "../gate/governance.ts";
import { EVIDENCE_FILE_NAME } from "../gate/evidence.ts";
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
}

export interface EvidenceCommit {
  readonly commit: string;
  /** Committer time, Unix seconds: when the evidence was made, as far as git records it. */
  readonly committedAt: number;
}

/** What the history walk looks at: every evidence folder, or one. */
export type Scope = { readonly kind: "all" } | { readonly kind: "folder"; readonly folder: string };

const GOVERNANCE_FOLDER = new RegExp(`^${escapeRegExp(GOVERNANCE_EVIDENCE_ROOT)}pr-[1-9][0-9]{0,9}/$`);

/** Whether `folder` (ending in `/`) is where the gate writes an operation's evidence. */
export function isEvidenceFolder(folder: string): boolean {
  if (folder.startsWith(GOVERNANCE_EVIDENCE_ROOT)) return GOVERNANCE_FOLDER.test(folder);
  return folder.endsWith(".evidence/") && folder.length > ".evidence/".length && !folder.endsWith("/.evidence/");
}

export function isGovernanceFolder(folder: string): boolean {
  return GOVERNANCE_FOLDER.test(folder);
}

/** Every file of the evidence folders in scope, or only their evidence.json. */
function pathspecs(scope: Scope, file: "*" | typeof EVIDENCE_FILE_NAME): string[] {
  if (scope.kind === "folder") return [file === "*" ? `:(literal)${scope.folder}` : `:(literal)${scope.folder}${file}`];
  return [`:(glob)**/*.evidence/${file}`, `:(glob)${GOVERNANCE_EVIDENCE_ROOT}pr-*/${file}`];
}

interface LoggedCommit {
  readonly commit: string;
  readonly parents: readonly string[];
  readonly committedAt: number;
  /** path → new blob, for added or modified files (deletions are left out). */
  readonly changes: readonly { readonly path: string; readonly blob: string }[];
}

/** Parses `git log -z --format=%x01%H %P %ct --raw --no-abbrev --no-renames`. */
function parseLog(out: Buffer): LoggedCommit[] {
  const commits: LoggedCommit[] = [];
  const tokens = out.toString("utf8").split("\0");
  let current: { commit: string; parents: string[]; committedAt: number; changes: { path: string; blob: string }[] } | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const token = (tokens[i] ?? "").replace(/^\n+/, "");
    if (token.startsWith("\x01")) {
      const [commit = "", ...rest] = token.slice(1).trim().split(" ");
      const time = Number(rest.pop());
      current = { commit, parents: rest.filter((p) => p !== ""), committedAt: time, changes: [] };
      commits.push(current);
    } else if (token.startsWith(":") && current !== null) {
      // :<old mode> <new mode> <old blob> <new blob> <status>, then the path as the next token.
      const fields = token.slice(1).split(" ");
      const blob = fields[3] ?? "";
      const status = fields[4] ?? "";
      const path = tokens[i + 1] ?? "";
      i += 1;
      if (status !== "D" && !/^0+$/.test(blob)) current.changes.push({ path, blob });
    }
  }
  return commits;
}

const LOG_FORMAT = ["-z", "--format=%x01%H %P %ct", "--raw", "--no-abbrev", "--no-renames"];

/** Evidence landings on the first-parent history of `rev`, newest first. */
export async function findLandings(repo: GitRepo, rev: string, scope: Scope): Promise<Landing[]> {
  const out = await runGit(repo, ["log", "--first-parent", "--diff-merges=first-parent", ...LOG_FORMAT, rev, "--", ...pathspecs(scope, "*")]);
  const landings: Landing[] = [];
  for (const c of parseLog(out)) {
    const folders = new Set<string>();
    for (const change of c.changes) {
      const folder = change.path.slice(0, change.path.lastIndexOf("/") + 1);
      if (isEvidenceFolder(folder) && (scope.kind === "all" || folder === scope.folder)) folders.add(folder);
    }
    for (const folder of [...folders].sort()) landings.push({ commit: c.commit, firstParent: c.parents[0] ?? null, isMerge: c.parents.length > 1, committedAt: c.committedAt, folder });
  }
  return landings;
}

/**
 * Which commit made each evidence.json: for every (path, blob), the earliest commit reachable from
 * `rev` (all of history, not only the mainline) that wrote that blob at that path.
 */
export async function evidenceCommits(repo: GitRepo, rev: string, scope: Scope): Promise<ReadonlyMap<string, EvidenceCommit>> {
  const out = await runGit(repo, ["log", "--full-history", ...LOG_FORMAT, rev, "--", ...pathspecs(scope, EVIDENCE_FILE_NAME)]);
  const made = new Map<string, EvidenceCommit>();
  for (const c of parseLog(out)) {
    for (const change of c.changes) {
      const key = introductionKey(change.path, change.blob);
      const known = made.get(key);
      if (known === undefined || c.committedAt < known.committedAt) made.set(key, { commit: c.commit, committedAt: c.committedAt });
    }
  }
  return made;
}

function introductionKey(path: string, blob: string): string {
  return `${path}\0${blob}`;
}

/**
 * The commit whose time judges the token of `landing`: the earliest commit that wrote the
 * evidence.json it lands (`evidenceBlob`, as the landing commit holds it). For a merge it is the gate's evidence commit on the merged branch; for a squash
 * commit it is C itself (the branch is not in the history any more), so the token is judged at
 * the squash; C as well when only a merge wrote it.
 */
export function evidenceCommitOf(landing: Landing, evidenceBlob: string, made: ReadonlyMap<string, EvidenceCommit>): EvidenceCommit {
  const own = { commit: landing.commit, committedAt: landing.committedAt };
  const first = made.get(introductionKey(`${landing.folder}${EVIDENCE_FILE_NAME}`, evidenceBlob));
  return first === undefined || first.committedAt > own.committedAt ? own : first;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
