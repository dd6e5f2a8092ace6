// Password verifier: SHA-256 over a per-user random salt and the password. Deliberately not a slow
// KDF: each node's database also holds the cluster's sealing private key, so a stolen database is
// already a full compromise and a slow hash would only cost every login (docs/security notes).
import { createHash, timingSafeEqual } from "node:crypto";
import type { Env } from "./env.ts";

export interface PasswordVerifier {
  readonly passwordSalt: string;
  readonly passwordHash: string;
}

export function makeVerifier(env: Env, password: string): PasswordVerifier {
  const salt = env.randomBytes(16).toString("hex");
  return { passwordSalt: salt, passwordHash: digest(salt, password) };
}

export function checkPassword(verifier: PasswordVerifier, password: string): boolean {
  const expected = Buffer.from(verifier.passwordHash, "hex");
  const actual = Buffer.from(digest(verifier.passwordSalt, password), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function digest(saltHex: string, password: string): string {
  return createHash("sha256").update(Buffer.from(saltHex, "hex")).update(password, "utf8").digest("hex");
}
