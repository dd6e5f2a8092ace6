// The gate's cluster port on a real cluster (docs/real-cluster.md): everything goes through the
// `cloudhsm-cli` binary, driven by src/cluster/cloudhsm-cli-driver.ts as the gate's own admin
// account. The facts a decision needs (quorum values, who holds a quorum key) come from a short
// session of their own; an execution window is one long session, opened by `window.open()`,
// in which the HSM's token is generated and the approved command runs.
//
// What this backend cannot do is said as data, never faked: the CLI lists no officer's public
// key (the policy pins them), issues no operation-bound token that outlives a session, and keeps
// no idempotency key, so issueToken and execute refuse with `unsupported_operation`; the use
// cases never call them with this backend (src/usecases/run-window.ts replaces them).
import type { KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterFile } from "./cluster-file.ts";
import { backendOf } from "./cluster-file.ts";
import {
  openCloudhsmCliSession,
  type CliOutcome,
  type CloudhsmCliOptions,
  type CloudhsmCliSession,
} from "./cloudhsm-cli-driver.ts";
import { approvalCommand, serviceWord } from "./cloudhsm-cli-commands.ts";
import { readOperationState } from "./cloudhsm-cli-state.ts";
import { unsealSecret } from "../crypto/seal.ts";
import { passwordPublicKeyPem } from "./password-key.ts";
import type { ClusterGateway, Failure, GateCredentials, WindowFailure, WindowSession } from "./gateway.ts";

export interface CloudhsmCliGatewayOptions {
  /** How long one command may take, login included (the driver's default otherwise). */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The gate's password key (docs/real-cluster.md, "Passwords on a real cluster"): requests that
   * set a password seal it to its public half, and only the window's command opens it.
   */
  readonly passwordKey?: KeyObject;
}

interface Facts {
  readonly registered: readonly string[];
  readonly user: number;
  readonly quorum: number;
}

/** The HSM's own answer for a token's life when `list-timeouts` says nothing usable (AWS's default). */
export const DEFAULT_TOKEN_TIMEOUT_SECONDS = 600;

export function createCloudhsmCliGateway(
  file: ClusterFile,
  credentials: GateCredentials,
  options: CloudhsmCliGatewayOptions = {},
): ClusterGateway {
  const backend = backendOf(file);
  if (backend.kind !== "cloudhsm-cli") throw new Error("[cluster] this cluster file's backend is not cloudhsm-cli");
  const passwordKey = options.passwordKey;
  const first = file.nodes[0];
  /** The whole cluster answers through one binary: a failure is the cluster's, named after its first HSM. */
  const failed = (code: string, message: string): { readonly failures: readonly Failure[] } => ({
    failures: [{ index: first?.index ?? 0, hsmId: first?.hsmId ?? file.clusterId, ok: false, code, message }],
  });

  const open = (cwd: string) =>
    openCloudhsmCliSession({
      binary: backend.binary,
      args: backend.args,
      credentials,
      cwd,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.env === undefined ? {} : { env: options.env }),
    } satisfies CloudhsmCliOptions);

  /**
   * The facts a decision needs, read in one short session: the use cases ask for the officers and
   * the quorum values at the same moment, and a login is not free on a real cluster. Calls that
   * overlap share the session; a later call reads afresh.
   */
  let inflight: Promise<Facts | { readonly failures: readonly Failure[] }> | null = null;
  const facts = () => (inflight ??= readFacts().finally(() => (inflight = null)));
  async function readFacts(): Promise<Facts | { readonly failures: readonly Failure[] }> {
    const dir = privateDir();
    try {
      const opened = await open(dir);
      if (!opened.ok) return failed(opened.reason, opened.message);
      try {
        const users = await opened.session.run(["user", "list"]);
        if (!users.ok) return failed(users.reason, users.message);
        const registered = registeredOfficers(users.data);
        if (registered === null) return failed("malformed_output", "user list answered an unknown shape");
        const values = await opened.session.run(["quorum", "token-sign", "list-quorum-values"]);
        if (!values.ok) return failed(values.reason, values.message);
        const d = values.data as Record<string, unknown> | null;
        const user = d?.["user"];
        const quorum = d?.["quorum"];
        if (typeof user !== "number" || typeof quorum !== "number")
          return failed("malformed_output", "quorum token-sign list-quorum-values answered an unknown shape");
        return { registered, user, quorum };
      } finally {
        await opened.session.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const unsupported = (what: string) =>
    failed("unsupported_operation", `${what} is not how the gate works with backend cloudhsm-cli`);

  return {
    clusterId: file.clusterId,
    backend: "cloudhsm-cli",
    nodes: file.nodes,

    async officerKeys() {
      const r = await facts();
      // The CLI shows who holds a quorum key, not the key: the policy's pinned keys are what verifies.
      return "failures" in r ? r : { keys: new Map(), drift: [], registered: r.registered };
    },

    async quorumValues() {
      const r = await facts();
      return "failures" in r ? r : { user: r.user, quorum: r.quorum };
    },

    async sealingKey() {
      // Passwords are sealed to the gate's key here: a real HSM has no sealing key of its own.
      const key = options.passwordKey;
      if (key === undefined) return unsupported("sealing a password without the gate's password key");
      return { publicKeyPem: passwordPublicKeyPem(key) };
    },
    async issueToken() {
      return { ok: false, ...unsupported("an operation-bound token that outlives a session") };
    },
    async execute() {
      return unsupported("one execute call with an idempotency key").failures;
    },
    async deleteToken() {
      // A CloudHSM CLI token dies with the session that generated it: there is nothing to delete.
      return [];
    },

    window: {
      async open() {
        const dir = privateDir();
        const opened = await open(dir);
        if (!opened.ok) {
          rmSync(dir, { recursive: true, force: true });
          return { ok: false, code: opened.reason, message: opened.message };
        }
        return { ok: true, session: windowSession(opened.session, dir, options.passwordKey) };
      },
    },

    ...(passwordKey === undefined
      ? {}
      : {
          opensSealedPassword: (sealed: string) => unsealSecret(passwordKey, Buffer.from(sealed, "base64")) !== null,
        }),

    close() {
      // Every session here is closed by its user; nothing is held between calls.
    },
  };
}

function windowSession(session: CloudhsmCliSession, dir: string, passwordKey: KeyObject | undefined): WindowSession {
  const failure = (answer: Extract<CliOutcome, { ok: false }>): WindowFailure => ({
    ok: false,
    code: answer.reason,
    message: answer.message,
  });
  return {
    alive: () => session.alive(),
    operationState: (op) => readOperationState(session, op),
    async generateToken(op) {
      const service = serviceWord(op);
      const timeouts = await session.run(["quorum", "token-sign", "list-timeouts"]);
      if (!timeouts.ok) return failure(timeouts);
      const generated = (timeouts.data as Record<string, unknown> | null)?.["generated"];
      const lifetimeSeconds =
        typeof generated === "number" && Number.isInteger(generated) && generated > 0
          ? generated
          : DEFAULT_TOKEN_TIMEOUT_SECONDS;
      const path = join(dir, `${service}.token`);
      const answer = await session.run(["quorum", "token-sign", "generate", "--service", service, "--token", path]);
      if (!answer.ok) return failure(answer);
      try {
        return { ok: true, tokenFile: readFileSync(path), lifetimeSeconds };
      } catch (err) {
        return {
          ok: false,
          code: "malformed_output",
          message: `the shell wrote no token file: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
        };
      }
    },
    async run(op, approvalFile) {
      const path = join(dir, "approval.json");
      writeFileSync(path, approvalFile, { mode: 0o600 });
      const secrets: string[] = [];
      if (op.kind === "createUser" || op.kind === "changePswd") {
        if (passwordKey === undefined)
          return {
            ok: false,
            code: "no_password_key",
            message: `${op.kind} needs the gate's password key to open the request's password`,
          };
        const password = unsealSecret(passwordKey, Buffer.from(op.sealedPassword, "base64"));
        if (password === null)
          return {
            ok: false,
            code: "sealed_password_unreadable",
            message: "the request's password is not sealed to the gate's password key",
          };
        // Asked twice by the shell, answered twice; it never stands on a command line.
        secrets.push(password, password);
      }
      const answer = await session.run(approvalCommand(op, path), { secrets });
      if (!answer.ok) return failure(answer);
      return { ok: true, message: typeof answer.data === "string" ? answer.data : JSON.stringify(answer.data) };
    },
    async close() {
      try {
        await session.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A directory only this process reads: token and approval files are not secrets, but they are the gate's. */
function privateDir(): string {
  return mkdtempSync(join(tmpdir(), "quorum-gate-cli-"));
}

/** The admin users whose `quorum` shows an enabled token-sign key: who can approve on the HSMs. */
export function registeredOfficers(data: unknown): readonly string[] | null {
  if (typeof data !== "object" || data === null || !("users" in data) || !Array.isArray(data.users)) return null;
  const names: string[] = [];
  for (const u of data.users as unknown[]) {
    if (typeof u !== "object" || u === null) return null;
    const r = u as Record<string, unknown>;
    if (typeof r["username"] !== "string" || typeof r["role"] !== "string" || !Array.isArray(r["quorum"])) return null;
    const enabled = (r["quorum"] as unknown[]).some(
      (q) =>
        typeof q === "object" &&
        q !== null &&
        (q as Record<string, unknown>)["strategy"] === "token-sign" &&
        (q as Record<string, unknown>)["status"] === "enabled",
    );
    if (r["role"] === "admin" && enabled) names.push(r["username"]);
  }
  return names;
}
