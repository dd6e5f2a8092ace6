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
 * The command with `--approval`. A command that sets a password carries none on its line: the
 * shell asks for it (`Enter password:`, `Confirm password:`), and the gateway answers from the
 * request's sealed password, opened with the gate's password key (docs/real-cluster.md,
 * "Passwords on a real cluster").
 */
export function approvalCommand(op: RequestOperation, approvalPath: string): readonly string[] {
  switch (op.kind) {
    case "deleteUser":
      return ["user", "delete", "--username", op.userName, "--role", ROLE[op.userType], "--approval", approvalPath];
    case "createUser":
      return ["user", "create", "--username", op.userName, "--role", ROLE[op.userType], "--approval", approvalPath];
    case "changePswd":
      return [
        "user",
        "change-password",
        "--username",
        op.userName,
        "--role",
        ROLE[op.userType],
        "--approval",
        approvalPath,
      ];
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
  }
}
