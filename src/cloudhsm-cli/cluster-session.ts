// The CLI's view of the cluster (docs/cloudhsm-cli.md, "One command, every HSM"): unlike CMU,
// CloudHSM CLI acts on the whole cluster at once. Every command goes to every HSM; a change counts
// as done only when every HSM made it, and anything else is reported as a failure that names the
// HSMs, never as a partial success.
import type { OpName, OpRequest, OpResponse } from "../protocol/messages.ts";
import { callServer, type Server } from "../cmu/session.ts";

export interface NodeAnswer<T> {
  readonly server: Server;
  readonly ok: boolean;
  readonly value?: T;
  readonly code?: string;
  readonly message?: string;
}

/** Sends the same command to every HSM at once and collects the answers in server order. */
export async function everyHsm<K extends OpName>(
  servers: readonly Server[],
  op: K,
  body: (s: Server) => OpRequest<K>,
  withSession = true,
): Promise<NodeAnswer<OpResponse<K>>[]> {
  return Promise.all(
    servers.map(async (server) => {
      const r = await callServer(server, op, body(server), withSession);
      return r.ok
        ? { server, ok: true, value: r.data }
        : { server, ok: false, code: r.error.code, message: r.error.message };
    }),
  );
}

/** One value when every HSM agrees, `"inconsistent"` when they differ. */
export function agreed<T>(values: readonly T[]): T | "inconsistent" {
  const first = JSON.stringify(values[0]);
  return values.every((v) => JSON.stringify(v) === first) ? (values[0] as T) : "inconsistent";
}

/** "HSM hsm-abc (server 1): RET_X" for each failed answer. */
export function describeFailures(answers: readonly NodeAnswer<unknown>[]): string {
  return answers
    .filter((a) => !a.ok)
    .map(
      (a) =>
        `HSM ${a.server.hsmId} (server ${a.server.index}): ${a.code ?? "error"}${a.message ? ` ${a.message}` : ""}`,
    )
    .join("; ");
}
