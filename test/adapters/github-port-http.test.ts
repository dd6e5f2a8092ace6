// The port's exact requests at the HTTP edge, pinned with nock: method, path, query, headers and
// body of what goes to api.github.com. (A file of its own: nock patches the process's fetch, and
// the fake-GitHub tests run in other processes.) Every interceptor must be used: an extra or a
// missing request fails the test.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { createGitHubPort } from "../../src/github/octokit-port.ts";

const API = "https://api.github.com";
const BOT = "quorum-gate-test[bot]";
const MARKER = "<!-- quorum-gate:sticky -->";
const HEAD = "a".repeat(40);
const repo = { owner: "acme", repo: "hsm" };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const port = createGitHubPort(new Octokit({ auth: "ghs_test", log: quiet }));

const comment = (id: number, login: string, type: string, body: string): Record<string, unknown> => ({
  id,
  user: { login, type },
  body,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  html_url: `https://github.com/acme/hsm/pull/7#issuecomment-${id}`,
});

before(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
after(() => {
  nock.enableNetConnect();
});

test("upsertStickyComment: one paged GET, then a PATCH of our comment only (the look-alike is not touched)", async () => {
  const scope = nock(API, { reqheaders: { authorization: "token ghs_test" } })
    .get("/repos/acme/hsm/issues/7/comments")
    .query({ per_page: "100" })
    .reply(200, [comment(11, "mallory", "User", `${MARKER} approved!`), comment(12, BOT, "Bot", `${MARKER}\nold`)])
    .patch("/repos/acme/hsm/issues/comments/12", { body: `${MARKER}\nnew` })
    .reply(200, comment(12, BOT, "Bot", `${MARKER}\nnew`));
  assert.deepEqual(await port.upsertStickyComment(repo, 7, MARKER, BOT, `${MARKER}\nnew`), { id: 12 });
  assert.ok(scope.isDone());
  assert.deepEqual(nock.pendingMocks(), []);
});

test("upsertCheckRun: the list asks for this app's run by name, then the create sends the whole report", async () => {
  nock(API)
    .get(`/repos/acme/hsm/commits/${HEAD}/check-runs`)
    .query({ check_name: "quorum", app_id: "42", per_page: "100" })
    .reply(200, { total_count: 0, check_runs: [] })
    .post("/repos/acme/hsm/check-runs", {
      name: "quorum",
      head_sha: HEAD,
      status: "completed",
      conclusion: "failure",
      output: { title: "1 of 2", summary: "one signature is bad", text: "details" },
    })
    .reply(201, { id: 5, name: "quorum", app: { id: 42 } });
  const report = {
    name: "quorum",
    headSha: HEAD,
    status: "completed",
    conclusion: "failure",
    title: "1 of 2",
    summary: "one signature is bad",
    text: "details",
  } as const;
  assert.deepEqual(await port.upsertCheckRun(repo, 42, report), { id: 5 });
  assert.deepEqual(nock.pendingMocks(), []);
});

const MUTATION =
  "mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";
const PARENT = "1".repeat(40);
const one = [{ path: "evidence/7.bin", content: new Uint8Array([0, 255]) }];

/** GET of the branch's head, then the one mutation with exactly this input; its answer is `reply`. */
function commitScope(
  reply: Record<string, unknown>,
  base = API,
  graphqlPath = "/graphql",
  files = one,
  message: Record<string, string> = { headline: "Add evidence" },
): nock.Scope {
  const refPath = base === API ? "/repos/acme/hsm/git/ref/heads/req-7" : "/api/v3/repos/acme/hsm/git/ref/heads/req-7";
  return nock(base, { reqheaders: { authorization: "token ghs_test" } })
    .get(refPath)
    .reply(200, { ref: "refs/heads/req-7", object: { type: "commit", sha: PARENT } })
    .post(graphqlPath, {
      query: MUTATION,
      variables: {
        input: {
          branch: { repositoryNameWithOwner: "acme/hsm", branchName: "req-7" },
          message,
          expectedHeadOid: PARENT,
          fileChanges: {
            additions: files.map((f) => ({ path: f.path, contents: Buffer.from(f.content).toString("base64") })),
          },
        },
      },
    })
    .reply(200, reply);
}

/** How GitHub refuses a mutation: HTTP 200, `data` with the field null, one typed error. */
const refused = (type: string | undefined, message: string): Record<string, unknown> => ({
  data: { createCommitOnBranch: null },
  errors: [
    {
      ...(type === undefined ? {} : { type }),
      path: ["createCommitOnBranch"],
      locations: [{ line: 1, column: 48 }],
      message,
    },
  ],
});

test("commitFiles: a GET of the branch's head, then one createCommitOnBranch mutation with every file in base64 and that head as expectedHeadOid", async () => {
  const commit = "6".repeat(40);
  const files = [
    { path: "evidence/7.json", content: new TextEncoder().encode('{"ü": "new"}\r\n\t') },
    { path: "evidence/7.bin", content: new Uint8Array([0, 255]) },
    { path: "evidence/7.txt", content: new TextEncoder().encode("bell\u0007\n") },
  ];
  commitScope({ data: { createCommitOnBranch: { commit: { oid: commit } } } }, API, "/graphql", files, {
    headline: "Add evidence",
    body: "For request 7.\n",
  });
  assert.deepEqual(await port.commitFiles(repo, "req-7", files, "Add evidence\n\nFor request 7.\n"), {
    ok: true,
    sha: commit,
  });
  assert.deepEqual(nock.pendingMocks(), []);
});

test("commitFiles on GitHub Enterprise Server: REST under /api/v3, the mutation to /api/graphql", async () => {
  const ghe = "https://ghe.example.com";
  commitScope({ data: { createCommitOnBranch: { commit: { oid: "6".repeat(40) } } } }, ghe, "/api/graphql");
  const gheport = createGitHubPort(new Octokit({ auth: "ghs_test", baseUrl: `${ghe}/api/v3`, log: quiet }));
  assert.deepEqual(await gheport.commitFiles(repo, "req-7", one, "Add evidence"), { ok: true, sha: "6".repeat(40) });
  assert.deepEqual(nock.pendingMocks(), []);
});

test("commitFiles: GitHub's refusals are outcomes (a fork, a moved branch, a protected branch, a vanished branch)", async () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "a fork where the app is not installed",
      refused("FORBIDDEN", "Resource not accessible by integration"),
      "forbidden",
    ],
    [
      "a push landed after the head was read",
      refused("STALE_DATA", `Expected branch to point to "${PARENT}" but it did not.  Pull and try again.`),
      "conflict",
    ],
    [
      "the same, without a type",
      refused(undefined, `Expected branch to point to "${PARENT}" but it did not.  Pull and try again.`),
      "conflict",
    ],
    [
      "a ruleset",
      refused("UNPROCESSABLE", "Repository rule violations found\n\nChanges must be made through a pull request.\n"),
      "conflict",
    ],
    [
      "classic branch protection",
      refused("BRANCH_PROTECTION_RULE_VIOLATION", "Changes must be made through a pull request."),
      "conflict",
    ],
    [
      "the branch was deleted after it was read",
      refused("NOT_FOUND", "Could not resolve to a Ref with the name 'refs/heads/req-7'."),
      "not_found",
    ],
  ];
  for (const [what, reply, reason] of cases) {
    commitScope(reply);
    assert.deepEqual(await port.commitFiles(repo, "req-7", one, "Add evidence"), { ok: false, reason }, what);
    assert.deepEqual(nock.pendingMocks(), [], what);
  }
});

test("commitFiles: an unknown error type, or a refusal mixed with one, throws one error naming the mutation, without the token or the files", async () => {
  const secret = new Uint8Array(96).fill(7);
  const contents = Buffer.from(secret).toString("base64");
  commitScope(refused("SOMETHING_NEW", `Could not commit ${contents}`), API, "/graphql", [
    { path: "evidence/7.bin", content: secret },
  ]);
  const err = await port.commitFiles(repo, "req-7", [{ path: "evidence/7.bin", content: secret }], "Add evidence").then(
    () => assert.fail("no error"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error);
  assert.equal(
    err.message,
    "[github] createCommitOnBranch acme/hsm:req-7 failed: SOMETHING_NEW: Could not commit [...]",
  );
  assert.equal(err.cause, undefined, "Octokit's error carries the request, and the request carries the files");
  assert.deepEqual(nock.pendingMocks(), []);

  commitScope({
    data: { createCommitOnBranch: null },
    errors: [
      ...(refused("STALE_DATA", "Expected branch to point to x").errors as unknown[]),
      { type: "RATE_LIMITED", message: "API rate limit exceeded" },
    ],
  });
  await assert.rejects(port.commitFiles(repo, "req-7", one, "Add evidence"), {
    message:
      "[github] createCommitOnBranch acme/hsm:req-7 failed: STALE_DATA: Expected branch to point to x; RATE_LIMITED: API rate limit exceeded",
  });
  assert.deepEqual(nock.pendingMocks(), []);
});

test("commitFiles: HTTP statuses of the GraphQL endpoint are read as for REST", async () => {
  nock(API)
    .get("/repos/acme/hsm/git/ref/heads/req-7")
    .reply(200, { ref: "refs/heads/req-7", object: { type: "commit", sha: PARENT } })
    .post("/graphql")
    .reply(403, { message: "Resource not accessible by integration" });
  assert.deepEqual(await port.commitFiles(repo, "req-7", one, "Add evidence"), { ok: false, reason: "forbidden" });
  nock(API)
    .get("/repos/acme/hsm/git/ref/heads/req-7")
    .reply(200, { ref: "refs/heads/req-7", object: { type: "commit", sha: PARENT } })
    .post("/graphql")
    .reply(401, { message: "Bad credentials" });
  await assert.rejects(port.commitFiles(repo, "req-7", one, "Add evidence"), {
    message: "[github] createCommitOnBranch acme/hsm:req-7 failed: HTTP 401 (Bad credentials)",
  });
  nock(API).get("/repos/acme/hsm/git/ref/heads/req-7").reply(404, { message: "Not Found" });
  assert.deepEqual(
    await port.commitFiles(repo, "req-7", one, "Add evidence"),
    { ok: false, reason: "not_found" },
    "no mutation for a branch that is not there",
  );
  assert.deepEqual(nock.pendingMocks(), []);
});
