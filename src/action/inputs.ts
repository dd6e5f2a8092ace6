// The Action's inputs, read from the `INPUT_*` variables the runner sets (action.yml names them;
// test/contract/action-manifest.test.ts keeps the two lists equal). It takes the environment as a
// value and reports every problem at once, by input name, never echoing a password.
import type { KeyObject } from "node:crypto";
import { parseClusterFile, readClusterFile, type ClusterFile } from "../cluster/cluster-file.ts";
import type { GateCredentials } from "../cluster/gateway.ts";
import { parsePasswordKey } from "../cluster/password-key.ts";

export const ACTION_MODES = ["evaluate", "apply"] as const;
export type ActionMode = (typeof ACTION_MODES)[number];

/** Every input the code reads, as action.yml declares it. */
export const INPUT_NAMES = [
  "mode",
  "github-token",
  "cluster",
  "cluster-file",
  "gate-user",
  "gate-password",
  "window-seconds",
  "window-poll-seconds",
  "password-key",
] as const;
export type InputName = (typeof INPUT_NAMES)[number];

export interface ActionInputs {
  readonly mode: ActionMode;
  readonly token: string;
  /** Null when neither `cluster` nor `cluster-file` is set: see `ClusterAccess`. */
  readonly cluster: ClusterAccess | null;
  /** How long `apply` holds an execution window open (backend cloudhsm-cli); null: the HSM token's life. */
  readonly windowSeconds: number | null;
  /** How often the window's holder reads the comments; null: the gate's default (10 s). */
  readonly windowPollSeconds: number | null;
}

/** `window-seconds` bounds: a window shorter than this leaves officers no time; the HSM's token bounds it anyway. */
export const WINDOW_SECONDS = { min: 10, max: 3600 } as const;
/** `window-poll-seconds` bounds, as the App's QG_WINDOW_POLL_SECONDS: each poll costs three REST reads. */
export const WINDOW_POLL_SECONDS = { min: 1, max: 60 } as const;

export interface ClusterAccess {
  readonly file: ClusterFile;
  readonly credentials: GateCredentials;
}

export type InputsResult =
  | { readonly ok: true; readonly value: ActionInputs }
  | { readonly ok: false; readonly errors: readonly string[] };

type Env = Readonly<Record<string, string | undefined>>;

/** `core.getInput`'s mapping: `INPUT_` + the name upper-cased, spaces to underscores, hyphens kept. */
export function inputVariable(name: InputName): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

function input(env: Env, name: InputName): string {
  return (env[inputVariable(name)] ?? "").trim();
}

/**
 * Reads the inputs. The cluster is optional here on purpose: a run with nothing to judge (no
 * policy, no request) must not fail because secrets are missing; the caller asks for it only
 * when it has a request to judge, and then says precisely why it is missing.
 */
export function readInputs(env: Env): InputsResult {
  const errors: string[] = [];
  const modeText = input(env, "mode") || "evaluate";
  const mode = ACTION_MODES.find((m) => m === modeText);
  if (mode === undefined) errors.push(`mode: "${modeText.slice(0, 40)}" is not one of ${ACTION_MODES.join(", ")}`);
  const token = input(env, "github-token");
  if (token === "")
    errors.push("github-token is empty: pass the workflow's token (the default, github.token) or another token");
  const cluster = readCluster(env, errors);
  const windowSeconds = secondsInput(env, "window-seconds", WINDOW_SECONDS, errors);
  const windowPollSeconds = secondsInput(env, "window-poll-seconds", WINDOW_POLL_SECONDS, errors);
  if (errors.length > 0 || mode === undefined) return { ok: false, errors };
  return { ok: true, value: { mode, token, cluster, windowSeconds, windowPollSeconds } };
}

/** An optional whole number of seconds within bounds; null when empty. */
function secondsInput(
  env: Env,
  name: InputName,
  bounds: { readonly min: number; readonly max: number },
  errors: string[],
): number | null {
  const text = input(env, name);
  if (text === "") return null;
  const n = /^[0-9]{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (n >= bounds.min && n <= bounds.max) return n;
  errors.push(`${name}: "${text.slice(0, 20)}" is not a whole number of seconds from ${bounds.min} to ${bounds.max}`);
  return null;
}

function readCluster(env: Env, errors: string[]): ClusterAccess | null {
  const text = input(env, "cluster");
  const path = input(env, "cluster-file");
  const user = input(env, "gate-user");
  // Not trimmed: a password may begin or end with a space; only the runner's empty value is "unset".
  const password = env[inputVariable("gate-password")] ?? "";
  if (text === "" && path === "" && user === "" && password === "") return null;
  if (text !== "" && path !== "") errors.push("cluster and cluster-file are both set: set only one");
  let file: ClusterFile | null = null;
  if (text === "" && path === "") {
    errors.push("cluster is empty: the cluster file's JSON (a secret or a variable), or cluster-file, the path of one");
  } else if (text !== "" && path === "") {
    const parsed = parseClusterFile(text, "the cluster input");
    if (parsed.ok) file = parsed.value;
    else errors.push(`cluster: ${parsed.error}`);
  } else if (path !== "" && text === "") {
    const read = readClusterFile(path);
    if (read.ok) file = read.value;
    else errors.push(`cluster-file: ${read.error}`);
  }
  if (user === "") errors.push("gate-user is empty: the name of the gate's crypto officer account on the cluster");
  if (password === "") errors.push("gate-password is empty: the gate account's password (pass it from a secret)");
  const keyText = env[inputVariable("password-key")] ?? "";
  let passwordKey: KeyObject | undefined;
  if (keyText.trim() !== "") {
    const parsed = parsePasswordKey(keyText);
    if (parsed.ok) passwordKey = parsed.key;
    else errors.push(`password-key ${parsed.message}`);
  }
  if (file === null || user === "" || password === "") return null;
  return { file, credentials: { userName: user, password, ...(passwordKey === undefined ? {} : { passwordKey }) } };
}
