// What the gate's use cases need from the world. The App and the Action build the same deps from
// their own context (Probot's octokit or the workflow token; a cluster file and the gate's
// officer credentials from their configuration), then call the same use cases.
import type { ClusterGateway } from "../cluster/gateway.ts";
import type { GitHubPort, RepoRef } from "../github/port.ts";
import type { ReplayNodeResult } from "../gate/render-replay.ts";
export type { ReplayNodeResult };

export interface GateDeps {
  readonly github: GitHubPort;
  readonly cluster: ClusterGateway;
  /** Unix seconds. */
  now(): number;
  /** The login the app comments as (`<slug>[bot]`), to find its own sticky comment. */
  readonly botLogin: string;
  /** The id of the app that writes the check runs (the Action: GitHub Actions'), to find its own; null: any app. */
  readonly appId: number | null;
  /**
   * Whether the gate's own push (the evidence commit) comes back as a `synchronize` event. The
   * App's does; one made with a workflow's token starts no workflow, so the Action reports on the
   * new head at once.
   */
  readonly ownPushesNotify: boolean;
  /** Operational messages; never secrets. */
  log(line: string): void;
  /** Waits, while another process holds a claim (src/usecases/claim.ts). Default: a timer. */
  sleep?(ms: number): Promise<void>;
  /** How the gate holds an execution window on a real cluster (src/usecases/run-window.ts). */
  readonly windowHold?: WindowHold;
}

/** docs/real-cluster.md, "The short clock: the execution window". */
export interface WindowHold {
  /** The longest a window stays open, in seconds; never beyond the HSM token's own life. */
  readonly maxSeconds?: number;
  /** How often the holder reads the pull request's comments; default 10 s. */
  readonly pollSeconds?: number;
  /**
   * The App: runs the rest of the window after the delivery is answered (GitHub waits 10 s for
   * an answer; a window lasts minutes). Absent (the Action): the window is awaited.
   */
  readonly detach?: (work: () => Promise<GateOutcome>) => void;
}

/** What woke the gate up. Replays happen only on a merge or an officer's `/quorum retry`. */
export type Trigger =
  | { readonly kind: "pull_request"; readonly action: string }
  | { readonly kind: "comment"; readonly action: string }
  | { readonly kind: "review"; readonly action: string };

export interface PullRequestEvent {
  readonly repo: RepoRef;
  readonly number: number;
  readonly trigger: Trigger;
  /**
   * Whether this run may replay a merged request (the App: yes). The Action's `evaluate` mode
   * says no: it runs on pull request events, and only `apply`, on the default branch, replays.
   */
  readonly replay?: boolean;
}

/** What the gate did, as data with a stable code, for logs, outputs and tests. */
export type GateOutcome =
  | { readonly code: "unconfigured"; readonly message: string }
  | { readonly code: "not_a_request"; readonly message: string }
  | { readonly code: "invalid"; readonly message: string }
  | { readonly code: "cluster_unavailable"; readonly message: string }
  | ({
      readonly code: "evaluated";
      readonly state: "approved" | "pending" | "rejected";
      readonly approvals: number;
      readonly required: number;
      readonly evidence: "committed" | "present" | "check_run_only" | "none";
    } & EvaluationDetail)
  | { readonly code: "replayed"; readonly nodes: readonly ReplayNodeResult[] }
  | { readonly code: "not_replayed"; readonly message: string }
  /** A governance request (policy change or deletion) was merged: nothing is replayed; `approved` says whether the current quorum had approved it. */
  | {
      readonly code: "policy_merged";
      readonly approved: boolean;
      readonly approvals: number;
      readonly required: number;
      readonly message: string;
    }
  | { readonly code: "token_deleted"; readonly message: string }
  /** A real cluster: the window is open and held in the background until `deadline` (unix seconds). */
  | { readonly code: "window_open"; readonly deadline: number; readonly message: string }
  /** A real cluster: the window closed with fewer than M countersignatures, or its session ended. */
  | { readonly code: "window_lapsed"; readonly message: string }
  /** A real cluster: the approved command ran (or the cluster showed it done already). */
  | { readonly code: "executed"; readonly result: "applied" | "already_applied"; readonly message: string }
  | { readonly code: "ignored"; readonly message: string };

/**
 * What an evaluation found, beyond the counts: what the Action puts in its outputs and job summary.
 * Plain values only (logins, officer names, reason codes, digests); never a signature or a secret.
 */
export interface EvaluationDetail {
  /** Approvals still needed: `required` minus those counted, never negative. */
  readonly missing: number;
  /** SHA-256 of the request file (or of the proposed policy) the approvals are for. */
  readonly requestDigest: string;
  /** What will run, in one line, e.g. `createUser CU app7`. */
  readonly subject: string;
  readonly approvers: readonly { readonly officer: string; readonly login: string; readonly createdAt: string }[];
  readonly verdicts: readonly {
    readonly author: string;
    readonly officer?: string;
    readonly verdict: string;
    readonly reason: string;
    readonly message: string;
  }[];
  /** Why the request cannot be approved as it stands (no token, expired, ...), one sentence each. */
  readonly problems: readonly string[];
}
