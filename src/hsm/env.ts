// Time and entropy come from outside, so the core is deterministic under test.
export interface Env {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  randomBytes(size: number): Buffer;
}

export function nowSeconds(env: Env): number {
  return Math.floor(env.now() / 1000);
}
