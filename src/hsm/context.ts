import type { Env } from "./env.ts";
import type { NodeRepository } from "./repository.ts";

export interface CoreConfig {
  /** A session idle this long counts as a dropped connection: it ends, and its tokens die. */
  readonly sessionIdleSeconds: number;
  /** How long a 2FA challenge can be answered. */
  readonly challengeTtlSeconds: number;
}

export const DEFAULT_CORE_CONFIG: CoreConfig = { sessionIdleSeconds: 1800, challengeTtlSeconds: 600 };

/** Everything a command may touch. */
export interface CoreContext {
  readonly repo: NodeRepository;
  readonly env: Env;
  readonly config: CoreConfig;
}
