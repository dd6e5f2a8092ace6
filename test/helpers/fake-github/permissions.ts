// The installation's permissions, as GitHub enforces them on an App's token: read from the App
// manifest (`app.yml`, `default_permissions`), checked on every route before its handler runs,
// and a request they do not allow answered 403 with GitHub's body. So a permission missing from
// the manifest fails the tests that need it (docs/testing.md).
//
// Where the table comes from: @octokit/openapi describes operations but carries no permissions
// (its `x-github` has category, subcategory, previews...), and no Octokit package ships them.
// GitHub publishes them in its REST reference, under "Fine-grained access tokens" of each
// operation ("Permissions required for GitHub Apps"); the rules below are those, for the routes
// this fake serves. A route of the fake without a rule here is a bug of the fake (answered 500),
// so a new route cannot slip through unchecked.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { HttpFailure } from "./http-io.ts";

export type Access = "read" | "write";
/** Permission name (as in `default_permissions`: `checks`, `pull_requests`...) → access. */
export type Permissions = Readonly<Record<string, Access>>;

interface Rule {
  /** Allowed when the token holds every permission of at least one of these sets. */
  readonly anyOf: readonly Permissions[];
  /** The operation's page of the REST reference, as GitHub's 403 names it. */
  readonly docs: string;
}

const REST = "https://docs.github.com/rest";
const rule = (docs: string, ...anyOf: Permissions[]): Rule => ({ anyOf, docs: `${REST}/${docs}` });

/** `METHOD template`, with the templates exactly as the route files write them. */
const RULES: Readonly<Record<string, Rule>> = {
  "GET /repos/:owner/:repo": rule("repos/repos#get-a-repository", { metadata: "read" }),
  "GET /repos/:owner/:repo/contents/*path": rule("repos/contents#get-repository-content", { contents: "read" }),
  "GET /repos/:owner/:repo/git/blobs/:sha": rule("git/blobs#get-a-blob", { contents: "read" }),
  "POST /repos/:owner/:repo/git/blobs": rule("git/blobs#create-a-blob", { contents: "write" }),
  "POST /repos/:owner/:repo/git/trees": rule("git/trees#create-a-tree", { contents: "write" }),
  "GET /repos/:owner/:repo/git/commits/:sha": rule("git/commits#get-a-commit-object", { contents: "read" }),
  "POST /repos/:owner/:repo/git/commits": rule("git/commits#create-a-commit", { contents: "write" }),
  "GET /repos/:owner/:repo/git/ref/*ref": rule("git/refs#get-a-reference", { contents: "read" }),
  "PATCH /repos/:owner/:repo/git/refs/*ref": rule("git/refs#update-a-reference", { contents: "write" }),
  "POST /repos/:owner/:repo/git/refs": rule("git/refs#create-a-reference", { contents: "write" }),
  "DELETE /repos/:owner/:repo/git/refs/*ref": rule("git/refs#delete-a-reference", { contents: "write" }),
  "GET /repos/:owner/:repo/pulls/:number": rule("pulls/pulls#get-a-pull-request", { pull_requests: "read" }),
  "GET /repos/:owner/:repo/pulls/:number/files": rule("pulls/pulls#list-pull-requests-files", {
    pull_requests: "read",
  }),
  "GET /repos/:owner/:repo/pulls/:number/reviews": rule("pulls/reviews#list-reviews-for-a-pull-request", {
    pull_requests: "read",
  }),
  "GET /repos/:owner/:repo/pulls/:number/comments": rule("pulls/comments#list-review-comments-on-a-pull-request", {
    pull_requests: "read",
  }),
  "GET /repos/:owner/:repo/commits/:sha/pulls": rule("commits/commits#list-pull-requests-associated-with-a-commit", {
    pull_requests: "read",
  }),
  // A pull request's conversation is an issue's: either permission opens its comments.
  "GET /repos/:owner/:repo/issues/:number/comments": rule(
    "issues/comments#list-issue-comments",
    { issues: "read" },
    { pull_requests: "read" },
  ),
  "POST /repos/:owner/:repo/issues/:number/comments": rule(
    "issues/comments#create-an-issue-comment",
    { issues: "write" },
    { pull_requests: "write" },
  ),
  "GET /repos/:owner/:repo/issues/comments/:id": rule(
    "issues/comments#get-an-issue-comment",
    { issues: "read" },
    { pull_requests: "read" },
  ),
  "PATCH /repos/:owner/:repo/issues/comments/:id": rule(
    "issues/comments#update-an-issue-comment",
    { issues: "write" },
    { pull_requests: "write" },
  ),
  "DELETE /repos/:owner/:repo/issues/comments/:id": rule(
    "issues/comments#delete-an-issue-comment",
    { issues: "write" },
    { pull_requests: "write" },
  ),
  "GET /repos/:owner/:repo/commits/:ref/check-runs": rule("checks/runs#list-check-runs-for-a-git-reference", {
    checks: "read",
  }),
  "POST /repos/:owner/:repo/check-runs": rule("checks/runs#create-a-check-run", { checks: "write" }),
  "GET /repos/:owner/:repo/check-runs/:id": rule("checks/runs#get-a-check-run", { checks: "read" }),
  "PATCH /repos/:owner/:repo/check-runs/:id": rule("checks/runs#update-a-check-run", { checks: "write" }),
  // GraphQL answers a refusal with HTTP 200 and a FORBIDDEN error, per field: routes/graphql.ts
  // asks `holds` itself (createCommitOnBranch: contents write).
  // Any token may ask; the route itself answers an App's token 403, as GitHub does (it is no user).
  "GET /user": rule("users/users#get-the-authenticated-user"),
  "POST /graphql": rule("graphql"),
};

/** The mutation's own rule (the GraphQL reference lists no permissions; this is the git data API's). */
export const COMMIT_ON_BRANCH_NEEDS: Permissions = { contents: "write" };

const ACCESS = ["read", "write"] as const;

/** `default_permissions` of an App manifest. GitHub grants `metadata: read` to every App. */
export function readManifestPermissions(path: string): Permissions {
  const doc: unknown = parse(readFileSync(path, "utf8"));
  const given =
    typeof doc === "object" && doc !== null && "default_permissions" in doc ? doc.default_permissions : undefined;
  if (typeof given !== "object" || given === null || Array.isArray(given))
    throw new Error(`[fake-github] ${path} has no default_permissions`);
  const out: Record<string, Access> = { metadata: "read" };
  for (const [name, level] of Object.entries(given)) {
    const access = ACCESS.find((a) => a === level);
    if (access === undefined)
      throw new Error(`[fake-github] ${path}: permission ${name} is ${JSON.stringify(level)}, not read or write`);
    out[name] = access;
  }
  return out;
}

const REPO_MANIFEST = fileURLToPath(new URL("../../../app.yml", import.meta.url));
let repoManifest: Permissions | undefined;

/** The repository's own `app.yml`, read once per process. */
export function repositoryManifestPermissions(): Permissions {
  repoManifest ??= readManifestPermissions(REPO_MANIFEST);
  return repoManifest;
}

/** Write includes read, as on GitHub. */
export function holds(held: Permissions, need: Permissions): boolean {
  return Object.entries(need).every(([name, access]) => held[name] === "write" || held[name] === access);
}

export function ruleFor(method: string, template: string): Rule {
  const found = RULES[`${method} ${template}`];
  if (found === undefined)
    throw new Error(
      `[fake-github] no permission rule for ${method} ${template} (test/helpers/fake-github/permissions.ts)`,
    );
  return found;
}

/** GitHub's answer to an App's token that lacks the permission. */
export function forbidden(docs: string): HttpFailure {
  return new HttpFailure(403, "Resource not accessible by integration", {
    message: "Resource not accessible by integration",
    documentation_url: docs,
    status: "403",
  });
}

/** Throws GitHub's 403 unless `held` (null: a user's token, not limited by App permissions) allows the route. */
export function checkPermissions(held: Permissions | null, method: string, template: string): void {
  const r = ruleFor(method, template);
  if (held === null || r.anyOf.length === 0) return;
  if (!r.anyOf.some((need) => holds(held, need))) throw forbidden(r.docs);
}
