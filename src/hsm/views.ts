// What the node shows of its state: the protocol's views, computed from the stored records.
import type { TokenView, UserView } from "./commands.ts";
import type { CoreContext } from "./context.ts";
import { nowSeconds } from "./env.ts";
import type { Token, User } from "./model.ts";

export function userView(user: User): UserView {
  return {
    id: user.id,
    type: user.type,
    name: user.name,
    mofnPubKey: user.quorumKeyPem !== null,
    loginFailureCnt: user.loginFailures,
    twoFactor: user.twoFactor,
  };
}

export function tokenView(ctx: CoreContext, token: Token): TokenView {
  return {
    id: token.id,
    service: token.service,
    nodeId: ctx.repo.identity().nodeId,
    keyHandle: token.keyHandle.toString(),
    userName: token.userName,
    validitySeconds: Math.max(0, tokenExpiresAt(token) - nowSeconds(ctx.env)),
    required: ctx.repo.getMValue(token.service),
    approvers: token.approvers,
    persisted: token.sessionId === null,
    bound: token.binding !== null,
  };
}

export function tokenExpiresAt(token: Token): number {
  return token.createdAt + token.timeoutSeconds;
}
