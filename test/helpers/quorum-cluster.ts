// A cluster set up for quorum work, driven over the real node protocol: activated, with crypto
// officers whose quorum keys are registered (they sign), further crypto officers who only hold
// tokens and run commands ("members"), and M(USER_MGMT) set as asked. Used by the concurrency
// test and the load benchmark; each fan-out goes to every node at once, as the shell does.
//
//   const q = await setUpQuorumCluster(clients, { signers: ["officer1", "officer2"], members: ["w0"], m: 2 });
//   const tokenData = concatRecords(await must(clients, "get-token", () => ({ service: 3, userName: "w0" }), sessions));
import { createPublicKey } from "node:crypto";
import type { CallResult, NodeClient } from "../../src/protocol/node-client.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { sealSecret } from "../../src/crypto/seal.ts";
import type { OpName, OpRequest, OpResponse } from "../../src/protocol/messages.ts";
import { testKey } from "./keys.ts";

export const ADMIN_PASSWORD = "admin-pass-1";

/** The password every test user gets: derived from the name, so any client can log in as anyone it knows. */
export const passwordOf = (name: string): string => `pw-${name}`;

/** Sends one command to every node at once; answers in server order, errors as data. */
export function fanOut<K extends OpName>(
  clients: readonly NodeClient[],
  op: K,
  body: (index: number) => OpRequest<K>,
  sessions: readonly (string | null)[] = [],
): Promise<CallResult<OpResponse<K>>[]> {
  return Promise.all(clients.map((c, i) => c.call(op, body(i), sessions[i] ?? null)));
}

/** Like fanOut, but throws on the first node that does not answer ok. */
export async function must<K extends OpName>(
  clients: readonly NodeClient[],
  op: K,
  body: (index: number) => OpRequest<K>,
  sessions: readonly (string | null)[] = [],
): Promise<OpResponse<K>[]> {
  const results = await fanOut(clients, op, body, sessions);
  return results.map((r, i) => {
    if (!r.ok) throw new Error(`${op} on server ${i}: ${r.error.code} ${r.error.message}`);
    return r.data;
  });
}

/** Logs one user in on every node; returns the session ids in server order. */
export async function loginAll(
  clients: readonly NodeClient[],
  userType: "CO" | "CU" | "PRECO",
  userName: string,
  password = passwordOf(userName),
): Promise<string[]> {
  const answers = await must(clients, "login", () => ({ userType, userName, password }));
  return answers.map((a, i) => {
    if (!("sessionId" in a)) throw new Error(`login of ${userName} on server ${i} asked for 2FA`);
    return a.sessionId;
  });
}

/** The token file: every node's record, concatenated in server order. */
export function concatRecords(answers: readonly { record: string }[]): Buffer {
  return Buffer.concat(answers.map((a) => Buffer.from(a.record, "base64")));
}

/** approve-token approvals by `signers` (registered officers) over the whole token file. */
export function approvals(
  tokenData: Uint8Array,
  signers: readonly string[],
): { approverType: number; approverName: string; signature: string }[] {
  return signers.map((name) => ({
    approverType: 2,
    approverName: name,
    signature: signMessage(tokenData, testKey(name).privateKey).toString("base64"),
  }));
}

/** execute signatures by `signers` over the whole token file. */
export function signatures(
  tokenData: Uint8Array,
  signers: readonly string[],
): { userName: string; signature: string }[] {
  return signers.map((userName) => ({
    userName,
    signature: signMessage(tokenData, testKey(userName).privateKey).toString("base64"),
  }));
}

export interface QuorumCluster {
  readonly clusterId: string;
  /** The admin (PCO) sessions, in server order. */
  readonly admin: readonly string[];
  /** Seals a password to the cluster's sealing key (base64), as a request file carries it. */
  seal(password: string): string;
}

export interface QuorumSetUp {
  /** Officers with registered quorum keys (testKey(name)); they sign tokens. */
  readonly signers: readonly string[];
  /** Further crypto officers, without keys: they hold tokens and run the commands. */
  readonly members?: readonly string[];
  /** M of USER_MGMT (service 3) at the end; 1 leaves quorum off. */
  readonly m: number;
  /** CU users to create before M is raised. */
  readonly cryptoUsers?: readonly string[];
}

/** Activates a fresh cluster and creates its officers; every password is passwordOf(name). */
export async function setUpQuorumCluster(clients: readonly NodeClient[], setUp: QuorumSetUp): Promise<QuorumCluster> {
  const admin = await loginAll(clients, "PRECO", "admin", "password");
  await must(
    clients,
    "change-password",
    () => ({ userType: "PRECO", userName: "admin", password: ADMIN_PASSWORD }),
    admin,
  );
  for (const name of [...setUp.signers, ...(setUp.members ?? [])]) {
    await must(clients, "create-user", () => ({ userType: "CO", userName: name, password: passwordOf(name) }), admin);
  }
  for (const name of setUp.cryptoUsers ?? []) {
    await must(clients, "create-user", () => ({ userType: "CU", userName: name, password: passwordOf(name) }), admin);
  }
  const registration = Buffer.from("quorum key registration");
  for (const name of setUp.signers) {
    const s = await loginAll(clients, "CO", name);
    const key = testKey(name);
    await must(
      clients,
      "register-quorum-key",
      () => ({
        userType: "CO",
        userName: name,
        registrationToken: registration.toString("base64"),
        signature: signMessage(registration, key.privateKey).toString("base64"),
        publicKeyPem: key.publicPem,
      }),
      s,
    );
    await must(clients, "logout", () => ({}), s);
  }
  if (setUp.m > 1) await must(clients, "set-m-value", () => ({ service: 3, value: setUp.m }), admin);
  const hello = await must(clients, "hello", () => ({}));
  const sealing = (await must(clients, "sealing-key", () => ({})))[0];
  if (sealing === undefined || hello[0] === undefined) throw new Error("a cluster without nodes");
  const sealingKey = createPublicKey(sealing.publicKeyPem);
  return {
    clusterId: hello[0].clusterId,
    admin,
    seal: (password) => sealSecret(sealingKey, password).toString("base64"),
  };
}
