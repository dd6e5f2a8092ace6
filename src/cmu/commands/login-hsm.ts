// loginHSM <user-type> <user-name> <password | -hpswd> [-2fa <authdata-file>] (docs/cloudhsm-behaviour.md, "CMU commands" and "Two-factor authentication").
// Logs in on every server that has no live session yet. A 2FA officer's servers answer with a digest
// to sign; with -2fa those go through the authdata file, and servers that did not ask still get an
// entry whose signature is ignored, as CMU does for users without 2FA.
import { randomBytes } from "node:crypto";
import { USER_TYPES } from "../../hsm/model.ts";
import { readUserCommandArgs } from "../args.ts";
import { askPassword } from "../ask.ts";
import type { Command, ShellContext } from "../context.ts";
import { printFailure } from "../fan-out.ts";
import { successLine } from "../render.ts";
import { callServer, type Server } from "../session.ts";
import { exchangeAuthData, type DigestRequest } from "../two-factor.ts";

type Pending =
  | { readonly kind: "session"; readonly sessionId: string }
  | { readonly kind: "challenge"; readonly challengeId: string; readonly digest: string }
  | { readonly kind: "failed"; readonly code: string; readonly message: string };

export const loginHsm: Command = {
  name: "loginHSM",
  usage: "loginHSM <user-type> <user-name> <password | -hpswd> [-2fa <authdata-file>]",
  summary: "Log in to every HSM of the cluster as a crypto officer (CO), crypto user (CU) or pre-CO (PRECO).",
  async run(ctx, args) {
    const parsed = readUserCommandArgs(ctx, this, args, USER_TYPES);
    if (parsed === null) return "continue";
    const { type, name } = parsed;
    const password = parsed.password ?? (await askPassword(ctx));
    if (password === null) return "continue";

    const pending = new Map<Server, Pending>();
    for (const server of ctx.servers) {
      // A session the node forgot (it restarted, or the session idled out) is no reason to refuse:
      // asking the node about it makes the shell forget it too, and the login goes ahead.
      if (server.sessionId !== null) await callServer(server, "session", {});
      if (server.sessionId !== null) {
        pending.set(server, {
          kind: "failed",
          code: "RET_ALREADY_LOGGED_IN",
          message: "already logged in on this server; log out first",
        });
        continue;
      }
      const result = await callServer(server, "login", { userType: type, userName: name, password }, false);
      if (!result.ok) pending.set(server, { kind: "failed", code: result.error.code, message: result.error.message });
      else if ("sessionId" in result.data) pending.set(server, { kind: "session", sessionId: result.data.sessionId });
      else
        pending.set(server, {
          kind: "challenge",
          challengeId: result.data.challenge.id,
          digest: result.data.challenge.digest,
        });
    }

    await answerChallenges(ctx, pending, parsed.twoFactorPath);

    for (const server of ctx.servers) {
      const state = pending.get(server);
      if (state?.kind === "session") {
        server.sessionId = state.sessionId;
        server.login = { name, type };
        ctx.print(successLine("loginHSM", server));
      } else if (state?.kind === "failed") {
        printFailure(ctx, "loginHSM", server, state);
      }
    }
    return "continue";
  },
};

/** Turns challenges into sessions (or failures) in place. */
async function answerChallenges(ctx: ShellContext, pending: Map<Server, Pending>, path: string | null): Promise<void> {
  const challenged = [...pending].filter(([, p]) => p.kind === "challenge");
  if (challenged.length === 0 && path === null) return;
  if (path === null) {
    for (const [server] of challenged) {
      pending.set(server, {
        kind: "failed",
        code: "RET_2FA_FAILURE",
        message: "this user has 2FA: log in with -2fa <authdata-file>",
      });
    }
    return;
  }
  const requests: DigestRequest[] = [];
  for (const server of ctx.servers) {
    const p = pending.get(server);
    if (p?.kind === "challenge") requests.push({ server, challengeId: p.challengeId, digest: p.digest });
    else if (p?.kind === "session")
      requests.push({ server, challengeId: null, digest: randomBytes(32).toString("base64") });
  }
  const answers = await exchangeAuthData(ctx, path, requests, { needPublicKey: false });
  for (const [server] of challenged) {
    const proof = answers?.proofs.find((p) => p.server === server);
    if (proof === undefined) {
      pending.set(server, { kind: "failed", code: "RET_2FA_FAILURE", message: "no usable signature for this server" });
      continue;
    }
    const result = await callServer(
      server,
      "login-2fa",
      { challengeId: proof.challengeId, signature: proof.signature },
      false,
    );
    pending.set(
      server,
      result.ok
        ? { kind: "session", sessionId: result.data.sessionId }
        : { kind: "failed", code: result.error.code, message: result.error.message },
    );
  }
}
