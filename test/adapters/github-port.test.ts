// The GitHub port through a real @octokit/rest client against the fake GitHub API: every method,
// pagination past 100, the look-alike sticky comment, check runs, commits to a branch (GraphQL
// createCommitOnBranch) and a fork, and malformed answers.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Octokit } from "@octokit/rest";
import { ProbotOctokit } from "probot";
import { createGitHubPort, type OctokitGitHubPort, type OctokitLike } from "../../src/github/octokit-port.ts";
import { startFakeGitHub, type FakeGitHub, type FakeRepo, type FileChanges } from "../helpers/fake-github.ts";

// Passing the real clients where an OctokitLike is wanted must typecheck without a cast.
const probotFits: (o: ProbotOctokit) => OctokitLike = (o) => o;
const restFits: (o: Octokit) => OctokitLike = (o) => o;
void probotFits;
void restFits;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const MARKER = "<!-- quorum-gate:sticky -->";

let gh: FakeGitHub;
let port: OctokitGitHubPort;
let repoCount = 0;

before(async () => {
  gh = await startFakeGitHub();
  port = createGitHubPort(new Octokit({ baseUrl: gh.url, auth: gh.issueToken(), log: quiet }));
});
after(async () => {
  await gh.close();
});

function freshRepo(files?: FileChanges): { repo: FakeRepo; ref: { owner: string; repo: string } } {
  repoCount += 1;
  const repo = gh.createRepo(`acme/hsm-${repoCount}`, files === undefined ? {} : { files });
  return { repo, ref: { owner: repo.owner, repo: repo.name } };
}

const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString("utf8"));
const callsTo = (method: string, path: RegExp): number =>
  gh.calls.filter((c) => c.method === method && path.test(c.path)).length;
const field = (json: unknown, key: string): unknown =>
  typeof json === "object" && json !== null && key in json ? Object.fromEntries(Object.entries(json))[key] : undefined;

describe("getPullRequest", () => {
  test("an open pull request; the open PR's test-merge SHA is not reported as a merge commit", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({
      head: "req-1",
      author: "olivia",
      files: { "requests/1.yml": "op: createUser\n" },
    });
    const pr = await port.getPullRequest(ref, n);
    assert.deepEqual(pr, {
      number: n,
      state: "open",
      merged: false,
      mergeCommitSha: null,
      headSha: repo.branchSha("req-1"),
      headRef: "req-1",
      headRepoFullName: repo.fullName,
      baseSha: repo.branchSha("main"),
      baseRef: "main",
      author: "olivia",
      fork: false,
    });
    assert.match(String(repo.pullRequestPayload(n)["merge_commit_sha"]), /^[0-9a-f]{40}$/);
  });

  test("a merged pull request names its merge commit, which holds the request file", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req-1", files: { "requests/1.yml": "op: createUser\n" } });
    const mergeSha = repo.merge(n);
    const pr = await port.getPullRequest(ref, n);
    assert.equal(pr.merged, true);
    assert.equal(pr.state, "closed");
    assert.equal(pr.mergeCommitSha, mergeSha);
    assert.equal(repo.branchSha("main"), mergeSha);
    assert.equal(text(await port.readFile(ref, "requests/1.yml", mergeSha)), "op: createUser\n");
  });

  test("a pull request from a fork", async () => {
    const { repo, ref } = freshRepo();
    const { number } = repo.forkPullRequest({
      forkOwner: "mallory",
      head: "sneaky",
      files: { "requests/2.yml": "x\n" },
    });
    const pr = await port.getPullRequest(ref, number);
    assert.equal(pr.fork, true);
    assert.equal(pr.headRepoFullName, `mallory/${repo.name}`);
    assert.equal(pr.author, "mallory");
  });

  test("a missing pull request is an error naming the request", async () => {
    const { ref } = freshRepo();
    await assert.rejects(port.getPullRequest(ref, 99), {
      message: `[github] GET /repos/acme/${ref.repo}/pulls/99 failed: HTTP 404 (Not Found)`,
    });
  });
});

describe("listChangedFiles", () => {
  test("every file across pages, with renames and removals", async () => {
    const initial: Record<string, string> = {
      "quorum/policy.yml": "m: 2\n",
      "old/name.yml": "moved\n",
      "gone.txt": "bye\n",
      "keep.txt": "v1\n",
    };
    const { repo, ref } = freshRepo(initial);
    const changes: Record<string, string | null> = {
      "old/name.yml": null,
      "new/name.yml": "moved\n",
      "gone.txt": null,
      "keep.txt": "v2\n",
    };
    for (let i = 0; i < 150; i++) changes[`requests/r${String(i).padStart(3, "0")}.yml`] = `n: ${i}\n`;
    const n = repo.openPullRequest({ head: "many", files: changes });
    gh.clearCalls();
    const files = await port.listChangedFiles(ref, n);
    assert.equal(files.length, 153);
    assert.deepEqual(
      files.find((f) => f.path === "new/name.yml"),
      { path: "new/name.yml", status: "renamed", previousPath: "old/name.yml" },
    );
    assert.deepEqual(
      files.find((f) => f.path === "gone.txt"),
      { path: "gone.txt", status: "removed" },
    );
    assert.deepEqual(
      files.find((f) => f.path === "keep.txt"),
      { path: "keep.txt", status: "modified" },
    );
    assert.equal(callsTo("GET", /\/pulls\/\d+\/files$/), 2);
  });

  test("a pull request at GitHub's 3000-file listing cap is refused, not half-read", async () => {
    const { repo, ref } = freshRepo();
    const changes: Record<string, string> = {};
    for (let i = 0; i < 3001; i++) changes[`f/${i}.txt`] = `${i}\n`;
    const n = repo.openPullRequest({ head: "huge", files: changes });
    await assert.rejects(port.listChangedFiles(ref, n), /\[github\] pull request #1 changes 3000 files or more/);
  });
});

describe("readFile", () => {
  test("at a branch, at a SHA, and a file that is not there", async () => {
    const { repo, ref } = freshRepo({ "quorum/policy.yml": "m: 2\n" });
    const firstSha = repo.branchSha("main") ?? "";
    repo.commit("main", { "quorum/policy.yml": "m: 3\n" });
    assert.equal(text(await port.readFile(ref, "quorum/policy.yml", "main")), "m: 3\n");
    assert.equal(text(await port.readFile(ref, "quorum/policy.yml", firstSha)), "m: 2\n");
    assert.equal(await port.readFile(ref, "quorum/officers.yml", "main"), null);
  });

  test("bytes come back exactly, all 256 values", async () => {
    const bytes = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
    const { ref } = freshRepo({ "blob.bin": bytes });
    assert.deepEqual(await port.readFile(ref, "blob.bin", "main"), bytes);
  });

  test("a ref that does not exist is an error, not a missing file", async () => {
    const { ref } = freshRepo({ "quorum/policy.yml": "m: 2\n" });
    await assert.rejects(
      port.readFile(ref, "quorum/policy.yml", "no-such-branch"),
      /\[github\] .*contents\/quorum%2Fpolicy\.yml\?ref=no-such-branch: no commit found for ref "no-such-branch"/,
    );
  });

  test("a directory is an error", async () => {
    const { ref } = freshRepo({ "quorum/policy.yml": "m: 2\n" });
    await assert.rejects(port.readFile(ref, "quorum", "main"), /\[github\] .*: quorum is a directory, not a file/);
  });

  test("a file over 1 MB and under 1 MiB comes through the blob API", async () => {
    const big = Buffer.alloc(1_040_000, "a");
    const { ref } = freshRepo({ "big.txt": big });
    gh.clearCalls();
    assert.deepEqual(Buffer.from((await port.readFile(ref, "big.txt", "main")) ?? []), big);
    assert.equal(callsTo("GET", /\/git\/blobs\/[0-9a-f]{40}$/), 1);
  });

  test("a file over 1 MiB is refused with its size", async () => {
    const { ref } = freshRepo({ "huge.txt": Buffer.alloc(1024 * 1024 + 1, "a") });
    await assert.rejects(port.readFile(ref, "huge.txt", "main"), {
      message: "[github] huge.txt at main is 1048577 bytes; the gate reads files of at most 1048576 bytes",
    });
  });

  test("a path that escapes the repository is a bug, refused before any request", async () => {
    const { ref } = freshRepo();
    gh.clearCalls();
    await assert.rejects(port.readFile(ref, "../secrets", "main"), /is not a repository file path/);
    await assert.rejects(port.readFile(ref, "/etc/passwd", "main"), /is not a repository file path/);
    assert.equal(gh.calls.length, 0);
  });
});

describe("listCandidates", () => {
  test("issue comments, reviews and review comments, every page, oldest first", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const first = repo.addComment(n, "alice", "/quorum approve AAAA");
    const approved = repo.addReview(n, "bob", "/quorum approve BBBB", "APPROVED");
    const inline = repo.addReviewComment(n, "carol", "/quorum approve CCCC");
    const dismissed = repo.addReview(n, "dave", "/quorum approve DDDD", "APPROVED");
    repo.dismissReview(dismissed.id);
    repo.addReview(n, "erin", "draft", "PENDING");
    for (let i = 0; i < 120; i++) repo.addComment(n, `user${i}`, `comment ${i}`);
    repo.addComment(n, gh.app.botLogin, "status");
    repo.editComment(first.id, "/quorum approve AAAB");

    const list = await port.listCandidates(ref, n);
    assert.equal(list.length, 1 + 1 + 1 + 1 + 120 + 1, "all pages of all three lists, without the pending review");
    assert.deepEqual(
      list.slice(0, 4).map((c) => [c.id, c.kind, c.author, c.edited, c.dismissed]),
      [
        [`issue_comment:${first.id}`, "issue_comment", "alice", true, false],
        [`review:${approved.id}`, "review", "bob", false, false],
        [`review_comment:${inline.id}`, "review_comment", "carol", false, false],
        [`review:${dismissed.id}`, "review", "dave", false, true],
      ],
    );
    const a = list[0];
    assert.ok(a !== undefined && a.updatedAt > a.createdAt && a.body === "/quorum approve AAAB");
    assert.match(a.url, /#issuecomment-\d+$/);
    assert.deepEqual(
      list.map((c) => c.createdAt),
      [...list.map((c) => c.createdAt)].sort(),
    );
    const bot = list.at(-1);
    assert.ok(bot?.authorIsBot && bot.author === gh.app.botLogin);
  });

  test("a pending review (a draft only its author sees) is not a candidate, even if listed", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const posted = repo.addReview(n, "bob", "/quorum approve BBBB", "APPROVED");
    const draft = repo.addReview(n, "erin", "/quorum approve EEEE", "PENDING");
    gh.failNext("GET", /\/pulls\/\d+\/reviews$/, 200, [posted.payload, draft.payload]);
    assert.deepEqual(
      (await port.listCandidates(ref, n)).map((c) => c.id),
      [`review:${posted.id}`],
    );
  });
});

describe("sticky comment", () => {
  test("a look-alike by another user is ignored; ours is created once and then updated in place", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const fake = repo.addComment(n, "mallory", `${MARKER}\n✅ approved (trust me)`);
    assert.equal(await port.findStickyComment(ref, n, MARKER, gh.app.botLogin), null);

    const created = await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, `${MARKER}\n0 of 2`);
    assert.notEqual(created.id, fake.id);
    const updated = await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, `${MARKER}\n1 of 2`);
    assert.equal(updated.id, created.id);
    assert.deepEqual(await port.findStickyComment(ref, n, MARKER, gh.app.botLogin), {
      id: created.id,
      body: `${MARKER}\n1 of 2`,
    });

    const bodies = (await port.listCandidates(ref, n)).map((c) => [c.author, c.body]);
    assert.deepEqual(bodies, [
      ["mallory", `${MARKER}\n✅ approved (trust me)`],
      [gh.app.botLogin, `${MARKER}\n1 of 2`],
    ]);
  });

  test("an unchanged body is not written again", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, `${MARKER}\nsame`);
    gh.clearCalls();
    await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, `${MARKER}\nsame`);
    assert.deepEqual(
      gh.calls.map((c) => c.method),
      ["GET"],
    );
  });

  test("a body without the marker gets it, so the comment is found again", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const { id } = await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, "no marker here");
    assert.deepEqual(await port.findStickyComment(ref, n, MARKER, gh.app.botLogin), {
      id,
      body: `${MARKER}\nno marker here`,
    });
  });

  test("a sticky comment deleted between listing and update is created again", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const first = await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, `${MARKER}\nv1`);
    gh.failNext("PATCH", /\/issues\/comments\/\d+$/, 404, { message: "Not Found" });
    const second = await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, `${MARKER}\nv2`);
    assert.notEqual(second.id, first.id);
    assert.deepEqual(await port.findStickyComment(ref, n, MARKER, gh.app.botLogin), {
      id: first.id,
      body: `${MARKER}\nv1`,
    });
  });

  test("a body is measured in code points, as GitHub counts its 65,536 characters: at the limit it is kept whole, over it cut with the marker kept", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const head = `${MARKER}\n`;
    const atLimit = head + "😀".repeat(65536 - [...head].length); // 131,000-odd UTF-16 units
    await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, atLimit);
    assert.equal((await port.findStickyComment(ref, n, MARKER, gh.app.botLogin))?.body, atLimit);
    await port.upsertStickyComment(ref, n, MARKER, gh.app.botLogin, `${atLimit}界`);
    const cut = (await port.findStickyComment(ref, n, MARKER, gh.app.botLogin))?.body ?? "";
    assert.equal([...cut].length, 65536);
    assert.ok(cut.startsWith(MARKER) && cut.isWellFormed());
    assert.match(cut, /cut here/);
  });
});

describe("upsertCheckRun", () => {
  test("created, then updated in place (same id), while another app's run of the same name is left alone", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const head = repo.branchSha("req") ?? "";
    const other = createGitHubPort(
      new Octokit({ baseUrl: gh.url, auth: gh.issueToken({ user: "spoof[bot]", appId: 777 }), log: quiet }),
    );
    const spoof = await other.upsertCheckRun(ref, 777, {
      name: "quorum",
      headSha: head,
      status: "completed",
      conclusion: "success",
      title: "fake",
      summary: "fake",
    });

    const created = await port.upsertCheckRun(ref, gh.app.id, {
      name: "quorum",
      headSha: head,
      status: "in_progress",
      title: "0 of 2",
      summary: "waiting",
    });
    assert.notEqual(created.id, spoof.id);
    const done = await port.upsertCheckRun(ref, gh.app.id, {
      name: "quorum",
      headSha: head,
      status: "completed",
      conclusion: "success",
      title: "2 of 2",
      summary: "approved",
      text: "details",
    });
    assert.equal(done.id, created.id);

    const ours = repo.checkRuns(head).filter((c) => c["id"] === created.id);
    assert.deepEqual(
      ours.map((c) => [c["status"], c["conclusion"], c["output"]]),
      [
        [
          "completed",
          "success",
          {
            title: "2 of 2",
            summary: "approved",
            text: "details",
            annotations_count: 0,
            annotations_url: `https://api.github.com/repos/${repo.fullName}/check-runs/${created.id}/annotations`,
          },
        ],
      ],
    );
    assert.equal(repo.checkRuns(head).length, 2);
    void n;
  });

  test("sends no update when the run already shows exactly this report", async () => {
    const { repo, ref } = freshRepo();
    repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const head = repo.branchSha("req") ?? "";
    const report = {
      name: "quorum",
      headSha: head,
      status: "completed",
      conclusion: "success",
      title: "2 of 2",
      summary: "approved",
      text: "details",
    } as const;
    const first = await port.upsertCheckRun(ref, gh.app.id, report);
    gh.clearCalls();
    const again = await port.upsertCheckRun(ref, gh.app.id, report);
    assert.equal(again.id, first.id);
    assert.deepEqual(
      gh.calls.map((c) => c.method),
      ["GET"],
      "only the lookup, no PATCH",
    );
    await port.upsertCheckRun(ref, gh.app.id, { ...report, summary: "approved again" });
    assert.ok(
      gh.calls.some((c) => c.method === "PATCH"),
      "a real change is still written",
    );
  });

  test("asks GitHub for this app's runs only, and does not trust the answer to be filtered", async () => {
    const { repo, ref } = freshRepo();
    const head = repo.branchSha("main") ?? "";
    const other = createGitHubPort(
      new Octokit({ baseUrl: gh.url, auth: gh.issueToken({ user: "spoof[bot]", appId: 777 }), log: quiet }),
    );
    const spoof = await other.upsertCheckRun(ref, 777, {
      name: "quorum",
      headSha: head,
      status: "queued",
      title: "fake",
      summary: "fake",
    });
    // An answer that ignores the app_id filter and lists the other app's run.
    gh.failNext("GET", /\/check-runs$/, 200, { total_count: 1, check_runs: repo.checkRuns(head) });
    gh.clearCalls();
    const ours = await port.upsertCheckRun(ref, gh.app.id, {
      name: "quorum",
      headSha: head,
      status: "queued",
      title: "t",
      summary: "s",
    });
    assert.notEqual(ours.id, spoof.id);
    assert.deepEqual(
      gh.calls.map((c) => [c.method, c.path, c.query]),
      [
        [
          "GET",
          `/repos/${repo.fullName}/commits/${head}/check-runs`,
          { check_name: "quorum", app_id: String(gh.app.id), per_page: "100" },
        ],
        ["POST", `/repos/${repo.fullName}/check-runs`, {}],
      ],
    );
  });

  test("a conclusion without status completed is a bug, refused before any request", async () => {
    const { ref } = freshRepo();
    gh.clearCalls();
    await assert.rejects(
      port.upsertCheckRun(ref, gh.app.id, {
        name: "quorum",
        headSha: "0".repeat(40),
        status: "in_progress",
        conclusion: "success",
        title: "t",
        summary: "s",
      }),
      /a conclusion goes with status "completed" and only with it/,
    );
    assert.equal(gh.calls.length, 0);
  });

  test("a summary over GitHub's limit is cut, visibly, instead of failing", async () => {
    const { repo, ref } = freshRepo();
    const head = repo.branchSha("main") ?? "";
    await port.upsertCheckRun(ref, gh.app.id, {
      name: "quorum",
      headSha: head,
      status: "queued",
      title: "t",
      summary: "x".repeat(70_000),
    });
    const output = repo.checkRuns(head)[0]?.["output"];
    assert.ok(
      typeof output === "object" && output !== null && "summary" in output && typeof output.summary === "string",
    );
    assert.equal(
      Buffer.byteLength(output.summary),
      65535,
      "the note's ellipsis is three bytes: the limit counts bytes",
    );
    assert.match(output.summary, /cut here/);
  });

  test("non-ASCII output is measured in UTF-8 bytes, as GitHub measures it: at the limit it is kept whole, over it cut on a code point", async () => {
    const { repo, ref } = freshRepo();
    const head = repo.branchSha("main") ?? "";
    const stored = (): { summary: string; text: string } => {
      const o = repo.checkRuns(head)[0]?.["output"];
      assert.ok(
        typeof o === "object" &&
          o !== null &&
          "summary" in o &&
          "text" in o &&
          typeof o.summary === "string" &&
          typeof o.text === "string",
      );
      return { summary: o.summary, text: o.text };
    };
    const atLimit = "界".repeat(21845); // 65,535 bytes
    await port.upsertCheckRun(ref, gh.app.id, {
      name: "quorum",
      headSha: head,
      status: "queued",
      title: "t",
      summary: atLimit,
      text: `${"😀".repeat(16383)}界`,
    });
    assert.equal(stored().summary, atLimit);
    assert.equal(Buffer.byteLength(stored().text), 65535);
    // 16,384 emoji: 32,768 UTF-16 units (well under a length limit) but 65,536 bytes.
    await port.upsertCheckRun(ref, gh.app.id, {
      name: "quorum",
      headSha: head,
      status: "in_progress",
      title: "t",
      summary: `${atLimit}a`,
      text: "😀".repeat(16384),
    });
    const { summary, text } = stored();
    for (const v of [summary, text]) {
      assert.ok(Buffer.byteLength(v) <= 65535 && v.isWellFormed());
      assert.match(v, /cut here/);
    }
    assert.equal(field(repo.checkRuns(head)[0], "status"), "in_progress", "the update was accepted");
  });

  test("the port sends no annotations (GitHub takes at most 50 a request)", async () => {
    const { repo, ref } = freshRepo();
    const head = repo.branchSha("main") ?? "";
    gh.clearCalls();
    await port.upsertCheckRun(ref, gh.app.id, {
      name: "quorum",
      headSha: head,
      status: "queued",
      title: "t",
      summary: "s",
    });
    await port.upsertCheckRun(ref, gh.app.id, {
      name: "quorum",
      headSha: head,
      status: "completed",
      conclusion: "success",
      title: "t",
      summary: "s2",
    });
    const writes = gh.calls.filter((c) => c.method !== "GET");
    assert.equal(writes.length, 2);
    for (const c of writes) {
      const output = field(c.body, "output");
      assert.ok(typeof output === "object" && output !== null);
      assert.deepEqual(Object.keys(output).sort(), ["summary", "title"]);
    }
  });
});

describe("claims (refs/quorum-gate/claims/*)", () => {
  test("one creator wins; the claim is seen, let go, and let go again harmlessly", async () => {
    const { repo, ref } = freshRepo();
    const sha = repo.branchSha("main") ?? "";
    assert.equal(await port.claim(ref, "pr-7", sha), "claimed");
    assert.equal(await port.claim(ref, "pr-7", sha), "held", "GitHub's 422: the ref exists");
    assert.equal(await port.claimHeld(ref, "pr-7"), true);
    assert.equal(await port.claimHeld(ref, "pr-8"), false);
    await port.releaseClaim(ref, "pr-7");
    assert.equal(await port.claimHeld(ref, "pr-7"), false);
    await port.releaseClaim(ref, "pr-7");
    assert.equal(await port.claim(ref, "pr-7", sha), "claimed", "free again");
    assert.ok(
      gh.calls.some(
        (c) =>
          c.method === "POST" &&
          c.path.endsWith("/git/refs") &&
          (c.body as { ref?: string }).ref === "refs/quorum-gate/claims/pr-7",
      ),
    );
    assert.equal(repo.branchSha("quorum-gate/claims/pr-7"), undefined, "not a branch");
  });

  test("a name that is not a claim's, or a commit GitHub does not have, is an error", async () => {
    const { ref } = freshRepo();
    await assert.rejects(port.claim(ref, "../heads/main", "0".repeat(40)), /not a claim name/);
    await assert.rejects(port.claim(ref, "pr-9", "f".repeat(40)), /HTTP 422 \(Object does not exist\)/);
  });

  test("a token that may only read contents cannot claim: unavailable, and nothing is created", async () => {
    const { repo, ref } = freshRepo();
    const reader = createGitHubPort(
      new Octokit({
        baseUrl: gh.url,
        auth: gh.issueToken({ permissions: { contents: "read", checks: "write", pull_requests: "write" } }),
        log: quiet,
      }),
    );
    assert.equal(await reader.claim(ref, "pr-3", repo.branchSha("main") ?? ""), "unavailable");
    assert.equal(await port.claimHeld(ref, "pr-3"), false);
  });
});

describe("commitOnRef (an execution window's record)", () => {
  const files = [
    { path: "req/a.evidence/window-100/window.json", content: new TextEncoder().encode('{"a": "é"}\n') },
    { path: "req/a.evidence/window-100/token.json", content: new TextEncoder().encode("{}\n") },
  ];
  const REF = "refs/quorum-gate/windows/pr-4-100";

  test("one commit on the given parent, its tree plus the files, reachable only from the new ref; in 3 writes", async () => {
    const { repo, ref } = freshRepo({ "README.md": "hello\n" });
    const parent = repo.branchSha("main") ?? "";
    const writesBefore = gh.calls.filter((c) => c.method === "POST").length;
    const made = await port.commitOnRef(ref, REF, parent, files, "record\n\nbody");
    assert.ok(made.ok);
    assert.equal(gh.calls.filter((c) => c.method === "POST").length - writesBefore, 3, "tree, commit, ref");
    assert.equal(repo.otherRefs().get(REF), made.sha);
    assert.deepEqual(repo.commitInfo(made.sha).parents, [parent]);
    assert.equal(text(repo.readBytes(made.sha, "README.md")), "hello\n", "the parent's files are kept");
    assert.equal(text(repo.readBytes(made.sha, files[0]?.path ?? "")), '{"a": "é"}\n');
    assert.equal(repo.branchSha("main"), parent, "no branch moved");
  });

  test("a ref that exists is a conflict; a token that may only read is forbidden; a parent GitHub lacks is not_found", async () => {
    const { repo, ref } = freshRepo({ "README.md": "hello\n" });
    const parent = repo.branchSha("main") ?? "";
    assert.ok((await port.commitOnRef(ref, REF, parent, files, "one")).ok);
    assert.deepEqual(await port.commitOnRef(ref, REF, parent, files, "two"), { ok: false, reason: "conflict" });
    const reader = createGitHubPort(
      new Octokit({
        baseUrl: gh.url,
        auth: gh.issueToken({ permissions: { contents: "read", checks: "write", pull_requests: "write" } }),
        log: quiet,
      }),
    );
    const other = "refs/quorum-gate/windows/pr-4-200";
    assert.deepEqual(await reader.commitOnRef(ref, other, parent, files, "m"), { ok: false, reason: "forbidden" });
    assert.equal(repo.otherRefs().has(other), false);
    assert.deepEqual(await port.commitOnRef(ref, other, "f".repeat(40), files, "m"), {
      ok: false,
      reason: "not_found",
    });
  });

  test("a ref outside refs/quorum-gate, bytes that are not UTF-8, or no files: an error before any call", async () => {
    const { repo, ref } = freshRepo({ "README.md": "hello\n" });
    const parent = repo.branchSha("main") ?? "";
    const calls = gh.calls.length;
    await assert.rejects(port.commitOnRef(ref, "refs/heads/main", parent, files, "m"), /not a quorum-gate ref/);
    await assert.rejects(
      port.commitOnRef(ref, REF, parent, [{ path: "x.bin", content: new Uint8Array([0xff, 0xfe]) }], "m"),
      /"x\.bin" is not UTF-8 text/,
    );
    await assert.rejects(port.commitOnRef(ref, REF, parent, [], "m"), /at least one file/);
    assert.equal(gh.calls.length, calls);
  });
});

describe("commitFiles", () => {
  const bytes = (t: string): Uint8Array => new TextEncoder().encode(t);
  const one = [{ path: "x.txt", content: new Uint8Array([1]) }];

  test("adds files to a branch with one commit on its head (one GraphQL mutation), then replaces one with one more commit", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const head = repo.branchSha("req") ?? "";
    gh.clearCalls();
    const binary = new Uint8Array([0, 255, 1, 254, 10, 13]);
    const added = await port.commitFiles(
      ref,
      "req",
      [
        { path: "evidence/1.json", content: bytes('{"v":1}\n') },
        { path: "evidence/token.bin", content: binary },
      ],
      "Add evidence",
    );
    assert.ok(added.ok);
    assert.equal(repo.branchSha("req"), added.sha);
    assert.deepEqual(repo.commitInfo(added.sha), { parents: [head], message: "Add evidence" });
    assert.deepEqual(
      gh.calls.map((c) => `${c.method} ${c.path} ${c.status}`),
      [`GET /repos/${repo.fullName}/git/ref/heads/req 200`, "POST /graphql 200"],
      "a read of the head, then one write",
    );
    const sent = gh.calls[1]?.body as { query: string; variables: { input: Record<string, unknown> } };
    assert.match(
      sent.query,
      /^mutation \(\$input: CreateCommitOnBranchInput!\) \{ createCommitOnBranch\(input: \$input\) \{ commit \{ oid \} \} \}$/,
    );
    assert.deepEqual(sent.variables.input, {
      branch: { repositoryNameWithOwner: repo.fullName, branchName: "req" },
      message: { headline: "Add evidence" },
      expectedHeadOid: head,
      fileChanges: {
        additions: [
          { path: "evidence/1.json", contents: Buffer.from('{"v":1}\n').toString("base64") },
          { path: "evidence/token.bin", contents: Buffer.from(binary).toString("base64") },
        ],
      },
    });
    assert.equal(text(await port.readFile(ref, "evidence/1.json", "req")), '{"v":1}\n');
    assert.deepEqual(await port.readFile(ref, "evidence/token.bin", "req"), binary);
    assert.equal(text(await port.readFile(ref, "requests/1.yml", "req")), "x\n", "the head's own files stay");
    assert.equal((await port.getPullRequest(ref, n)).headSha, added.sha);

    const replaced = await port.commitFiles(
      ref,
      "req",
      [{ path: "evidence/1.json", content: bytes('{"v":2}\n') }],
      "Update evidence\n\nWhy it changed.\n",
    );
    assert.ok(replaced.ok);
    assert.deepEqual(repo.commitInfo(replaced.sha), {
      parents: [added.sha],
      message: "Update evidence\n\nWhy it changed.\n",
    });
    assert.equal(text(await port.readFile(ref, "evidence/1.json", "req")), '{"v":2}\n');
    assert.deepEqual(await port.readFile(ref, "evidence/token.bin", "req"), binary);
    assert.deepEqual(
      (await port.listChangedFiles(ref, n)).map((f) => f.path),
      ["evidence/1.json", "evidence/token.bin", "requests/1.yml"],
    );
  });

  test("every byte value survives, whatever the file", async () => {
    const { repo, ref } = freshRepo();
    const all = new Uint8Array(256).map((_, i) => i);
    const r = await port.commitFiles(
      ref,
      "main",
      [
        { path: "e/all.bin", content: all },
        { path: "e/crlf.txt", content: bytes("a\r\nb\u0007\n") },
      ],
      "m",
    );
    assert.ok(r.ok);
    assert.deepEqual(repo.readBytes("main", "e/all.bin"), Buffer.from(all));
    assert.equal(repo.readText("main", "e/crlf.txt"), "a\r\nb\u0007\n");
  });

  test("a branch name with a slash", async () => {
    const { repo, ref } = freshRepo();
    repo.commit("quorum/req-2", { "requests/2.yml": "x\n" });
    const r = await port.commitFiles(
      ref,
      "quorum/req-2",
      [{ path: "evidence/2.json", content: bytes("{}\n") }],
      "Add evidence",
    );
    assert.ok(r.ok);
    assert.equal(repo.branchSha("quorum/req-2"), r.sha);
    assert.equal(repo.readText("quorum/req-2", "evidence/2.json"), "{}\n");
  });

  test("a fork's branch refuses: forbidden (GraphQL FORBIDDEN), and nothing changes", async () => {
    const { repo } = freshRepo();
    const { fork } = repo.forkPullRequest({ forkOwner: "mallory", head: "sneaky", files: { "requests/2.yml": "x\n" } });
    const before = fork.branchSha("sneaky");
    gh.clearCalls();
    const result = await port.commitFiles(
      { owner: fork.owner, repo: fork.name },
      "sneaky",
      [{ path: "evidence/2.json", content: new Uint8Array([1]) }],
      "Add evidence",
    );
    assert.deepEqual(result, { ok: false, reason: "forbidden" });
    assert.deepEqual(
      gh.calls.map((c) => `${c.method} ${c.path} ${c.status}`),
      [`GET /repos/${fork.fullName}/git/ref/heads/sneaky 200`, "POST /graphql 200"],
    );
    assert.equal(fork.branchSha("sneaky"), before);
  });

  test("a protected branch is a conflict, a missing branch is not_found, and nothing moves", async () => {
    const { repo, ref } = freshRepo();
    const main = repo.branchSha("main");
    repo.protectBranch("main");
    assert.deepEqual(await port.commitFiles(ref, "main", one, "m"), { ok: false, reason: "conflict" });
    assert.equal(repo.branchSha("main"), main);
    assert.equal(repo.readText("main", "x.txt"), null);
    assert.deepEqual(await port.commitFiles(ref, "no-such-branch", one, "m"), { ok: false, reason: "not_found" });
  });

  test("with expectedHead, builds on the judged commit without reading the branch, and refuses a branch that moved since", async () => {
    const { repo, ref } = freshRepo();
    const judged = repo.commit("dev", { "y.txt": "1\n" });
    gh.clearCalls();
    const ok = await port.commitFiles(ref, "dev", one, "m", { expectedHead: judged });
    assert.ok(ok.ok);
    assert.deepEqual(repo.commitInfo(ok.sha).parents, [judged]);
    assert.deepEqual(
      gh.calls.map((c) => `${c.method} ${c.path}`),
      ["POST /graphql"],
      "one paced write, no read",
    );
    const moved = repo.commit("dev", { "y.txt": "2\n" }, { message: "pushed after the judgement" });
    assert.deepEqual(await port.commitFiles(ref, "dev", one, "m", { expectedHead: judged }), {
      ok: false,
      reason: "conflict",
    });
    assert.equal(repo.branchSha("dev"), moved, "the later push stays, with no evidence on top of it");
  });

  test("a push that lands while the commit is being made: conflict (STALE_DATA), and the push is kept", async () => {
    const { repo, ref } = freshRepo();
    repo.commit("dev", { "y.txt": "1\n" });
    const inner = new Octokit({ baseUrl: gh.url, auth: gh.issueToken(), log: quiet });
    let pushed = "";
    const racing: OctokitLike = {
      request: (route, params) => inner.request(route, params),
      paginate: (route, params) => inner.paginate(route, params),
      async graphql(query, variables) {
        pushed = repo.commit("dev", { "y.txt": "2\n" }, { message: "a concurrent push" });
        return inner.graphql(query, variables);
      },
    };
    const result = await createGitHubPort(racing).commitFiles(
      ref,
      "dev",
      [{ path: "evidence.json", content: bytes("{}\n") }],
      "m",
    );
    assert.deepEqual(result, { ok: false, reason: "conflict" });
    assert.equal(repo.branchSha("dev"), pushed);
    assert.equal(repo.readText("dev", "y.txt"), "2\n");
    assert.equal(repo.readText("dev", "evidence.json"), null);
  });

  test("refusals, as HTTP statuses or GraphQL error types, are outcomes; anything else is an error naming the mutation", async () => {
    const { ref } = freshRepo();
    const refused = (type: string, message: string) => ({
      data: { createCommitOnBranch: null },
      errors: [{ type, path: ["createCommitOnBranch"], message }],
    });
    gh.failNext("POST", /^\/graphql$/, 403, { message: "Resource not accessible by integration" });
    assert.deepEqual(await port.commitFiles(ref, "main", one, "m"), { ok: false, reason: "forbidden" });
    gh.failNext(
      "POST",
      /^\/graphql$/,
      200,
      refused("NOT_FOUND", "Could not resolve to a Ref with the name 'refs/heads/main'."),
    );
    assert.deepEqual(await port.commitFiles(ref, "main", one, "m"), { ok: false, reason: "not_found" });
    gh.failNext(
      "POST",
      /^\/graphql$/,
      200,
      refused("BRANCH_PROTECTION_RULE_VIOLATION", "Changes must be made through a pull request."),
    );
    assert.deepEqual(await port.commitFiles(ref, "main", one, "m"), { ok: false, reason: "conflict" });
    gh.failNext("GET", /\/git\/ref\//, 409, { message: "Git Repository is empty." });
    assert.deepEqual(await port.commitFiles(ref, "main", one, "m"), { ok: false, reason: "conflict" });
    gh.failNext("POST", /^\/graphql$/, 502);
    await assert.rejects(port.commitFiles(ref, "main", one, "m"), {
      message: `[github] createCommitOnBranch acme/${ref.repo}:main failed: HTTP 502 (injected HTTP 502)`,
    });
    gh.failNext("POST", /^\/graphql$/, 200, refused("INTERNAL", "Something went wrong while executing your query."));
    await assert.rejects(port.commitFiles(ref, "main", one, "m"), {
      message: `[github] createCommitOnBranch acme/${ref.repo}:main failed: INTERNAL: Something went wrong while executing your query.`,
    });
  });

  test("a malformed answer, a bad path, no files or no message are clear errors", async () => {
    const { ref } = freshRepo();
    gh.failNext("GET", /\/git\/ref\//, 200, { ref: "refs/heads/main", object: { type: "commit", sha: "nope" } });
    await assert.rejects(
      port.commitFiles(ref, "main", one, "m"),
      /git\/ref\/heads\/main: malformed response: object\.sha is not a commit SHA/,
    );
    gh.failNext("POST", /^\/graphql$/, 200, { data: { createCommitOnBranch: { commit: { oid: "nope" } } } });
    await assert.rejects(port.commitFiles(ref, "main", one, "m"), {
      message: `[github] createCommitOnBranch acme/${ref.repo}:main: malformed response: createCommitOnBranch.commit.oid is not a commit SHA`,
    });
    gh.failNext("POST", /^\/graphql$/, 200, { data: { createCommitOnBranch: null } });
    await assert.rejects(
      port.commitFiles(ref, "main", one, "m"),
      /malformed response: createCommitOnBranch is not an object/,
    );
    await assert.rejects(
      port.commitFiles(ref, "main", [{ path: "../x.txt", content: new Uint8Array([1]) }], "m"),
      /is not a repository file path/,
    );
    await assert.rejects(port.commitFiles(ref, "main", [], "m"), /at least one file/);
    await assert.rejects(port.commitFiles(ref, "main", one, "\nbody only"), /needs a commit message/);
  });
});

describe("malformed answers are clear errors", () => {
  test("a pull request with a field of the wrong type", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "a.txt": "x\n" } });
    const junk = { ...repo.pullRequestPayload(n), head: { ref: "req", sha: "not-a-sha", repo: null } };
    gh.failNext("GET", /\/pulls\/\d+$/, 200, junk);
    await assert.rejects(port.getPullRequest(ref, n), {
      message: `[github] GET /repos/acme/${ref.repo}/pulls/${n}: malformed response: head.sha is not a commit SHA`,
    });
  });

  test("an answer for another pull request", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "a.txt": "x\n" } });
    gh.failNext("GET", /\/pulls\/\d+$/, 200, { ...repo.pullRequestPayload(n), number: n + 1 });
    await assert.rejects(port.getPullRequest(ref, n), /malformed response: number is 2, asked for 1/);
  });

  test("a body that is not JSON", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "a.txt": "x\n" } });
    gh.failNext("GET", /\/pulls\/\d+$/, 200, "<html>oops</html>");
    await assert.rejects(
      port.getPullRequest(ref, n),
      /\[github\] GET .*pulls\/1: malformed response: the body is not an object/,
    );
  });

  test("a comment with a date that is not a date", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "a.txt": "x\n" } });
    const c = repo.addComment(n, "alice", "hi");
    gh.failNext("GET", /\/issues\/\d+\/comments$/, 200, [{ ...c.payload, created_at: "yesterday" }]);
    await assert.rejects(
      port.listCandidates(ref, n),
      /\[github\] GET .*issues\/1\/comments: malformed response: \[0\]\.created_at is not an ISO 8601 date/,
    );
  });

  test("a review with an unknown state is a candidate marked as such, not a stop of the listing", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "a.txt": "x\n" } });
    const r = repo.addReview(n, "bob", "ok", "APPROVED");
    const known = repo.addReview(n, "carol", "fine", "COMMENTED");
    gh.failNext("GET", /\/pulls\/\d+\/reviews$/, 200, [{ ...r.payload, state: "SUPER_APPROVED" }, known.payload]);
    const list = await port.listCandidates(ref, n);
    assert.deepEqual(
      list.map((c) => [c.id, c.unknownReviewState]),
      [
        [`review:${r.id}`, "SUPER_APPROVED"],
        [`review:${known.id}`, undefined],
      ],
    );
    gh.failNext("GET", /\/pulls\/\d+\/reviews$/, 200, [{ ...r.payload, state: 7 }]);
    await assert.rejects(port.listCandidates(ref, n), /\[0\]\.state is not a string/);
  });

  test("file content that is not base64, or not the announced size", async () => {
    const { ref } = freshRepo({ "a.txt": "hello\n" });
    const file = { type: "file", sha: "a".repeat(40), size: 6, encoding: "base64", content: "aGVsbG8K" };
    gh.failNext("GET", /\/contents\//, 200, { ...file, content: "!!not base64!!" });
    await assert.rejects(port.readFile(ref, "a.txt", "main"), /malformed response: content is not base64/);
    gh.failNext("GET", /\/contents\//, 200, { ...file, size: 7 });
    await assert.rejects(port.readFile(ref, "a.txt", "main"), /malformed response: content has 6 bytes, size says 7/);
  });

  test("a check-run list without ids", async () => {
    const { repo, ref } = freshRepo();
    gh.failNext("GET", /\/check-runs$/, 200, { total_count: 1, check_runs: [{ name: "quorum" }] });
    await assert.rejects(
      port.upsertCheckRun(ref, gh.app.id, {
        name: "quorum",
        headSha: repo.branchSha("main") ?? "",
        status: "queued",
        title: "t",
        summary: "s",
      }),
      /check-runs: malformed response: \[0\]\.id is not a non-negative integer/,
    );
  });

  test("a server error names the request and its status", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "a.txt": "x\n" } });
    gh.failNext("GET", /\/pulls\/\d+\/reviews$/, 500, { message: "boom" });
    await assert.rejects(port.listCandidates(ref, n), {
      message: `[github] GET /repos/acme/${ref.repo}/pulls/${n}/reviews failed: HTTP 500 (boom)`,
    });
  });
});

describe("other clients and URLs", () => {
  test("Probot's octokit, authenticated as the installation through the app JWT exchange, under /api/v3", async () => {
    const { repo, ref } = freshRepo();
    const n = repo.openPullRequest({ head: "req", files: { "a.txt": "x\n" } });
    const octokit = new ProbotOctokit({
      auth: { appId: gh.app.id, privateKey: gh.app.privateKeyPem, installationId: gh.app.installationId },
      baseUrl: `${gh.url}/api/v3`,
      retry: { enabled: false },
      throttle: { enabled: false },
      log: quiet,
    });
    gh.clearCalls();
    const sticky = await createGitHubPort(octokit).upsertStickyComment(
      ref,
      n,
      MARKER,
      gh.app.botLogin,
      `${MARKER}\nhello`,
    );
    assert.deepEqual(
      gh.calls.map((c) => `${c.method} ${c.path} ${c.auth} ${c.status}`),
      [
        `POST /app/installations/${gh.app.installationId}/access_tokens jwt 201`,
        `GET /repos/${repo.fullName}/issues/${n}/comments token 200`,
        `POST /repos/${repo.fullName}/issues/${n}/comments token 201`,
      ],
    );
    assert.deepEqual(await port.findStickyComment(ref, n, MARKER, gh.app.botLogin), {
      id: sticky.id,
      body: `${MARKER}\nhello`,
    });
  });

  test("Probot's octokit under /api/v3 sends the commit's mutation to GitHub Enterprise Server's /api/graphql", async () => {
    const { repo, ref } = freshRepo();
    const octokit = new ProbotOctokit({
      auth: { appId: gh.app.id, privateKey: gh.app.privateKeyPem, installationId: gh.app.installationId },
      baseUrl: `${gh.url}/api/v3`,
      retry: { enabled: false },
      throttle: { enabled: false },
      log: quiet,
    });
    gh.clearCalls();
    const r = await createGitHubPort(octokit).commitFiles(
      ref,
      "main",
      [{ path: "e.txt", content: new TextEncoder().encode("e\n") }],
      "m",
    );
    assert.ok(r.ok);
    assert.equal(repo.readText("main", "e.txt"), "e\n");
    // The fake answers /api/v3/graphql with 404, so this one went to /api/graphql.
    assert.deepEqual(
      gh.calls.map((c) => `${c.method} ${c.path} ${c.auth} ${c.status}`),
      [
        `POST /app/installations/${gh.app.installationId}/access_tokens jwt 201`,
        `GET /repos/${repo.fullName}/git/ref/heads/main token 200`,
        "POST /graphql token 200",
      ],
    );
  });
});
