// Requests in, replies out, pages with Link headers: the plumbing under every route.
import type { IncomingMessage, ServerResponse } from "node:http";

export interface Reply {
  readonly status: number;
  /** Serialised as JSON, unless it is a string: then it is sent as is (to inject junk). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A route's refusal, thrown from deep inside a handler and turned into a reply by the server. */
export class HttpFailure extends Error {
  readonly status: number;
  /** GitHub's whole answer when it says more than `{ message }` (a 422's `errors`, a 403's `documentation_url`). */
  readonly body: Readonly<Record<string, unknown>> | undefined;
  constructor(status: number, message: string, body?: Readonly<Record<string, unknown>>) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export const fail = (status: number, message: string): never => {
  throw new HttpFailure(status, message);
};

/**
 * GitHub's 422 for a field its model refuses: "Validation Failed" with one `errors` entry naming
 * the resource and the field (code "custom" carries GitHub's own sentence).
 */
export const validationFailed = (resource: string, field: string, message: string, documentationUrl: string): never => {
  throw new HttpFailure(422, "Validation Failed", {
    message: "Validation Failed",
    errors: [{ resource, code: "custom", field, message }],
    documentation_url: documentationUrl,
    status: "422",
  });
};

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new HttpFailure(413, "Request body too large"));
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function sendReply(res: ServerResponse, reply: Reply): void {
  const text = reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

/**
 * One page of a list, with GitHub's Link header (first/prev/next/last), which is what
 * `octokit.paginate` follows. `self` is the request's own absolute URL (with any /api/v3).
 */
export function page<T>(items: readonly T[], self: URL, wrap: (slice: readonly T[]) => unknown = (s) => s): Reply {
  const perPage = Math.min(100, Math.max(1, Number(self.searchParams.get("per_page") ?? "30") || 30));
  const pageNo = Math.max(1, Number(self.searchParams.get("page") ?? "1") || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string): string => {
    const u = new URL(self);
    u.searchParams.set("per_page", String(perPage));
    u.searchParams.set("page", String(n));
    return `<${u.href}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (pageNo > 1) links.push(link(pageNo - 1, "prev"), link(1, "first"));
  if (pageNo < last) links.push(link(pageNo + 1, "next"), link(last, "last"));
  const slice = items.slice((pageNo - 1) * perPage, pageNo * perPage);
  return { status: 200, body: wrap(slice), ...(links.length > 0 ? { headers: { link: links.join(", ") } } : {}) };
}
