// GitHub's GraphQL schema (`@octokit/graphql-schema`, schema.graphql) as the fake's /graphql
// checks a request with it before running anything
// (docs/testing.md, "The fake refuses what GitHub refuses"): the document must validate and the
// variables must coerce to the operation's variable types, or the answer is GitHub's: HTTP 200,
// `errors`, no `data`.
//
// Cost: building the whole schema (1.2 MB of SDL) takes over a second, which every process that
// sends one request would pay. So the fast path is a pruned schema: the root fields the fake
// serves (createCommitOnBranch, and the reads of PULL_REQUEST_SNAPSHOT_QUERY under
// `repository`) with the complete closure of their input types, and of every object and
// interface type it reaches only the scalar and enum fields, plus the paths listed in SERVED.
// Interface relations are kept: an object keeps its interfaces (each kept with its leaf fields),
// and an interface that a kept field returns (GitObject, Actor) keeps every object implementing
// it, so `... on Commit` and `author { __typename }` validate here and execute (graphql-js
// resolves an abstract value by its `__typename`). It is a subset of GitHub's schema (fields and
// types removed, none changed), so a document and variables valid against it are valid against
// GitHub's; it is cached as SDL in node_modules/.cache and costs milliseconds. Only a request it
// refuses pays for the whole schema, to tell "GitHub refuses this" (its errors) from "valid, but
// the fake does not serve it".
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type {
  DefinitionNode,
  DocumentNode,
  ExecutionResult,
  FieldDefinitionNode,
  GraphQLError,
  GraphQLFieldResolver,
  GraphQLSchema,
  InterfaceTypeDefinitionNode,
  NamedTypeNode,
  ObjectTypeDefinitionNode,
  OperationDefinitionNode,
  TypeNode,
} from "graphql";

type GraphqlJs = typeof import("graphql");
let loadedGraphql: GraphqlJs | undefined;
/**
 * graphql-js, required on the first GraphQL request: importing it costs ~70 ms, which most
 * processes that start a fake (REST only) need not pay. Only this file uses it, so the CommonJS
 * copy it gets is the only one its schemas and errors meet.
 */
function gql(): GraphqlJs {
  loadedGraphql ??= createRequire(import.meta.url)("graphql") as GraphqlJs;
  return loadedGraphql;
}

const SCHEMA_FILE = fileURLToPath(
  new URL("../../../node_modules/@octokit/graphql-schema/schema.graphql", import.meta.url),
);
const CACHE_DIR = fileURLToPath(new URL("../../../node_modules/.cache/quorum-gate-fake-github/", import.meta.url));

/** The connections the fake serves: each keeps `nodes` and `pageInfo` (and its leaf `totalCount`). */
const CONNECTIONS = [
  "PullRequestCommitConnection",
  "PullRequestChangedFileConnection",
  "IssueCommentConnection",
  "PullRequestReviewConnection",
  "PullRequestReviewThreadConnection",
  "PullRequestReviewCommentConnection",
  "CheckSuiteConnection",
  "CheckRunConnection",
] as const;

/**
 * `Type.field` paths kept in the pruned schema beyond scalar and enum fields: what routes/graphql.ts
 * serves (it answers any other field a document reaches with a "[fake-github] ... not supported"
 * error). `Query.rateLimit` stays from the time `Query` needed one field to be a schema at all.
 */
const SERVED = [
  "Query.rateLimit",
  "Query.repository",
  "Mutation.createCommitOnBranch",
  "CreateCommitOnBranchPayload.commit",
  "Repository.pullRequest",
  "PullRequest.author",
  "PullRequest.mergeCommit",
  "PullRequest.headRepository",
  "PullRequest.baseRef",
  "PullRequest.commits",
  "PullRequest.files",
  "PullRequest.comments",
  "PullRequest.reviews",
  "PullRequest.reviewThreads",
  "Ref.target",
  "Commit.file",
  "Commit.checkSuites",
  "TreeEntry.object",
  "CheckSuite.app",
  "CheckSuite.checkRuns",
  "PullRequestCommit.commit",
  "IssueComment.author",
  "PullRequestReview.author",
  "PullRequestReviewComment.author",
  "PullRequestReviewThread.comments",
  ...CONNECTIONS.flatMap((c) => [`${c}.nodes`, `${c}.pageInfo`]),
] as const;
/** Bump when prune() changes, so that no process reads an SDL an older prune() wrote. */
const PRUNE_VERSION = 2;
const BUILT_IN_SCALARS = new Set(["String", "Int", "Float", "Boolean", "ID"]);

function namedType(t: TypeNode): string {
  return t.kind === gql().Kind.NAMED_TYPE ? t.name.value : namedType(t.type);
}

/** A node without its description: the pruned SDL is for machines, and smaller without them. */
function bare<T extends { readonly description?: unknown }>(node: T): Omit<T, "description"> {
  const { description: _, ...rest } = node;
  return rest;
}

/** The pruned SDL: see the head of this file. */
function prune(full: DocumentNode): DocumentNode {
  const { Kind } = gql();
  const defs = new Map<string, DefinitionNode>();
  for (const d of full.definitions) if ("name" in d && d.name !== undefined) defs.set(d.name.value, d);
  /** Interface → the object types implementing it (what an abstract value may be). */
  const implementations = new Map<string, string[]>();
  for (const d of full.definitions)
    if (d.kind === Kind.OBJECT_TYPE_DEFINITION)
      for (const i of d.interfaces ?? [])
        implementations.set(i.name.value, [...(implementations.get(i.name.value) ?? []), d.name.value]);
  const leaf = (name: string): boolean => {
    const d = defs.get(name);
    return (
      BUILT_IN_SCALARS.has(name) || d?.kind === Kind.SCALAR_TYPE_DEFINITION || d?.kind === Kind.ENUM_TYPE_DEFINITION
    );
  };
  const keptFields = (d: ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode): readonly FieldDefinitionNode[] =>
    (d.fields ?? []).filter(
      (f) => leaf(namedType(f.type)) || SERVED.some((p) => p === `${d.name.value}.${f.name.value}`),
    );
  const kept = new Map<string, DefinitionNode>();
  /** Interfaces some kept field returns: every implementation of theirs is kept too. */
  const returned = new Set<string>();
  const queue: string[] = ["Query", "Mutation"];
  const need = (name: string): void => {
    if (!BUILT_IN_SCALARS.has(name) && !kept.has(name)) queue.push(name);
  };
  const returns = (name: string): void => {
    need(name);
    if (defs.get(name)?.kind !== Kind.INTERFACE_TYPE_DEFINITION || returned.has(name)) return;
    returned.add(name);
    for (const o of implementations.get(name) ?? []) need(o);
  };
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const d = defs.get(name);
    if (d === undefined || kept.has(name)) continue;
    switch (d.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_DEFINITION: {
        const fields = keptFields(d);
        for (const f of fields) {
          returns(namedType(f.type));
          for (const a of f.arguments ?? []) need(namedType(a.type));
        }
        // Its interfaces are kept (with their leaf fields, which every implementation has too), so
        // that a fragment on an interface and an abstract value's `__typename` mean what they mean
        // on GitHub. An interface only implemented, never returned, does not pull in its other
        // implementations (Node's would be most of the schema). One left without fields (none of
        // them leaves or served) cannot be in a schema, so it goes, as before.
        const interfaces: NamedTypeNode[] = (d.interfaces ?? []).filter((i) => {
          const def = defs.get(i.name.value);
          return def?.kind === Kind.INTERFACE_TYPE_DEFINITION && keptFields(def).length > 0;
        });
        for (const i of interfaces) need(i.name.value);
        kept.set(name, { ...bare(d), interfaces, fields: fields.map(bare) });
        break;
      }
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        for (const f of d.fields ?? []) need(namedType(f.type));
        kept.set(name, { ...bare(d), fields: (d.fields ?? []).map(bare) });
        break;
      case Kind.UNION_TYPE_DEFINITION:
        for (const m of d.types ?? []) need(m.name.value);
        kept.set(name, bare(d));
        break;
      default:
        kept.set(name, d);
    }
  }
  const directives = full.definitions.filter((d) => d.kind === Kind.DIRECTIVE_DEFINITION);
  for (const d of directives)
    for (const a of d.arguments ?? []) if (!kept.has(namedType(a.type))) queue.push(namedType(a.type));
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const d = defs.get(name);
    if (d !== undefined && !kept.has(name)) kept.set(name, d);
  }
  return { kind: Kind.DOCUMENT, definitions: [...directives, ...kept.values()] };
}

function prunedSdl(): string {
  const stat = statSync(SCHEMA_FILE);
  const key = createHash("sha256")
    .update(JSON.stringify([PRUNE_VERSION, stat.size, stat.mtimeMs, SERVED]))
    .digest("hex")
    .slice(0, 16);
  const file = `${CACHE_DIR}graphql-${key}.graphql`;
  try {
    return readFileSync(file, "utf8");
  } catch {
    // Not cached yet: prune the whole schema once.
  }
  const { parse, print } = gql();
  const sdl = print(prune(parse(readFileSync(SCHEMA_FILE, "utf8"), { noLocation: true })));
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, sdl);
    renameSync(tmp, file);
  } catch {
    // A read-only node_modules only costs the next process the pruning again.
  }
  return sdl;
}

let pruned: GraphQLSchema | undefined;
let whole: GraphQLSchema | undefined;
const prunedSchema = (): GraphQLSchema => {
  pruned ??= gql().buildASTSchema(gql().parse(prunedSdl()), { assumeValidSDL: true });
  return pruned;
};
/** How often a request needed the whole schema (tests assert the served documents never do). */
let wholeChecks = 0;
const wholeSchema = (): GraphQLSchema => {
  whole ??= gql().buildASTSchema(gql().parse(readFileSync(SCHEMA_FILE, "utf8"), { noLocation: true }), {
    assumeValidSDL: true,
  });
  return whole;
};

/** What graphql-js's schema rules find wrong with the pruned schema (a test wants none). */
export function prunedSchemaProblems(): readonly string[] {
  return gql()
    .validateSchema(prunedSchema())
    .map((e) => e.message);
}

/** How many requests so far (in this process) the pruned schema refused, so the whole one was built or asked. */
export function wholeSchemaChecks(): number {
  return wholeChecks;
}

/** One error of GitHub's `errors` list. */
export interface GraphqlError {
  readonly message: string;
  readonly locations?: readonly { readonly line: number; readonly column: number }[];
  readonly extensions?: Readonly<Record<string, unknown>>;
}

function fromGraphqlJs(e: GraphQLError): GraphqlError {
  // GitHub's wording (graphql-ruby) for the commonest refusal; the others keep graphql-js's.
  const unknown = /^Cannot query field "([^"]+)" on type "([^"]+)"/.exec(e.message);
  const message = unknown === null ? e.message : `Field '${unknown[1]}' doesn't exist on type '${unknown[2]}'`;
  return {
    message,
    ...(e.locations === undefined ? {} : { locations: e.locations.map(({ line, column }) => ({ line, column })) }),
    ...(unknown === null
      ? {}
      : { extensions: { code: "undefinedField", typeName: unknown[2], fieldName: unknown[1] } }),
  };
}

/** graphql-js's reasons, in graphql-ruby's words where GitHub's tests (routes/graphql.ts) know them. */
function explanation(e: GraphQLError, typeName: string): string {
  if (/cannot represent/.test(e.message)) return `Could not coerce value to ${typeName}`;
  if (/was not provided|Expected non-nullable/.test(e.message)) return "Expected value to not be null";
  const extra = /^Field "([^"]+)" is not defined by type/.exec(e.message);
  if (extra !== null) return `Field is not defined on ${typeName}`;
  return e.message;
}

/** Variable errors as GitHub answers them: one per variable, naming the first bad place inside it. */
function variableErrors(
  schema: GraphQLSchema,
  op: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
): GraphqlError[] {
  const out: GraphqlError[] = [];
  for (const def of op.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const { typeFromAST, print, isInputType, coerceInputValue } = gql();
    const type = typeFromAST(schema, def.type);
    const typeText = print(def.type);
    const locations =
      def.loc === undefined ? [] : [{ line: def.loc.startToken.line, column: def.loc.startToken.column }];
    if (type === undefined || !isInputType(type)) continue; // validate() already refused the document
    const problems: { path: readonly (string | number)[]; explanation: string }[] = [];
    const given = variables[name];
    if (given === undefined && def.defaultValue !== undefined) continue;
    coerceInputValue(given === undefined ? null : given, type, (path, _value, error) => {
      if (problems.length === 0) {
        const inner = /type "([^"]+)"/.exec(error.message)?.[1] ?? /^(\w+) cannot represent/.exec(error.message)?.[1];
        // graphql-js names an unknown input field in its message, GitHub in the path.
        const extra = /^Field "([^"]+)" is not defined by type/.exec(error.message)?.[1];
        problems.push({
          path: extra === undefined ? path : [...path, extra],
          explanation: explanation(error, inner ?? typeText),
        });
      }
    });
    const first = problems[0];
    if (first === undefined) continue;
    const where = first.path.length === 0 ? "" : ` for ${first.path.join(".")}`;
    out.push({
      message: `Variable $${name} of type ${typeText} was provided invalid value${where} (${first.explanation})`,
      locations,
      extensions: { value: given ?? null, problems: [{ path: first.path, explanation: first.explanation }] },
    });
  }
  return out;
}

function check(
  schema: GraphQLSchema,
  doc: DocumentNode,
  operationName: string | null,
  variables: Readonly<Record<string, unknown>>,
): GraphqlError[] {
  const invalid = gql().validate(schema, doc);
  if (invalid.length > 0) return invalid.map(fromGraphqlJs);
  const op = gql().getOperationAST(doc, operationName);
  if (op === null || op === undefined)
    return [
      { message: operationName === null ? "An operation name is required" : `No operation named "${operationName}"` },
    ];
  return variableErrors(schema, op, variables);
}

/** A document the pruned schema accepts, ready to run with the fake's resolvers. */
export interface ServedOperation {
  readonly operation: "query" | "mutation" | "subscription";
  /** graphql-js's `execute` over the pruned schema (synchronous resolvers only). */
  execute(
    rootValue: unknown,
    contextValue: unknown,
    fieldResolver: GraphQLFieldResolver<unknown, unknown>,
  ): ExecutionResult;
}

export type Prepared =
  /** GitHub would refuse it before running anything: its errors. */
  | { readonly refused: readonly GraphqlError[] }
  /** GitHub would run it; `served` is null when the fake's pruned schema does not hold it. */
  | { readonly refused: null; readonly served: ServedOperation | null };

/** A request checked against GitHub's schema (see the head of this file). */
export function prepareGraphql(
  query: string,
  operationName: string | null,
  variables: Readonly<Record<string, unknown>>,
): Prepared {
  let doc: DocumentNode;
  try {
    doc = gql().parse(query);
  } catch (err) {
    if (err instanceof gql().GraphQLError) return { refused: [fromGraphqlJs(err)] };
    throw err;
  }
  const schema = prunedSchema();
  if (check(schema, doc, operationName, variables).length === 0) {
    const op = gql().getOperationAST(doc, operationName);
    if (op === null || op === undefined)
      throw new Error("[fake-github] check() let through a document without its operation");
    return {
      refused: null,
      served: {
        operation: op.operation,
        execute(rootValue, contextValue, fieldResolver) {
          const result = gql().execute({
            schema,
            document: doc,
            operationName,
            variableValues: variables,
            rootValue,
            contextValue,
            fieldResolver,
          });
          if ("then" in result) throw new Error("[fake-github] a GraphQL resolver of the fake returned a promise");
          return result;
        },
      },
    };
  }
  wholeChecks += 1;
  const errors = check(wholeSchema(), doc, operationName, variables);
  return errors.length === 0 ? { refused: null, served: null } : { refused: errors };
}
