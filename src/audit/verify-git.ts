// `quorum-gate verify` on a repository: find where the evidence landed (or take the commit the
// user names), read it from git objects and verify it. Refusals say which exit code they mean:
// 2 for what the user asked that does not exist, 1 for an operation that exists without evidence.
import { POLICY_PATH } from "../gate/policy.ts";
import { ObjectReader, resolveCommit, type GitRepo } from "./git.ts";
import { evidenceCommits, findLandings, isGovernanceFolder, type Landing } from "./history.ts";
import type { Target } from "./locate.ts";
import type { ReplayColumn } from "./replay-status.ts";
import { verifyLanding, type LandedVerification } from "./verify-landing.ts";
import { listWindowRefs, recordedWindows } from "./window-records.ts";

export interface GitVerifyRequest {
  /** What to verify; null with `commit`: everything that commit lands. */
  readonly target: Target | null;
  /** Whose first-parent history to search (default HEAD). */
  readonly rev: string;
  /** The landing commit, when the user names it. */
  readonly commit: string | null;
}

export type GitVerifyResult =
  | {
      readonly ok: true;
      readonly results: readonly LandedVerification[];
      /** The execution windows recorded on a landing (refs/quorum-gate/windows/), verified. */
      readonly windows: ReadonlyMap<LandedVerification, ReplayColumn>;
    }
  | { readonly ok: false; readonly exitCode: 1 | 2; readonly message: string };

export async function verifyFromGit(repo: GitRepo, request: GitVerifyRequest): Promise<GitVerifyResult> {
  const revName = request.commit ?? request.rev;
  const rev = await resolveCommit(repo, revName);
  if (rev === null) return { ok: false, exitCode: 2, message: `${revName} is not a commit in ${repo.dir}` };
  const target = request.target;
  const wanted = (l: Landing): boolean =>
    target === null ? true : target.kind === "governance" ? isGovernanceFolder(l.folder) : l.folder === target.folder;
  const [landed, made] = await Promise.all([findLandings(repo, rev), evidenceCommits(repo, rev)]);
  const all = landed.filter(wanted);
  const what =
    request.target === null
      ? "no evidence"
      : request.target.kind === "governance"
        ? `no governance evidence (${POLICY_PATH})`
        : `no evidence in ${request.target.folder}`;

  let landings: Landing[];
  const newest = all.at(-1);
  if (request.commit !== null) {
    landings = all.filter((l) => l.commit === rev);
    if (landings.length === 0) {
      const hint = newest === undefined ? "" : `; it landed in ${newest.commit.slice(0, 12)}`;
      return {
        ok: false,
        exitCode: 2,
        message: `commit ${request.commit} lands ${what} (it changes no such evidence file against its first parent)${hint}`,
      };
    }
  } else {
    if (newest === undefined) return notLanded(repo, request, rev, what);
    landings = [newest];
  }

  const reader = new ObjectReader(repo);
  try {
    const results = await Promise.all(landings.map((l) => verifyLanding(reader, l, made)));
    const windows = await recordedWindows(repo, reader, results, await listWindowRefs(repo), { wholeHistory: false });
    return { ok: true, results, windows };
  } finally {
    reader.close();
  }
}

/** No evidence ever landed: an operation whose request is there was not approved through the gate (1); otherwise there is nothing to verify (2). */
async function notLanded(
  repo: GitRepo,
  request: GitVerifyRequest,
  rev: string,
  what: string,
): Promise<GitVerifyResult> {
  const requestPath = request.target?.kind === "folder" ? request.target.requestPath : null;
  if (requestPath !== null) {
    const reader = new ObjectReader(repo);
    try {
      const there = await reader.read(`${rev}:${requestPath}`);
      if (there !== null)
        return {
          ok: false,
          exitCode: 1,
          message: `${requestPath} is in ${request.rev}, but ${what} ever landed on its first-parent history: the operation was not approved through the gate`,
        };
    } finally {
      reader.close();
    }
  }
  return { ok: false, exitCode: 2, message: `${what} on the first-parent history of ${request.rev}` };
}
