// Whether an approved operation has taken effect on a real cluster, read through the gate's
// CloudHSM CLI session (docs/real-cluster.md, "Nothing applied twice"). A real cluster keeps no
// idempotency key for the gate, so before it opens a new window (`/quorum retry`, a replica that
// takes over, a gate restarted mid-window) the gate looks at the cluster itself: a user already
// created or already gone, a quorum value already set, means the operation is not run again.
//
// The binary's output is untrusted like any peer's: a shape this file does not know is `unknown`,
// never a guess. A password change leaves nothing to read, so it is always `unknown` here, and
// the gate relies on the spent token instead (the HSM consumes it with the command).
import type { RequestOperation } from "../gate/request.ts";
import type { CloudhsmCliSession } from "./cloudhsm-cli-driver.ts";

export type OperationState =
  /** The cluster shows the operation's effect on every HSM. */
  | { readonly state: "applied"; readonly message: string }
  /** The cluster shows its effect on no HSM: running it is safe. */
  | { readonly state: "not_applied"; readonly message: string }
  /** Some HSMs show it and some do not: an operator must look (docs/real-cluster.md). */
  | { readonly state: "partial"; readonly message: string }
  /** The cluster cannot tell (a password change), or did not answer in a shape the gate knows. */
  | { readonly state: "unknown"; readonly message: string };

const ROLE = { CO: "admin", CU: "crypto-user" } as const;

interface ListedUser {
  readonly username: string;
  readonly role: string;
  readonly coverage: string;
}

function listedUsers(data: unknown): readonly ListedUser[] | null {
  if (typeof data !== "object" || data === null || !("users" in data) || !Array.isArray(data.users)) return null;
  const out: ListedUser[] = [];
  for (const u of data.users as unknown[]) {
    if (typeof u !== "object" || u === null) return null;
    const r = u as Record<string, unknown>;
    const { username, role } = r;
    const coverage = r["cluster-coverage"];
    if (typeof username !== "string" || typeof role !== "string" || typeof coverage !== "string") return null;
    out.push({ username, role, coverage });
  }
  return out;
}

export async function readOperationState(session: CloudhsmCliSession, op: RequestOperation): Promise<OperationState> {
  if (op.kind === "changePswd")
    return { state: "unknown", message: "a password change leaves nothing the cluster shows" };
  if (op.kind === "setMValue") {
    const answer = await session.run(["quorum", "token-sign", "list-quorum-values"]);
    if (!answer.ok) return { state: "unknown", message: `list-quorum-values: ${answer.reason}: ${answer.message}` };
    const data = answer.data as Record<string, unknown> | null;
    const value = op.service === 3 ? data?.["user"] : data?.["quorum"];
    if (typeof value !== "number") return { state: "unknown", message: "list-quorum-values answered an unknown shape" };
    // The value the request sets is there: set by this request or already so; running it again changes nothing.
    return value === op.value
      ? { state: "applied", message: `the quorum value of service ${op.service} is ${value}` }
      : { state: "not_applied", message: `the quorum value of service ${op.service} is ${value}, not ${op.value}` };
  }
  const answer = await session.run(["user", "list"]);
  if (!answer.ok) return { state: "unknown", message: `user list: ${answer.reason}: ${answer.message}` };
  const users = listedUsers(answer.data);
  if (users === null) return { state: "unknown", message: "user list answered an unknown shape" };
  const name = op.userName.toLowerCase();
  const found = users.find((u) => u.username.toLowerCase() === name);
  const role = ROLE[op.userType];
  if (found !== undefined && found.role !== role)
    return { state: "unknown", message: `user ${name} exists with role ${found.role}, not ${role}` };
  if (found !== undefined && found.coverage !== "full")
    return { state: "partial", message: `user ${name} is on some HSMs only (cluster-coverage ${found.coverage})` };
  const present = found !== undefined;
  if (op.kind === "createUser")
    return present
      ? { state: "applied", message: `user ${name} exists on every HSM` }
      : { state: "not_applied", message: `user ${name} exists on no HSM` };
  return present
    ? { state: "not_applied", message: `user ${name} still exists on every HSM` }
    : { state: "applied", message: `user ${name} exists on no HSM` };
}
