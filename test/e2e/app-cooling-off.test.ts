// Cooling-off through the GitHub App as it runs in production (`probot run`, signed deliveries,
// fake GitHub API, real 3-node cluster, officers signing with the real openssl binary), on the
// real clock: a two-second delay keeps the check pending after M, a discussion comment does not
// wake the gate, and the Re-run button of the `quorum` check (check_run.rerequested) turns it
// green once the time has passed (docs/governance.md, "Cooling-off").
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { readStickyToken } from "../../src/gate/index.ts";
import { pick, startAppE2E, type AppE2E } from "../helpers/app-e2e.ts";

const OFFICERS = { alice: "officer1", bob: "officer2" } as const;
const DELAY_SECONDS = 2;

describe("the GitHub App, end to end: cooling-off and the quorum check's Re-run button", () => {
  let h: AppE2E;

  before(async () => {
    h = await startAppE2E({
      officers: OFFICERS,
      policyTail: ["operations:", "  createUser:", `    delay_seconds: ${DELAY_SECONDS}`],
      tmpPrefix: "qg-app-cool-e2e-",
      realClock: true,
    });
  });

  after(async () => {
    await h?.stop();
  });

  /** check_run.rerequested for the `quorum` check on `sha`, as GitHub sends it to the App that made it. */
  const rerequested = (sha: string, numbers: readonly number[], login: string): Record<string, unknown> => {
    const run = h.quorumCheck(sha);
    assert.ok(run !== undefined, "the quorum check exists");
    const repository = h.repo.repositoryPayload();
    return {
      action: "rerequested",
      check_run: {
        ...run,
        pull_requests: numbers.map((number) => ({
          number,
          head: { sha, ref: "req-cool1", repo: { id: repository["id"] } },
          base: { ref: "main", repo: { id: repository["id"] } },
        })),
      },
      ...h.common(login),
    };
  };

  it("M is met, the check waits out the delay, a chance comment changes nothing, a re-run lets it go", async () => {
    const { repo, quorum } = h;
    const number = repo.openPullRequest({
      head: "req-cool1",
      author: "alice",
      title: "Create CU cool1",
      files: {
        "hsm-requests/cool1.yml": [
          "version: 1",
          `cluster: ${quorum.clusterId}`,
          "operation:",
          "  kind: createUser",
          "  type: CU",
          "  name: cool1",
          `  sealed_password: ${quorum.seal("cool1-pass-1")}`,
          "reason: settlement service",
          "",
        ].join("\n"),
      },
    });
    await h.deliver("pull_request", h.pullRequestEvent(number, "opened", "alice"));
    const token = readStickyToken((await h.stickyComment(number))?.body ?? "");
    assert.ok(token !== null);
    for (const login of ["alice", "bob"] as const) {
      const c = repo.addComment(number, login, `/quorum approve ${h.sign(OFFICERS[login], token)}`);
      await h.deliver("issue_comment", h.commentEvent(number, c, login));
    }
    const head = repo.branchSha("req-cool1") ?? "";
    const waiting = h.quorumCheck(head);
    assert.equal(waiting?.["status"], "in_progress", "M is met, but the cooling-off holds the check");
    assert.match(String((waiting?.["output"] as Record<string, unknown>)?.["title"]), /^Cooling off: may go at /);
    assert.match((await h.stickyComment(number))?.body ?? "", /re-run the `quorum` check/);

    await sleep(DELAY_SECONDS * 1000 + 1100);
    const calls = h.gh.calls.length;
    const chat = repo.addComment(number, "carol", "Is this the settlement service from the ticket?");
    const talk = await h.deliver("issue_comment", h.commentEvent(number, chat, "carol"));
    assert.equal(talk.outcome?.["outcome"], "no_command");
    assert.equal(h.gh.calls.length, calls, "discussion costs no API call");
    assert.equal(h.quorumCheck(head)?.["status"], "in_progress", "and it does not move the check");

    const rerun = await h.deliver("check_run", rerequested(head, [number], "alice"));
    assert.deepEqual(pick(rerun.outcome, "outcome", "state", "approvals"), ["evaluated", "approved", 2]);
    // The evidence commit moved the head; its synchronize settles the new head's check.
    const newHead = repo.branchSha("req-cool1") ?? "";
    await h.deliver("pull_request", h.pullRequestEvent(number, "synchronize", h.gh.app.botLogin));
    assert.equal(h.quorumCheck(newHead)?.["conclusion"], "success");
  });

  it("a re-run that names no pull request of this repository does nothing", async () => {
    const head = h.repo.branchSha("req-cool1") ?? "";
    const calls = h.gh.calls.length;
    const payload = rerequested(head, [], "alice");
    const none = await h.deliver("check_run", payload);
    assert.equal(none.outcome?.["outcome"], "ignored");
    assert.equal(h.gh.calls.length, calls, "no API call");
  });
});
