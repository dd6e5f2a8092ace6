// The fake's /graphql holds documents and variables to GitHub's schema (@octokit/graphql-schema)
// before its own reading: a field GitHub's schema lacks or a variable of the wrong type gets
// GitHub's answer (HTTP 200, `errors`, no `data`) and nothing is committed; a document GitHub
// would run but the fake does not serve says so.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Octokit } from "@octokit/rest";
import { PULL_REQUEST_SNAPSHOT_QUERY, readPullRequestSnapshot } from "../../src/github/pull-request-snapshot.ts";
import { startFakeGitHub, type FakeGitHub, type FakeRepo } from "../helpers/fake-github.ts";
import { prunedSchemaProblems, wholeSchemaChecks } from "../helpers/fake-github/graphql-schema.ts";

const MUTATION =
  "mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let gh: FakeGitHub;
let repo: FakeRepo;

before(async () => {
  gh = await startFakeGitHub();
  repo = gh.createRepo("acme/hsm");
});
after(async () => {
  await gh.close();
});

function input(overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    branch: { repositoryNameWithOwner: "acme/hsm", branchName: "main" },
    message: { headline: "evidence" },
    expectedHeadOid: repo.branchSha("main"),
    fileChanges: { additions: [{ path: "e.txt", contents: Buffer.from("e\n").toString("base64") }] },
    ...overrides,
  };
}

async function graphql(query: string, variables: unknown): Promise<unknown> {
  const res = await fetch(`${gh.url}/graphql`, {
    method: "POST",
    headers: { authorization: `bearer ${gh.issueToken()}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(res.status, 200, "GitHub answers GraphQL errors with HTTP 200");
  return res.json();
}

describe("the fake's GraphQL refuses what GitHub's schema refuses", () => {
  test("a field Commit does not have", async () => {
    const tip = repo.branchSha("main");
    const answer = await graphql(MUTATION.replace("{ oid }", "{ oid signedBy }"), { input: input() });
    assert.deepEqual(answer, {
      errors: [
        {
          message: "Field 'signedBy' doesn't exist on type 'Commit'",
          locations: [{ line: 1, column: 100 }],
          extensions: { code: "undefinedField", typeName: "Commit", fieldName: "signedBy" },
        },
      ],
    });
    assert.equal(repo.branchSha("main"), tip, "nothing was committed");
  });

  test("a variable of the wrong type, and a field its input type does not define", async () => {
    const tip = repo.branchSha("main");
    const wrong = input({ branch: { repositoryNameWithOwner: "acme/hsm", branchName: 7 } });
    const answer = await graphql(MUTATION, { input: wrong });
    assert.deepEqual(answer, {
      errors: [
        {
          message:
            "Variable $input of type CreateCommitOnBranchInput! was provided invalid value for branch.branchName (Could not coerce value to String)",
          locations: [{ line: 1, column: 11 }],
          extensions: {
            value: wrong,
            problems: [{ path: ["branch", "branchName"], explanation: "Could not coerce value to String" }],
          },
        },
      ],
    });
    const extra = await graphql(MUTATION, { input: input({ force: true }) });
    assert.match(
      JSON.stringify(extra),
      /was provided invalid value for force \(Field is not defined on CreateCommitOnBranchInput\)/,
    );
    assert.equal(repo.branchSha("main"), tip, "nothing was committed");
  });

  test("a missing variable and a syntax error", async () => {
    assert.match(
      JSON.stringify(await graphql(MUTATION, {})),
      /provided invalid value \(Expected value to not be null\)/,
    );
    assert.match(JSON.stringify(await graphql("mutation {", {})), /Syntax Error/);
  });

  test("a valid document the fake does not serve says so; the served one runs", async () => {
    assert.match(JSON.stringify(await graphql("query { viewer { login } }", {})), /fake GraphQL API supports only/);
    const answer = await graphql(MUTATION, { input: input() });
    assert.match(JSON.stringify(answer), /"oid":"[0-9a-f]{40}"/);
  });
});

// ---- Queries: PULL_REQUEST_SNAPSHOT_QUERY executed over the fake's state ----

const POLICY = "quorum/policy.yml";
const POLICY_TEXT = "quorum:\n  m: 2\n";

/** An answer's JSON, read by path in assertions (which fail loudly on a wrong shape). */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers are compared, not computed with
type Json = any;

interface Answer {
  readonly data?: unknown;
  readonly errors?: readonly Record<string, unknown>[];
}

async function ask(query: string, variables: unknown, token = gh.issueToken()): Promise<Answer> {
  const res = await fetch(`${gh.url}/graphql`, {
    method: "POST",
    headers: { authorization: `bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(res.status, 200, "GitHub answers GraphQL errors with HTTP 200");
  return (await res.json()) as Answer;
}

async function rest(path: string, token = gh.issueToken()): Promise<Json> {
  const res = await fetch(`${gh.url}${path}`, { headers: { authorization: `token ${token}` } });
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

async function createRun(
  fullName: string,
  token: string,
  body: Readonly<Record<string, unknown>>,
): Promise<Record<string, Json>> {
  const res = await fetch(`${gh.url}/repos/${fullName}/check-runs`, {
    method: "POST",
    headers: { authorization: `token ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201);
  return (await res.json()) as Record<string, Json>;
}

/** A path into an answer, for the tests' reading (the product's own parser is tested below too). */
function at(value: unknown, ...path: readonly (string | number)[]): Json {
  let v: Json = value;
  for (const key of path) v = v?.[key];
  return v;
}

const bare = (login: string): string => login.replace(/\[bot\]$/, "");

describe("the fake's GraphQL executes PULL_REQUEST_SNAPSHOT_QUERY", () => {
  let snap: FakeRepo;
  let number: number;
  let appRun: Record<string, Json>;
  const vars = (n: number, extra: Readonly<Record<string, unknown>> = {}): Record<string, unknown> => ({
    owner: "acme",
    name: "snap",
    number: n,
    policyPath: POLICY,
    checkName: "quorum",
    appId: gh.app.id,
    ...extra,
  });

  before(async () => {
    snap = gh.createRepo("acme/snap", {
      files: { "README.md": "# snap\n", [POLICY]: POLICY_TEXT, "old.txt": "old\n", "moved/a.txt": "moved\n" },
    });
    number = snap.openPullRequest({
      head: "req-1",
      author: "requester",
      files: {
        "requests/1.yml": "op: x\n",
        "README.md": "# snap, changed\n",
        "old.txt": null,
        "moved/a.txt": null,
        "moved/b.txt": "moved\n",
      },
    });
    snap.addComment(number, "alice", "/approve");
    snap.addComment(number, gh.app.botLogin, "<!-- sticky -->");
    snap.addReview(number, "bob", "lgtm", "APPROVED");
    snap.addReview(number, "carol", "a draft of carol's", "PENDING");
    snap.addReview(number, gh.app.botLogin, "a draft of the bot's own", "PENDING");
    snap.addReviewComment(number, "dave", "nit", "requests/1.yml");
    const head = snap.branchSha("req-1");
    appRun = await createRun("acme/snap", gh.issueToken(), {
      name: "quorum",
      head_sha: head,
      status: "completed",
      conclusion: "action_required",
      output: { title: "1 of 2", summary: "waiting", text: "details" },
    });
    const actions = gh.issueToken({ user: "github-actions[bot]", appId: 15368, appSlug: "github-actions" });
    await createRun("acme/snap", actions, { name: "quorum", head_sha: head, status: "in_progress" });
    await createRun("acme/snap", actions, { name: "build", head_sha: head, status: "queued" });
  });

  test("answers what REST answers for the same objects, on the pruned schema alone", async () => {
    const wholeBefore = wholeSchemaChecks();
    gh.clearCalls();
    const answer = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(number));
    assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
    assert.equal(wholeSchemaChecks(), wholeBefore, "the snapshot query never needs GitHub's whole schema");
    assert.deepEqual(
      gh.calls.map((c) => `${c.method} ${c.path} ${c.status}`),
      ["POST /graphql 200"],
      "a query is one request of the log",
    );

    const pr = at(answer.data, "repository", "pullRequest");
    const rp = await rest(`/repos/acme/snap/pulls/${number}`);
    assert.equal(pr.number, rp.number);
    assert.equal(pr.state, "OPEN");
    assert.equal(pr.merged, false);
    assert.equal(pr.mergeCommit, null);
    assert.equal(pr.headRefOid, rp.head.sha);
    assert.equal(pr.headRefName, rp.head.ref);
    assert.equal(pr.baseRefOid, rp.base.sha);
    assert.equal(pr.baseRefName, rp.base.ref);
    assert.equal(pr.isCrossRepository, false);
    assert.deepEqual(pr.headRepository, { nameWithOwner: rp.head.repo.full_name });
    assert.deepEqual(pr.author, { __typename: "User", login: rp.user.login });

    // The policy at the base: the contents API's bytes.
    const contents = await rest(`/repos/acme/snap/contents/${POLICY}?ref=${rp.base.sha}`);
    assert.equal(pr.baseRef.target.oid, rp.base.sha);
    assert.deepEqual(pr.baseRef.target.file.object, {
      byteSize: contents.size,
      isBinary: false,
      isTruncated: false,
      text: Buffer.from(contents.content, "base64").toString("utf8"),
    });

    // The head commit and this app's check suite, with only the runs named `quorum`.
    const [last] = pr.commits.nodes;
    assert.equal(pr.commits.nodes.length, 1);
    assert.equal(last.commit.oid, rp.head.sha);
    const suites = last.commit.checkSuites;
    assert.deepEqual(suites.pageInfo, { hasNextPage: false });
    const restRuns = await rest(
      `/repos/acme/snap/commits/${rp.head.sha}/check-runs?check_name=quorum&app_id=${gh.app.id}`,
    );
    assert.equal(restRuns.check_runs.length, 1);
    const r = restRuns.check_runs[0];
    assert.equal(r.id, appRun["id"]);
    assert.deepEqual(suites.nodes, [
      {
        app: { databaseId: gh.app.id },
        checkRuns: {
          pageInfo: { hasNextPage: false },
          nodes: [
            {
              databaseId: r.id,
              name: r.name,
              status: "COMPLETED",
              conclusion: "ACTION_REQUIRED",
              title: r.output.title,
              summary: r.output.summary,
              text: r.output.text,
            },
          ],
        },
      },
    ]);

    const files = await rest(`/repos/acme/snap/pulls/${number}/files?per_page=100`);
    const CHANGE: Readonly<Record<string, string>> = {
      added: "ADDED",
      modified: "MODIFIED",
      removed: "DELETED",
      renamed: "RENAMED",
    };
    assert.deepEqual(pr.files, {
      pageInfo: { hasNextPage: false },
      nodes: files.map((f: Json) => ({ path: f.filename, changeType: CHANGE[f.status] })),
    });
    assert.ok(
      pr.files.nodes.some((f: Json) => f.changeType === "RENAMED"),
      "a rename is told as one",
    );
    assert.ok(pr.files.nodes.some((f: Json) => f.changeType === "DELETED"));

    const comments = await rest(`/repos/acme/snap/issues/${number}/comments?per_page=100`);
    const asComment = (c: Json): unknown => ({
      databaseId: c.id,
      author: { __typename: c.user.type, login: bare(c.user.login) },
      body: c.body,
      createdAt: c.created_at,
      updatedAt: c.updated_at,
      url: c.html_url,
    });
    assert.deepEqual(pr.comments, { pageInfo: { hasNextPage: false }, nodes: comments.map(asComment) });

    // Reviews as REST shows them to the same token: carol's draft is hidden, the bot's own is not.
    const reviews = await rest(`/repos/acme/snap/pulls/${number}/reviews?per_page=100`);
    assert.deepEqual(
      reviews.map((x: Json) => x.body),
      ["lgtm", "a draft of the bot's own"],
    );
    assert.deepEqual(pr.reviews, {
      pageInfo: { hasNextPage: false },
      nodes: reviews.map((x: Json) => ({
        databaseId: x.id,
        author: { __typename: x.user.type, login: bare(x.user.login) },
        body: x.body,
        state: x.state,
        submittedAt: x.submitted_at ?? null,
        url: x.html_url,
      })),
    });

    const reviewComments = await rest(`/repos/acme/snap/pulls/${number}/comments?per_page=100`);
    assert.deepEqual(pr.reviewThreads, {
      pageInfo: { hasNextPage: false },
      nodes: reviewComments.map((c: Json) => ({
        comments: { pageInfo: { hasNextPage: false }, nodes: [asComment(c)] },
      })),
    });
  });

  test("the product's parser reads the answer: complete parts, policy bytes, this app's runs", async () => {
    const octokit = new Octokit({ baseUrl: gh.url, auth: gh.issueToken(), log: quiet });
    const s = await readPullRequestSnapshot(octokit, { owner: "acme", repo: "snap" }, number, {
      policyPath: POLICY,
      checkName: "quorum",
      appId: gh.app.id,
    });
    assert.equal(s.pr.headSha, snap.branchSha("req-1"));
    assert.equal(s.pr.author, "requester");
    assert.equal(s.files, null, "a rename makes the files a REST read");
    assert.deepEqual(
      s.issueComments?.map((c) => [c.login, c.isBot]),
      [
        ["alice", false],
        [gh.app.botLogin, true],
      ],
    );
    assert.notEqual(s.candidates, null);
    assert.equal(Buffer.from(s.policy?.bytes ?? []).toString("utf8"), POLICY_TEXT);
    assert.deepEqual(
      s.checkRuns?.runs.map((r) => [r.id, r.appId, r.status, r.conclusion]),
      [[appRun["id"], gh.app.id, "completed", "action_required"]],
    );
  });

  test("a bot's login has no [bot] suffix in GraphQL; Json app's suites without appId", async () => {
    const answer = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(number, { appId: null }));
    const pr = at(answer.data, "repository", "pullRequest");
    assert.deepEqual(pr.comments.nodes[1].author, { __typename: "Bot", login: "quorum-gate-test" });
    assert.equal(gh.app.botLogin, "quorum-gate-test[bot]");
    const suites = pr.commits.nodes[0].commit.checkSuites.nodes;
    assert.deepEqual(
      suites.map((s: Json) => [s.app.databaseId, s.checkRuns.nodes.map((r: Json) => [r.name, r.status, r.conclusion])]),
      [
        [gh.app.id, [["quorum", "COMPLETED", "ACTION_REQUIRED"]]],
        [15368, [["quorum", "IN_PROGRESS", null]]],
      ],
      "one suite per app with runs on the commit; the runs filtered by name",
    );
  });

  test("101 comments: the first page says there is more, `after` gives the rest; first: 101 is refused", async () => {
    const n = snap.openPullRequest({ head: "req-many", files: { "requests/2.yml": "op: y\n" } });
    for (let i = 0; i < 101; i++) snap.addComment(n, `user${i}`, `comment ${i}`);
    const page = `query ($n: Int!, $after: String) { repository(owner: "acme", name: "snap") { pullRequest(number: $n) {
      comments(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { databaseId } } } } }`;
    const one = await ask(page, { n });
    assert.equal(one.errors, undefined);
    const c1 = at(one.data, "repository", "pullRequest", "comments");
    assert.equal(c1.totalCount, 101);
    assert.equal(c1.nodes.length, 100);
    assert.equal(c1.pageInfo.hasNextPage, true);
    const two = await ask(page, { n, after: c1.pageInfo.endCursor });
    const c2 = at(two.data, "repository", "pullRequest", "comments");
    assert.equal(c2.nodes.length, 1);
    assert.equal(c2.pageInfo.hasNextPage, false);
    const restIds = [
      ...(await rest(`/repos/acme/snap/issues/${n}/comments?per_page=100`)),
      ...(await rest(`/repos/acme/snap/issues/${n}/comments?per_page=100&page=2`)),
    ].map((c: Json) => c.id);
    assert.deepEqual(
      [...c1.nodes, ...c2.nodes].map((c: Json) => c.databaseId),
      restIds,
    );

    // The snapshot tells the comments incomplete, so the product reads them over REST.
    const snapshot = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(n));
    assert.equal(at(snapshot.data, "repository", "pullRequest", "comments", "pageInfo", "hasNextPage"), true);

    const lastOne = await ask(
      `query ($n: Int!) { repository(owner: "acme", name: "snap") { pullRequest(number: $n) { comments(last: 1) { pageInfo { hasNextPage hasPreviousPage } nodes { body } } } } }`,
      { n },
    );
    assert.deepEqual(at(lastOne.data, "repository", "pullRequest", "comments"), {
      pageInfo: { hasNextPage: false, hasPreviousPage: true },
      nodes: [{ body: "comment 100" }],
    });

    const tooMany = await ask(
      `query ($n: Int!) { repository(owner: "acme", name: "snap") { pullRequest(number: $n) { comments(first: 101) { nodes { databaseId } } } } }`,
      { n },
    );
    assert.equal(tooMany.errors?.length, 1);
    assert.equal(
      tooMany.errors?.[0]?.["message"],
      "Requesting 101 records on the `comments` connection exceeds the `first` limit of 100 records.",
    );
    assert.equal(tooMany.errors?.[0]?.["type"], "EXCESSIVE_PAGINATION");
    assert.deepEqual(tooMany.errors?.[0]?.["path"], ["repository", "pullRequest", "comments"]);
    assert.deepEqual(tooMany.data, { repository: { pullRequest: null } }, "a non-null connection nulls its parent");
  });

  test("no such repository, no such pull request: null and NOT_FOUND", async () => {
    const noRepo = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(number, { name: "nope" }));
    assert.deepEqual(noRepo, {
      data: { repository: null },
      errors: [
        {
          type: "NOT_FOUND",
          path: ["repository"],
          locations: [{ line: 2, column: 3 }],
          message: "Could not resolve to a Repository with the name 'acme/nope'.",
        },
      ],
    });
    const noPull = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(999));
    assert.deepEqual(noPull, {
      data: { repository: { pullRequest: null } },
      errors: [
        {
          type: "NOT_FOUND",
          path: ["repository", "pullRequest"],
          locations: [{ line: 3, column: 5 }],
          message: "Could not resolve to a PullRequest with the number of 999.",
        },
      ],
    });
  });

  test("a permission the token lacks: that field null, FORBIDDEN, counted in the log", async () => {
    gh.clearCalls();
    const noPulls = gh.issueToken({ permissions: { metadata: "read", contents: "read", checks: "read" } });
    const refused = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(number), noPulls);
    assert.deepEqual(refused.data, { repository: { pullRequest: null } });
    assert.deepEqual(
      refused.errors?.map((e) => [e["type"], e["path"], e["message"]]),
      [["FORBIDDEN", ["repository", "pullRequest"], "Resource not accessible by integration"]],
    );
    assert.deepEqual(
      gh.calls.map((c) => c.errorTypes),
      [["FORBIDDEN"]],
    );

    const pullsOnly = gh.issueToken({ permissions: { metadata: "read", pull_requests: "read" } });
    const partial = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(number), pullsOnly);
    const pr = at(partial.data, "repository", "pullRequest");
    assert.equal(pr.baseRef.target.file, null);
    assert.equal(pr.commits.nodes[0].commit.checkSuites, null);
    assert.deepEqual(
      partial.errors?.map((e) => [e["type"], e["path"]]),
      [
        ["FORBIDDEN", ["repository", "pullRequest", "baseRef", "target", "file"]],
        ["FORBIDDEN", ["repository", "pullRequest", "commits", "nodes", 0, "commit", "checkSuites"]],
      ],
    );
  });

  test("the base branch moved past a closed pull request's base: baseRef.target differs from baseRefOid", async () => {
    const n = snap.openPullRequest({ head: "req-closed", files: { "requests/3.yml": "op: z\n" } });
    snap.closePullRequest(n);
    const moved = snap.commit("main", { "other.txt": "later\n" });
    const answer = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(n));
    const pr = at(answer.data, "repository", "pullRequest");
    const rp = await rest(`/repos/acme/snap/pulls/${n}`);
    assert.equal(pr.state, "CLOSED");
    assert.equal(pr.baseRefOid, rp.base.sha);
    assert.equal(pr.baseRef.target.oid, moved);
    assert.notEqual(pr.baseRef.target.oid, pr.baseRefOid);
  });

  test("a merged pull request: MERGED with its merge commit", async () => {
    const n = snap.openPullRequest({ head: "req-merged", files: { "requests/4.yml": "op: w\n" } });
    const sha = snap.merge(n);
    const answer = await ask(PULL_REQUEST_SNAPSHOT_QUERY, vars(n));
    const pr = at(answer.data, "repository", "pullRequest");
    const rp = await rest(`/repos/acme/snap/pulls/${n}`);
    assert.deepEqual([pr.state, pr.merged, pr.mergeCommit], ["MERGED", true, { oid: sha }]);
    assert.equal(rp.merge_commit_sha, sha);
    assert.equal(pr.headRefOid, rp.head.sha);
  });

  test("binary and missing policy files; a field the fake does not answer says so", async () => {
    const n = snap.openPullRequest({ head: "req-bin", files: { "requests/5.yml": "op: v\n" } });
    const fileQuery = `query ($path: String!) { repository(owner: "acme", name: "snap") { pullRequest(number: ${n}) {
      baseRef { target { ... on Commit { file(path: $path) { object { ... on Blob { byteSize isBinary text } } } } } } } } }`;
    snap.commit("main", { "bin.dat": new Uint8Array([0, 1, 2, 255]) });
    const bin = await ask(fileQuery, { path: "bin.dat" });
    assert.deepEqual(at(bin.data, "repository", "pullRequest", "baseRef", "target", "file", "object"), {
      byteSize: 4,
      isBinary: true,
      text: null,
    });
    const none = await ask(fileQuery, { path: "no/such.yml" });
    assert.equal(none.errors, undefined);
    assert.equal(at(none.data, "repository", "pullRequest", "baseRef", "target", "file"), null);

    const unanswered = await ask(
      `{ repository(owner: "acme", name: "snap") { pullRequest(number: ${n}) { number additions } } }`,
      {},
    );
    assert.match(
      String(unanswered.errors?.[0]?.["message"]),
      /\[fake-github\] the field PullRequest\.additions is not supported/,
    );
    const unknownArg = await ask(
      `{ repository(owner: "acme", name: "snap") { pullRequest(number: ${n}) { comments(first: 1, orderBy: { field: UPDATED_AT, direction: ASC }) { totalCount } } } }`,
      {},
    );
    assert.match(
      String(unknownArg.errors?.[0]?.["message"]),
      /the argument orderBy of PullRequest\.comments is not supported/,
    );
  });

  test("the pruned schema keeps interface relations and passes graphql-js's schema rules", () => {
    assert.deepEqual(prunedSchemaProblems(), []);
  });
});
