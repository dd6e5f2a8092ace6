// Which pull request a workflow run judges, or why it does nothing, or why it refuses: from real
// payloads of @octokit/webhooks-examples (adapted by field). The safety rules are here: apply never
// runs on a pull request event, nor on a push to another branch; evaluate never replays.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { planRun, type ActionPlan } from "../../src/action/event.ts";

type Payload = Record<string, unknown> & { action?: string };
const EXAMPLES = createRequire(import.meta.url)("@octokit/webhooks-examples") as {
  name: string;
  examples: Payload[];
}[];

function example(event: string, action?: string): Payload {
  const found = EXAMPLES.find((e) => e.name === event)?.examples.find(
    (p) => action === undefined || p.action === action,
  );
  assert.ok(found !== undefined, `no ${event}.${action ?? ""} example`);
  return structuredClone(found);
}

/**
 * The example with a `/quorum` command in its comment or review body: the examples' bodies are
 * discussion, which the plan skips before it reads anything (see "skips discussion" below).
 */
function withCommand(p: Payload, body = "/quorum retry"): Payload {
  for (const holder of ["comment", "review"]) {
    const h = p[holder] as Record<string, unknown> | undefined;
    if (h !== undefined) p[holder] = { ...h, body };
  }
  return p;
}

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);

function pushTo(ref: string, fields: Record<string, unknown> = {}): Payload {
  const p = example("push");
  const repository = p["repository"] as Record<string, unknown>;
  return {
    ...p,
    ref,
    after: SHA_A,
    commits: [{ ...((p["commits"] as Record<string, unknown>[])[0] ?? {}), id: SHA_B }],
    deleted: false,
    repository: { ...repository, default_branch: "main" },
    ...fields,
  };
}

/** The example's pull request, moved into another repository (a fork) when asked. */
function pullRequestEvent(event: string, action: string, fork = false): Payload {
  const p = example(event === "pull_request_target" ? "pull_request" : event, action);
  if (!fork) return p;
  const pr = p["pull_request"] as { head: { repo: Record<string, unknown> } };
  pr.head.repo = { ...pr.head.repo, id: 999_999, full_name: "mallory/Hello-World" };
  return p;
}

const kind = (plan: ActionPlan): string => (plan.kind === "refuse" ? `refuse:${plan.reason}` : plan.kind);

describe("the Action's event plan", () => {
  it("evaluate judges the pull request of pull_request, pull_request_target, reviews and PR comments, and never replays", () => {
    for (const [event, action] of [
      ["pull_request", "opened"],
      ["pull_request", "synchronize"],
      ["pull_request_target", "reopened"],
      ["pull_request_review", "submitted"],
      ["issue_comment", "created"],
    ] as const) {
      const payload =
        event === "issue_comment"
          ? withCommand({
              ...example(event, action),
              issue: { ...(example(event, action)["issue"] as object), pull_request: { url: "x" } },
            })
          : withCommand(pullRequestEvent(event, action));
      const plan = planRun("evaluate", event, payload);
      assert.equal(plan.kind, "pull_request", `${event}.${action}`);
      if (plan.kind !== "pull_request") continue;
      assert.equal(plan.replay, false, `${event}: evaluate never replays`);
      assert.ok(plan.number > 0);
    }
  });

  it("evaluate: the trigger says what happened, for the engine's rules on edits and deletions", () => {
    const edited = planRun(
      "evaluate",
      "issue_comment",
      withCommand({ ...example("issue_comment", "edited"), issue: { number: 7, pull_request: { url: "x" } } }),
    );
    assert.deepEqual(edited.kind === "pull_request" ? [edited.number, edited.trigger] : edited, [
      7,
      { kind: "comment", action: "edited" },
    ]);
    const review = planRun("evaluate", "pull_request_review", withCommand(example("pull_request_review", "dismissed")));
    assert.deepEqual(review.kind === "pull_request" ? review.trigger : review, { kind: "review", action: "dismissed" });
  });

  it("evaluate skips what cannot change a verdict: labels, comments on issues, its own comments", () => {
    assert.equal(planRun("evaluate", "pull_request", example("pull_request", "labeled")).kind, "skip");
    const onIssue = example("issue_comment", "created");
    delete (onIssue["issue"] as Record<string, unknown>)["pull_request"];
    assert.equal(planRun("evaluate", "issue_comment", onIssue).kind, "skip");
    const own = withCommand({
      ...example("issue_comment", "created"),
      issue: { number: 3, pull_request: { url: "x" } },
      sender: { login: "github-actions[bot]", type: "Bot" },
    });
    assert.equal(planRun("evaluate", "issue_comment", own).kind, "skip");
  });

  it("skips discussion: a comment or review whose body holds no /quorum command, before or after the change", () => {
    const onPr = (p: Payload): Payload => ({ ...p, issue: { number: 4, pull_request: { url: "x" } } });
    const cases: [string, Payload, string][] = [
      ["issue_comment", onPr(example("issue_comment", "created")), "skip"],
      ["issue_comment", onPr(withCommand(example("issue_comment", "created"), "Looks right to me.")), "skip"],
      // Inside a fence or a quote, a command is not one: the engine ignores it, so may the plan.
      ["issue_comment", onPr(withCommand(example("issue_comment", "created"), "> /quorum approve AAAA")), "skip"],
      ["issue_comment", onPr(withCommand(example("issue_comment", "created"), "```\n/quorum withdraw\n```")), "skip"],
      ["issue_comment", onPr(withCommand(example("issue_comment", "created"), "/quorum withdraw")), "pull_request"],
      // Not a valid command, but one the sticky comment reports on: it must be read.
      [
        "issue_comment",
        onPr(withCommand(example("issue_comment", "created"), "/quorum approve nonsense")),
        "pull_request",
      ],
      ["issue_comment", onPr(withCommand(example("issue_comment", "deleted"), "/quorum withdraw")), "pull_request"],
      ["issue_comment", onPr(example("issue_comment", "deleted")), "skip"],
      // An edit that removes a command changes the outcome; one that never had one does not.
      [
        "issue_comment",
        onPr({ ...example("issue_comment", "edited"), changes: { body: { from: "/quorum withdraw" } } }),
        "pull_request",
      ],
      ["issue_comment", onPr({ ...example("issue_comment", "edited"), changes: { body: { from: "typo" } } }), "skip"],
      ["pull_request_review", withCommand(example("pull_request_review", "submitted"), "LGTM"), "skip"],
      ["pull_request_review", { ...example("pull_request_review", "submitted"), review: { body: null } }, "skip"],
      ["pull_request_review", withCommand(example("pull_request_review", "dismissed")), "pull_request"],
      ["pull_request_review_comment", example("pull_request_review_comment", "created"), "skip"],
      // What the plan cannot read is left to the full path, which reports it.
      ["issue_comment", onPr(withCommand(example("issue_comment", "created"), 42 as never)), "pull_request"],
      ["pull_request_review", { ...example("pull_request_review", "submitted"), review: "x" }, "pull_request"],
    ];
    for (const [event, payload, expected] of cases) {
      const plan = planRun("evaluate", event, payload);
      assert.equal(
        plan.kind,
        expected,
        `${event}.${String(payload.action)}: ${JSON.stringify(payload["comment"] ?? payload["review"]).slice(0, 80)}`,
      );
    }
  });

  it("evaluate refuses events that carry no pull request", () => {
    assert.equal(kind(planRun("evaluate", "push", pushTo("refs/heads/main"))), "refuse:evaluate_wrong_event");
    assert.equal(kind(planRun("evaluate", "workflow_dispatch", {})), "refuse:evaluate_wrong_event");
    // The App's Re-run event; a workflow's check is re-run with its job.
    assert.equal(
      kind(
        planRun("evaluate", "check_run", { action: "rerequested", check_run: { name: "quorum", pull_requests: [] } }),
      ),
      "refuse:evaluate_wrong_event",
    );
  });

  it("marks a pull request from a fork (GitHub gives such pull_request runs no secrets)", () => {
    const fork = planRun("evaluate", "pull_request", pullRequestEvent("pull_request", "opened", true));
    const same = planRun("evaluate", "pull_request", pullRequestEvent("pull_request", "opened"));
    assert.deepEqual(
      [fork.kind === "pull_request" && fork.fromFork, same.kind === "pull_request" && same.fromFork],
      [true, false],
    );
  });

  it("apply never runs on a pull request event, from a fork or not", () => {
    for (const event of ["pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"]) {
      for (const fork of [false, true]) {
        const payload =
          event === "pull_request_review"
            ? example(event, "submitted")
            : event === "pull_request_review_comment"
              ? { action: "created", pull_request: { number: 1 } }
              : pullRequestEvent(event, "closed", fork);
        assert.equal(
          kind(planRun("apply", event, payload)),
          "refuse:apply_wrong_event",
          `${event}${fork ? " (fork)" : ""}`,
        );
      }
    }
  });

  it("apply on push: only the default branch, every pushed commit once, nothing for a deleted branch", () => {
    const plan = planRun("apply", "push", pushTo("refs/heads/main"));
    assert.deepEqual(plan, { kind: "push", shas: [SHA_B, SHA_A] });
    assert.equal(kind(planRun("apply", "push", pushTo("refs/heads/feature"))), "refuse:apply_not_default_branch");
    assert.equal(kind(planRun("apply", "push", pushTo("refs/tags/v1"))), "refuse:apply_not_default_branch");
    assert.equal(
      planRun("apply", "push", pushTo("refs/heads/main", { deleted: true, after: "0".repeat(40), commits: [] })).kind,
      "skip",
    );
    assert.deepEqual(
      planRun("apply", "push", pushTo("refs/heads/main", { commits: [{ id: SHA_A }, { id: "not a sha" }] })),
      { kind: "push", shas: [SHA_A] },
    );
  });

  it("apply on a new PR comment is limited to merged pull requests (a /quorum retry); edits ask for nothing", () => {
    const created = planRun(
      "apply",
      "issue_comment",
      withCommand({ ...example("issue_comment", "created"), issue: { number: 5, pull_request: { url: "x" } } }),
    );
    assert.ok(created.kind === "pull_request" && created.replay && created.onlyIfMerged && created.number === 5);
    const discussion = planRun("apply", "issue_comment", {
      ...example("issue_comment", "created"),
      issue: { number: 5, pull_request: { url: "x" } },
    });
    assert.equal(discussion.kind, "skip", "a new comment without a command asks for no retry");
    assert.equal(
      planRun("apply", "issue_comment", {
        ...example("issue_comment", "edited"),
        issue: { number: 5, pull_request: { url: "x" } },
      }).kind,
      "skip",
    );
  });

  it("refuses payloads that are not what the runner writes", () => {
    assert.equal(kind(planRun("evaluate", "pull_request", null)), "refuse:bad_event");
    assert.equal(kind(planRun("evaluate", "pull_request", [])), "refuse:bad_event");
    assert.equal(
      kind(planRun("evaluate", "pull_request", { action: "opened", pull_request: { number: "1" } })),
      "refuse:bad_event",
    );
    assert.equal(
      kind(planRun("evaluate", "pull_request", { action: "opened", pull_request: { number: -1 } })),
      "refuse:bad_event",
    );
    assert.equal(kind(planRun("apply", "push", { ref: "refs/heads/main" })), "refuse:bad_event");
  });
});
