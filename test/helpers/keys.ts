// Officer keys generated at run time (never committed), cached per process because RSA key
// generation is the slowest thing a test does.
import { constants, generateKeyPairSync, privateEncrypt, type KeyObject } from "node:crypto";

export interface TestKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicPem: string;
  readonly privatePem: string;
}

const cache = new Map<string, TestKey>();

export function testKey(name: string, bits = 2048): TestKey {
  const id = `${name}/${bits}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits, publicExponent: 0x10001 });
  const key = {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
  cache.set(id, key);
  return key;
}

/** What `openssl pkeyutl -sign -pkeyopt digest:sha256` does with a 32-byte digest. */
export function signDigest(key: TestKey, digest: Uint8Array): Buffer {
  const prefix = Buffer.from("3031300d060960864801650304020105000420", "hex");
  return privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([prefix, digest]));
}
