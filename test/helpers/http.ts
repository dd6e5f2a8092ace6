// A raw HTTP request for protocol-edge tests: any method, path, headers and body, chunked or not.
// (The product's NodeClient always sends well-formed requests, so it cannot test the edges.)
import { request } from "node:http";

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: unknown;
}

export interface RawRequest {
  readonly port: number;
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Send the body in chunks with Transfer-Encoding: chunked (no content-length up front). */
  readonly chunked?: boolean;
}

export function rawRequest(r: RawRequest): Promise<RawResponse> {
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, "utf8");
  const headers: Record<string, string | number> = { ...r.headers };
  if (body !== undefined && !r.chunked) headers["content-length"] = body.length;
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = request(
      { host: "127.0.0.1", port: r.port, method: r.method ?? "POST", path: r.path, headers, agent: false },
      (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    // The server may answer and close before the whole body is sent (413): that is expected, and
    // the response has already been delivered by then.
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
    });
    req.on("close", () => {
      if (!responded) reject(new Error("the connection closed without a response"));
    });
    if (body === undefined) req.end();
    else if (r.chunked) {
      const step = 64 * 1024;
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      req.end();
    } else req.end(body);
  });
}
