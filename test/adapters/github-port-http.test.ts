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

test("commitFile: reads the branch for the blob SHA, then PUTs base64 content with branch and sha", async () => {
  const blob = "b".repeat(40);
  nock(API)
    .get("/repos/acme/hsm/contents/evidence%2F7.json")
    .query({ ref: "req-7" })
    .reply(200, { type: "file", sha: blob, size: 3, encoding: "base64", content: "b2xk\n" })
    .put("/repos/acme/hsm/contents/evidence%2F7.json", { message: "Add evidence", content: Buffer.from("new").toString("base64"), branch: "req-7", sha: blob })
    .reply(200, { content: { sha: "c".repeat(40) }, commit: { sha: "d".repeat(40) } });
  assert.deepEqual(await port.commitFile(repo, "req-7", "evidence/7.json", new TextEncoder().encode("new"), "Add evidence"), { ok: true, sha: "d".repeat(40) });
  assert.deepEqual(nock.pendingMocks(), []);
});
