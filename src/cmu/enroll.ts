// 2FA enrolment for createUser / changePswd -2fa: each HSM hands out a fresh digest, the officer
// signs them all with the new key and puts its public key in the authdata file (docs/cloudhsm-behaviour.md, "Two-factor authentication").
import type { TwoFactorProof } from "../protocol/messages.ts";
import type { ShellContext } from "./context.ts";
import { fanOutMutating } from "./fan-out.ts";
import { callServer, type Server } from "./session.ts";
import { exchangeAuthData, type DigestRequest } from "./two-factor.ts";

export interface Enrolment {
  /** Servers to run the command on: those that gave a digest (the user may have ignored others). */
  readonly servers: readonly Server[];
  /** Servers in scope that gave no digest and are left out. */
  readonly skipped: readonly Server[];
  readonly proofs: ReadonlyMap<Server, TwoFactorProof>;
}

/** Returns null when the user aborted or the authdata file was unusable (nothing was sent). */
export async function enrolTwoFactor(ctx: ShellContext, command: string, path: string): Promise<Enrolment | null> {
  const requests: DigestRequest[] = [];
  const asked = await fanOutMutating(ctx, {
    command,
    style: "RIA",
    changes: false,
    send: (server) => callServer(server, "enroll-challenge", {}),
    onSuccess: (server, data) => requests.push({ server, challengeId: data.challengeId, digest: data.digest }),
  });
  if (!asked.completed || requests.length === 0) return null;
  const answers = await exchangeAuthData(ctx, path, requests, { needPublicKey: true });
  if (answers === null || answers.publicKeyPem === null) return null;
  const proofs = new Map<Server, TwoFactorProof>();
  for (const proof of answers.proofs) {
    proofs.set(proof.server, {
      challengeId: proof.challengeId,
      publicKeyPem: answers.publicKeyPem,
      signature: proof.signature,
    });
  }
  const servers = requests.map((r) => r.server);
  return { servers, skipped: ctx.servers.filter((s) => !servers.includes(s)), proofs };
}
