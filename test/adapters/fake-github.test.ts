// The fake GitHub itself, over plain fetch: the app JWT buys a token only when it is the app's,
// repository routes want a token, and the parts other tests lean on (/api/v3, Link pages,
// one-shot faults, merges, git data writes, fork writes, the createCommitOnBranch mutation)
// behave as GitHub's do.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { signAppJwt, startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.ts";

let gh: FakeGitHub;

before(async () => {
  gh = await startFakeGitHub();
  gh.createRepo("acme/hsm", { files: { "quorum/policy.yml": "m: 2\n" } });
});
after(async () => {
  await gh.close();
});

async function call(
  method: string,
  path: string,
  auth?: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; link: string | null }> {
  const headers: Record<string, string> = { accept: "application/vnd.github+json" };
  if (auth !== undefined) headers["authorization"] = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? undefined : JSON.parse(text), link: res.headers.get("link") };
}

function field(json: unknown, key: string): unknown {
  return typeof json === "object" && json !== null && key in json
    ? Object.fromEntries(Object.entries(json))[key]
    : undefined;
}

describe("the installation's permissions (app.yml)", () => {
  test("the app, and each token, hold the manifest's default_permissions, with metadata: read", async () => {
    const manifest = { metadata: "read", pull_requests: "write", issues: "read", checks: "write", contents: "write" };
    assert.deepEqual(field((await call("GET", "/app", `Bearer ${gh.appJwt()}`)).json, "permissions"), manifest);
    const issued = await call(
      "POST",
      `/app/installations/${gh.app.installationId}/access_tokens`,
      `Bearer ${gh.appJwt()}`,
    );
    assert.deepEqual(field(issued.json, "permissions"), manifest);
  });

  test("a request the permissions do not allow is GitHub's 403, and changes nothing; a user's token is not limited", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qg-fake-manifest-"));
    const manifest = join(dir, "app.yml");
    writeFileSync(manifest, "name: t\ndefault_permissions:\n  checks: read\n  pull_requests: read\n");
    const narrow = await startFakeGitHub({ manifest });
    try {
      const repo = narrow.createRepo("acme/narrow");
      const n = repo.openPullRequest({ head: "req", files: { "a.txt": "a\n" } });
      const ask = async (method: string, path: string, auth: string, body?: unknown) => {
        const res = await fetch(`${narrow.url}${path}`, {
          method,
          headers: { authorization: auth, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, json: (await res.json()) as unknown };
      };
      const app = `token ${narrow.issueToken()}`;
      const refused = await ask("POST", "/repos/acme/narrow/check-runs", app, {
        name: "quorum",
        head_sha: repo.branchSha("main"),
      });
      assert.deepEqual(refused, {
        status: 403,
        json: {
          message: "Resource not accessible by integration",
          documentation_url: "https://docs.github.com/rest/checks/runs#create-a-check-run",
          status: "403",
        },
      });
      assert.equal(repo.checkRuns(repo.branchSha("main") ?? "").length, 0);
      assert.equal((await ask("GET", `/repos/acme/narrow/pulls/${n}`, app)).status, 200, "read is held");
      assert.equal((await ask("GET", "/repos/acme/narrow/contents/a.txt?ref=req", app)).status, 403, "contents is not");
      // Either permission opens a pull request's conversation: pull_requests read lists it, but only write posts.
      assert.equal((await ask("GET", `/repos/acme/narrow/issues/${n}/comments`, app)).status, 200);
      assert.equal((await ask("POST", `/repos/acme/narrow/issues/${n}/comments`, app, { body: "hi" })).status, 403);
      assert.equal(
        (
          await ask(
            "POST",
            `/repos/acme/narrow/issues/${n}/comments`,
            `token ${narrow.issueToken({ user: "alice", appId: null })}`,
            { body: "hi" },
          )
        ).status,
        201,
      );
      assert.equal(
        (
          await ask(
            "POST",
            `/repos/acme/narrow/issues/${n}/comments`,
            `token ${narrow.issueToken({ permissions: { issues: "write" } })}`,
            { body: "hi" },
          )
        ).status,
        201,
      );
    } finally {
      await narrow.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("app authentication", () => {
  test("the app's JWT buys an installation token, which then opens repository routes", async () => {
    const issued = await call(
      "POST",
      `/app/installations/${gh.app.installationId}/access_tokens`,
      `Bearer ${gh.appJwt()}`,
    );
    assert.equal(issued.status, 201);
    const token = field(issued.json, "token");
    assert.ok(typeof token === "string" && /^ghs_[A-Za-z0-9]{36}$/.test(token));
    assert.ok(Date.parse(String(field(issued.json, "expires_at"))) > Date.now());
    assert.equal((await call("GET", "/repos/acme/hsm", `token ${token}`)).status, 200);
    assert.equal((await call("GET", "/repos/acme/hsm", `Bearer ${token}`)).status, 200);
  });

  test("GET /app answers the app, whose bot login comes from the slug", async () => {
    const app = await call("GET", "/app", `Bearer ${gh.appJwt()}`);
    assert.equal(app.status, 200);
    assert.equal(field(app.json, "slug"), "quorum-gate-test");
    assert.equal(field(app.json, "id"), gh.app.id);
    assert.equal(gh.app.botLogin, "quorum-gate-test[bot]");
  });

  test("a JWT signed with another key is refused", async () => {
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const res = await call(
      "POST",
      `/app/installations/${gh.app.installationId}/access_tokens`,
      `Bearer ${signAppJwt(gh.app.id, stranger)}`,
    );
    assert.equal(res.status, 401);
    assert.match(String(field(res.json, "message")), /does not verify/);
  });

  test("an expired JWT, or one for another app, is refused", async () => {
    const old = signAppJwt(gh.app.id, gh.app.privateKeyPem, Math.floor(Date.now() / 1000) - 3600);
    assert.equal(
      (await call("POST", `/app/installations/${gh.app.installationId}/access_tokens`, `Bearer ${old}`)).status,
      401,
    );
    const otherApp = signAppJwt(gh.app.id + 1, gh.app.privateKeyPem);
    assert.equal(
      (await call("POST", `/app/installations/${gh.app.installationId}/access_tokens`, `Bearer ${otherApp}`)).status,
      401,
    );
  });

  test("a token on an app route, and a JWT for another installation, are refused", async () => {
    assert.equal((await call("GET", "/app", `token ${gh.issueToken()}`)).status, 401);
    assert.equal((await call("POST", "/app/installations/999/access_tokens", `Bearer ${gh.appJwt()}`)).status, 404);
  });

  test("a repository route without credentials, with an unknown token or with a JWT is refused", async () => {
    assert.deepEqual((await call("GET", "/repos/acme/hsm")).json, { message: "Requires authentication" });
    assert.equal((await call("GET", "/repos/acme/hsm")).status, 401);
    assert.deepEqual((await call("GET", "/repos/acme/hsm", "token ghs_notissued")).json, {
      message: "Bad credentials",
    });
    assert.equal((await call("GET", "/repos/acme/hsm", "token ghs_notissued")).status, 401);
    assert.equal((await call("GET", "/repos/acme/hsm", `Bearer ${gh.appJwt()}`)).status, 401);
  });

  test("the call log records the kind of credential, never the credential", async () => {
    gh.clearCalls();
    const token = gh.issueToken();
    await call("GET", "/repos/acme/hsm", `token ${token}`);
    assert.deepEqual(gh.calls, [
      { method: "GET", path: "/repos/acme/hsm", query: {}, status: 200, auth: "token", body: undefined },
    ]);
    assert.ok(!JSON.stringify(gh.calls).includes(token));
  });
});

describe("API behaviour the adapters rely on", () => {
  test("/api/v3 is stripped, and Link pages keep it", async () => {
    const repo = gh.createRepo("acme/paged");
    const n = repo.openPullRequest({ head: "req", files: { "a.txt": "x\n" } });
    for (let i = 0; i < 250; i++) repo.addComment(n, `u${i}`, `c${i}`);
    const auth = `token ${gh.issueToken()}`;
    const first = await call("GET", `/api/v3/repos/acme/paged/issues/${n}/comments?per_page=100`, auth);
    assert.equal(first.status, 200);
    assert.ok(Array.isArray(first.json) && first.json.length === 100);
    assert.equal(
      first.link,
      `<${gh.url}/api/v3/repos/acme/paged/issues/${n}/comments?per_page=100&page=2>; rel="next", <${gh.url}/api/v3/repos/acme/paged/issues/${n}/comments?per_page=100&page=3>; rel="last"`,
    );
    const last = await call("GET", `/api/v3/repos/acme/paged/issues/${n}/comments?per_page=100&page=3`, auth);
    assert.ok(Array.isArray(last.json) && last.json.length === 50);
    assert.doesNotMatch(last.link ?? "", /rel="next"/);
  });

  test("failNext answers once, then the route answers normally", async () => {
    const auth = `token ${gh.issueToken()}`;
    gh.failNext("GET", /^\/repos\/acme\/hsm$/, 503, { message: "try later" });
    assert.deepEqual(await call("GET", "/repos/acme/hsm", auth), {
      status: 503,
      json: { message: "try later" },
      link: null,
    });
    assert.equal((await call("GET", "/repos/acme/hsm", auth)).status, 200);
  });

  test("merge makes a two-parent commit on the base with the head's changes and the base's own", async () => {
    const repo = gh.createRepo("acme/merge", { files: { "keep.txt": "base\n", "quorum/policy.yml": "m: 2\n" } });
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "op\n" } });
    const baseMoved = repo.commit("main", { "other.txt": "landed meanwhile\n" });
    const headSha = repo.branchSha("req");
    const mergeSha = repo.merge(n);
    assert.equal(repo.branchSha("main"), mergeSha);
    assert.deepEqual(repo.commitInfo(mergeSha).parents, [baseMoved, headSha]);
    assert.equal(repo.readText(mergeSha, "requests/1.yml"), "op\n");
    assert.equal(repo.readText(mergeSha, "other.txt"), "landed meanwhile\n");
    const pr = repo.pullRequestPayload(n);
    assert.deepEqual(
      [pr["merged"], pr["state"], pr["merge_commit_sha"], field(pr["head"], "sha"), field(pr["base"], "sha")],
      [true, "closed", mergeSha, headSha, baseMoved],
    );
    const files = await call("GET", `/repos/acme/merge/pulls/${n}/files`, `token ${gh.issueToken()}`);
    assert.deepEqual(Array.isArray(files.json) ? files.json.map((f) => field(f, "filename")) : null, [
      "requests/1.yml",
    ]);
  });

  test("the git data API: a blob, a tree on the head's tree, a commit and a fast-forward make one commit on the branch", async () => {
    const repo = gh.createRepo("acme/gitdata", { files: { "keep.txt": "kept\n", "old.txt": "old\n" } });
    const auth = `token ${gh.issueToken()}`;
    const head = repo.branchSha("main") ?? "";
    const ref = await call("GET", "/repos/acme/gitdata/git/ref/heads/main", auth);
    assert.deepEqual(field(ref.json, "object"), {
      type: "commit",
      sha: head,
      url: `https://api.github.com/repos/acme/gitdata/git/commits/${head}`,
    });
    const baseTree = field(
      field((await call("GET", `/repos/acme/gitdata/git/commits/${head}`, auth)).json, "tree"),
      "sha",
    );
    const blob = await call("POST", "/repos/acme/gitdata/git/blobs", auth, {
      content: Buffer.from([0, 1, 255]).toString("base64"),
      encoding: "base64",
    });
    assert.equal(blob.status, 201);
    const tree = await call("POST", "/repos/acme/gitdata/git/trees", auth, {
      base_tree: baseTree,
      tree: [
        { path: "e/bin", mode: "100644", type: "blob", sha: field(blob.json, "sha") },
        { path: "e/text", mode: "100644", type: "blob", content: "hello\n" },
        { path: "old.txt", mode: "100644", type: "blob", sha: null },
      ],
    });
    assert.equal(tree.status, 201);
    const commit = await call("POST", "/repos/acme/gitdata/git/commits", auth, {
      message: "evidence",
      tree: field(tree.json, "sha"),
      parents: [head],
    });
    assert.equal(commit.status, 201);
    const sha = String(field(commit.json, "sha"));
    assert.equal(repo.branchSha("main"), head, "a commit alone does not move the branch");
    const moved = await call("PATCH", "/repos/acme/gitdata/git/refs/heads/main", auth, { sha, force: false });
    assert.equal(moved.status, 200);
    assert.equal(repo.branchSha("main"), sha);
    assert.deepEqual(repo.commitInfo(sha), { parents: [head], message: "evidence" });
    assert.deepEqual(repo.readBytes("main", "e/bin"), Buffer.from([0, 1, 255]));
    assert.equal(repo.readText("main", "e/text"), "hello\n");
    assert.equal(repo.readText("main", "keep.txt"), "kept\n");
    assert.equal(repo.readText("main", "old.txt"), null);
    assert.equal(
      field(field((await call("GET", `/repos/acme/gitdata/git/commits/${sha}`, auth)).json, "tree"), "sha"),
      field(tree.json, "sha"),
    );
  });

  test("a branch update must be a fast forward unless forced; a protected branch refuses; a missing ref is 404", async () => {
    const repo = gh.createRepo("acme/refs");
    const auth = `token ${gh.issueToken()}`;
    const first = repo.branchSha("main") ?? "";
    const side = repo.commit("side", { "s.txt": "s\n" });
    const ahead = repo.commit("main", { "a.txt": "a\n" });
    const stale = await call("PATCH", "/repos/acme/refs/git/refs/heads/main", auth, { sha: side, force: false });
    assert.deepEqual([stale.status, field(stale.json, "message")], [422, "Update is not a fast forward"]);
    assert.equal(repo.branchSha("main"), ahead);
    assert.equal(
      (await call("PATCH", "/repos/acme/refs/git/refs/heads/main", auth, { sha: first, force: true })).status,
      200,
    );
    assert.equal(repo.branchSha("main"), first);
    repo.protectBranch("main");
    assert.equal((await call("PATCH", "/repos/acme/refs/git/refs/heads/main", auth, { sha: ahead })).status, 409);
    assert.equal(repo.branchSha("main"), first);
    assert.equal((await call("GET", "/repos/acme/refs/git/ref/heads/nope", auth)).status, 404);
    assert.equal((await call("PATCH", "/repos/acme/refs/git/refs/heads/nope", auth, { sha: first })).status, 422);
    assert.equal(
      (await call("POST", "/repos/acme/refs/git/trees", auth, { base_tree: "f".repeat(40), tree: [] })).status,
      422,
    );
  });

  test("the app may not write to a fork: git data writes answer 403 and the branch stays", async () => {
    const repo = gh.createRepo("acme/forked");
    const { fork } = repo.forkPullRequest({ forkOwner: "mallory", head: "sneaky", files: { "a.txt": "x\n" } });
    const before = fork.branchSha("sneaky") ?? "";
    const auth = `token ${gh.issueToken()}`;
    assert.equal(
      (await call("GET", "/repos/mallory/forked/git/ref/heads/sneaky", auth)).status,
      200,
      "reading is allowed",
    );
    assert.equal(
      (await call("POST", "/repos/mallory/forked/git/blobs", auth, { content: "e30=", encoding: "base64" })).status,
      403,
    );
    assert.equal(
      (
        await call("POST", "/repos/mallory/forked/git/commits", auth, {
          message: "m",
          tree: "0".repeat(40),
          parents: [before],
        })
      ).status,
      403,
    );
    const own = repo.commit("x", { "b.txt": "y\n" }, { from: "main" });
    assert.equal(
      (await call("PATCH", "/repos/mallory/forked/git/refs/heads/sneaky", auth, { sha: own, force: true })).status,
      403,
    );
    assert.equal(fork.branchSha("sneaky"), before);
  });

  const MUTATION =
    "mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";
  const commitInput = (
    repo: string,
    branch: string,
    expectedHeadOid: string,
    additions: { path: string; contents: string }[],
    more: { message?: Record<string, string>; deletions?: { path: string }[] } = {},
  ) => ({
    query: MUTATION,
    variables: {
      input: {
        branch: { repositoryNameWithOwner: repo, branchName: branch },
        message: more.message ?? { headline: "evidence" },
        expectedHeadOid,
        fileChanges: more.deletions === undefined ? { additions } : { additions, deletions: more.deletions },
      },
    },
  });
  const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString("base64");
  /** The one error of a refused mutation, as [type, message]; data.createCommitOnBranch must be null. */
  function refusalOf(answer: { status: number; json: unknown }): [unknown, unknown] {
    assert.equal(answer.status, 200, "GraphQL errors come with HTTP 200");
    assert.deepEqual(field(answer.json, "data"), { createCommitOnBranch: null });
    const errors = field(answer.json, "errors");
    assert.ok(Array.isArray(errors) && errors.length === 1);
    assert.deepEqual(field(errors[0], "path"), ["createCommitOnBranch"]);
    return [field(errors[0], "type"), field(errors[0], "message")];
  }

  test("createCommitOnBranch: one commit on the branch's tip with the files (base64) added, deleted or replaced; the branch moves", async () => {
    const repo = gh.createRepo("acme/gql", { files: { "keep.txt": "kept\n", "old.txt": "old\n" } });
    const auth = `token ${gh.issueToken()}`;
    const head = repo.branchSha("main") ?? "";
    gh.clearCalls();
    const additions = [
      { path: "e/bin", contents: b64(new Uint8Array([0, 1, 255])) },
      { path: "e/text", contents: b64("hello\n") },
    ];
    const body = commitInput("acme/gql", "main", head, additions, {
      message: { headline: "evidence", body: "for request 1" },
      deletions: [{ path: "old.txt" }],
    });
    const answer = await call("POST", "/graphql", auth, body);
    assert.equal(answer.status, 200);
    const sha = repo.branchSha("main") ?? "";
    assert.deepEqual(answer.json, { data: { createCommitOnBranch: { commit: { oid: sha } } } });
    assert.notEqual(sha, head);
    assert.deepEqual(repo.commitInfo(sha), { parents: [head], message: "evidence\n\nfor request 1" });
    assert.deepEqual(repo.readBytes("main", "e/bin"), Buffer.from([0, 1, 255]));
    assert.equal(repo.readText("main", "e/text"), "hello\n");
    assert.equal(repo.readText("main", "keep.txt"), "kept\n");
    assert.equal(repo.readText("main", "old.txt"), null);
    assert.deepEqual(
      gh.calls.map((c) => [c.method, c.path, c.status, c.auth]),
      [["POST", "/graphql", 200, "token"]],
    );
    assert.deepEqual(gh.calls[0]?.body, body, "the call log keeps the request like any other");

    // GitHub Enterprise Server's endpoint is /api/graphql; /api/v3/graphql is none.
    const tip = repo.branchSha("main") ?? "";
    gh.clearCalls();
    const ghe = await call(
      "POST",
      "/api/graphql",
      auth,
      commitInput("acme/gql", "refs/heads/main", tip, [{ path: "e/text", contents: b64("again\n") }]),
    );
    assert.deepEqual(field(field(field(ghe.json, "data"), "createCommitOnBranch"), "commit"), {
      oid: repo.branchSha("main"),
    });
    assert.equal(repo.readText("main", "e/text"), "again\n");
    assert.equal((await call("POST", "/api/v3/graphql", auth, commitInput("acme/gql", "main", tip, []))).status, 404);
    assert.deepEqual(
      gh.calls.map((c) => `${c.method} ${c.path} ${c.status}`),
      ["POST /graphql 200", "POST /api/v3/graphql 404"],
    );
  });

  test("createCommitOnBranch refusals: a fork is FORBIDDEN, a protected branch UNPROCESSABLE, a stale head STALE_DATA, no branch or repository NOT_FOUND", async () => {
    const repo = gh.createRepo("acme/gqlrefuse");
    const auth = `token ${gh.issueToken()}`;
    const head = repo.branchSha("main") ?? "";
    const add = [{ path: "x.txt", contents: b64("x\n") }];

    const { fork } = repo.forkPullRequest({ forkOwner: "mallory", head: "sneaky", files: { "a.txt": "x\n" } });
    const forkHead = fork.branchSha("sneaky") ?? "";
    assert.deepEqual(
      refusalOf(await call("POST", "/graphql", auth, commitInput("mallory/gqlrefuse", "sneaky", forkHead, add))),
      ["FORBIDDEN", "Resource not accessible by integration"],
    );
    assert.equal(fork.branchSha("sneaky"), forkHead);

    const moved = repo.commit("main", { "m.txt": "pushed meanwhile\n" });
    assert.deepEqual(
      refusalOf(await call("POST", "/graphql", auth, commitInput("acme/gqlrefuse", "main", head, add))),
      ["STALE_DATA", `Expected branch to point to "${head}" but it did not.  Pull and try again.`],
    );
    assert.equal(repo.branchSha("main"), moved);

    repo.protectBranch("main");
    const [type, message] = refusalOf(
      await call("POST", "/graphql", auth, commitInput("acme/gqlrefuse", "main", moved, add)),
    );
    assert.equal(type, "UNPROCESSABLE");
    assert.match(String(message), /Repository rule violations found/);
    assert.equal(repo.branchSha("main"), moved);

    assert.equal(
      refusalOf(await call("POST", "/graphql", auth, commitInput("acme/gqlrefuse", "nope", moved, add)))[0],
      "NOT_FOUND",
    );
    assert.equal(
      refusalOf(await call("POST", "/graphql", auth, commitInput("acme/nothere", "main", moved, add)))[0],
      "NOT_FOUND",
    );
    assert.equal(repo.readText("main", "x.txt"), null);
  });

  test("the GraphQL endpoint wants a token; input the schema refuses, and any other query, are errors without a type", async () => {
    gh.createRepo("acme/gqlinput");
    const head = gh.repo("acme/gqlinput").branchSha("main") ?? "";
    const auth = `token ${gh.issueToken()}`;
    const body = commitInput("acme/gqlinput", "main", head, [{ path: "x.txt", contents: b64("x") }]);
    assert.deepEqual(await call("POST", "/graphql", undefined, body), {
      status: 401,
      json: { message: "Requires authentication" },
      link: null,
    });
    assert.equal((await call("POST", "/graphql", "token ghs_notissued", body)).status, 401);

    const untyped = async (b: unknown): Promise<string> => {
      const answer = await call("POST", "/graphql", auth, b);
      assert.equal(answer.status, 200);
      assert.equal(field(answer.json, "data"), undefined);
      const errors = field(answer.json, "errors");
      assert.ok(Array.isArray(errors) && errors.length === 1 && field(errors[0], "type") === undefined);
      return String(field(errors[0], "message"));
    };
    assert.match(
      await untyped(commitInput("acme/gqlinput", "main", head, [{ path: "x.txt", contents: "not base64!" }])),
      /invalid value for fileChanges\.additions\.0\.contents/,
    );
    assert.match(await untyped(commitInput("acme/gqlinput", "main", "abc", [])), /invalid value for expectedHeadOid/);
    assert.match(
      await untyped(commitInput("acme/gqlinput", "main", head, [{ path: "../x", contents: "eA==" }])),
      /invalid value for fileChanges\.additions\.0\.path/,
    );
    assert.match(await untyped({ ...body, query: "query { viewer { login } }" }), /fake GraphQL API supports only/);
    assert.match(
      await untyped({ ...body, query: MUTATION.replace("commit { oid }", "commit { oid url }") }),
      /supports only/,
    );
    assert.equal(gh.repo("acme/gqlinput").branchSha("main"), head, "nothing moved");
  });

  test("check run output: 65,535 bytes of UTF-8 pass, one byte more is GitHub's 422 naming the field, and nothing changes", async () => {
    const repo = gh.createRepo("acme/bytes");
    const head = repo.branchSha("main");
    const token = `token ${gh.issueToken()}`;
    const post = (output: Record<string, unknown>) =>
      call("POST", "/repos/acme/bytes/check-runs", token, {
        name: "quorum",
        head_sha: head,
        output: { title: "t", ...output },
      });
    assert.equal((await post({ summary: "界".repeat(21845) })).status, 201, "CJK at the limit");
    assert.equal((await post({ summary: "s", text: `${"😀".repeat(16383)}ab` })).status, 201, "emoji one byte under");
    const refused = await post({ summary: `${"界".repeat(21845)}a` });
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.json, {
      message: "Validation Failed",
      errors: [
        {
          resource: "CheckRun",
          code: "custom",
          field: "summary",
          message: "summary exceeds a maximum bytesize of 65535",
        },
      ],
      documentation_url: "https://docs.github.com/rest/checks/runs#create-a-check-run",
      status: "422",
    });
    // 16,384 emoji are 32,768 UTF-16 units: a length check would have let them through.
    const text = await post({ summary: "s", text: "😀".repeat(16384) });
    assert.equal(text.status, 422);
    assert.match(
      JSON.stringify(field(text.json, "errors")),
      /"field":"text","message":"text exceeds a maximum bytesize of 65535"/,
    );
    const id = String(field((await post({ summary: "s" })).json, "id"));
    const patched = await call("PATCH", `/repos/acme/bytes/check-runs/${id}`, token, {
      output: { title: "t2", summary: "😀".repeat(16384) },
    });
    assert.equal(patched.status, 422);
    assert.equal(
      field(patched.json, "documentation_url"),
      "https://docs.github.com/rest/checks/runs#update-a-check-run",
    );
    assert.equal(
      field(
        field(
          repo.checkRuns(head).find((c) => String(c["id"]) === id),
          "output",
        ),
        "title",
      ),
      "t",
      "a refused update changes nothing",
    );
  });

  test("check run annotations: 50 a request pass and add up; 51 are refused as GitHub refuses them", async () => {
    const repo = gh.createRepo("acme/annotations");
    const head = repo.branchSha("main");
    const token = `token ${gh.issueToken()}`;
    const annotations = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        path: "README.md",
        start_line: 1,
        end_line: 1,
        annotation_level: "notice",
        message: `note ${i}`,
      }));
    const created = await call("POST", "/repos/acme/annotations/check-runs", token, {
      name: "quorum",
      head_sha: head,
      output: { title: "t", summary: "s", annotations: annotations(50) },
    });
    assert.equal(created.status, 201);
    const id = String(field(created.json, "id"));
    const more = await call("PATCH", `/repos/acme/annotations/check-runs/${id}`, token, {
      output: { title: "t", summary: "s", annotations: annotations(50) },
    });
    assert.equal(field(field(more.json, "output"), "annotations_count"), 100);
    const tooMany = await call("PATCH", `/repos/acme/annotations/check-runs/${id}`, token, {
      output: { title: "t", summary: "s", annotations: annotations(51) },
    });
    assert.equal(tooMany.status, 422);
    assert.equal(
      field(tooMany.json, "message"),
      "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied.",
    );
    const posted = await call("POST", "/repos/acme/annotations/check-runs", token, {
      name: "other",
      head_sha: head,
      output: { title: "t", summary: "s", annotations: annotations(51) },
    });
    assert.equal(posted.status, 422);
    assert.equal(repo.checkRuns(head).length, 1, "the refused create made nothing");
    assert.equal(field(field(repo.checkRuns(head)[0], "output"), "annotations_count"), 100);
  });

  test("a comment body: 65,536 code points pass (emoji included), one more is GitHub's 422", async () => {
    const repo = gh.createRepo("acme/comments");
    const n = repo.openPullRequest({ head: "req", files: { "requests/1.yml": "x\n" } });
    const token = `token ${gh.issueToken()}`;
    const post = (body: string) => call("POST", `/repos/acme/comments/issues/${n}/comments`, token, { body });
    assert.equal((await post("😀".repeat(65536))).status, 201);
    assert.equal((await post("界".repeat(65535))).status, 201);
    const refused = await post(`${"😀".repeat(65536)}a`);
    assert.equal(refused.status, 422);
    assert.deepEqual(field(refused.json, "errors"), [
      {
        resource: "IssueComment",
        code: "custom",
        field: "body",
        message: "body is too long (maximum is 65536 characters)",
      },
    ]);
    const id = String(field((await post("short")).json, "id"));
    assert.equal(
      (await call("PATCH", `/repos/acme/comments/issues/comments/${id}`, token, { body: "😀".repeat(65537) })).status,
      422,
    );
    assert.equal(field((await call("GET", `/repos/acme/comments/issues/comments/${id}`, token)).json, "body"), "short");
  });

  test("check runs need a GitHub App token, and only the creating app may update one", async () => {
    const repo = gh.createRepo("acme/checks");
    const head = repo.branchSha("main");
    const user = `token ${gh.issueToken({ user: "alice", appId: null })}`;
    assert.equal(
      (await call("POST", "/repos/acme/checks/check-runs", user, { name: "quorum", head_sha: head })).status,
      403,
    );
    const created = await call("POST", "/repos/acme/checks/check-runs", `token ${gh.issueToken()}`, {
      name: "quorum",
      head_sha: head,
      status: "in_progress",
    });
    assert.equal(created.status, 201);
    const other = `token ${gh.issueToken({ user: "other[bot]", appId: 99 })}`;
    assert.equal(
      (
        await call("PATCH", `/repos/acme/checks/check-runs/${String(field(created.json, "id"))}`, other, {
          status: "completed",
          conclusion: "success",
        })
      ).status,
      403,
    );
    assert.equal(field(repo.checkRuns(head)[0], "status"), "in_progress");
  });
});
