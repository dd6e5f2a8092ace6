// A node identity for tests, with a sealing key pair generated at run time (never a fixture).
import { generateKeyPairSync } from "node:crypto";
import type { NodeIdentity } from "../../src/hsm/model.ts";

export interface TestIdentity {
  readonly identity: NodeIdentity;
  readonly sealingPrivateKeyPem: string;
}

let cached: { publicKey: string; privateKey: string } | undefined;

/** One RSA-2048 pair per test process: generating it is the slow part. */
export function testIdentity(overrides: Partial<NodeIdentity> = {}): TestIdentity {
  cached ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return {
    identity: {
      clusterId: "cluster-testtesttes",
      nodeId: 1,
      hsmId: "hsm-abcdefghijk",
      sealingPublicKeyPem: cached.publicKey,
      ...overrides,
    },
    sealingPrivateKeyPem: cached.privateKey,
  };
}
