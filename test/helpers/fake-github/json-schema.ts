// A validator for the part of JSON Schema that GitHub's OpenAPI description (OpenAPI 3.0.3) uses:
// the fake checks request bodies and its own answers with it (fake-github/openapi.ts). It is an
// interpreter over the description's plain objects, with `$ref` resolved through a lookup, so
// nothing is compiled up front and only the schemas a request touches are walked.
//
// Every keyword is either checked or ignored on purpose; a keyword in neither list throws, so a
// new one in a future description is a decision, not a silent pass.

export type Schema = Readonly<Record<string, unknown>>;

export interface SchemaError {
  /** Where in the value: property names and array indices, outermost first. */
  readonly at: readonly (string | number)[];
  /** GitHub's wording where it has one ("is not a member of", "wasn't supplied"). */
  readonly problem: string;
}

export interface ValidateOptions {
  /** Resolves `#/components/...`; throws for a reference it does not know. */
  readonly resolve: (ref: string) => Schema;
  /** Checked keywords to skip (the request check skips `maxLength`: see openapi.ts). */
  readonly skip?: ReadonlySet<string>;
}

const CHECKED = new Set([
  "$ref",
  "type",
  "nullable",
  "properties",
  "required",
  "additionalProperties",
  "maxProperties",
  "enum",
  "items",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "oneOf",
  "anyOf",
  "allOf",
]);

/**
 * Annotations, and two keywords that do not change what is valid: `discriminator` only helps a
 * reader pick the `oneOf` branch (every branch is tried anyway) and `format` is documentation in
 * OpenAPI 3.0 (GitHub's `date-time`, `uri`, `email` values are not checked by its own validator
 * either: an `email` of `null` or a `uri` template passes there).
 */
const IGNORED = new Set([
  "description",
  "title",
  "example",
  "examples",
  "default",
  "format",
  "readOnly",
  "writeOnly",
  "deprecated",
  "discriminator",
  "externalDocs",
]);

const MAX_ERRORS = 20;

function isObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value as GitHub's messages print it (Ruby's inspect: `nil` for null), cut to a readable length. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return "nil";
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case "object":
      return isObject(v);
    case "array":
      return Array.isArray(v);
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "null":
      return v === null;
    default:
      throw new Error(`[fake-github] JSON schema type ${JSON.stringify(type)} is not known to json-schema.ts`);
  }
}

const article = (type: string): string => (/^[aeiou]/.test(type) ? "an" : "a");

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Code points, as JSON Schema counts a string's length (not UTF-16 units). */
function lengthOf(s: string): number {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

class Walker {
  readonly errors: SchemaError[] = [];
  private readonly options: ValidateOptions;
  private readonly patterns = new Map<string, RegExp>();
  constructor(options: ValidateOptions) {
    this.options = options;
  }

  private add(at: readonly (string | number)[], problem: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push({ at, problem });
  }

  private on(keyword: string, schema: Schema): boolean {
    return schema[keyword] !== undefined && !this.options.skip?.has(keyword);
  }

  /** Errors of `v` against `schema`, in a fresh walker (for the branches of oneOf/anyOf). */
  private branch(schema: unknown, v: unknown, at: readonly (string | number)[]): SchemaError[] {
    const w = new Walker(this.options);
    w.walk(schema, v, at);
    return w.errors;
  }

  walk(raw: unknown, v: unknown, at: readonly (string | number)[]): void {
    if (!isObject(raw)) throw new Error(`[fake-github] a JSON schema at ${at.join(".")} is not an object`);
    let schema: Schema = raw;
    const ref = schema["$ref"];
    if (typeof ref === "string") schema = this.options.resolve(ref);
    for (const k of Object.keys(schema))
      if (!CHECKED.has(k) && !IGNORED.has(k) && !k.startsWith("x-"))
        throw new Error(`[fake-github] JSON schema keyword ${JSON.stringify(k)} is neither checked nor ignored`);
    // OpenAPI 3.0's `nullable` widens the schema's own type to null, whatever else it says.
    if (v === null && schema["nullable"] === true) return;

    const type = schema["type"];
    if (this.on("type", schema)) {
      const types: readonly unknown[] = Array.isArray(type) ? type : [type];
      if (!types.some((t) => typeMatches(String(t), v))) {
        this.add(at, `${show(v)} is not ${types.map((t) => `${article(String(t))} ${String(t)}`).join(" or ")}.`);
        return;
      }
    }
    const members = schema["enum"];
    if (this.on("enum", schema) && Array.isArray(members) && !members.some((m) => deepEqual(m, v)))
      this.add(at, `${show(v)} is not a member of [${members.map((m) => show(m)).join(", ")}].`);

    if (typeof v === "string") this.checkString(schema, v, at);
    if (typeof v === "number") this.checkNumber(schema, v, at);
    if (Array.isArray(v)) this.checkArray(schema, v, at);
    if (isObject(v)) this.checkObject(schema, v, at);

    const all = schema["allOf"];
    if (this.on("allOf", schema) && Array.isArray(all)) for (const s of all) this.walk(s, v, at);
    for (const combinator of ["anyOf", "oneOf"] as const) {
      const list = schema[combinator];
      if (!this.on(combinator, schema) || !Array.isArray(list)) continue;
      const results = list.map((s) => this.branch(s, v, at));
      const passed = results.filter((r) => r.length === 0).length;
      if (passed === 0) {
        // The branch that came closest says most about what is wrong.
        const closest = results.reduce((best, r) => (r.length < best.length ? r : best));
        this.add(at, `No subschema in "${combinator}" matched.`);
        for (const e of closest) this.add(e.at, e.problem);
      } else if (combinator === "oneOf" && passed > 1) {
        this.add(at, `More than one subschema in "oneOf" matched (${passed} of ${list.length}).`);
      }
    }
  }

  private checkString(schema: Schema, v: string, at: readonly (string | number)[]): void {
    const min = schema["minLength"];
    const max = schema["maxLength"];
    if (this.on("minLength", schema) && typeof min === "number" && lengthOf(v) < min)
      this.add(at, `${show(v)} is shorter than the minimum length of ${min}.`);
    if (this.on("maxLength", schema) && typeof max === "number" && v.length > max && lengthOf(v) > max)
      this.add(at, `${show(v)} is longer than the maximum length of ${max}.`);
    const pattern = schema["pattern"];
    if (this.on("pattern", schema) && typeof pattern === "string") {
      let re = this.patterns.get(pattern);
      if (re === undefined) {
        re = new RegExp(pattern, "u");
        this.patterns.set(pattern, re);
      }
      if (!re.test(v)) this.add(at, `${show(v)} does not match /${pattern}/.`);
    }
  }

  private checkNumber(schema: Schema, v: number, at: readonly (string | number)[]): void {
    const min = schema["minimum"];
    const max = schema["maximum"];
    if (this.on("minimum", schema) && typeof min === "number" && v < min)
      this.add(at, `${v} is less than the minimum of ${min}.`);
    if (this.on("maximum", schema) && typeof max === "number" && v > max)
      this.add(at, `${v} is greater than the maximum of ${max}.`);
  }

  private checkArray(schema: Schema, v: readonly unknown[], at: readonly (string | number)[]): void {
    const min = schema["minItems"];
    const max = schema["maxItems"];
    if (this.on("minItems", schema) && typeof min === "number" && v.length < min)
      this.add(at, `At least ${min} items are required; ${v.length} were supplied.`);
    // GitHub's own sentence for `maxItems` (the 51st annotation of a check run).
    if (this.on("maxItems", schema) && typeof max === "number" && v.length > max)
      this.add(at, `No more than ${max} items are allowed; ${v.length} were supplied.`);
    if (this.on("uniqueItems", schema) && schema["uniqueItems"] === true) {
      const seen = new Set(v.map((x) => JSON.stringify(x)));
      if (seen.size !== v.length) this.add(at, "The items are not unique.");
    }
    const items = schema["items"];
    if (this.on("items", schema) && items !== undefined)
      for (const [i, x] of v.entries()) this.walk(items, x, [...at, i]);
  }

  private checkObject(schema: Schema, v: Readonly<Record<string, unknown>>, at: readonly (string | number)[]): void {
    const required = schema["required"];
    if (this.on("required", schema) && Array.isArray(required)) {
      for (const key of required)
        if (typeof key === "string" && !Object.hasOwn(v, key)) this.add(at, `"${key}" wasn't supplied.`);
    }
    const maxProps = schema["maxProperties"];
    if (this.on("maxProperties", schema) && typeof maxProps === "number" && Object.keys(v).length > maxProps)
      this.add(at, `No more than ${maxProps} keys are allowed; ${Object.keys(v).length} were supplied.`);
    const props = isObject(schema["properties"]) && this.on("properties", schema) ? schema["properties"] : {};
    const extra = schema["additionalProperties"];
    for (const [key, x] of Object.entries(v)) {
      const own = props[key];
      if (own !== undefined) this.walk(own, x, [...at, key]);
      else if (this.on("additionalProperties", schema) && extra === false)
        this.add(at, `"${key}" is not a permitted key.`);
      else if (this.on("additionalProperties", schema) && isObject(extra)) this.walk(extra, x, [...at, key]);
    }
  }
}

/** Every error of `value` against `schema` (at most 20), or none. */
export function validate(schema: unknown, value: unknown, options: ValidateOptions): readonly SchemaError[] {
  const w = new Walker(options);
  w.walk(schema, value, []);
  return w.errors;
}
