// One GraphQL query for the pull request (src/github/pull-request-snapshot.ts) and the port that
// serves reads from it (src/github/snapshot-port.ts): how an answer is read, which parts are
// refused as incomplete, and when the port reads over REST again. The end-to-end budget
// (calls per delivery against the fake GitHub) is held in test/e2e/app.test.ts and measured by
// bench/app-deliveries.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OctokitLike } from "../../src/github/octokit-like.ts";
import { createGitHubPort } from "../../src/github/octokit-port.ts";
import { readPullRequestSnapshot, type SnapshotOptions } from "../../src/github/pull-request-snapshot.ts";
import { RateLimitedError } from "../../src/github/rate-limit.ts";
import { withPullRequestSnapshots } from "../../src/github/snapshot-port.ts";

const HEAD = "a".repeat(40);
const BASE = "b".repeat(40);
const OPTIONS: SnapshotOptions = { policyPath: ".github/quorum-gate.yml", checkName: "quorum", appId: 7 };
const REPO = { owner: "acme", repo: "hsm" };
const POLICY = "version: 1\nquorum: 2 # é\n";

const page = (nodes: unknown[], hasNextPage = false) => ({ pageInfo: { hasNextPage }, nodes });
const nodes = (list: unknown[]) => ({ nodes: list });
const user = (login: string) => ({ __typename: "User", login });
const comment = (id: number, login: string | null, body: string, at: string, updated = at) => ({
  databaseId: id,
  author:
    login === null ? null : login.endsWith("[bot]") ? { __typename: "Bot", login: login.slice(0, -5) } : user(login),
  body,
  createdAt: at,
  updatedAt: updated,
  url: `https://github.com/acme/hsm/pull/5#issuecomment-${id}`,
});

type Node = Record<string, unknown>;

function answer(edit: (pr: Node) => void = () => {}): unknown {
  const text = POLICY;
  const pr: Node = {
    number: 5,
    state: "OPEN",
    merged: false,
    mergeCommit: null,
    headRefOid: HEAD,
    headRefName: "request/alice",
    baseRefOid: BASE,
    baseRefName: "main",
    isCrossRepository: false,
    headRepository: { nameWithOwner: "acme/hsm" },
    author: user("alice"),
    baseRef: {
      target: {
        oid: BASE,
        file: { object: { byteSize: Buffer.byteLength(text), isBinary: false, isTruncated: false, text } },
      },
    },
    commits: nodes([
      {
        commit: {
          oid: HEAD,
          checkSuites: page([
            {
              app: { databaseId: 7 },
              checkRuns: page([
                {
                  databaseId: 91,
                  name: "quorum",
                  status: "COMPLETED",
                  conclusion: "FAILURE",
                  title: "t",
                  summary: "s",
                  text: null,
                },
              ]),
            },
          ]),
        },
      },
    ]),
    files: page([{ path: "requests/create-user.yaml", changeType: "ADDED" }]),
    comments: page([
      comment(12, "quorum-gate[bot]", "<!-- quorum-gate -->\nsticky", "2026-12-01T10:00:02Z"),
      comment(11, "bob", "/quorum approve x", "2026-12-01T10:00:01Z", "2026-12-01T10:05:00Z"),
    ]),
    reviews: page([
      {
        databaseId: 30,
        author: user("carol"),
        body: "ok",
        state: "APPROVED",
        submittedAt: "2026-12-01T10:00:03Z",
        url: "u30",
      },
      { databaseId: 31, author: user("dave"), body: "", state: "PENDING", submittedAt: null, url: "u31" },
      {
        databaseId: 32,
        author: user("erin"),
        body: "",
        state: "SOMETHING_NEW",
        submittedAt: "2026-12-01T10:00:04Z",
        url: "u32",
      },
    ]),
    reviewThreads: page([{ comments: page([comment(40, null, "line note", "2026-12-01T10:00:00Z")]) }]),
  };
  edit(pr);
  return { repository: { pullRequest: pr } };
}

/** An Octokit whose GraphQL answers `data` (or throws it) and whose REST calls are recorded. */
function scripted(graphql: () => unknown): { octokit: OctokitLike; calls: string[] } {
  const calls: string[] = [];
  const octokit: OctokitLike = {
    async request(route, params) {
      calls.push(route);
      if (route.startsWith("GET /repos/{owner}/{repo}/pulls/{pull_number}"))
        return {
          status: 200,
          data: {
            number: params?.["pull_number"],
            state: "open",
            merged: false,
            merge_commit_sha: null,
            head: { sha: HEAD, ref: "request/alice", repo: { id: 1, full_name: "acme/hsm" } },
            base: { sha: BASE, ref: "main", repo: { id: 1 } },
            user: { login: "alice", type: "User" },
          },
        };
      if (route.startsWith("POST") || route.startsWith("PATCH") || route.startsWith("DELETE"))
        return { status: 201, data: { id: 1, ref: "refs/x", object: { sha: HEAD } } };
      throw new Error(`unexpected ${route}`);
    },
    async paginate(route) {
      calls.push(route);
      return [];
    },
    async graphql() {
      calls.push("POST /graphql");
      return graphql();
    },
  };
  return { octokit, calls };
}

describe("readPullRequestSnapshot", () => {
  it("reads the pull request, its lists, the policy and the check run from one answer", async () => {
    const { octokit, calls } = scripted(() => answer());
    const s = await readPullRequestSnapshot(octokit, REPO, 5, OPTIONS);
    assert.deepEqual(calls, ["POST /graphql"]);
    assert.equal(s.pr.headSha, HEAD);
    assert.equal(s.pr.state, "open");
    assert.equal(s.pr.fork, false);
    assert.deepEqual(s.files, [{ path: "requests/create-user.yaml", status: "added" }]);
    assert.equal(Buffer.from(s.policy?.bytes ?? []).toString("utf8"), POLICY);
    assert.deepEqual(s.checkRuns?.runs[0], {
      id: 91,
      name: "quorum",
      appId: 7,
      status: "completed",
      conclusion: "failure",
      output: { title: "t", summary: "s", text: null },
    });
    const ids = s.candidates?.map((c) => c.id);
    // Oldest first across the three lists; the pending review is not there.
    assert.deepEqual(ids, ["review_comment:40", "issue_comment:11", "issue_comment:12", "review:30", "review:32"]);
    const byId = new Map(s.candidates?.map((c) => [c.id, c]));
    // GraphQL names a bot `<slug>`: the gate's `<slug>[bot]` is restored, so the sticky comment is found.
    assert.equal(byId.get("issue_comment:12")?.author, "quorum-gate[bot]");
    assert.equal(byId.get("issue_comment:12")?.authorIsBot, true);
    assert.equal(byId.get("issue_comment:11")?.edited, true);
    assert.equal(byId.get("review_comment:40")?.author, "ghost");
    assert.equal(byId.get("review:32")?.unknownReviewState, "SOMETHING_NEW");
  });

  it("leaves out what GraphQL cannot tell completely, so that REST reads it", async () => {
    const cases: [string, (pr: Node) => void, (s: Awaited<ReturnType<typeof readPullRequestSnapshot>>) => unknown][] = [
      [
        "a rename (no previous path)",
        (pr) => {
          pr["files"] = page([{ path: "x", changeType: "RENAMED" }]);
        },
        (s) => s.files,
      ],
      [
        "a second page of files",
        (pr) => {
          pr["files"] = page([], true);
        },
        (s) => s.files,
      ],
      [
        "a second page of comments",
        (pr) => {
          pr["comments"] = page([], true);
        },
        (s) => s.candidates,
      ],
      [
        "a second page in one thread",
        (pr) => {
          pr["reviewThreads"] = page([{ comments: page([], true) }]);
        },
        (s) => s.candidates,
      ],
      [
        "the base moved on",
        (pr) => {
          (pr["baseRef"] as Node)["target"] = { oid: "c".repeat(40), file: null };
        },
        (s) => s.policy,
      ],
      [
        "a binary policy",
        (pr) => {
          (pr["baseRef"] as Node)["target"] = {
            oid: BASE,
            file: { object: { byteSize: 3, isBinary: true, isTruncated: false, text: null } },
          };
        },
        (s) => s.policy,
      ],
      [
        "text that is not the bytes",
        (pr) => {
          (pr["baseRef"] as Node)["target"] = {
            oid: BASE,
            file: { object: { byteSize: 9, isBinary: false, isTruncated: false, text: "ab" } },
          };
        },
        (s) => s.policy,
      ],
      [
        "another head",
        (pr) => {
          pr["commits"] = nodes([{ commit: { oid: "d".repeat(40), checkSuites: page([]) } }]);
        },
        (s) => s.checkRuns,
      ],
      [
        "a second page of suites",
        (pr) => {
          pr["commits"] = nodes([{ commit: { oid: HEAD, checkSuites: page([], true) } }]);
        },
        (s) => s.checkRuns,
      ],
    ];
    for (const [what, edit, part] of cases) {
      const { octokit } = scripted(() => answer(edit));
      assert.equal(part(await readPullRequestSnapshot(octokit, REPO, 5, OPTIONS)), null, what);
    }
  });

  it("tells a missing policy from an unknown one, and a merged pull request by its merge commit", async () => {
    const { octokit } = scripted(() =>
      answer((pr) => {
        (pr["baseRef"] as Node)["target"] = { oid: BASE, file: null };
        Object.assign(pr, {
          state: "MERGED",
          merged: true,
          mergeCommit: { oid: "e".repeat(40) },
          headRepository: null,
        });
      }),
    );
    const s = await readPullRequestSnapshot(octokit, REPO, 5, OPTIONS);
    assert.deepEqual(s.policy, { path: OPTIONS.policyPath, bytes: null });
    assert.equal(s.pr.state, "closed");
    assert.equal(s.pr.mergeCommitSha, "e".repeat(40));
    assert.equal(s.pr.fork, true, "a deleted fork is still a fork");
  });

  it("refuses a malformed answer with the field's path", async () => {
    for (const [edit, pattern] of [
      [
        (pr: Node) => {
          pr["merged"] = true;
        },
        /state is OPEN but merged is true/,
      ],
      [
        (pr: Node) => {
          pr["headRefOid"] = "zz";
        },
        /headRefOid is not a commit SHA/,
      ],
      [
        (pr: Node) => {
          pr["number"] = 6;
        },
        /number is 6, asked for 5/,
      ],
      [
        (pr: Node) => {
          pr["files"] = { pageInfo: { hasNextPage: false }, nodes: null };
        },
        /files\.nodes is not a list/,
      ],
    ] as const) {
      const { octokit } = scripted(() => answer(edit));
      await assert.rejects(readPullRequestSnapshot(octokit, REPO, 5, OPTIONS), pattern);
    }
    const { octokit } = scripted(() => ({ repository: { pullRequest: null } }));
    await assert.rejects(readPullRequestSnapshot(octokit, REPO, 5, OPTIONS), /no such pull request/);
  });
});

describe("withPullRequestSnapshots", () => {
  const port = (octokit: OctokitLike) => withPullRequestSnapshots(octokit, createGitHubPort(octokit), OPTIONS);
  const report = {
    name: "quorum",
    headSha: HEAD,
    status: "completed",
    conclusion: "failure",
    title: "t",
    summary: "s",
  } as const;

  it("serves a delivery's reads from one query, and reads again over REST after its own writes", async () => {
    const { octokit, calls } = scripted(() => answer());
    const github = port(octokit);
    const pr = await github.getPullRequest(REPO, 5);
    assert.equal((await github.readFile(REPO, OPTIONS.policyPath, pr.baseSha))?.byteLength, Buffer.byteLength(POLICY));
    assert.equal((await github.listChangedFiles(REPO, 5)).length, 1);
    assert.equal((await github.listCandidates(REPO, 5)).length, 5);
    assert.equal((await github.findStickyComment(REPO, 5, "<!-- quorum-gate -->", "quorum-gate[bot]"))?.id, 12);
    // The same check run output: no write at all.
    assert.deepEqual(await github.upsertCheckRun(REPO, 7, report), { id: 91 });
    assert.deepEqual(calls, ["POST /graphql"]);

    await github.upsertStickyComment(REPO, 5, "<!-- quorum-gate -->", "quorum-gate[bot]", "new body");
    assert.deepEqual(calls.slice(1), ["PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"]);
    // The sticky comment is the gate's own write: comments are read again, the rest still holds.
    await github.listCandidates(REPO, 5);
    assert.equal(calls.length, 5, calls.join(", "));
    await github.listChangedFiles(REPO, 5);
    assert.equal(calls.length, 5);
    // A claim: everything is read again (the look again under it must ask GitHub).
    await github.claim(REPO, "pr-5", HEAD);
    calls.length = 0;
    await github.getPullRequest(REPO, 5);
    await github.listChangedFiles(REPO, 5);
    await github.readFile(REPO, OPTIONS.policyPath, BASE).catch(() => null);
    assert.deepEqual(calls, [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}",
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/files",
      "GET /repos/{owner}/{repo}/contents/{path}",
    ]);
  });

  it("uses the snapshot's check runs only for the same head, name and app", async () => {
    const { octokit, calls } = scripted(() => answer());
    const github = port(octokit);
    await github.getPullRequest(REPO, 5);
    await github.upsertCheckRun(REPO, null, report);
    assert.ok(calls.includes("GET /repos/{owner}/{repo}/commits/{ref}/check-runs"), "another app id: looked up");
  });

  it("reads over REST when GitHub refuses the query, and lets a rate limit through", async () => {
    const refused = scripted(() => {
      throw Object.assign(new Error("Field 'file' doesn't exist on type 'Commit'"), {
        errors: [{ message: "Field 'file' doesn't exist on type 'Commit'" }],
      });
    });
    const github = port(refused.octokit);
    assert.equal((await github.getPullRequest(REPO, 5)).headSha, HEAD);
    await github.listChangedFiles(REPO, 5);
    assert.deepEqual(refused.calls, [
      "POST /graphql",
      "GET /repos/{owner}/{repo}/pulls/{pull_number}",
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/files",
    ]);

    const limited = scripted(() => {
      throw new RateLimitedError({ kind: "secondary", waitSeconds: 3600 }, "POST /graphql");
    });
    await assert.rejects(port(limited.octokit).getPullRequest(REPO, 5), RateLimitedError);

    let broken = true;
    const flaky = scripted(() => {
      if (broken) throw new Error("socket hang up");
      return answer();
    });
    const again = port(flaky.octokit);
    // A read that meets the failed load meanwhile goes over REST; it does not inherit the failure.
    const [loaded, file] = await Promise.allSettled([
      again.getPullRequest(REPO, 5),
      again.readFile(REPO, OPTIONS.policyPath, BASE),
    ]);
    assert.match(String(loaded.status === "rejected" ? loaded.reason : ""), /socket hang up/);
    assert.match(
      String(file.status === "rejected" ? file.reason : ""),
      /unexpected GET \/repos\/\{owner\}\/\{repo\}\/contents/,
    );
    broken = false;
    assert.equal((await again.getPullRequest(REPO, 5)).headSha, HEAD, "a failed load is tried again");
  });
});
