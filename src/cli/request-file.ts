// Writing request files (docs/requests.md) for `quorum-gate request`. The YAML comes from the
// `yaml` package (it quotes whatever needs quoting and uses a block literal for a multi-line
// reason); the gate's own parser then reads the result back, and a file is used only if it
// parses to exactly the request that was meant. So the CLI cannot write a file the gate refuses,
// or one that the gate reads differently.
import { isDeepStrictEqual } from "node:util";
import { stringify } from "yaml";
import { parseRequest, type GateRequest, type RequestOperation } from "../gate/index.ts";
import { SEALED_PASSWORD_BYTES } from "../gate/request.ts";

/** The file's fields as written, before the gate has judged them (values may still be wrong). */
export interface RequestDocument {
  readonly version: number;
  readonly cluster: string;
  readonly operation: Readonly<Record<string, string | number>>;
  readonly reason: string;
  readonly requested_by?: string;
}

export function renderRequestDocument(doc: RequestDocument): string {
  // lineWidth 0: never fold a long reason over several lines; it would parse the same, but a
  // reviewer reads the diff, and one line per field is what they expect.
  const text = stringify(doc, { lineWidth: 0, minContentWidth: 0 });
  // A `|-` block last in the file leaves it without a final newline; add it (same value).
  return text.endsWith("\n") ? text : `${text}\n`;
}

export function toRequestDocument(request: GateRequest): RequestDocument {
  const base = {
    version: request.version,
    cluster: request.cluster,
    operation: operationFields(request.operation),
    reason: request.reason,
  };
  return request.requestedBy === undefined ? base : { ...base, requested_by: request.requestedBy };
}

function operationFields(op: RequestOperation): Record<string, string | number> {
  switch (op.kind) {
    case "createUser":
    case "changePswd":
      return { kind: op.kind, type: op.userType, name: op.userName, sealed_password: op.sealedPassword };
    case "deleteUser":
      return { kind: op.kind, type: op.userType, name: op.userName };
    case "setMValue":
      return { kind: op.kind, service: op.service, value: op.value };
  }
}

/**
 * A stand-in for the sealed password while the other fields are checked: the right size, so the
 * gate judges everything else, and obviously not a ciphertext. It is never written to a file.
 */
export const PLACEHOLDER_SEALED_PASSWORD = Buffer.alloc(SEALED_PASSWORD_BYTES).toString("base64");

export type RenderResult =
  | { readonly ok: true; readonly bytes: Buffer; readonly digest: string }
  | { readonly ok: false; readonly message: string };

/** The bytes of `request`'s file, after checking that the gate parses them back to `request`. */
export function renderRequestFile(request: GateRequest): RenderResult {
  const bytes = Buffer.from(renderRequestDocument(toRequestDocument(request)), "utf8");
  const back = parseRequest(bytes);
  if (!back.ok)
    return { ok: false, message: `the gate would refuse the file (${back.issues.map((i) => i.code).join(", ")})` };
  if (!isDeepStrictEqual(back.request, request))
    return { ok: false, message: "the gate would read the file as a different request" };
  return { ok: true, bytes, digest: back.digest };
}
