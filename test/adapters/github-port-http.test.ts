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
  const report = { name: "quorum", headSha: HEAD, status: "completed", conclusion: "failure", title: "1 of 2", summary: "one signature is bad", text: "details" } as const;
  assert.deepEqual(await port.upsertCheckRun(repo, 42, report), { id: 5 });
  assert.deepEqual(nock.pendingMocks(), []);
});

test("commitFiles: the git data API, a blob per binary file (base64), text inline in a tree on the head's tree, one commit, a fast-forward of the branch", async () => {
  const [parent, baseTree, blobB, blobC, tree, commit] = ["1", "2", "3", "4", "5", "6"].map((c) => c.repeat(40));
  nock(API)
    .get("/repos/acme/hsm/git/ref/heads/req-7")
    .reply(200, { ref: "refs/heads/req-7", object: { type: "commit", sha: parent } })
    .get(`/repos/acme/hsm/git/commits/${parent}`)
    .reply(200, { sha: parent, tree: { sha: baseTree }, parents: [] })
    .post("/repos/acme/hsm/git/blobs", { content: Buffer.from([0, 255]).toString("base64"), encoding: "base64" })
    .reply(201, { sha: blobB })
    .post("/repos/acme/hsm/git/blobs", { content: Buffer.from("bell\u0007\n").toString("base64"), encoding: "base64" })
    .reply(201, { sha: blobC })
    .post("/repos/acme/hsm/git/trees", {
      base_tree: baseTree,
      tree: [
        { path: "evidence/7.json", mode: "100644", type: "blob", content: "{\"ü\": \"new\"}\r\n\t" },
        { path: "evidence/7.bin", mode: "100644", type: "blob", sha: blobB },
        { path: "evidence/7.txt", mode: "100644", type: "blob", sha: blobC },
      ],
    })
    .reply(201, { sha: tree, tree: [] })
    .post("/repos/acme/hsm/git/commits", { message: "Add evidence", tree, parents: [parent] })
    .reply(201, { sha: commit, tree: { sha: tree }, parents: [{ sha: parent }] })
    .patch("/repos/acme/hsm/git/refs/heads/req-7", { sha: commit, force: false })
    .reply(200, { ref: "refs/heads/req-7", object: { type: "commit", sha: commit } });
  const files = [
    { path: "evidence/7.json", content: new TextEncoder().encode('{"ü": "new"}\r\n\t') },
    { path: "evidence/7.bin", content: new Uint8Array([0, 255]) },
    { path: "evidence/7.txt", content: new TextEncoder().encode("bell\u0007\n") },
  ];
  assert.deepEqual(await port.commitFiles(repo, "req-7", files, "Add evidence"), { ok: true, sha: commit });
  assert.deepEqual(nock.pendingMocks(), []);
});
