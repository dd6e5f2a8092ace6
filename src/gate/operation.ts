// From a parsed request to what the cluster runs: the protocol `Operation`, the `BindingContext`
// that ties it to one pull request, and the binding digest the token must carry. The digest is
// computed by src/hsm/binding.ts, the same function every node runs, so gate and nodes cannot
// disagree about it.
import { sha256 } from "../crypto/rsa.ts";
import { bindingDigest } from "../hsm/binding.ts";
import { SERVICES, SERVICE_MISC_CO, SERVICE_USER_MGMT } from "../hsm/model.ts";
import type { BindingContext, Operation } from "../protocol/messages.ts";
import type { GateRequest, RequestOperation } from "./request.ts";

export function toOperation(op: RequestOperation): Operation {
  switch (op.kind) {
    case "createUser":
      return { kind: "createUser", userType: op.userType, userName: op.userName, sealedPassword: op.sealedPassword };
    case "deleteUser":
      return { kind: "deleteUser", userType: op.userType, userName: op.userName };
    case "changePswd":
      return {
        kind: "changePassword",
        userType: op.userType,
        userName: op.userName,
        sealedPassword: op.sealedPassword,
      };
    case "setMValue":
      return { kind: "setMValue", service: op.service, value: op.value };
  }
}

/** `repository` is `owner/name` as GitHub spells it; `requestDigest` is `requestDigest(bytes)`. */
export function toBindingContext(repository: string, pullRequest: number, requestDigest: string): BindingContext {
  return { repository, pullRequest, requestDigest };
}

/** The 32-byte digest (hex) every record of this request's token must carry. */
export function requestBindingDigest(request: GateRequest, context: BindingContext): string {
  return bindingDigest(request.cluster, toOperation(request.operation), context);
}

/** The quorum service that gates the operation (docs/tokens.md, "How many approvals"). */
export function serviceOf(op: RequestOperation): number {
  return op.kind === "setMValue" ? SERVICE_MISC_CO : SERVICE_USER_MGMT;
}

/** M values as the cluster's `quorum-values` answers them: service 3 (`user`) and 4 (`quorum`). */
export interface QuorumValues {
  readonly user: number;
  readonly quorum: number;
}

/**
 * Approvals the gate requires: what the HSM requires (docs/tokens.md), and never fewer than one,
 * because the gate is a policy layer that must be at least as strict as the HSM under it.
 */
export function requiredApprovals(op: RequestOperation, m: QuorumValues): number {
  if (op.kind !== "setMValue") return Math.max(1, m.user);
  const current = op.service === SERVICE_USER_MGMT ? m.user : m.quorum;
  return current <= 1 ? 1 : Math.max(current, m.quorum);
}

/** Hex SHA-256 of the sealed password's ciphertext: how it is shown, instead of the value. */
export function sealedPasswordFingerprint(sealedBase64: string): string {
  return sha256(Buffer.from(sealedBase64, "base64")).toString("hex");
}

/** One line for people, e.g. `createUser CU app7`. Holds no secret. */
export function describeOperation(op: RequestOperation): string {
  switch (op.kind) {
    case "createUser":
    case "changePswd":
    case "deleteUser":
      return `${op.kind} ${op.userType} ${op.userName}`;
    case "setMValue":
      return `setMValue ${op.service} (${SERVICES[op.service] ?? "?"}) to ${op.value}`;
  }
}
