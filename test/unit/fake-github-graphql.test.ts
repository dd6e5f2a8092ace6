// The fake's /graphql holds documents and variables to GitHub's schema (@octokit/graphql-schema)
// before its own reading: a field GitHub's schema lacks or a variable of the wrong type gets
// GitHub's answer (HTTP 200, `errors`, no `data`) and nothing is committed; a document GitHub
// would run but the fake does not serve says so.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startFakeGitHub, type FakeGitHub, type FakeRepo } from "../helpers/fake-github.ts";

const MUTATION =
  "mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";

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
