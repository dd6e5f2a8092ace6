// GitHub's GraphQL schema (`@octokit/graphql-schema`, schema.graphql) as the fake's /graphql
// checks a request with it before running anything
// (docs/testing.md, "The fake refuses what GitHub refuses"): the document must validate and the
// variables must coerce to the operation's variable types, or the answer is GitHub's: HTTP 200,
// `errors`, no `data`.
//
// Cost: building the whole schema (1.2 MB of SDL) takes over a second, which every process that
// sends one mutation would pay. So the fast path is a pruned schema: the root fields the fake
// serves (createCommitOnBranch) with the complete closure of their input types, and of every
// object type it reaches only the scalar and enum fields, plus the paths listed in SERVED. It is
// a subset of GitHub's schema (fields and types removed, none changed), so a document and
// variables valid against it are valid against GitHub's; it is cached as SDL in node_modules/.cache
// and costs milliseconds. Only a request it refuses pays for the whole schema, to tell "GitHub
// refuses this" (its errors) from "valid, but the fake does not serve it" (null here).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type {
  DefinitionNode,
  DocumentNode,
  GraphQLError,
  GraphQLSchema,
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

/**
 * `Type.field` paths kept in the pruned schema beyond scalar and enum fields: what routes/graphql.ts
 * serves (`Query` needs one field to be a schema at all: `rateLimit`).
 */
const SERVED = ["Query.rateLimit", "Mutation.createCommitOnBranch", "CreateCommitOnBranchPayload.commit"] as const;
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
  const leaf = (name: string): boolean => {
    const d = defs.get(name);
    return (
      BUILT_IN_SCALARS.has(name) || d?.kind === Kind.SCALAR_TYPE_DEFINITION || d?.kind === Kind.ENUM_TYPE_DEFINITION
    );
  };
  const kept = new Map<string, DefinitionNode>();
  const queue: string[] = ["Query", "Mutation"];
  const need = (name: string): void => {
    if (!BUILT_IN_SCALARS.has(name) && !kept.has(name)) queue.push(name);
  };
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const d = defs.get(name);
    if (d === undefined || kept.has(name)) continue;
    switch (d.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_DEFINITION: {
        const fields = (d.fields ?? []).filter(
          (f) => leaf(namedType(f.type)) || SERVED.some((p) => p === `${name}.${f.name.value}`),
        );
        for (const f of fields) {
          need(namedType(f.type));
          for (const a of f.arguments ?? []) need(namedType(a.type));
        }
        // Interfaces are dropped: a fragment on one is refused here and decided by the whole schema.
        kept.set(name, { ...bare(d), interfaces: [], fields: fields.map(bare) });
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
    .update(JSON.stringify([1, stat.size, stat.mtimeMs, SERVED]))
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
const wholeSchema = (): GraphQLSchema => {
  whole ??= gql().buildASTSchema(gql().parse(readFileSync(SCHEMA_FILE, "utf8"), { noLocation: true }), {
    assumeValidSDL: true,
  });
  return whole;
};

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

/**
 * GitHub's errors for a request it would refuse before running it, or null when it would run it
 * (the fake may still not serve it: routes/graphql.ts says so).
 */
export function graphqlRefusal(
  query: string,
  operationName: string | null,
  variables: Readonly<Record<string, unknown>>,
): readonly GraphqlError[] | null {
  let doc: DocumentNode;
  try {
    doc = gql().parse(query);
  } catch (err) {
    if (err instanceof gql().GraphQLError) return [fromGraphqlJs(err)];
    throw err;
  }
  if (check(prunedSchema(), doc, operationName, variables).length === 0) return null;
  const errors = check(wholeSchema(), doc, operationName, variables);
  return errors.length === 0 ? null : errors;
}
