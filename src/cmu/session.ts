// The shell's view of the cluster: the configured servers in cluster-file order, each with its own
// client and login session. CMU keeps one session per server and reports per server, because the
// HSMs are independent and may disagree (docs/cloudhsm-behaviour.md, "The CMU shell" and "Limits and rules").
import { createNodeClient, type CallResult, type NodeClient, type NodeEndpoint } from "../protocol/node-client.ts";
import type { OpName, OpRequest, OpResponse } from "../protocol/messages.ts";
import type { UserType } from "../hsm/model.ts";
import type { ServerName } from "./render.ts";

export interface ServerConfig {
  readonly index: number;
  readonly host: string;
  readonly port: number;
  readonly hsmId: string;
  readonly nodeId: number;
}

export interface Login {
  readonly name: string;
  readonly type: UserType;
}

export interface Server extends ServerName {
  readonly port: number;
  readonly hsmId: string;
  readonly nodeId: number;
  readonly client: NodeClient;
  /** The node's session id while logged in on this server. */
  sessionId: string | null;
  login: Login | null;
  /** Whether the last call reached the node (shown by `info server`). */
  reachable: boolean;
  /** Set when the shell forgot the session because the node went down; cleared once reported. */
  sessionDropped: boolean;
}

/** The node-client's wording for a connection that was never made: nothing listens on the port. */
export const CONNECTION_REFUSED = "connection refused";

/** Codes after which the node no longer knows our session: forget it so the state stays truthful. */
const SESSION_GONE = new Set(["RET_SESSION_INVALID", "RET_NOT_LOGGED_IN"]);

export function openServers(
  configs: readonly ServerConfig[],
  options: { readonly ca?: string; readonly timeoutMs?: number },
): Server[] {
  return configs.map((c) => {
    const endpoint: NodeEndpoint =
      options.ca === undefined ? { host: c.host, port: c.port } : { host: c.host, port: c.port, ca: options.ca };
    const client = createNodeClient(endpoint, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    return {
      index: c.index,
      host: c.host,
      port: c.port,
      hsmId: c.hsmId,
      nodeId: c.nodeId,
      client,
      sessionId: null,
      login: null,
      reachable: true,
      sessionDropped: false,
    };
  });
}

/** Sends one command to one server with its session, and keeps the server's state in step with the answer. */
export async function callServer<K extends OpName>(
  server: Server,
  op: K,
  body: OpRequest<K>,
  withSession = true,
): Promise<CallResult<OpResponse<K>>> {
  let result: CallResult<OpResponse<K>>;
  try {
    result = await server.client.call(op, body, withSession ? server.sessionId : null);
  } catch (err) {
    // The client promises not to throw; if it ever does, treat it as a transport failure.
    result = {
      ok: false,
      error: { code: "RET_NODE_UNREACHABLE", message: err instanceof Error ? err.message : String(err) },
    };
  }
  server.reachable = result.ok || result.error.code !== "RET_NODE_UNREACHABLE";
  if (!result.ok && withSession && SESSION_GONE.has(result.error.code)) {
    server.sessionId = null;
    server.login = null;
  }
  if (
    !result.ok &&
    result.error.code === "RET_NODE_UNREACHABLE" &&
    result.error.message === CONNECTION_REFUSED &&
    server.sessionId !== null
  ) {
    // Nothing listens: the node is down, and a node's sessions (with their tokens) end when it
    // stops, as a dropped connection ends a CMU session. Forget it so loginHSM works once it is back.
    // (A timeout is different: a slow node keeps the session, so Retry can still use it.)
    server.sessionId = null;
    server.login = null;
    server.sessionDropped = true;
  }
  return result;
}

export function closeServers(servers: readonly Server[]): void {
  for (const server of servers) server.client.close();
}
