// A client for one node: one method, `call`, that sends a command and returns the envelope.
// Transport failures (refused, timed out, bad answer) come back as data, never as throws, so the
// shell can print the per-server failure line and offer its Retry/Ignore/Abort prompt.
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import {
  PROTOCOL_VERSION,
  SESSION_HEADER,
  type Envelope,
  type OpName,
  type OpRequest,
  type OpResponse,
} from "./messages.ts";

export interface NodeEndpoint {
  readonly host: string;
  readonly port: number;
  /** PEM of the cluster CA; when set the client speaks TLS and verifies the node against it. */
  readonly ca?: string;
}

export type CallResult<T> =
  | Envelope<T>
  | { readonly ok: false; readonly error: { readonly code: "RET_NODE_UNREACHABLE"; readonly message: string } };

export interface NodeClient {
  readonly endpoint: NodeEndpoint;
  call<K extends OpName>(op: K, body: OpRequest<K>, session?: string | null): Promise<CallResult<OpResponse<K>>>;
  close(): void;
}

export interface ClientOptions {
  /** Per-request timeout; a node that does not answer in time counts as unreachable. */
  readonly timeoutMs?: number;
}

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export function createNodeClient(endpoint: NodeEndpoint, options: ClientOptions = {}): NodeClient {
  const tls = endpoint.ca !== undefined;
  const agent = tls ? new HttpsAgent({ keepAlive: true, ca: endpoint.ca }) : new HttpAgent({ keepAlive: true });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const send = tls ? httpsRequest : httpRequest;

  function call<K extends OpName>(
    op: K,
    body: OpRequest<K>,
    session?: string | null,
  ): Promise<CallResult<OpResponse<K>>> {
    const payload = Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "content-length": payload.length,
    };
    if (session) headers[SESSION_HEADER] = session;
    return attempt(true);

    function attempt(mayResend: boolean): Promise<CallResult<OpResponse<K>>> {
      return new Promise((resolve) => {
        const unreachable = (message: string): void =>
          resolve({ ok: false, error: { code: "RET_NODE_UNREACHABLE", message } });
        let answered = false;
        const req = send(
          {
            host: endpoint.host,
            port: endpoint.port,
            method: "POST",
            path: `/${PROTOCOL_VERSION}/${op}`,
            headers,
            agent,
            timeout: timeoutMs,
          },
          (res) => {
            answered = true;
            const chunks: Buffer[] = [];
            let size = 0;
            res.on("data", (chunk: Buffer) => {
              size += chunk.length;
              if (size > MAX_RESPONSE_BYTES) req.destroy(new Error("response too large"));
              else chunks.push(chunk);
            });
            res.on("error", (err) => unreachable(err.message));
            res.on("end", () => {
              try {
                const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
                if (isEnvelope(parsed)) resolve(parsed as CallResult<OpResponse<K>>);
                else unreachable(`node answered HTTP ${res.statusCode ?? 0} without an envelope`);
              } catch {
                unreachable(`node answered HTTP ${res.statusCode ?? 0} with invalid JSON`);
              }
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", (err: NodeJS.ErrnoException) => {
          // A kept-alive connection the node closed as idle just as this request went out on it
          // (Node's documented `request.reusedSocket` case): the node closed it without reading the
          // request, so it is sent once more, on a new connection. A node that died mid-request is
          // not there to take the resend (connection refused), and `execute` is idempotent by its
          // key besides. Without this, a call made about keepAliveTimeout after the one before it
          // fails at random.
          if (mayResend && !answered && req.reusedSocket && err.code === "ECONNRESET") {
            resolve(attempt(false));
            return;
          }
          unreachable(err.code === "ECONNREFUSED" ? "connection refused" : err.message);
        });
        req.end(payload);
      });
    }
  }

  return { endpoint, call, close: () => agent.destroy() };
}

function isEnvelope(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { ok?: unknown; data?: unknown; error?: unknown };
  if (v.ok === true) return "data" in v;
  if (v.ok === false)
    return typeof v.error === "object" && v.error !== null && typeof (v.error as { code?: unknown }).code === "string";
  return false;
}
