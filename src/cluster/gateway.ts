// The gate's side of the cluster: what the App and the Action ask of the HSMs. The gate holds a
// crypto officer account of its own (a service account without 2FA); every call logs in on the
// nodes it needs, does its work and logs out, so no session outlives a webhook delivery.
// Tokens it issues are token-sign tokens (they persist without a session) bound to one operation.
import type { KeyObject } from "node:crypto";
import type { ClusterFile, ClusterNode } from "./cluster-file.ts";
import { createNodeClient, type NodeClient } from "../protocol/node-client.ts";
import type {
  BindingContext,
  ExecuteRequestBody,
  Operation,
  OpName,
  OpRequest,
  OpResponse,
  RecordedOutcome,
} from "../protocol/messages.ts";
import { decodeRecords } from "../hsm/token-record.ts";
import type { RequestOperation } from "../gate/request.ts";
import type { OperationState } from "./cloudhsm-cli-state.ts";

export interface GateCredentials {
  readonly userName: string;
  readonly password: string;
  /** The gate's password key (backend cloudhsm-cli; src/cluster/password-key.ts): opens requests' passwords. */
  readonly passwordKey?: KeyObject;
}

export type NodeOutcome<T> =
  | { readonly index: number; readonly hsmId: string; readonly ok: true; readonly value: T }
  | {
      readonly index: number;
      readonly hsmId: string;
      readonly ok: false;
      readonly code: string;
      readonly message: string;
    };

export type Failure = Extract<NodeOutcome<unknown>, { ok: false }>;

export interface IssuedToken {
  /** The token file: every node's record in server order, what officers sign. */
  readonly tokenData: Buffer;
  /** Seconds until the first node's record expires. */
  readonly validitySeconds: number;
}

export interface ClusterGateway {
  readonly clusterId: string;
  /**
   * How this gateway reaches the HSMs, checked against the policy's `backend` before anything is
   * judged (docs/real-cluster.md); absent means the emulator's node protocol.
   */
  readonly backend?: "emulator" | "cloudhsm-cli";
  readonly nodes: readonly ClusterNode[];
  /**
   * Officer keys registered on every node, by officer name. A key that is missing on a node or
   * differs between nodes is left out and named in `drift`: an approval must verify on every
   * HSM that will check it.
   */
  officerKeys(): Promise<
    | {
        readonly keys: ReadonlyMap<string, string>;
        readonly drift: readonly string[];
        /** Officers with a registered quorum key, where the cluster names them without their keys (cloudhsm-cli). */
        readonly registered?: readonly string[];
      }
    | { readonly failures: readonly Failure[] }
  >;
  /** M of services 3 and 4, the strictest value any node holds. */
  quorumValues(): Promise<
    { readonly user: number; readonly quorum: number } | { readonly failures: readonly Failure[] }
  >;
  /** The cluster's password-sealing public key (PEM), identical on every node. */
  sealingKey(): Promise<{ readonly publicKeyPem: string } | { readonly failures: readonly Failure[] }>;
  /** Issues one operation-bound token on every node, or none: a partial token is deleted again. */
  issueToken(
    service: number,
    binding: string,
    timeoutSeconds?: number,
  ): Promise<({ readonly ok: true } & IssuedToken) | { readonly ok: false; readonly failures: readonly Failure[] }>;
  /** Runs an approved operation on every node (or on `only`); each node answers for itself. */
  execute(
    request: GateExecuteRequest,
    only?: readonly number[],
  ): Promise<readonly NodeOutcome<OpResponse<"execute">>[]>;
  /** Deletes the gate's token on every node that still holds it. */
  deleteToken(tokenData: Uint8Array): Promise<readonly NodeOutcome<{ deleted: number }>[]>;
  /**
   * The execution window of a real cluster (docs/real-cluster.md): present with backend
   * cloudhsm-cli, whose HSMs issue their own short-lived token inside one login session.
   */
  readonly window?: WindowBackend;
  /**
   * Whether a sealed password opens with the gate's password key (backend cloudhsm-cli with a
   * key configured); absent otherwise. Tells the decision, before anyone approves, that the
   * window's command will be able to set the password.
   */
  readonly opensSealedPassword?: (sealedBase64: string) => boolean;
  close(): void;
}

/** Opens the one login session an execution window lives in. */
export interface WindowBackend {
  open(): Promise<{ readonly ok: true; readonly session: WindowSession } | WindowFailure>;
}

export interface WindowFailure {
  readonly ok: false;
  /** A stable reason: the driver's (src/cluster/cloudhsm-cli-driver.ts) or `unsupported_operation`. */
  readonly code: string;
  readonly message: string;
}

/** The gate's CloudHSM CLI session for one window; the HSM token it generates dies with it. */
export interface WindowSession {
  /** False once the session is gone: its token is gone too. */
  alive(): boolean;
  /** Whether the operation has taken effect already (src/cluster/cloudhsm-cli-state.ts). */
  operationState(op: RequestOperation): Promise<OperationState>;
  /** Generates the HSM's token for the operation's service; `lifetimeSeconds` from the HSM's timeout. */
  generateToken(
    op: RequestOperation,
  ): Promise<{ readonly ok: true; readonly tokenFile: Buffer; readonly lifetimeSeconds: number } | WindowFailure>;
  /** Runs the operation with this approval file (the token with the counted signatures). */
  run(
    op: RequestOperation,
    approvalFile: Uint8Array,
  ): Promise<{ readonly ok: true; readonly message: string } | WindowFailure>;
  close(): Promise<void>;
}

/**
 * The read-only view of a cluster that needs no account: for an auditor, who holds the cluster
 * file but not the gate's password. (Separate from ClusterGateway, whose every method the gate
 * needs, so the gateway's other implementations do not grow a method they never use.)
 */
export interface ClusterReader {
  readonly clusterId: string;
  readonly nodes: readonly ClusterNode[];
  /** What each node recorded for `execute` under this idempotency key, in server order; applies nothing. */
  outcome(idempotencyKey: string): Promise<readonly NodeOutcome<RecordedOutcome>[]>;
  close(): void;
}

export function createClusterReader(file: ClusterFile, options: { timeoutMs?: number } = {}): ClusterReader {
  const clients: NodeClient[] = file.nodes.map((n) =>
    createNodeClient(
      file.ca === undefined ? { host: n.host, port: n.port } : { host: n.host, port: n.port, ca: file.ca },
      options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
    ),
  );
  return {
    clusterId: file.clusterId,
    nodes: file.nodes,
    outcome: (idempotencyKey) =>
      Promise.all(file.nodes.map((node, i) => askNode(node, clients[i] as NodeClient, "outcome", { idempotencyKey }))),
    close() {
      for (const c of clients) c.close();
    },
  };
}

/** One command on one node without a session; a refusal or an unreachable node comes back as data. */
async function askNode<K extends OpName>(
  node: ClusterNode,
  client: NodeClient,
  op: K,
  body: OpRequest<K>,
): Promise<NodeOutcome<OpResponse<K>>> {
  const r = await client.call(op, body);
  return r.ok
    ? { index: node.index, hsmId: node.hsmId, ok: true, value: r.data }
    : { index: node.index, hsmId: node.hsmId, ok: false, code: r.error.code, message: r.error.message };
}

export interface GateExecuteRequest {
  readonly idempotencyKey: string;
  readonly operation: Operation;
  readonly context: BindingContext;
  readonly tokenData: Uint8Array;
  readonly signatures: readonly { readonly userName: string; readonly signature: Uint8Array }[];
}

export function createClusterGateway(
  file: ClusterFile,
  credentials: GateCredentials,
  options: { timeoutMs?: number } = {},
): ClusterGateway {
  const clients: NodeClient[] = file.nodes.map((n) =>
    createNodeClient(
      file.ca === undefined ? { host: n.host, port: n.port } : { host: n.host, port: n.port, ca: file.ca },
      options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
    ),
  );

  const failure = (node: ClusterNode, code: string, message: string): Failure => ({
    index: node.index,
    hsmId: node.hsmId,
    ok: false,
    code,
    message,
  });

  /** Calls one node without a session. */
  const plain = <K extends OpName>(i: number, op: K, body: OpRequest<K>): Promise<NodeOutcome<OpResponse<K>>> =>
    askNode(file.nodes[i] as ClusterNode, clients[i] as NodeClient, op, body);

  /** Logs in on node i, runs `work` with the session, and always logs out. */
  async function withSession<T>(
    i: number,
    work: (session: string) => Promise<NodeOutcome<T>>,
  ): Promise<NodeOutcome<T>> {
    const node = file.nodes[i] as ClusterNode;
    const client = clients[i] as NodeClient;
    const login = await client.call("login", {
      userType: "CO",
      userName: credentials.userName,
      password: credentials.password,
    });
    if (!login.ok) return failure(node, login.error.code, `gate login: ${login.error.message}`);
    if (!("sessionId" in login.data)) return failure(node, "RET_2FA_FAILURE", "the gate's account must not use 2FA");
    const session = login.data.sessionId;
    try {
      return await work(session);
    } finally {
      await client.call("logout", {}, session);
    }
  }

  async function sessionCall<K extends OpName>(
    i: number,
    op: K,
    body: OpRequest<K>,
  ): Promise<NodeOutcome<OpResponse<K>>> {
    return withSession(i, async (session) => {
      const node = file.nodes[i] as ClusterNode;
      const r = await (clients[i] as NodeClient).call(op, body, session);
      return r.ok
        ? { index: node.index, hsmId: node.hsmId, ok: true, value: r.data }
        : failure(node, r.error.code, r.error.message);
    });
  }

  const everyNode = <T>(fn: (i: number) => Promise<T>): Promise<T[]> => Promise.all(file.nodes.map((_, i) => fn(i)));
  const failuresOf = <T>(outcomes: readonly NodeOutcome<T>[]): Failure[] => outcomes.filter((o): o is Failure => !o.ok);
  const valuesOf = <T>(outcomes: readonly NodeOutcome<T>[]): T[] => outcomes.flatMap((o) => (o.ok ? [o.value] : []));

  return {
    clusterId: file.clusterId,
    backend: "emulator",
    nodes: file.nodes,

    async officerKeys() {
      const outcomes = await everyNode((i) => plain(i, "quorum-keys", {}));
      const failures = failuresOf(outcomes);
      if (failures.length > 0) return { failures };
      const perNode = valuesOf(outcomes).map((v) => new Map(v.keys.map((k) => [k.userName, k.publicKeyPem])));
      const names = new Set(perNode.flatMap((m) => [...m.keys()]));
      const keys = new Map<string, string>();
      const drift: string[] = [];
      for (const name of [...names].sort()) {
        const pems = perNode.map((m) => m.get(name));
        const first = pems[0];
        if (first !== undefined && pems.every((p) => p === first)) keys.set(name, first);
        else drift.push(name);
      }
      return { keys, drift };
    },

    async quorumValues() {
      const outcomes = await everyNode((i) => plain(i, "quorum-values", {}));
      const failures = failuresOf(outcomes);
      if (failures.length > 0) return { failures };
      const values = valuesOf(outcomes);
      return { user: Math.max(...values.map((v) => v.user)), quorum: Math.max(...values.map((v) => v.quorum)) };
    },

    async sealingKey() {
      const outcomes = await everyNode((i) => plain(i, "sealing-key", {}));
      const failures = failuresOf(outcomes);
      if (failures.length > 0) return { failures };
      const pems = new Set(valuesOf(outcomes).map((v) => v.publicKeyPem));
      if (pems.size !== 1)
        return {
          failures: file.nodes.map((n) => failure(n, "RET_CLUSTER_DRIFT", "the nodes disagree on the sealing key")),
        };
      return { publicKeyPem: [...pems][0] as string };
    },

    async issueToken(service, binding, timeoutSeconds) {
      const body = timeoutSeconds === undefined ? { service, binding } : { service, binding, timeoutSeconds };
      const outcomes = await everyNode((i) => sessionCall(i, "token-generate", body));
      const failures = failuresOf(outcomes);
      const records = valuesOf(outcomes).map((v) => Buffer.from(v.record, "base64"));
      if (failures.length > 0) {
        // All or nothing: a token that some HSMs do not hold can never be used, so take it back.
        const partial = Buffer.concat(records);
        if (partial.length > 0) await this.deleteToken(partial);
        return { ok: false, failures };
      }
      const validitySeconds = Math.min(...valuesOf(outcomes).map((v) => v.token.validitySeconds));
      return { ok: true, tokenData: Buffer.concat(records), validitySeconds };
    },

    async execute(request, only) {
      const body: ExecuteRequestBody = {
        idempotencyKey: request.idempotencyKey,
        operation: request.operation,
        context: request.context,
        approval: {
          tokenData: Buffer.from(request.tokenData).toString("base64"),
          signatures: request.signatures.map((s) => ({
            userName: s.userName,
            signature: Buffer.from(s.signature).toString("base64"),
          })),
        },
      };
      const targets = file.nodes.map((_, i) => i).filter((i) => only === undefined || only.includes(i));
      return Promise.all(targets.map((i) => sessionCall(i, "execute", body)));
    },

    async deleteToken(tokenData) {
      const decoded = decodeRecords(tokenData);
      const holders = decoded.ok ? new Set(decoded.records.map((r) => r.nodeId)) : new Set<number>();
      const targets = file.nodes.map((n, i) => ({ n, i })).filter(({ n }) => holders.has(n.nodeId));
      const body = { tokenData: Buffer.from(tokenData).toString("base64") };
      return Promise.all(targets.map(({ i }) => sessionCall(i, "del-token", body)));
    },

    close() {
      for (const c of clients) c.close();
    },
  };
}
