// GitHub's REST description (`@octokit/openapi`, api.github.com.json) as the fake reads it: the
// operation behind each of the fake's routes, the request body, query parameters and responses
// it describes, and the checks the server runs with them
// (docs/testing.md, "The fake refuses what GitHub refuses"): a request body or query GitHub's
// schema refuses is answered 422 as GitHub answers it, and an answer of the fake that does not
// fit the described response is a bug of the fake.
//
// Cost: the description is 13 MB of JSON (about 250 ms to read and parse). Only the operations of
// the fake's routes and the components they reach are kept (a few hundred KB), and that extract is
// cached in node_modules/.cache, keyed by the description file's size and mtime, the fake's routes
// and this file's extract format; a process with a warm cache pays a few milliseconds.
// The package's index.js is never imported: it loads every description (~385 MB).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HttpFailure } from "./http-io.ts";
import { validate, type Schema, type SchemaError } from "./json-schema.ts";

const DESCRIPTION = fileURLToPath(
  new URL("../../../node_modules/@octokit/openapi/generated/api.github.com.json", import.meta.url),
);
const CACHE_DIR = fileURLToPath(new URL("../../../node_modules/.cache/quorum-gate-fake-github/", import.meta.url));
/** Bump when the extract's shape changes, so an old cache is not read as a new one. */
const EXTRACT_FORMAT = 1;

export interface Operation {
  /** `POST /repos/{owner}/{repo}/check-runs`, as the description names it. */
  readonly key: string;
  /** The operation's page of the REST reference, as GitHub's 422 names it. */
  readonly docs: string;
  readonly body: { readonly schema: unknown; readonly required: boolean } | null;
  /** Query parameter → its schema. */
  readonly query: Readonly<Record<string, unknown>>;
  /** HTTP status → the JSON schema of the answer, or null when the description has no JSON for it (204). */
  readonly responses: Readonly<Record<string, unknown>>;
}

interface Extract {
  /** `METHOD fake-template` → operation. */
  readonly operations: Readonly<Record<string, Operation>>;
  /** `#/components/schemas/x` → schema, for every component the operations reach. */
  readonly components: Readonly<Record<string, Schema>>;
}

export interface RouteKey {
  readonly method: string;
  readonly template: string;
}

function isObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `/repos/:owner/:repo/contents/*path` and `/repos/{owner}/{repo}/contents/{path}` both read `/repos/{}/{}/contents/{}`. */
function shapeOf(template: string): string {
  return template
    .split("/")
    .map((s) => (/^[:*]/.test(s) || /^\{[^}]+\}$/.test(s) ? "{}" : s))
    .join("/");
}

function pointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) throw new Error(`[fake-github] reference ${ref} leaves the description`);
  let at: unknown = doc;
  for (const part of ref.slice(2).split("/"))
    at = isObject(at) ? at[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  if (at === undefined) throw new Error(`[fake-github] the description has no ${ref}`);
  return at;
}

/** Follows `$ref`s of parameters, request bodies and responses (not of schemas: they stay refs). */
function deref(doc: unknown, v: unknown): Readonly<Record<string, unknown>> {
  let at = v;
  while (isObject(at) && typeof at["$ref"] === "string") at = pointer(doc, at["$ref"]);
  if (!isObject(at)) throw new Error("[fake-github] a description entry is not an object");
  return at;
}

function jsonSchemaOf(content: unknown): unknown {
  if (!isObject(content)) return null;
  const type =
    Object.keys(content).find((t) => t === "application/json") ?? Object.keys(content).find((t) => /json/.test(t));
  const media = type === undefined ? undefined : content[type];
  return isObject(media) && media["schema"] !== undefined ? media["schema"] : null;
}

/** The operations of `routes`, and the components they reach, out of the whole description. */
function extract(doc: unknown, routes: readonly RouteKey[]): Extract {
  const paths = isObject(doc) && isObject(doc["paths"]) ? doc["paths"] : {};
  const byShape = new Map<string, string[]>();
  for (const p of Object.keys(paths)) byShape.set(shapeOf(p), [...(byShape.get(shapeOf(p)) ?? []), p]);
  const operations: Record<string, Operation> = {};
  for (const r of routes) {
    const candidates = (byShape.get(shapeOf(r.template)) ?? []).filter((p) => {
      const item = paths[p];
      return isObject(item) && isObject(item[r.method.toLowerCase()]);
    });
    // A route the description lacks (the fake's /graphql) has no entry; the server decides what that means.
    if (candidates.length === 0) continue;
    if (candidates.length > 1)
      throw new Error(`[fake-github] ${r.method} ${r.template} matches ${candidates.join(" and ")} in the description`);
    const path = candidates[0] ?? "";
    const item = deref(doc, paths[path]);
    const op = deref(doc, item[r.method.toLowerCase()]);
    const params = [
      ...(Array.isArray(item["parameters"]) ? item["parameters"] : []),
      ...(Array.isArray(op["parameters"]) ? op["parameters"] : []),
    ].map((p) => deref(doc, p));
    const query: Record<string, unknown> = {};
    for (const p of params)
      if (p["in"] === "query" && typeof p["name"] === "string") query[p["name"]] = p["schema"] ?? {};
    const requestBody = op["requestBody"] === undefined ? null : deref(doc, op["requestBody"]);
    const bodySchema = requestBody === null ? null : jsonSchemaOf(requestBody["content"]);
    const responses: Record<string, unknown> = {};
    for (const [status, raw] of Object.entries(isObject(op["responses"]) ? op["responses"] : {}))
      responses[status] = jsonSchemaOf(deref(doc, raw)["content"]);
    const externalDocs = op["externalDocs"];
    operations[`${r.method} ${r.template}`] = {
      key: `${r.method} ${path}`,
      docs: isObject(externalDocs) && typeof externalDocs["url"] === "string" ? externalDocs["url"] : "",
      body: bodySchema === null ? null : { schema: bodySchema, required: requestBody?.["required"] === true },
      query,
      responses,
    };
  }
  const components: Record<string, Schema> = {};
  const reach = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) reach(x);
    else if (isObject(v)) {
      const ref = v["$ref"];
      if (typeof ref === "string" && components[ref] === undefined) {
        const target = pointer(doc, ref);
        if (!isObject(target)) throw new Error(`[fake-github] ${ref} is not a schema`);
        components[ref] = target;
        reach(target);
      }
      for (const [k, x] of Object.entries(v)) if (k !== "$ref" && k !== "example" && k !== "examples") reach(x);
    }
  };
  reach(operations);
  return { operations, components };
}

function loadExtract(routes: readonly RouteKey[]): Extract {
  const stat = statSync(DESCRIPTION);
  const key = createHash("sha256")
    .update(JSON.stringify([EXTRACT_FORMAT, stat.size, stat.mtimeMs, routes.map((r) => `${r.method} ${r.template}`)]))
    .digest("hex")
    .slice(0, 16);
  const file = `${CACHE_DIR}openapi-${key}.json`;
  try {
    const cached: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (isObject(cached) && isObject(cached["operations"]) && isObject(cached["components"]))
      return cached as unknown as Extract; // written by this function below, under a key of the same inputs
  } catch {
    // No cache yet (or a broken one): build it.
  }
  const made = extract(JSON.parse(readFileSync(DESCRIPTION, "utf8")), routes);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written aside and renamed, so a test process running alongside never reads half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(made));
    renameSync(tmp, file);
  } catch {
    // A read-only node_modules only costs the next process the parse again.
  }
  return made;
}

const extracts = new Map<string, Extract>();

/** The described operation of each route, read once per process (per route table). */
function extractFor(routes: readonly RouteKey[]): Extract {
  const id = routes.map((r) => `${r.method} ${r.template}`).join("\n");
  let found = extracts.get(id);
  if (found === undefined) {
    found = loadExtract(routes);
    extracts.set(id, found);
  }
  return found;
}

export interface Description {
  /** The operation of the fake's route, or null when the description has none (GraphQL). */
  operation(method: string, template: string): Operation | null;
  validate(schema: unknown, value: unknown, skip?: ReadonlySet<string>): readonly SchemaError[];
}

export function description(routes: readonly RouteKey[]): Description {
  let loaded: Extract | undefined;
  const get = (): Extract => {
    loaded ??= extractFor(routes);
    return loaded;
  };
  const resolve = (ref: string): Schema => {
    const s = get().components[ref];
    if (s === undefined) throw new Error(`[fake-github] the description extract has no ${ref}`);
    return s;
  };
  return {
    operation: (method, template) => get().operations[`${method} ${template}`] ?? null,
    validate: (schema, value, skip) => validate(schema, value, skip === undefined ? { resolve } : { resolve, skip }),
  };
}

/** `For 'properties/output/properties/annotations/items', ` as GitHub's validator names a place (nothing at the top). */
function place(at: SchemaError["at"]): string {
  if (at.length === 0) return "";
  return `For '${at.map((p) => (typeof p === "number" ? "items" : `properties/${p}`)).join("/")}', `;
}

/** GitHub's 422 for a request its schema refuses: one sentence about the first problem, no `errors`. */
function invalidRequest(op: Operation, e: SchemaError): HttpFailure {
  const message = `Invalid request.\n\n${/^No more than/.test(e.problem) ? "" : place(e.at)}${e.problem}`;
  return new HttpFailure(422, message, { message, documentation_url: op.docs, status: "422" });
}

/**
 * GitHub's request validator does not apply the description's `maxLength`: an over-long check run
 * summary or comment is refused by its model, with the model's own 422 and its own way of counting
 * (UTF-8 bytes for check runs, code points for comments), which the routes implement. So requests
 * skip `maxLength`; answers are held to it.
 */
const REQUEST_SKIPS: ReadonlySet<string> = new Set(["maxLength"]);

/** Query values are strings; the described integer and boolean parameters are read as GitHub reads them. */
function queryValue(schema: unknown, raw: string): unknown {
  const type = isObject(schema) ? schema["type"] : undefined;
  if (type === "integer" && /^-?\d+$/.test(raw)) return Number(raw);
  if (type === "boolean" && (raw === "true" || raw === "false")) return raw === "true";
  return raw;
}

/** Throws GitHub's 422 when the body or a described query parameter breaks the operation's schema. */
export function checkRequest(d: Description, op: Operation, body: unknown, url: URL): void {
  for (const [name, schema] of Object.entries(op.query)) {
    const raw = url.searchParams.get(name);
    if (raw === null) continue;
    const [first] = d.validate(schema, queryValue(schema, raw));
    if (first !== undefined) {
      const message = `Invalid request.\n\nFor '${name}', ${first.problem}`;
      throw new HttpFailure(422, message, { message, documentation_url: op.docs, status: "422" });
    }
  }
  if (op.body === null || (body === undefined && !op.body.required)) return;
  const [first] = d.validate(op.body.schema, body ?? null, REQUEST_SKIPS);
  if (first !== undefined) throw invalidRequest(op, first);
}

/** What is wrong with the fake's 2xx answer, by the description; empty when it fits. */
export function responseProblems(d: Description, op: Operation, status: number, body: unknown): readonly string[] {
  const described = op.responses[String(status)];
  if (described === undefined) return [`the description has no ${status} answer for ${op.key}`];
  if (described === null)
    return body === undefined ? [] : [`the description has no JSON body for ${status} of ${op.key}`];
  return d.validate(described, body).map((e) => `${e.at.length === 0 ? "(top)" : e.at.join(".")}: ${e.problem}`);
}
