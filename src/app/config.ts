// The app's own configuration, read from the environment next to Probot's (APP_ID, PRIVATE_KEY,
// WEBHOOK_SECRET, ...): which cluster the gate replays to, and the gate's officer account there.
// It also insists on WEBHOOK_SECRET, which Probot would otherwise default.
// Every problem is reported at once, by variable name, so an operator fixes them in one go; a
// password is never repeated in any message, not even a wrong one.
import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { readClusterFile } from "../cluster/cluster-file.ts";
import type { GateCredentials } from "../cluster/gateway.ts";
import { parsePasswordKey } from "../cluster/password-key.ts";

export interface AppConfig {
  /** Path of the cluster file (`cluster.json`), re-read on every delivery. */
  readonly clusterFile: string;
  readonly gate: GateCredentials;
  /** The execution window on a real cluster (docs/real-cluster.md): QG_WINDOW_SECONDS, QG_WINDOW_POLL_SECONDS. */
  readonly window: { readonly maxSeconds?: number; readonly pollSeconds?: number };
}

export type AppConfigResult =
  | { readonly ok: true; readonly value: AppConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and checks the configuration; never throws, never echoes a password. */
export function readAppConfig(
  env: Env,
  readText: (path: string) => string = (path) => readFileSync(path, "utf8"),
): AppConfigResult {
  const errors: string[] = [];
  const clusterFile = nonEmpty(
    env,
    "QG_CLUSTER_FILE",
    "the path of the cluster file (cluster.json) the gate talks to",
    errors,
  );
  if (clusterFile !== null) {
    // Checked now so that a typo fails at start-up, not at the first webhook.
    const cluster = readClusterFile(clusterFile);
    if (!cluster.ok) errors.push(`QG_CLUSTER_FILE: ${cluster.error}`);
  }
  // Probot falls back to the public secret "development"; deliveries signed with it would be
  // accepted from anyone. (Probot reads the variable itself; this only refuses to start without it.)
  const secret = env["WEBHOOK_SECRET"] ?? "";
  if (secret === "" || secret === "development")
    errors.push(
      "WEBHOOK_SECRET is not set: the secret of the App's webhook (Probot's default \"development\" is refused)",
    );
  const userName = nonEmpty(
    env,
    "QG_GATE_USER",
    "the name of the gate's crypto officer account on the cluster",
    errors,
  );
  const password = readPassword(env, readText, errors);
  const passwordKey = readPasswordKey(env, readText, errors);
  const maxSeconds = seconds(env, "QG_WINDOW_SECONDS", WINDOW_SECONDS, errors);
  const pollSeconds = seconds(env, "QG_WINDOW_POLL_SECONDS", POLL_SECONDS, errors);
  if (errors.length > 0 || clusterFile === null || userName === null || password === null) return { ok: false, errors };
  const window = {
    ...(maxSeconds === null ? {} : { maxSeconds }),
    ...(pollSeconds === null ? {} : { pollSeconds }),
  };
  const gate = { userName, password, ...(passwordKey === null ? {} : { passwordKey }) };
  return { ok: true, value: { clusterFile, gate, window } };
}

/** QG_PASSWORD_KEY_FILE, optional: the gate's password key for a real cluster (src/cluster/password-key.ts). */
function readPasswordKey(env: Env, readText: (path: string) => string, errors: string[]): KeyObject | null {
  const file = env["QG_PASSWORD_KEY_FILE"]?.trim() ?? "";
  if (file === "") return null;
  const text = readSecretFile("QG_PASSWORD_KEY_FILE", file, readText, errors);
  if (text === null) return null;
  const parsed = parsePasswordKey(text);
  if (!parsed.ok) {
    errors.push(`QG_PASSWORD_KEY_FILE: ${file} ${parsed.message}`);
    return null;
  }
  return parsed.key;
}

/** Bounds of the window settings: below the HSM token's life anyway; polling often enough to matter. */
export const WINDOW_SECONDS = { min: 10, max: 3600 } as const;
export const POLL_SECONDS = { min: 1, max: 60 } as const;

/** An optional whole number of seconds within bounds; null when unset. */
function seconds(env: Env, name: string, bounds: { min: number; max: number }, errors: string[]): number | null {
  const text = env[name]?.trim() ?? "";
  if (text === "") return null;
  if (!/^[0-9]{1,6}$/.test(text) || Number(text) < bounds.min || Number(text) > bounds.max) {
    errors.push(`${name} must be a whole number of seconds from ${bounds.min} to ${bounds.max}`);
    return null;
  }
  return Number(text);
}

function nonEmpty(env: Env, name: string, what: string, errors: string[]): string | null {
  const value = env[name]?.trim() ?? "";
  if (value === "") {
    errors.push(`${name} is not set: ${what}`);
    return null;
  }
  return value;
}

function readPassword(env: Env, readText: (path: string) => string, errors: string[]): string | null {
  const inline = env["QG_GATE_PASSWORD"];
  const file = env["QG_GATE_PASSWORD_FILE"]?.trim();
  const hasInline = inline !== undefined && inline !== "";
  const hasFile = file !== undefined && file !== "";
  if (hasInline && hasFile) {
    errors.push("QG_GATE_PASSWORD and QG_GATE_PASSWORD_FILE are both set: set only one");
    return null;
  }
  if (hasInline) return inline;
  if (!hasFile) {
    errors.push(
      "QG_GATE_PASSWORD or QG_GATE_PASSWORD_FILE is not set: the gate account's password, or a file holding it",
    );
    return null;
  }
  const text = readSecretFile("QG_GATE_PASSWORD_FILE", file, readText, errors);
  if (text === null) return null;
  // Files made with `echo` end with a newline that is not part of the password.
  const password = text.replace(/\r?\n$/, "");
  if (password === "") {
    errors.push(`QG_GATE_PASSWORD_FILE: ${file} is empty`);
    return null;
  }
  return password;
}

/** A file named by `variable`; an unreadable one is an error by errno code, never by content. */
function readSecretFile(
  variable: string,
  file: string,
  readText: (path: string) => string,
  errors: string[],
): string | null {
  try {
    return readText(file);
  } catch (err) {
    // The errno code only: the error object could carry more than we want in a log.
    const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "error";
    errors.push(`${variable}: cannot read ${file} (${code})`);
    return null;
  }
}
