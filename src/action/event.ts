// What a workflow run should do, from the event that started it and the Action's mode: which pull
// request to judge (or, for a push, which commits to look up), or why to do nothing, or why to
// refuse. Pure: the event name and payload come in as values. The rules that keep untrusted pull
// requests away from the cluster live here (docs/action.md, "Which events are safe"):
//
// - `evaluate` runs on pull request, review and comment events, and never replays anything.
// - `apply` replays, so it never runs on a pull request event: those run with the proposer's
//   workflow files (and, from a fork, its code). It runs on a push to the default branch, where
//   only merged work arrives, and on a comment (`/quorum retry`) of an already merged pull request.
import type { Trigger } from "../usecases/deps.ts";
import { changesVerdict, GATE_EVENTS, inertDelivery, isGateEvent, isOwnEvent } from "../usecases/gate-events.ts";
import type { ActionMode } from "./inputs.ts";

export type ActionPlan =
  | {
      readonly kind: "pull_request";
      readonly number: number;
      readonly trigger: Trigger;
      /** May the run replay a merged request? Only in `apply`. */
      readonly replay: boolean;
      /** `apply` on a comment: an open pull request is `evaluate`'s business, not ours. */
      readonly onlyIfMerged: boolean;
      /** The head branch lives in another repository (GitHub gives `pull_request` runs from forks no secrets). */
      readonly fromFork: boolean;
    }
  | { readonly kind: "push"; readonly shas: readonly string[] }
  | { readonly kind: "skip"; readonly message: string }
  | { readonly kind: "refuse"; readonly reason: RefusalReason; readonly message: string };

export const REFUSAL_REASONS = [
  "bad_event",
  "evaluate_wrong_event",
  "apply_wrong_event",
  "apply_not_default_branch",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const ZERO_SHA = /^0+$/;
/** Discussion: the run would read the pull request only to find nothing to count. */
const NO_COMMAND = "the comment or review holds no /quorum command, before or after the change";
const SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** The login GitHub gives comments made with the workflow's token. */
export const ACTIONS_BOT_LOGIN = "github-actions[bot]";

export function planRun(mode: ActionMode, eventName: string, payload: unknown): ActionPlan {
  const p = asRecord(payload);
  if (p === null) return refuse("bad_event", "the event payload is not a JSON object");
  return mode === "evaluate" ? planEvaluate(eventName, p) : planApply(eventName, p);
}

function planEvaluate(eventName: string, p: Rec): ActionPlan {
  // pull_request_target is pull_request run in the base repository's context: the same actions.
  const name = eventName === "pull_request_target" ? "pull_request" : eventName;
  if (!isGateEvent(name))
    return refuse(
      "evaluate_wrong_event",
      `mode evaluate runs on pull_request, pull_request_target, pull_request_review, pull_request_review_comment and issue_comment events, not on ${eventName || "(no event name)"}`,
    );
  // The Re-run button of a workflow's check re-runs the job with its own event, so a workflow
  // never needs check_run; only the App, whose check it is, listens to it.
  if (name === "check_run")
    return refuse(
      "evaluate_wrong_event",
      "mode evaluate does not run on check_run: re-run the workflow's job to evaluate again",
    );
  const action = str(p, "action");
  if (!changesVerdict(name, action)) return skip(`${eventName}.${action} does not change the verdict`);
  if (inertDelivery(name, p) !== null) return skip(NO_COMMAND);
  const onIssue = name === "issue_comment";
  if (onIssue && asRecord(asRecord(p["issue"])?.["pull_request"]) === null)
    return skip("a comment on an issue, not on a pull request");
  const trigger: Trigger = { kind: GATE_EVENTS[name].trigger, action };
  return ownEvent(p, trigger.kind) ?? pullRequest(p, onIssue ? "issue" : "pull_request", trigger, false);
}

function planApply(eventName: string, p: Rec): ActionPlan {
  switch (eventName) {
    case "push":
      return planPush(p);
    case "issue_comment": {
      const action = str(p, "action");
      // A retry is asked for in a new comment; an edit or a deletion asks for nothing new.
      if (action !== "created") return skip(`issue_comment.${action} asks for nothing`);
      if (inertDelivery("issue_comment", p) !== null) return skip(NO_COMMAND);
      if (asRecord(asRecord(p["issue"])?.["pull_request"]) === null)
        return skip("a comment on an issue, not on a pull request");
      return (
        ownEvent(p, GATE_EVENTS.issue_comment.trigger) ??
        pullRequest(p, "issue", { kind: GATE_EVENTS.issue_comment.trigger, action }, true)
      );
    }
    case "pull_request":
    case "pull_request_target":
    case "pull_request_review":
    case "pull_request_review_comment":
      return refuse(
        "apply_wrong_event",
        `mode apply never runs on ${eventName}: pull request events run with the proposer's workflow (and, from a fork, its code); run apply on push to the default branch`,
      );
    default:
      return refuse(
        "apply_wrong_event",
        `mode apply runs on push to the default branch (and issue_comment for /quorum retry), not on ${eventName || "(no event name)"}`,
      );
  }
}

function planPush(p: Rec): ActionPlan {
  const repository = asRecord(p["repository"]);
  const defaultBranch = repository === null ? "" : str(repository, "default_branch");
  const ref = str(p, "ref");
  if (defaultBranch === "" || ref === "")
    return refuse("bad_event", "the push payload has no ref or no repository.default_branch");
  if (ref !== `refs/heads/${defaultBranch}`)
    return refuse(
      "apply_not_default_branch",
      `mode apply replays only what reaches the default branch (${defaultBranch}); this push is to ${ref}`,
    );
  if (p["deleted"] === true) return skip("the push deleted the branch");
  const commits = Array.isArray(p["commits"]) ? p["commits"] : [];
  const shas = [...commits.map((c) => str(asRecord(c) ?? {}, "id")), str(p, "after")].filter(
    (s) => SHA.test(s) && !ZERO_SHA.test(s),
  );
  const distinct = [...new Set(shas)];
  if (distinct.length === 0) return skip("the push names no commit");
  return { kind: "push", shas: distinct };
}

/** The number of the pull request the event is about: `pull_request.number`, or `issue.number` for a comment. */
function pullRequest(p: Rec, holder: "pull_request" | "issue", trigger: Trigger, apply: boolean): ActionPlan {
  const pr = asRecord(p[holder]);
  const number = pr?.["number"];
  if (pr === null || typeof number !== "number" || !Number.isSafeInteger(number) || number <= 0) {
    return refuse("bad_event", `the event payload has no ${holder}.number`);
  }
  return {
    kind: "pull_request",
    number,
    trigger,
    replay: apply,
    onlyIfMerged: apply,
    fromFork: holder === "pull_request" && isFork(p, pr),
  };
}

function isFork(p: Rec, pr: Rec): boolean {
  const headRepo = asRecord(asRecord(pr["head"])?.["repo"]);
  const baseRepo = asRecord(p["repository"]);
  // A deleted fork shows as a null head repository; it is still not this repository.
  return headRepo === null || baseRepo === null || headRepo["id"] !== baseRepo["id"];
}

/** Comments and reviews made with the workflow's token come back as events; judging them would loop. */
function ownEvent(p: Rec, trigger: Trigger["kind"]): ActionPlan | null {
  const sender = asRecord(p["sender"]);
  return isOwnEvent(trigger, sender === null ? null : str(sender, "login"), ACTIONS_BOT_LOGIN)
    ? skip("an event caused by this workflow's own comment")
    : null;
}

type Rec = Readonly<Record<string, unknown>>;

function asRecord(v: unknown): Rec | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : null; // checked just before
}

function str(r: Rec, key: string): string {
  const v = r[key];
  return typeof v === "string" ? v : "";
}

function skip(message: string): ActionPlan {
  return { kind: "skip", message };
}

function refuse(reason: RefusalReason, message: string): ActionPlan {
  return { kind: "refuse", reason, message };
}
