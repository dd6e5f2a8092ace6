// The real clock and entropy, for a node that runs as a server (tests inject their own Env).
import { randomBytes } from "node:crypto";
import type { Env } from "../hsm/env.ts";

export const systemEnv: Env = {
  now: () => Date.now(),
  randomBytes: (size) => randomBytes(size),
};
