// What an approved request runs on a real cluster, in CloudHSM CLI's words (docs/real-cluster.md,
// "What runs on a real cluster"). The HSM token is generated for the operation's quorum service,
// and the command carries the approval file, the token with the counted signatures.
import type { RequestOperation } from "../gate/request.ts";

const ROLE = { CO: "admin", CU: "crypto-user" } as const;

/** The `--service` of the token: a quorum value is the quorum service's (4) to change, whichever service it is for. */
export function serviceWord(op: RequestOperation): "user" | "quorum" {
  return op.kind === "setMValue" ? "quorum" : "user";
}

/**
 * The command with `--approval`; null for an operation that sets a password, which the gate
 * cannot pass to a real cluster yet (the decision refuses such a request: `backend_unsupported`).
 */
export function approvalCommand(op: RequestOperation, approvalPath: string): readonly string[] | null {
  switch (op.kind) {
    case "deleteUser":
      return ["user", "delete", "--username", op.userName, "--role", ROLE[op.userType], "--approval", approvalPath];
    case "setMValue":
      return [
        "quorum",
        "token-sign",
        "set-quorum-value",
        "--service",
        op.service === 3 ? "user" : "quorum",
        "--value",
        String(op.value),
        "--approval",
        approvalPath,
      ];
    case "createUser":
    case "changePswd":
      return null;
  }
}
