// The commands of the emulated CloudHSM CLI (docs/cloudhsm-cli.md, "Commands"). Each translates
// to node-protocol calls on every HSM and answers with one envelope; the HSMs check passwords,
// permissions, quorum and every approval signature themselves.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parsePublicKey, sha256 } from "../crypto/rsa.ts";
import { APPROVER_TYPE_CO } from "../formats/approval-file.ts";
import { checkLockout, type GuardOperation } from "../gate/lockout-guard.ts";
import { LIMITS } from "../hsm/model.ts";
import { decodeRecords } from "../hsm/token-record.ts";
import { checkUserName } from "../hsm/rules.ts";
import type { UserView } from "../protocol/messages.ts";
import { callServer, type Server } from "../cmu/session.ts";
import { parseApprovalFile, renderTokenFile, type CliApproval } from "./approval-file.ts";
import { agreed, describeFailures, everyHsm, type NodeAnswer } from "./cluster-session.ts";
import { exchangeMfaTokens } from "./mfa-exchange.ts";
import type { MfaChallenge } from "./mfa-token.ts";
import { fail, MESSAGES, ok, type Envelope } from "./envelope.ts";
import { parseSignedRegistration, renderRegistrationToken } from "./registration-token.ts";
import { isRole, roleOf, serviceNumber, typeForNewUser, type Role } from "./roles.ts";
import { flag, parseFlags, type Flags } from "./words.ts";

export interface CliLogin {
  readonly username: string;
  readonly role: Role;
}

export interface CliState {
  readonly servers: readonly Server[];
  login: CliLogin | null;
  /** Asks for a secret (the password), one line, never echoed. */
  askSecret(prompt: string): Promise<string | null>;
  /** Asks for one visible line (a file path); null at the end of input. */
  ask(prompt: string): Promise<string | null>;
  /** A line for people that is not part of any answer (stderr, so the JSON framing stays intact). */
  warn(line: string): void;
}

type Handler = (state: CliState, flags: Flags, words: readonly string[]) => Promise<Envelope>;

interface CommandSpec {
  readonly summary: string;
  /** Runs without a login (single command mode then logs in with no credentials). */
  readonly noLogin?: true;
  readonly valued: readonly string[];
  readonly booleans?: readonly string[];
  /** Words allowed between the flags (login's `mfa-token-sign`). */
  readonly words?: readonly string[];
  readonly run: Handler;
}

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  login: {
    summary: "log in to every HSM of the cluster (MFA: ... mfa-token-sign --token FILE)",
    valued: ["username", "role", "password", "token"],
    words: ["mfa-token-sign"],
    run: login,
  },
  logout: { summary: "log out of every HSM", valued: [], run: logout },
  "user list": { summary: "list the users of the cluster", valued: [], noLogin: true, run: userList },
  "user create": { summary: "create a user", valued: ["username", "role", "password", "approval"], run: userCreate },
  "user delete": { summary: "delete a user", valued: ["username", "role", "approval"], run: userDelete },
  "user change-password": {
    summary: "change a user's password",
    valued: ["username", "role", "password", "approval"],
    run: userChangePassword,
  },
  "user change-quorum token-sign register": {
    summary: "register the logged-in user's quorum public key",
    valued: ["public-key", "signed-token"],
    run: registerQuorumKey,
  },
  "user change-mfa token-sign": {
    summary: "register (--token FILE) or remove (--deregister) a user's MFA key",
    valued: ["username", "role", "change-password", "token", "approval"],
    booleans: ["deregister", "change-quorum"],
    run: changeMfa,
  },
  "quorum token-sign generate": {
    summary: "write an unsigned quorum token file for a service",
    valued: ["service", "token"],
    run: tokenGenerate,
  },
  "quorum token-sign list": {
    summary: "list the quorum tokens of every HSM",
    valued: [],
    noLogin: true,
    run: tokenList,
  },
  "quorum token-sign delete": { summary: "delete quorum tokens", valued: ["scope"], run: tokenDelete },
  "quorum token-sign list-quorum-values": {
    summary: "show the quorum value of each service",
    valued: [],
    noLogin: true,
    run: listQuorumValues,
  },
  "quorum token-sign list-timeouts": {
    summary: "show how long a token lasts, in seconds",
    valued: [],
    noLogin: true,
    run: listTimeouts,
  },
  "quorum token-sign set-timeout": {
    summary: "set how long a generated token lasts, in seconds",
    valued: ["generated", "approved"],
    run: setTokenTimeout,
  },
  "quorum token-sign set-quorum-value": {
    summary: "set the quorum value of a service",
    valued: ["service", "value", "approval"],
    run: setQuorumValue,
  },
};

/** One line per command, for `--help` and the shell's `help`. */
export function commandList(): string {
  return Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(38)}${c.summary}`)
    .join("\n");
}

/** The longest command name that `words` start with. */
export function findCommand(
  words: readonly string[],
): { readonly name: string; readonly spec: CommandSpec; readonly rest: readonly string[] } | null {
  for (let n = Math.min(4, words.length); n >= 1; n--) {
    const name = words.slice(0, n).join(" ");
    const spec = COMMANDS[name];
    if (spec !== undefined) return { name, spec, rest: words.slice(n) };
  }
  return null;
}

export async function runCommand(state: CliState, args: readonly string[]): Promise<Envelope> {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith("--")) break;
    words.push(a);
  }
  const found = findCommand(words);
  if (found === null)
    return fail(`unrecognized command '${words.join(" ").slice(0, 60)}'; type 'help' for the commands`);
  const allowed = found.spec.words ?? [];
  const parsed = parseFlags(
    args.slice(found.name.split(" ").length),
    found.spec.valued,
    found.spec.booleans ?? [],
    allowed,
  );
  if (!parsed.ok) return fail(parsed.message);
  const stray = parsed.words.find((w) => !allowed.includes(w));
  if (stray !== undefined) return fail(`unexpected argument '${stray.slice(0, 40)}' found`);
  return found.spec.run(state, parsed.flags, parsed.words);
}

// ---- login / logout ----------------------------------------------------------------------------

async function login(state: CliState, flags: Flags, words: readonly string[]): Promise<Envelope> {
  const username = flag(flags, "username");
  const role = flag(flags, "role");
  if (username === undefined || role === undefined) return fail("login needs --username and --role");
  if (!isRole(role) || role === "appliance")
    return fail(`invalid role '${role.slice(0, 20)}': use admin or crypto-user`);
  const mfa = words.includes("mfa-token-sign");
  const tokenPath = flag(flags, "token");
  if (mfa && tokenPath === undefined) return fail("login mfa-token-sign needs --token <file>");
  if (!mfa && tokenPath !== undefined) return fail("--token belongs to login mfa-token-sign");
  if (state.login !== null) return fail("A user is already logged in; log out first");
  const name = checkUserName(username);
  if (typeof name !== "string") return fail("Invalid username");
  // The password is asked first, as the real tool does, so that the answer never tells whether
  // a user name exists.
  const password = flag(flags, "password") ?? (await state.askSecret("Enter password:"));
  if (password === null) return fail("no password given");
  const users = await everyHsm(state.servers, "list-users", () => ({}), false);
  const type = userTypeOn(users, name);
  if (type === null || roleOf(type) !== role) return fail("Invalid username or password");
  const answers = await everyHsm(state.servers, "login", () => ({ userType: type, userName: name, password }), false);
  const sessions = new Map<Server, string>();
  const challenges: MfaChallenge<Server>[] = [];
  const failed: NodeAnswer<unknown>[] = [];
  for (const a of answers) {
    if (!a.ok || a.value === undefined) failed.push(a);
    else if ("sessionId" in a.value) sessions.set(a.server, a.value.sessionId);
    else challenges.push({ target: a.server, challengeId: a.value.challenge.id, digest: a.value.challenge.digest });
  }
  const abandon = async (e: Envelope): Promise<Envelope> => {
    await Promise.all([...sessions].map(([server, id]) => endSession(server, id)));
    return e;
  };
  if (failed.length > 0) {
    return abandon(
      fail(
        failed.every((a) => a.code === "RET_USER_LOGIN_FAILURE" || a.code === "RET_INVALID_PASSWORD")
          ? "Invalid username or password"
          : `login failed: ${describeFailures(failed)}`,
      ),
    );
  }
  if (challenges.length > 0 && !mfa)
    return abandon(fail("This user has MFA enabled: log in with login ... mfa-token-sign --token <file>"));
  if (challenges.length === 0 && mfa)
    return abandon(fail("This user has no MFA key registered: log in without mfa-token-sign"));
  if (challenges.length > 0 && tokenPath !== undefined) {
    const exchanged = await exchangeMfaTokens(state, tokenPath, challenges, { needPublicKey: false });
    if ("error_code" in exchanged) return abandon(exchanged);
    const proved = await Promise.all(
      exchanged.answers.map(async (a) => ({
        server: a.target,
        r: await callServer(
          a.target,
          "login-2fa",
          { challengeId: a.challengeId, signature: a.signature.toString("base64") },
          false,
        ),
      })),
    );
    for (const p of proved) if (p.r.ok) sessions.set(p.server, p.r.data.sessionId);
    const refused = proved.filter((p) => !p.r.ok);
    if (refused.length > 0) {
      const codes = refused.map((p) => (p.r.ok ? "" : p.r.error.code));
      return abandon(
        fail(
          codes.every((c) => c === "RET_2FA_FAILURE" || c === "RET_INVALID_SIGNATURE")
            ? "The signed token file does not verify with this user's MFA key; nothing is logged in"
            : `MFA login failed: ${refused.map((p) => `HSM ${p.server.hsmId}: ${p.r.ok ? "" : p.r.error.code}`).join("; ")}`,
        ),
      );
    }
  }
  for (const [server, id] of sessions) {
    server.sessionId = id;
    server.login = { name, type };
  }
  state.login = { username: name, role };
  return ok({ username: name, role });
}

/** Ends a session the shell has not adopted (a login that is being abandoned). */
async function endSession(server: Server, sessionId: string): Promise<void> {
  server.sessionId = sessionId;
  await callServer(server, "logout", {});
  server.sessionId = null;
  server.login = null;
}

async function logout(state: CliState): Promise<Envelope> {
  if (state.login === null) return fail("No user is logged in");
  await everyHsm(state.servers, "logout", () => ({}));
  for (const s of state.servers) {
    s.sessionId = null;
    s.login = null;
  }
  state.login = null;
  return ok(MESSAGES.logoutOk);
}

// ---- users -------------------------------------------------------------------------------------

function userTypeOn(
  answers: readonly NodeAnswer<{ users: readonly UserView[] }>[],
  name: string,
): UserView["type"] | null {
  for (const a of answers) {
    const u = a.value?.users.find((x) => x.name === name);
    if (u !== undefined) return u.type;
  }
  return null;
}

async function userList(state: CliState): Promise<Envelope> {
  const answers = await everyHsm(state.servers, "list-users", () => ({}), false);
  const reachable = answers.filter((a) => a.ok && a.value !== undefined);
  if (reachable.length === 0) return fail(`no HSM answered: ${describeFailures(answers)}`);
  const names = [...new Set(reachable.flatMap((a) => a.value?.users.map((u) => u.name) ?? []))];
  const users = names.map((name) => {
    const views = reachable.map((a) => a.value?.users.find((u) => u.name === name));
    const present = views.filter((v): v is UserView => v !== undefined);
    const everywhere = present.length === answers.length;
    const key = (v: UserView | undefined) => (v?.mofnPubKey ? [{ strategy: "token-sign", status: "enabled" }] : []);
    const mfa = (v: UserView | undefined) => (v?.twoFactor ? [{ strategy: "token-sign", status: "enabled" }] : []);
    return {
      username: name,
      role: agreed(present.map((v) => roleOf(v.type))),
      locked: agreed(present.map((v) => (v.loginFailureCnt >= LIMITS.lockoutAfter ? "true" : "false"))),
      mfa: agreed(present.map(mfa)),
      quorum: agreed(present.map(key)),
      "cluster-coverage": everywhere ? "full" : "partial",
    };
  });
  return ok({ users });
}

function readApproval(path: string | undefined): { approval: CliApproval | null } | { error: Envelope } {
  if (path === undefined) return { approval: null };
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return { error: fail(`cannot read the approval file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`) };
  }
  const parsed = parseApprovalFile(bytes);
  return parsed.ok ? { approval: parsed.approval } : { error: fail(parsed.message) };
}

const TOKEN_EXPIRED = "The quorum token has expired: generate a new one with quorum token-sign generate";

/**
 * A CloudHSM CLI token lives for the token timeout from its generation (600 s unless `set-timeout`
 * changed it). The emulated HSM keeps session tokens as long as the session, as CMU's "guaranteed
 * to persist" validity allows, so the shell enforces the CLI's lifetime itself: it asks each HSM
 * how long the token's record still has and refuses the approval, before presenting it, when any
 * HSM says none (docs/emulator-fidelity.md, "CloudHSM CLI").
 */
async function tokenExpired(state: CliState, approval: CliApproval): Promise<boolean> {
  const decoded = decodeRecords(approval.approvalData);
  if (!decoded.ok) return false; // the HSMs refuse a malformed token themselves
  const answers = await everyHsm(state.servers, "list-tokens", () => ({}));
  const views = answers.flatMap((a) => a.value?.tokens ?? []);
  return decoded.records.some((r) =>
    views.some((v) => v.nodeId === r.nodeId && v.id === r.tokenId && v.validitySeconds === 0),
  );
}

/**
 * Hands each HSM the approval (its token and the signatures); each checks the signatures against
 * the approvers' registered keys itself. Null when every HSM accepted it, else the envelope to show.
 */
async function presentApproval(state: CliState, approval: CliApproval): Promise<Envelope | null> {
  const tokenData = approval.approvalData.toString("base64");
  if (await tokenExpired(state, approval)) {
    // An expired CLI token is gone: it no longer holds the user's one token of its service.
    await everyHsm(state.servers, "del-token", () => ({ tokenData }));
    return fail(TOKEN_EXPIRED);
  }
  const approvals = approval.signatures.map((s) => ({
    approverType: APPROVER_TYPE_CO,
    approverName: s.username,
    signature: s.signature.toString("base64"),
  }));
  const answers = await everyHsm(state.servers, "approve-token", () => ({ tokenData, approvals }));
  const failed = answers.filter((a) => !a.ok);
  if (failed.length === 0) return null;
  if (
    failed.every(
      (a) =>
        a.code === "RET_INVALID_SIGNATURE" || a.code === "RET_INVALID_USER_TYPE" || a.code === "RET_USER_NOT_FOUND",
    )
  ) {
    return fail("Invalid username-signature pair for quorum authorization");
  }
  if (failed.every((a) => a.code === "RET_TOKEN_NOT_FOUND" || a.code === "RET_TOKEN_EXPIRED")) {
    return fail(
      "The quorum token is not valid: it was used, deleted or expired, or it was generated in another login session",
    );
  }
  return fail(`the approval was refused: ${describeFailures(failed)}`);
}

/**
 * Our extension (docs/emulator-fidelity.md): before a change that would leave fewer officers able
 * to sign than M + 1, say so with the numbers, as the gate's lock-out guard refuses it
 * (docs/governance.md). The HSM still decides; CloudHSM CLI itself warns of nothing.
 */
async function warnOnLockout(state: CliState, operation: GuardOperation): Promise<void> {
  const first = state.servers.slice(0, 1);
  const [users, values] = await Promise.all([
    everyHsm(first, "list-users", () => ({}), false),
    everyHsm(first, "quorum-values", () => ({}), false),
  ]);
  const u = users[0]?.value;
  const v = values[0]?.value;
  if (u === undefined || v === undefined) return;
  const result = checkLockout({
    users: u.users.map((x) => ({ name: x.name, type: x.type, hasQuorumKey: x.mofnPubKey, twoFactor: x.twoFactor })),
    mValues: { 3: v.user, 4: v.quorum },
    operation,
  });
  if (!result.ok) state.warn(`Warning: lock-out risk (${result.reason}): ${result.message}.`);
}

/** Runs one change on every HSM; success only when every HSM made it. */
async function change<K extends "create-user" | "delete-user" | "change-password" | "set-m-value">(
  state: CliState,
  op: K,
  body: Parameters<typeof everyHsm<K>>[2],
  approvalPath: string | undefined,
  data: unknown,
): Promise<Envelope> {
  if (state.login === null) return fail("No user is logged in");
  const read = readApproval(approvalPath);
  if ("error" in read) return read.error;
  if (read.approval !== null) {
    const refused = await presentApproval(state, read.approval);
    if (refused !== null) return refused;
  }
  const answers = await everyHsm(state.servers, op, body);
  const failed = answers.filter((a) => !a.ok);
  if (failed.length === 0) return ok(data);
  if (failed.length === answers.length && failed.every((a) => a.code === "RET_MXN_AUTH_FAILED")) {
    return fail(read.approval === null ? MESSAGES.approvalRequired : MESSAGES.quorumFailed);
  }
  if (failed.length < answers.length)
    return fail(
      `the change was made on ${answers.length - failed.length} of ${answers.length} HSMs only; the cluster is inconsistent: ${describeFailures(failed)}`,
    );
  return fail(describeFailures(failed));
}

function userArgs(flags: Flags): { name: string; role: Role; type: "CO" | "CU" } | Envelope {
  const username = flag(flags, "username");
  const role = flag(flags, "role");
  if (username === undefined || role === undefined) return fail("--username and --role are required");
  if (!isRole(role)) return fail(`invalid role '${role.slice(0, 20)}': use admin or crypto-user`);
  const type = typeForNewUser(role);
  if (type === null) return fail("appliance users belong to the HSM and cannot be managed");
  const name = checkUserName(username);
  if (typeof name !== "string") return fail("Invalid username: 1 to 31 letters, digits or underscores");
  return { name, role, type };
}

async function newPassword(state: CliState, flags: Flags, name = "password"): Promise<string | Envelope> {
  const given = flag(flags, name);
  if (given !== undefined) return given;
  const first = await state.askSecret("Enter password:");
  const again = first === null ? null : await state.askSecret("Confirm password:");
  if (first === null || again === null) return fail("no password given");
  if (first !== again) return fail("Passwords do not match");
  return first;
}

async function userCreate(state: CliState, flags: Flags): Promise<Envelope> {
  const u = userArgs(flags);
  if ("error_code" in u) return u;
  if (state.login === null) return fail("No user is logged in");
  const password = await newPassword(state, flags);
  if (typeof password !== "string") return password;
  return change(
    state,
    "create-user",
    () => ({ userType: u.type, userName: u.name, password }),
    flag(flags, "approval"),
    { username: u.name, role: u.role },
  );
}

async function userDelete(state: CliState, flags: Flags): Promise<Envelope> {
  const u = userArgs(flags);
  if ("error_code" in u) return u;
  if (state.login !== null) await warnOnLockout(state, { kind: "deleteUser", userType: u.type, userName: u.name });
  return change(state, "delete-user", () => ({ userType: u.type, userName: u.name }), flag(flags, "approval"), {
    username: u.name,
    role: u.role,
  });
}

async function userChangePassword(state: CliState, flags: Flags): Promise<Envelope> {
  const u = userArgs(flags);
  if ("error_code" in u) return u;
  if (state.login === null) return fail("No user is logged in");
  const users = await everyHsm(state.servers, "list-users", () => ({}), false);
  const type = userTypeOn(users, u.name);
  const password = await newPassword(state, flags);
  if (typeof password !== "string") return password;
  await warnOnLockout(state, { kind: "changePswd", userType: type ?? u.type, userName: u.name });
  return change(
    state,
    "change-password",
    () => ({ userType: type ?? u.type, userName: u.name, password }),
    flag(flags, "approval"),
    { username: u.name, role: u.role },
  );
}

/**
 * MFA on the emulated HSMs is CMU's 2FA, so this runs CMU's `changePswd -2fa` on every HSM: each
 * hands out a digest, the user signs them with the new key, and the password is set again with the
 * key (or, with --deregister, without it, which removes the key). One key serves MFA and quorum on
 * CloudHSM, hence --change-quorum when the user already has a quorum key (docs/cloudhsm-cli.md, "MFA").
 */
async function changeMfa(state: CliState, flags: Flags): Promise<Envelope> {
  const u = userArgs(flags);
  if ("error_code" in u) return u;
  const tokenPath = flag(flags, "token");
  const deregister = flags.get("deregister") === true;
  if ((tokenPath === undefined) === !deregister) return fail("give one of --token <file> and --deregister");
  if (state.login === null) return fail("No user is logged in");
  if (u.type === "CU")
    return fail(
      "MFA for crypto users is not emulated: the emulated HSMs give MFA to admins only (docs/emulator-fidelity.md)",
    );
  const users = await everyHsm(state.servers, "list-users", () => ({}), false);
  const view = users.flatMap((a) => a.value?.users ?? []).find((v) => v.name === u.name);
  if (view === undefined) return fail(`The user ${u.name} does not exist`);
  if (deregister && !view.twoFactor) return fail("This user has no MFA key registered");
  if (!deregister && view.mofnPubKey && flags.get("change-quorum") !== true)
    return fail(
      "This user has a quorum key, and MFA and quorum share one key: add --change-quorum to replace both with the new key",
    );
  const password = await newPassword(state, flags, "change-password");
  if (typeof password !== "string") return password;
  const data = { username: u.name, role: u.role };
  const approval = flag(flags, "approval");
  if (deregister || tokenPath === undefined) {
    await warnOnLockout(state, { kind: "changePswd", userType: view.type, userName: u.name });
    return change(
      state,
      "change-password",
      () => ({ userType: view.type, userName: u.name, password }),
      approval,
      data,
    );
  }
  const asked = await everyHsm(state.servers, "enroll-challenge", () => ({}));
  const refused = asked.filter((a) => !a.ok || a.value === undefined);
  if (refused.length > 0) return fail(`the HSMs gave no MFA token: ${describeFailures(refused)}`);
  const challenges = asked.flatMap((a) =>
    a.value === undefined ? [] : [{ target: a.server, challengeId: a.value.challengeId, digest: a.value.digest }],
  );
  const exchanged = await exchangeMfaTokens(state, tokenPath, challenges, { needPublicKey: true });
  if ("error_code" in exchanged) return exchanged;
  const publicKeyPem = exchanged.publicKeyPem ?? "";
  const proofs = new Map(
    exchanged.answers.map((a) => [
      a.target,
      { challengeId: a.challengeId, publicKeyPem, signature: a.signature.toString("base64") },
    ]),
  );
  if (state.servers.some((server) => !proofs.has(server)))
    return fail("the signed token file does not answer every HSM");
  return change(
    state,
    "change-password",
    // Every HSM has its proof (checked above): a change-password without one would remove MFA.
    (server) => ({ userType: view.type, userName: u.name, password, twoFactor: proofs.get(server)! }),
    approval,
    data,
  );
}

/**
 * Registers the logged-in user's quorum key on every HSM over the same node command as CMU's
 * registerQuorumPubKey, so the key counts in both tools. Each HSM verifies the signed registration
 * token against the key before it stores the key.
 */
async function registerQuorumKey(state: CliState, flags: Flags): Promise<Envelope> {
  const keyPath = flag(flags, "public-key");
  const signedPath = flag(flags, "signed-token");
  if (keyPath === undefined || signedPath === undefined) return fail("--public-key and --signed-token are required");
  if (state.login === null) return fail("No user is logged in");
  let keyText: string;
  let signedBytes: Buffer;
  try {
    keyText = readFileSync(keyPath, "utf8");
    signedBytes = readFileSync(signedPath);
  } catch (err) {
    return fail(
      `cannot read ${(err as NodeJS.ErrnoException).path ?? "a file"}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  const key = parsePublicKey(keyText);
  if (!key.ok)
    return fail(`Invalid public key: ${key.reason.replace(/_/g, " ")}; an RSA-2048 public key in PEM form is required`);
  const signed = parseSignedRegistration(signedBytes);
  if (!signed.ok) return fail(signed.message);
  const userType = state.servers[0]?.login?.type;
  if (userType === undefined) return fail("No user is logged in");
  const { username, role } = state.login;
  const body = {
    userType,
    userName: username,
    registrationToken: signed.registration.approvalData.toString("base64"),
    signature: signed.registration.signature.toString("base64"),
    publicKeyPem: key.pem,
  };
  const answers = await everyHsm(state.servers, "register-quorum-key", () => body);
  const failed = answers.filter((a) => !a.ok);
  if (failed.length === 0) return ok({ username, role });
  if (failed.length === answers.length && failed.every((a) => a.code === "RET_INVALID_SIGNATURE"))
    return fail(MESSAGES.registrationSignatureInvalid);
  if (failed.length === answers.length && failed.every((a) => a.code === "RET_INVALID_USER_TYPE"))
    return fail("only admins register quorum keys in this emulator (docs/emulator-fidelity.md)");
  if (failed.length < answers.length)
    return fail(
      `the key was registered on ${answers.length - failed.length} of ${answers.length} HSMs only; the cluster is inconsistent: ${describeFailures(failed)}`,
    );
  return fail(describeFailures(failed));
}

// ---- quorum tokens and values --------------------------------------------------------------------

function writeNewFile(path: string, text: string): Envelope | null {
  try {
    writeFileSync(path, text, { flag: "wx" });
    return null;
  } catch (err) {
    return fail(
      `cannot write ${path}: ${(err as NodeJS.ErrnoException).code === "EEXIST" ? "the file exists" : ((err as NodeJS.ErrnoException).code ?? "error")}`,
    );
  }
}

/** Random bytes the officer signs to prove possession of the key; no HSM is asked (any ≤245 bytes will do for them). */
const REGISTRATION_DATA_BYTES = 64;

async function tokenGenerate(state: CliState, flags: Flags): Promise<Envelope> {
  const service = flag(flags, "service");
  const path = flag(flags, "token");
  if (service === undefined || path === undefined) return fail("--service and --token are required");
  if (service === "registration") {
    if (state.login === null) return fail("No user is logged in");
    return writeNewFile(path, renderRegistrationToken(randomBytes(REGISTRATION_DATA_BYTES))) ?? ok({ filepath: path });
  }
  const number = serviceNumber(service);
  if (number === null)
    return fail(
      `the ${service.slice(0, 20)} service is not emulated: use user or quorum (key-usage and key-management need a key store, docs/emulator-fidelity.md)`,
    );
  if (state.login === null) return fail("No user is logged in");
  const userName = state.login.username;
  const answers = await everyHsm(state.servers, "get-token", () => ({ service: number, userName }));
  const failed = answers.filter((a) => !a.ok);
  if (failed.length > 0) {
    // A token on some HSMs only could never gather approvals for all: take it back.
    const issued = answers.filter((a) => a.ok && a.value !== undefined);
    if (issued.length > 0) {
      const tokenData = Buffer.concat(issued.map((a) => Buffer.from(a.value?.record ?? "", "base64"))).toString(
        "base64",
      );
      await everyHsm(
        issued.map((a) => a.server),
        "del-token",
        () => ({ tokenData }),
      );
    }
    return fail(`no token was generated: ${describeFailures(failed)}`);
  }
  const approvalData = Buffer.concat(answers.map((a) => Buffer.from(a.value?.record ?? "", "base64")));
  return writeNewFile(path, renderTokenFile(approvalData, sha256(approvalData))) ?? ok({ filepath: path });
}

async function tokenList(state: CliState): Promise<Envelope> {
  const answers = await everyHsm(state.servers, "list-tokens", () => ({}), false);
  const failed = answers.filter((a) => !a.ok);
  if (failed.length === answers.length) return fail(describeFailures(failed));
  const rows = new Map<
    string,
    {
      username: string;
      service: string;
      "approvals-required": number;
      "number-of-approvals": number;
      "token-timeout-seconds": number;
      hsms: number;
    }
  >();
  for (const a of answers) {
    for (const t of a.value?.tokens ?? []) {
      const key = `${t.userName}/${t.service}/${t.approvers.length}`;
      const row = rows.get(key) ?? {
        username: t.userName,
        service: t.service === 3 ? "user" : t.service === 4 ? "quorum" : String(t.service),
        "approvals-required": t.required,
        "number-of-approvals": t.approvers.length,
        "token-timeout-seconds": t.validitySeconds,
        hsms: 0,
      };
      row.hsms++;
      rows.set(key, row);
    }
  }
  const tokens = [...rows.values()].map(({ hsms, ...t }) => ({
    ...t,
    "cluster-coverage": hsms === answers.length ? "full" : "partial",
  }));
  return ok({ tokens });
}

async function tokenDelete(state: CliState, flags: Flags): Promise<Envelope> {
  const scope = flag(flags, "scope");
  if (scope !== "user" && scope !== "all") return fail("--scope must be user or all");
  if (state.login === null) return fail("No user is logged in");
  const answers = await everyHsm(state.servers, "token-delete", () => ({ scope }));
  const sessionTokens = await everyHsm(state.servers, "del-token", () => ({}));
  const failed = [...answers, ...sessionTokens].filter((a) => !a.ok && a.code !== "RET_TOKEN_NOT_FOUND");
  return failed.length === 0 ? ok(MESSAGES.deleteTokensOk) : fail(describeFailures(failed));
}

async function listQuorumValues(state: CliState): Promise<Envelope> {
  const answers = await everyHsm(state.servers, "quorum-values", () => ({}), false);
  const failed = answers.filter((a) => !a.ok);
  if (failed.length > 0) return fail(`not every HSM answered: ${describeFailures(failed)}`);
  return ok({
    user: agreed(answers.map((a) => a.value?.user ?? 0)),
    quorum: agreed(answers.map((a) => a.value?.quorum ?? 0)),
  });
}

async function setQuorumValue(state: CliState, flags: Flags): Promise<Envelope> {
  const service = serviceNumber(flag(flags, "service") ?? "");
  const text = flag(flags, "value") ?? "";
  if (service === null) return fail("--service must be user or quorum");
  if (!/^[0-9]{1,2}$/.test(text) || Number(text) < 1 || Number(text) > 8)
    return fail("--value must be a whole number from 1 to 8");
  const value = Number(text);
  if (state.login !== null) await warnOnLockout(state, { kind: "setMValue", service, value });
  return change(state, "set-m-value", () => ({ service, value }), flag(flags, "approval"), MESSAGES.setQuorumOk);
}

/**
 * The emulated HSM keeps one lifetime per token, counted from its generation; approving a token
 * does not restart it. So `approved` shows the same value (docs/emulator-fidelity.md).
 */
async function listTimeouts(state: CliState): Promise<Envelope> {
  const answers = await everyHsm(state.servers, "token-timeouts", () => ({}), false);
  const failed = answers.filter((a) => !a.ok);
  if (failed.length > 0) return fail(`not every HSM answered: ${describeFailures(failed)}`);
  const generated = agreed(answers.map((a) => a.value?.generated ?? 0));
  return ok({ generated, approved: generated });
}

async function setTokenTimeout(state: CliState, flags: Flags): Promise<Envelope> {
  if (flag(flags, "approved") !== undefined)
    return fail(
      "--approved is not emulated: a token has one lifetime from its generation; set it with --generated (docs/emulator-fidelity.md)",
    );
  const text = flag(flags, "generated");
  if (text === undefined) return fail("--generated is required");
  if (!/^[0-9]{1,6}$/.test(text) || Number(text) < 1 || Number(text) > MAX_TOKEN_TIMEOUT_SECONDS)
    return fail(`--generated must be a whole number of seconds from 1 to ${MAX_TOKEN_TIMEOUT_SECONDS}`);
  if (state.login === null) return fail("No user is logged in");
  const generated = Number(text);
  const answers = await everyHsm(state.servers, "token-set-timeout", () => ({ generated }));
  const failed = answers.filter((a) => !a.ok);
  if (failed.length === 0) return ok(MESSAGES.setTimeoutOk);
  if (failed.length < answers.length)
    return fail(
      `the timeout was set on ${answers.length - failed.length} of ${answers.length} HSMs only; the cluster is inconsistent: ${describeFailures(failed)}`,
    );
  return fail(describeFailures(failed));
}

/** The HSM's own bound (a week); AWS documents none. */
const MAX_TOKEN_TIMEOUT_SECONDS = 7 * 24 * 3600;
