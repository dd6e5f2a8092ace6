// The GraphQL endpoint (POST /graphql; GitHub Enterprise Server's /api/graphql reaches it too),
// with the one operation the port sends: the `createCommitOnBranch` mutation selecting
// `commit { oid }`, on the fake's git model. Anything else is answered with an error saying the
// fake does not support it, rather than a guess.
//
// As on GitHub, errors come back with HTTP 200 and an `errors` list. A refusal of the mutation
// is `data: { createCommitOnBranch: null }` with one error of a `type`: NOT_FOUND (no such
// repository or branch), FORBIDDEN (the app is not installed there, e.g. a fork: what
// requireWrite answers 403 for in REST), UNPROCESSABLE (a protected branch, as GitHub's rulesets
// refuse) and STALE_DATA (`expectedHeadOid` is not the branch's tip). An input that does not fit
// the schema is an error without a type and without `data`, as GitHub's variable checks answer:
// GitHub's schema itself (graphql-schema.ts) refuses first, this file's reading catches what the
// schema's custom scalars let through (a GitObjectID or Base64String that is none).
import { applyChanges, commitOf, makeCommit, type FileChanges } from "../git.ts";
import type { Reply } from "../http-io.ts";
import { graphqlRefusal } from "../graphql-schema.ts";
import { repoKey, type FakeState } from "../model.ts";
import { COMMIT_ON_BRANCH_NEEDS, holds, type Permissions } from "../permissions.ts";
import { bodyObject, route, type Route } from "../router.ts";

/** `mutation [Name]($v: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $v) { commit { oid } } }`, any spacing. */
const COMMIT_ON_BRANCH =
  /^mutation(?:\s+[_A-Za-z][_0-9A-Za-z]*)?\s*\(\s*\$([_A-Za-z][_0-9A-Za-z]*)\s*:\s*CreateCommitOnBranchInput!\s*\)\s*\{\s*createCommitOnBranch\s*\(\s*input\s*:\s*\$([_A-Za-z][_0-9A-Za-z]*)\s*\)\s*\{\s*commit\s*\{\s*oid\s*\}\s*\}\s*\}$/;
const OID = /^[0-9a-f]{40}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An input the schema would not accept: GitHub answers these before running anything. */
class InputError extends Error {}

/** The mutation ran and refused: `data.createCommitOnBranch` is null and the error has a type. */
class FieldError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

type Json = Readonly<Record<string, unknown>>;

function object(value: unknown, where: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where} (Expected an object)`,
    );
  return Object.fromEntries(Object.entries(value));
}

function string(o: Json, key: string, where: string, required = true): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (!required) return undefined;
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where}${key} (Expected value to not be null)`,
    );
  }
  if (typeof v !== "string")
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where}${key} (Could not coerce value to String)`,
    );
  return v;
}

function list(o: Json, key: string, where: string): readonly unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v))
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where}${key} (Expected a list)`,
    );
  return v;
}

function checkPath(path: string, where: string): string {
  if (path === "" || path.startsWith("/") || path.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new InputError(
      `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for ${where} ([fake-github] not a repository file path)`,
    );
  }
  return path;
}

interface CommitInput {
  readonly nameWithOwner: string;
  readonly branch: string;
  readonly message: string;
  readonly expectedHeadOid: string;
  readonly changes: FileChanges;
}

function parseInput(value: unknown): CommitInput {
  const input = object(value, "input");
  const branch = object(input["branch"], "branch");
  if (branch["id"] !== undefined)
    throw new InputError(
      "[fake-github] branch.id is not supported: name the branch with repositoryNameWithOwner and branchName",
    );
  const nameWithOwner = string(branch, "repositoryNameWithOwner", "branch.") ?? "";
  // GitHub takes the branch with or without refs/heads/.
  const branchName = (string(branch, "branchName", "branch.") ?? "").replace(/^refs\/heads\//, "");
  const message = object(input["message"], "message");
  const headline = string(message, "headline", "message.") ?? "";
  const body = string(message, "body", "message.", false);
  const expectedHeadOid = string(input, "expectedHeadOid", "") ?? "";
  if (!OID.test(expectedHeadOid))
    throw new InputError(
      "Variable $input of type CreateCommitOnBranchInput! was provided invalid value for expectedHeadOid (Could not coerce value to GitObjectID)",
    );
  const fileChanges =
    input["fileChanges"] === undefined || input["fileChanges"] === null
      ? {}
      : object(input["fileChanges"], "fileChanges");
  const changes: Record<string, Uint8Array | null> = {};
  for (const [i, raw] of list(fileChanges, "deletions", "fileChanges.").entries()) {
    const where = `fileChanges.deletions.${i}.path`;
    changes[
      checkPath(string(object(raw, `fileChanges.deletions.${i}`), "path", `fileChanges.deletions.${i}.`) ?? "", where)
    ] = null;
  }
  for (const [i, raw] of list(fileChanges, "additions", "fileChanges.").entries()) {
    const addition = object(raw, `fileChanges.additions.${i}`);
    const path = checkPath(
      string(addition, "path", `fileChanges.additions.${i}.`) ?? "",
      `fileChanges.additions.${i}.path`,
    );
    const contents = string(addition, "contents", `fileChanges.additions.${i}.`) ?? "";
    if (!BASE64.test(contents))
      throw new InputError(
        `Variable $input of type CreateCommitOnBranchInput! was provided invalid value for fileChanges.additions.${i}.contents (Could not coerce value to Base64String)`,
      );
    if (path in changes) throw new InputError(`[fake-github] ${JSON.stringify(path)} is changed twice in fileChanges`);
    changes[path] = Buffer.from(contents, "base64");
  }
  return {
    nameWithOwner,
    branch: branchName,
    message: body === undefined || body === "" ? headline : `${headline}\n\n${body}`,
    expectedHeadOid,
    changes,
  };
}

/** The mutation on the fake's git model; returns the new commit's SHA or throws a FieldError. */
function commitOnBranch(state: FakeState, input: CommitInput, permissions: Permissions | null): string {
  const repo = state.repos.get(repoKey(input.nameWithOwner));
  if (repo === undefined)
    throw new FieldError("NOT_FOUND", `Could not resolve to a Repository with the name '${input.nameWithOwner}'.`);
  // Not installed there (a fork), or installed without the permission: the same refusal.
  if (!repo.installed || (permissions !== null && !holds(permissions, COMMIT_ON_BRANCH_NEEDS)))
    throw new FieldError("FORBIDDEN", "Resource not accessible by integration");
  const tip = repo.branches.get(input.branch);
  if (tip === undefined)
    throw new FieldError("NOT_FOUND", `Could not resolve to a Ref with the name 'refs/heads/${input.branch}'.`);
  if (repo.protectedBranches.has(input.branch))
    throw new FieldError(
      "UNPROCESSABLE",
      "Repository rule violations found\n\nChanges must be made through a pull request.\n",
    );
  if (tip !== input.expectedHeadOid)
    throw new FieldError(
      "STALE_DATA",
      `Expected branch to point to "${input.expectedHeadOid}" but it did not.  Pull and try again.`,
    );
  const commit = makeCommit(state, [tip], applyChanges(state, commitOf(state, tip).tree, input.changes), input.message);
  repo.branches.set(input.branch, commit.sha);
  return commit.sha;
}

function errors(list: readonly object[], data?: Json): Reply {
  return { status: 200, body: data === undefined ? { errors: list } : { data, errors: list } };
}

export const graphqlRoutes: readonly Route[] = [
  route("POST", "/graphql", "token", (ctx) => {
    // The "token" route already refused a request without a valid token (HTTP 401, as GitHub).
    const body = bodyObject(ctx);
    const given = body["query"];
    if (typeof given !== "string")
      return errors([{ message: "A query attribute must be specified and must be a string." }]);
    const rawVariables = body["variables"];
    const operationName = typeof body["operationName"] === "string" ? body["operationName"] : null;
    // GitHub's schema first: a document or variables it refuses never reach the fake's own reading.
    const refused = graphqlRefusal(
      given,
      operationName,
      typeof rawVariables === "object" && rawVariables !== null && !Array.isArray(rawVariables)
        ? Object.fromEntries(Object.entries(rawVariables))
        : {},
    );
    if (refused !== null) return errors(refused);
    const query = given.trim();
    const m = COMMIT_ON_BRANCH.exec(query);
    if (m === null || m[1] !== m[2]) {
      return errors([
        {
          message:
            "[fake-github] this fake GraphQL API supports only `mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }`",
        },
      ]);
    }
    const variables = body["variables"] === undefined || body["variables"] === null ? {} : body["variables"];
    try {
      const input = parseInput(
        typeof variables === "object" && !Array.isArray(variables)
          ? Object.fromEntries(Object.entries(variables))[m[1] ?? ""]
          : undefined,
      );
      const oid = commitOnBranch(ctx.state, input, ctx.identity?.permissions ?? null);
      return { status: 200, body: { data: { createCommitOnBranch: { commit: { oid } } } } };
    } catch (err) {
      if (err instanceof FieldError)
        return errors([{ type: err.type, path: ["createCommitOnBranch"], message: err.message }], {
          createCommitOnBranch: null,
        });
      if (err instanceof InputError) return errors([{ message: err.message }]);
      throw err;
    }
  }),
];
