// What the gate needs from GitHub, as narrow as the gate uses it. The App (Probot's octokit) and
// the Action (@actions/github's octokit) both provide it through `createGitHubPort`, so the two
// share every line of GitHub logic; tests use the same implementation against a fake API.

import type { ApprovalCandidate } from "../gate/candidate.ts";

export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

export interface PullRequestInfo {
  readonly number: number;
  readonly state: "open" | "closed";
  readonly merged: boolean;
  /** The merge commit once merged (what the gate replays from), else null. */
  readonly mergeCommitSha: string | null;
  readonly headSha: string;
  readonly headRef: string;
  /** `owner/repo` of the head branch; differs from the base repository for a fork; "" once the fork is deleted. */
  readonly headRepoFullName: string;
  readonly baseSha: string;
  readonly baseRef: string;
  readonly author: string;
  readonly fork: boolean;
}

export interface ChangedFile {
  readonly path: string;
  readonly status: "added" | "modified" | "removed" | "renamed" | "copied" | "changed" | "unchanged";
  /** For a rename: where the file came from (a rename out of the policy path changes policy). */
  readonly previousPath?: string;
}

/**
 * Issue comments, review bodies and review comments, normalised into the engine's one kind of
 * candidate (ids like `issue_comment:<id>`; `edited` and `dismissed` set where GitHub says so).
 */
export type { ApprovalCandidate };

export interface CheckRunReport {
  readonly name: string;
  readonly headSha: string;
  readonly status: "queued" | "in_progress" | "completed";
  readonly conclusion?: "success" | "failure" | "neutral" | "action_required" | "cancelled";
  readonly title: string;
  readonly summary: string;
  readonly text?: string;
}

/** One file of a commit: its path in the repository and its bytes. */
export interface FileToCommit {
  readonly path: string;
  readonly content: Uint8Array;
}

/** `sha`: the new commit, now the branch's head. */
export type CommitResult =
  | { readonly ok: true; readonly sha: string }
  | { readonly ok: false; readonly reason: "forbidden" | "conflict" | "not_found" };

/** Runs a creation under a claim, or says that another process held it (then: look again). */
export type CreateGuard = <T>(create: () => Promise<T>) => Promise<T | "retry">;

export interface GitHubPort {
  getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo>;
  /** The pull requests a commit merged (a push to the default branch: which requests to replay). */
  pullRequestsMergedBy(repo: RepoRef, sha: string): Promise<readonly number[]>;
  /** Every changed file (paginated). */
  listChangedFiles(repo: RepoRef, number: number): Promise<readonly ChangedFile[]>;
  /** A file's bytes at a ref, or null when it does not exist there. */
  readFile(repo: RepoRef, path: string, ref: string): Promise<Uint8Array | null>;
  /** Every issue comment, review and review comment of the pull request, oldest first. */
  listCandidates(repo: RepoRef, number: number): Promise<readonly ApprovalCandidate[]>;
  /**
   * The app's own sticky comment: authored by `botLogin` and carrying `marker`. A comment with
   * the marker by anyone else is a look-alike and is never returned.
   */
  findStickyComment(
    repo: RepoRef,
    number: number,
    marker: string,
    botLogin: string,
  ): Promise<{ readonly id: number; readonly body: string } | null>;
  /** Updates the sticky comment in place, or creates it the first time. */
  upsertStickyComment(
    repo: RepoRef,
    number: number,
    marker: string,
    botLogin: string,
    body: string,
  ): Promise<{ readonly id: number }>;
  /**
   * Updates this app's check run of that name on that commit, or creates it. `guardCreate`, when
   * given, wraps the creation: it runs `create` (which looks again first) under a claim, or
   * answers "retry" when another process held the claim, and then the run is looked up again.
   */
  upsertCheckRun(
    repo: RepoRef,
    appId: number | null,
    report: CheckRunReport,
    guardCreate?: CreateGuard,
  ): Promise<{ readonly id: number }>;
  /**
   * A claim (src/github/claim.ts): `claimed` when this call created
   * `refs/quorum-gate/claims/<name>` at `sha`, `held` when it already existed, `unavailable` when
   * the token may not create refs. GitHub creates a ref atomically, so one caller wins.
   */
  claim(repo: RepoRef, name: string, sha: string): Promise<"claimed" | "held" | "unavailable">;
  /** Whether the claim exists now. */
  claimHeld(repo: RepoRef, name: string): Promise<boolean>;
  /** Deletes the claim; one already gone is fine. */
  releaseClaim(repo: RepoRef, name: string): Promise<void>;
  /**
   * Adds or replaces files on a branch with one commit on top of its head. A fork or a protected
   * branch refuses; a push that lands meanwhile makes it a `conflict` (the branch is never forced).
   */
  commitFiles(
    repo: RepoRef,
    branch: string,
    files: readonly FileToCommit[],
    message: string,
    options?: { readonly expectedHead?: string },
  ): Promise<CommitResult>;
  /**
   * One commit on top of `parent` (its tree plus `files`, which must be UTF-8 text), reachable
   * only from the new ref `ref` under refs/quorum-gate/ (src/github/commit-on-ref.ts). A ref that
   * exists already is a `conflict`; no branch moves.
   */
  commitOnRef(
    repo: RepoRef,
    ref: string,
    parent: string,
    files: readonly FileToCommit[],
    message: string,
  ): Promise<CommitResult>;
}
