// Every machine-readable line the shell prints, in one place. The formats are those of the seed
// transcripts and of docs/cloudhsm-behaviour.md, "CMU commands" byte for byte (including CMU's literal "on 1 nodes"); anything that
// is only prose lives with the command that prints it.
import type { TokenView, UserView } from "../protocol/messages.ts";
import { SERVICES } from "../hsm/model.ts";

/** What render needs to name a server: its index in the cluster file and its address. */
export interface ServerName {
  readonly index: number;
  readonly host: string;
}

export const SHELL_PROMPT = "aws-cloudhsm>";
export const CONFIRM_PROMPT = "Do you want to continue(y/n)?";
export const RETRY_IGNORE_ABORT_PROMPT = "Retry/Ignore/Abort?(R/I/A):";
export const RETRY_ROLLBACK_IGNORE_PROMPT = "Retry/rollBack/Ignore?(R/B/I):";
export const FILENAME_PROMPT = "Enter filename:";
export const PASSWORD_PROMPT = "Enter password:";
export const PASSPHRASE_PROMPT = "Enter PEM pass phrase:";
export const DISCONNECTING = "disconnecting from servers, please wait...";

// ---- server mode and syncUser (docs/cloudhsm-behaviour.md, "The CMU shell" and "CMU commands") ----------------------------------------------

export const SERVER_MODE_LINE = "Server is in 'E2' mode...";

/** The prompt of server mode, e.g. `server0>`. */
export function serverModePrompt(index: number): string {
  return `server${index}>`;
}

export const EXTRACT_OK = "ExtractMaskedObject: 0x0 !";
export const INSERT_OK = "InsertMaskedObject: 0x0 !";
export const SYNC_USER_SUCCESS = "syncUser success";

/** The CRITICAL-operation banner (docs/cloudhsm-behaviour.md, "The CMU shell"), followed by the blank line before the y/n prompt. */
export const CRITICAL_BANNER: readonly string[] = [
  "*************************CAUTION********************************",
  "This is a CRITICAL operation, should be done on all nodes in the",
  "cluster. AWS does NOT synchronize these changes automatically with the",
  "nodes on which this operation is not executed or failed, please",
  "ensure this operation is executed on all nodes in the cluster.",
  "****************************************************************",
  "",
];

export function serverRef(server: ServerName): string {
  return `server ${server.index}(${server.host})`;
}

export function successLine(command: string, server: ServerName): string {
  return `${command} success on ${serverRef(server)}`;
}

/** First failure line: the command and the node's return code. */
export function failedCodeLine(command: string, code: string): string {
  return `${command} failed: ${code}`;
}

/**
 * Second failure line. createUser and deleteUser have documented wordings (seed 000); the other
 * commands follow deleteUser's pattern, and the mutating ones mirror createUser's gerund form.
 */
export function failedOnServerLine(command: string, server: ServerName): string {
  const ref = serverRef(server);
  switch (command) {
    case "createUser":
      return `creating user on ${ref} failed`;
    case "changePswd":
      return `changing password on ${ref} failed`;
    case "setMValue":
      return `setting M value on ${ref} failed`;
    case "registerQuorumPubKey":
    case "registerMofnPubKey":
      return `registering public key on ${ref} failed`;
    default:
      return `${command} failed on ${ref}`;
  }
}

// ---- start-up ----------------------------------------------------------------------------------

export const CONNECTING_HEADER: readonly string[] = [
  "Connecting to the server(s), it may take time",
  "depending on the server(s) load, please wait...",
  "",
];

export function connectingLine(host: string, port: number): string {
  return `Connecting to server '${host}': hostname '${host}', port ${port}...`;
}

export function connectedLine(host: string, port: number): string {
  return `Connected to server '${host}': hostname '${host}', port ${port}.`;
}

// ---- progress lines (docs/cloudhsm-behaviour.md, "The CMU shell": the plural is literal) ----------------------------------------

export function creatingUserLine(name: string, type: string, nodes: number): string {
  return `Creating User ${name}(${type}) on ${nodes} nodes`;
}

export function deletingUserLine(name: string, type: string, nodes: number): string {
  return `Deleting user ${name}(${type}) on ${nodes} nodes`;
}

export function changingPasswordLine(name: string, type: string, nodes: number): string {
  return `Changing password for ${name}(${type}) on ${nodes} nodes`;
}

export function settingMValueLine(value: number, service: number, nodes: number): string {
  return `Setting M Value(${value}) for ${service} on ${nodes} nodes`;
}

export function gettingHsmInfoLine(nodes: number): string {
  return `Getting HSM Info on ${nodes} nodes`;
}

// ---- listUsers (docs/cloudhsm-behaviour.md, "CMU commands") --------------------------------------------------------------------

export const LIST_USERS_HEADER =
  "    User Id             User Type       User Name                          MofnPubKey    LoginFailureCnt         2FA";

const yesNo = (flag: boolean): string => (flag ? "YES" : "NO");

export function userRow(user: UserView): string {
  return (
    String(user.id).padStart(10) +
    " ".repeat(14) +
    user.type.padEnd(16) +
    user.name.padEnd(32) +
    yesNo(user.mofnPubKey).padStart(11) +
    String(user.loginFailureCnt).padStart(16) +
    yesNo(user.twoFactor).padStart(17)
  );
}

export function listUsersBlock(server: ServerName, users: readonly UserView[]): string[] {
  return [
    `Users on ${serverRef(server)}:`,
    `Number of users found:${users.length}`,
    "",
    LIST_USERS_HEADER,
    ...users.map(userRow),
  ];
}

// ---- tokens (docs/cloudhsm-behaviour.md, "Tokens") -----------------------------------------------------------------

export function tokenLines(token: TokenView): string[] {
  return [
    "Token:",
    `Id:${token.id}`,
    `Service:${token.service}`,
    `Node:${token.nodeId}`,
    `Key Handle:${token.keyHandle}`,
    `User:${token.userName}`,
  ];
}

export function getTokenBlock(server: ServerName, token: TokenView): string[] {
  return [successLine("getToken", server), ...tokenLines(token)];
}

export function serverFrame(server: ServerName): string[] {
  return ["", "=====================", `    Server ${server.index}(${server.host})`, "====================="];
}

export function listTokensServerBlock(server: ServerName, tokens: readonly TokenView[]): string[] {
  const lines = serverFrame(server);
  tokens.forEach((token, i) => {
    lines.push(`-------- Token - ${i} ----------`, ...tokenLines(token));
    lines.push(`Token Validity: ${token.validitySeconds} sec`);
    lines.push(`Required num of approvers : ${token.required}`);
    lines.push(`Current num of approvals : ${token.approvers.length}`);
    for (const [j, name] of token.approvers.entries()) lines.push(`Approver-${j}: ${name}`);
  });
  lines.push(`Num of tokens = ${tokens.length}`);
  return lines;
}

// ---- M values (docs/cloudhsm-behaviour.md, "CMU commands") ---------------------------------------------------------------------

export function serviceName(service: number): string {
  return SERVICES[service] ?? "UNKNOWN";
}

export function mValueLine(service: number, name: string, server: ServerName, value: number): string {
  return `MValue of service ${service}[${name}] on server ${server.index} : [${value}]`;
}

// ---- info server (docs/cloudhsm-behaviour.md, "CMU commands") ------------------------------------------------------------------

export const INFO_HEADER =
  "Id      Name                    Hostname         Port   State           Partition               LoginState";

export function infoRow(row: {
  readonly index: number;
  readonly host: string;
  readonly port: number;
  readonly state: string;
  readonly partition: string;
  readonly loginState: string;
}): string {
  return (
    String(row.index).padEnd(8) +
    row.host.padEnd(24) +
    row.host.padEnd(16) +
    String(row.port).padEnd(8) +
    row.state.padEnd(16) +
    row.partition.padEnd(24) +
    row.loginState
  );
}

export function loginStateText(login: { readonly name: string; readonly type: string } | null): string {
  return login === null ? "Not logged in" : `Logged in as '${login.name}(${login.type})'`;
}

// ---- 2FA (docs/cloudhsm-behaviour.md, "Two-factor authentication") ----------------------------------------------------------------------------

export function authDataWrittenLine(path: string): string {
  return `Authentication data written to: "${path}"`;
}

/** The instructions CMU prints before `Enter filename:` (line breaks as in the vendor tool). */
export const AUTHDATA_INSTRUCTIONS: readonly string[] = [
  "Generate Base64-encoded signatures for SHA256 digests in the authentication data",
  "file. To generate the signatures, use the RSA private key, which is the second factor of",
  "authentication for this user. Paste the signatures and the corresponding public key",
  "into the authentication data file and provide the file path below.",
  "Leave this field blank to use the path initially provided.",
];
