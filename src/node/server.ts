// The HTTP(S) adapter of one node: it only translates. A request becomes one call to the core
// inside one database transaction; the core's result becomes an envelope. Everything the core does
// not see (routing, method, content type, size, JSON syntax) is checked here and refused with
// RET_BAD_REQUEST before any state is touched.
//
// Commit rule: the transaction commits whatever the command wrote, even when the command answers
// with an error (a failed login must still count); only an exception (a bug) rolls back.
// Nothing from a request body is ever logged: bodies carry passwords.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { DEFAULT_CORE_CONFIG, type CoreConfig, type CoreContext } from "../hsm/context.ts";
import { handleCommand } from "../hsm/core.ts";
import type { Env } from "../hsm/env.ts";
import { RET_CODES, type ErrorCode, type HsmResult } from "../hsm/ret-codes.ts";
import { isOpName, MAX_BODY_BYTES, PROTOCOL_VERSION, SESSION_HEADER, type OpName } from "../protocol/messages.ts";
import { hostPort, isLoopbackHost } from "./loopback.ts";
import type { TransactionalRepository } from "./store.ts";
import { systemEnv } from "./system-env.ts";

export type CommandHandler = (
  ctx: CoreContext,
  op: OpName,
  sessionId: string | null,
  body: unknown,
) => HsmResult<unknown>;

/** PEM texts. `ca` is the cluster CA that issued `cert`; clients verify the node against it. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface NodeServerOptions {
  readonly repo: TransactionalRepository;
  readonly host: string;
  /** 0 picks a free port; the handle tells which. */
  readonly port: number;
  readonly tls?: TlsMaterial;
  readonly env?: Env;
  readonly config?: CoreConfig;
  /** The core's dispatcher; replaceable so the adapter can be tested on its own. */
  readonly handler?: CommandHandler;
  /** Where operational errors go (never request contents). Default: stderr. */
  readonly log?: (line: string) => void;
}

export interface NodeServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const SESSION_ID = /^[\x21-\x7e]{1,512}$/;
const ROUTE = new RegExp(`^/${PROTOCOL_VERSION}/([a-z0-9-]{1,64})$`);

/** An answer the adapter gives without calling the core. */
class Refusal {
  readonly status: number;
  readonly message: string;
  constructor(status: number, message: string) {
    this.status = status;
    this.message = message;
  }
}

export async function startNodeServer(options: NodeServerOptions): Promise<NodeServer> {
  const { repo, host, tls } = options;
  if (!isLoopbackHost(host) && tls === undefined) {
    throw new Error(
      `refusing to listen on ${host} without TLS: a node reachable from the network needs a certificate, its key and the cluster CA`,
    );
  }
  if (tls !== undefined && (tls.cert === "" || tls.key === "" || tls.ca === ""))
    throw new Error("TLS needs a certificate, its key and the cluster CA");

  const ctx: CoreContext = { repo, env: options.env ?? systemEnv, config: options.config ?? DEFAULT_CORE_CONFIG };
  const handler = options.handler ?? handleCommand;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // A client that goes away mid-request must not crash the node.
    req.on("error", () => req.destroy());
    handle(req, res).catch((err: unknown) => {
      log(`node: internal error while answering: ${describeError(err)}`);
      if (!res.headersSent) send(res, 500, failure("RET_INTERNAL", RET_CODES.RET_INTERNAL.message));
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const accepted = await accept(req);
    if (accepted === "aborted") return;
    if (accepted instanceof Refusal) {
      // If the body was not read to the end, close the connection rather than parse leftovers.
      send(res, accepted.status, failure("RET_BAD_REQUEST", accepted.message), { close: !req.complete });
      return;
    }
    const { op, sessionId, body } = accepted;
    let payload: string;
    try {
      // Serialising inside the transaction: an answer that cannot be written is a bug and must
      // not leave a committed change behind it.
      payload = repo.transaction(() => {
        const result = handler(ctx, op, sessionId, body);
        return JSON.stringify(result.ok ? { ok: true, data: result.value } : failure(result.code, result.message));
      });
    } catch (err) {
      log(`node: ${op} failed with an exception (rolled back): ${describeError(err)}`);
      send(res, 500, failure("RET_INTERNAL", RET_CODES.RET_INTERNAL.message));
      return;
    }
    sendText(res, 200, payload);
  }

  async function accept(
    req: IncomingMessage,
  ): Promise<Refusal | "aborted" | { op: OpName; sessionId: string | null; body: unknown }> {
    const match = ROUTE.exec(req.url ?? "");
    if (match === null || match[1] === undefined)
      return new Refusal(404, `no such path; commands are POST /${PROTOCOL_VERSION}/<command>`);
    if (req.method !== "POST") return new Refusal(405, `method ${req.method ?? "?"} not allowed; use POST`);
    const op = match[1];
    if (!isOpName(op)) return new Refusal(404, `unknown command "${op}"`);
    if (!isJsonContentType(req.headers["content-type"]))
      return new Refusal(415, "the body must be sent as content-type application/json (utf-8)");
    const rawSession = req.headers[SESSION_HEADER];
    let sessionId: string | null = null;
    if (typeof rawSession === "string" && rawSession !== "") {
      if (!SESSION_ID.test(rawSession)) return new Refusal(400, `malformed ${SESSION_HEADER} header`);
      sessionId = rawSession;
    }
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === "aborted") return "aborted";
    if (raw === "too-large") return new Refusal(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    } catch {
      return new Refusal(400, "the body is not valid UTF-8 JSON");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return new Refusal(400, "the body must be a JSON object");
    return { op, sessionId, body };
  }

  const server: Server =
    tls === undefined
      ? createHttpServer(onRequest)
      : createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: "TLSv1.2" }, onRequest);
  // Bounded waits, so a slow or silent client cannot hold a connection forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log(`node: server error: ${describeError(err)}`));

  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `${tls === undefined ? "http" : "https"}://${hostPort(host, port)}`,
    host,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 1000);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Idle keep-alive connections would hold the server open; a request being answered gets
        // a moment to finish before its connection is cut.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Reads the whole body, or stops as soon as it is larger than `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large" | "aborted"> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) return Promise.resolve("too-large");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.pause();
        resolve("too-large");
      } else chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    // A client that hangs up mid-body gets no answer; nothing was touched.
    req.on("close", () => {
      if (!req.complete) resolve("aborted");
    });
  });
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((p) => !p.startsWith("charset=") || p === "charset=utf-8" || p === 'charset="utf-8"');
}

function failure(code: ErrorCode, message: string): { ok: false; error: { code: ErrorCode; message: string } } {
  return { ok: false, error: { code, message } };
}

function send(res: ServerResponse, status: number, envelope: unknown, opts: { close?: boolean } = {}): void {
  if (opts.close) res.setHeader("connection", "close");
  if (status === 405) res.setHeader("allow", "POST");
  sendText(res, status, JSON.stringify(envelope));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text, "utf8");
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": body.length,
    "cache-control": "no-store",
  });
  res.end(body);
}

/** Class and message for the operator; the stack stays out of the answer to the client. */
function describeError(err: unknown): string {
  if (err instanceof Error)
    return `${err.name}: ${err.message}${err.stack ? `\n${err.stack.split("\n").slice(1, 6).join("\n")}` : ""}`;
  return String(err);
}
