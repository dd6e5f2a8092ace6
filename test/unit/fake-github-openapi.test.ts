// The fake GitHub holds requests and its own answers to GitHub's REST description
// (@octokit/openapi): a body GitHub's schema refuses gets GitHub's 422 before the route runs and
// changes nothing, and an answer of the fake that breaks the description is a 500 that also fails
// the test at close(). The validator's keyword handling is checked on small schemas.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.ts";
import { validate } from "../helpers/fake-github/json-schema.ts";
import { description, responseProblems } from "../helpers/fake-github/openapi.ts";

let gh: FakeGitHub;
let token: string;
let head: string;

before(async () => {
  gh = await startFakeGitHub();
  const repo = gh.createRepo("acme/hsm");
  head = repo.branchSha("main") ?? "";
  token = `token ${gh.issueToken()}`;
});
after(async () => {
  await gh.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers: { authorization: token, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? undefined : JSON.parse(text) };
}

function field(json: unknown, key: string): unknown {
  return typeof json === "object" && json !== null ? Object.fromEntries(Object.entries(json))[key] : undefined;
}

const CREATE_DOCS = "https://docs.github.com/rest/reference/checks#create-a-check-run";

/** GitHub's 422 for a body its schema refuses, and no check run was made. */
async function refusedCreate(body: unknown, message: string): Promise<void> {
  const before = gh.repo("acme/hsm").checkRuns().length;
  const res = await call("POST", "/repos/acme/hsm/check-runs", body);
  assert.equal(res.status, 422, JSON.stringify(res.json));
  assert.deepEqual(res.json, {
    message: `Invalid request.\n\n${message}`,
    documentation_url: CREATE_DOCS,
    status: "422",
  });
  assert.equal(gh.repo("acme/hsm").checkRuns().length, before, "a refused request changes nothing");
}

describe("the fake refuses request bodies GitHub's description refuses", () => {
  test("a valid check run passes, and its answer fits the description", async () => {
    const res = await call("POST", "/repos/acme/hsm/check-runs", { name: "quorum", head_sha: head, status: "queued" });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.deepEqual(gh.violations, []);
  });

  test("an unknown status or conclusion is not a member of the enum", async () => {
    await refusedCreate(
      { name: "quorum", head_sha: head, status: "done" },
      `For 'properties/status', "done" is not a member of ["queued", "in_progress", "completed"].`,
    );
    await refusedCreate(
      { name: "quorum", head_sha: head, conclusion: "passed" },
      `For 'properties/conclusion', "passed" is not a member of ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"].`,
    );
  });

  test("a wrong type and a missing required field", async () => {
    await refusedCreate({ name: 7, head_sha: head }, "For 'properties/name', 7 is not a string.");
    await refusedCreate({ head_sha: head }, `"name" wasn't supplied.`);
    await refusedCreate(
      { name: "quorum", head_sha: head, output: { title: "t" } },
      `For 'properties/output', "summary" wasn't supplied.`,
    );
    await refusedCreate(
      {
        name: "quorum",
        head_sha: head,
        output: { title: "t", summary: "s", annotations: [{ path: "a", start_line: 1, end_line: "2" }] },
      },
      `For 'properties/output/properties/annotations/items', "annotation_level" wasn't supplied.`,
    );
  });

  test("more annotations than the description's maxItems", async () => {
    const annotations = Array.from({ length: 51 }, (_, i) => ({
      path: "README.md",
      start_line: i + 1,
      end_line: i + 1,
      annotation_level: "notice",
      message: "m",
    }));
    await refusedCreate(
      { name: "quorum", head_sha: head, output: { title: "t", summary: "s", annotations } },
      "No more than 50 items are allowed; 51 were supplied.",
    );
  });

  test("an update that completes without a conclusion matches no branch of the anyOf", async () => {
    const created = await call("POST", "/repos/acme/hsm/check-runs", { name: "upd", head_sha: head });
    const id = String(field(created.json, "id"));
    const res = await call("PATCH", `/repos/acme/hsm/check-runs/${id}`, { status: "completed" });
    assert.equal(res.status, 422);
    assert.match(String(field(res.json, "message")), /^Invalid request\.\n\nNo subschema in "anyOf" matched\./);
    const after = await call("GET", `/repos/acme/hsm/check-runs/${id}`);
    assert.equal(field(after.json, "status"), "queued", "the refused update changed nothing");
  });

  test("a query parameter outside its enum", async () => {
    const res = await call("GET", `/repos/acme/hsm/commits/${head}/check-runs?filter=newest`);
    assert.equal(res.status, 422);
    assert.equal(
      field(res.json, "message"),
      `Invalid request.\n\nFor 'filter', "newest" is not a member of ["latest", "all"].`,
    );
  });
});

describe("the fake's own answers are held to the description", () => {
  test("an answer missing a required field, or with one of the wrong type, is named", async () => {
    const d = description([{ method: "GET", template: "/repos/:owner/:repo/check-runs/:id" }]);
    const op = d.operation("GET", "/repos/:owner/:repo/check-runs/:id");
    assert.ok(op !== null);
    const created = await call("POST", "/repos/acme/hsm/check-runs", { name: "shape", head_sha: head });
    const answer = Object.fromEntries(Object.entries(created.json ?? {}));
    assert.deepEqual(responseProblems(d, op, 200, answer), []);
    const { node_id: _, ...missing } = answer;
    assert.deepEqual(responseProblems(d, op, 200, missing), [`(top): "node_id" wasn't supplied.`]);
    assert.deepEqual(responseProblems(d, op, 200, { ...answer, status: "done" }), [
      `status: "done" is not a member of ["queued", "in_progress", "completed", "waiting", "requested", "pending"].`,
    ]);
    assert.deepEqual(responseProblems(d, op, 201, answer), [
      "the description has no 201 answer for GET /repos/{owner}/{repo}/check-runs/{check_run_id}",
    ]);
  });

  test("the server answers a broken answer 500, records it, and close() rejects", async () => {
    const broken = await startFakeGitHub();
    const repo = broken.createRepo("acme/broken");
    const n = repo.openPullRequest({ head: "req-1", files: { "a.txt": "a\n" } });
    // A fake bug, staged: the model holds a comment body GitHub would never send (it is a string).
    repo.addComment(n, "alice", null as unknown as string);
    const res = await fetch(`${broken.url}/repos/acme/broken/issues/${n}/comments`, {
      headers: { authorization: `token ${broken.issueToken()}` },
    });
    assert.equal(res.status, 500);
    assert.match(String(field(await res.json(), "message")), /0\.body: nil is not a string\./);
    assert.equal(broken.violations.length, 1);
    assert.match(broken.violations[0] ?? "", /GET \/repos\/\{owner\}\/\{repo\}\/issues\/\{issue_number\}\/comments/);
    await assert.rejects(broken.close(), /1 answer\(s\) broke GitHub's description/);
  });
});

describe("json-schema.ts: the keywords the description uses", () => {
  const resolve = (ref: string): Readonly<Record<string, unknown>> => {
    if (ref === "#/components/schemas/n") return { type: "integer", minimum: 1, maximum: 3 };
    throw new Error(ref);
  };
  const problems = (schema: unknown, value: unknown): string[] =>
    validate(schema, value, { resolve }).map((e) => `${e.at.join(".")}|${e.problem}`);

  test("nullable, $ref, bounds, pattern, lengths in code points", () => {
    assert.deepEqual(problems({ type: "string", nullable: true }, null), []);
    assert.deepEqual(problems({ type: "string" }, null), ["|nil is not a string."]);
    assert.deepEqual(problems({ $ref: "#/components/schemas/n" }, 4), ["|4 is greater than the maximum of 3."]);
    assert.deepEqual(problems({ $ref: "#/components/schemas/n" }, 1.5), ["|1.5 is not an integer."]);
    assert.deepEqual(problems({ type: "string", pattern: "^[a-f0-9]{40}$" }, "xyz"), [
      '|"xyz" does not match /^[a-f0-9]{40}$/.',
    ]);
    assert.deepEqual(problems({ type: "string", maxLength: 2 }, "😀😀"), []);
    assert.deepEqual(problems({ type: "string", minLength: 3 }, "😀😀"), [
      '|"😀😀" is shorter than the minimum length of 3.',
    ]);
  });

  test("additionalProperties, oneOf with two matches, allOf, items", () => {
    assert.deepEqual(problems({ type: "object", properties: { a: {} }, additionalProperties: false }, { a: 1, b: 2 }), [
      '|"b" is not a permitted key.',
    ]);
    assert.deepEqual(problems({ oneOf: [{ type: "integer" }, { type: "number" }] }, 2), [
      '|More than one subschema in "oneOf" matched (2 of 2).',
    ]);
    assert.deepEqual(problems({ allOf: [{ type: "object", required: ["x"] }] }, {}), ['|"x" wasn\'t supplied.']);
    assert.deepEqual(problems({ type: "array", items: { type: "boolean" }, minItems: 1 }, [true, 0]), [
      "1|0 is not a boolean.",
    ]);
  });

  test("a keyword neither checked nor ignored is an error, not a silent pass", () => {
    assert.throws(
      () => problems({ type: "string", const: "x" }, "y"),
      /keyword "const" is neither checked nor ignored/,
    );
  });
});
