// `quorum-gate sign`: an officer signs a quorum token and gets the approval comment to post.
// The signature is RSASSA-PKCS1-v1_5 with SHA-256 over the whole token file, byte for byte what
// `openssl dgst -sha256 -sign officer.key token.bin` writes. With --request, --repository and
// --pr it first recomputes the binding digest the gate asks the nodes for, and refuses a token
// that is not bound to exactly that request file in that pull request.
//
// stdout carries the comment and nothing else, so it can be piped; notes go to stderr.
// Exit codes: 0 signed; 1 a file, the key, the token or the binding is the problem; 2 bad arguments.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { statSync } from "node:fs";
import { RSA_BITS, fingerprint, isEncryptedPrivateKeyPem, sha256, signMessage, verifyMessage } from "../crypto/rsa.ts";
import { looksLikeJson, parseCliTokenFile } from "../formats/cli-token-file.ts";
import { decodeLenientBase64 } from "../formats/lenient-base64.ts";
import {
  describeOperation,
  formatIssue,
  parseRequest,
  renderApprovalComment,
  requestBindingDigest,
  serviceOf,
  toBindingContext,
} from "../gate/index.ts";
import { decodeRecords, type TokenRecord } from "../hsm/token-record.ts";
import { parseCommandArgs } from "./args.ts";
import { readInputFile } from "./input-file.ts";
import { isRefusal, refuse, type Refusal } from "./refusal.ts";
import type { CliIo } from "./io.ts";
import { readSecretLine } from "./secret-input.ts";

const HELP = `Usage: quorum-gate sign --key FILE (--token-file FILE | --token BASE64)
                        [--request FILE --repository OWNER/NAME --pr N] [--passphrase-stdin]

Signs a quorum token with a crypto officer's private key and prints the comment to post on the
pull request (/quorum approve <signature>). The signature is the one
'openssl dgst -sha256 -sign FILE token.bin' makes. Only the comment goes to stdout.

Options:
  --key FILE             the officer's private key (PEM); if it is encrypted, the pass phrase is
                         asked for on a terminal, or read with --passphrase-stdin
  --token-file FILE      the token file (raw bytes: the sticky comment's 'base64 -d > token.bin'),
                         or a CloudHSM CLI token file (JSON, "version": "2.0"): its approval_data
  --token BASE64         the token as the sticky comment shows it (line breaks allowed)
  --request FILE         with --repository and --pr: refuse to sign unless every record of the
  --repository O/N       token is bound to this request file in this pull request
  --pr N
  --passphrase-stdin     read the key's pass phrase from the first line of stdin (on a
                         terminal: asked for without echo)
  -h, --help             show this help

Exit status: 0 signed; 1 unreadable or wrong key, token or request, or a token bound to
something else; 2 bad arguments.
`;

const OPTIONS = {
  key: { type: "string" },
  "token-file": { type: "string" },
  token: { type: "string" },
  request: { type: "string" },
  repository: { type: "string" },
  pr: { type: "string" },
  "passphrase-stdin": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Token files hold at most a few hundred bytes; request files 16 KiB; PEM keys a few KiB. */
const MAX_INPUT_BYTES = 64 * 1024;
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9._-]{1,100}$/;

interface BindingCheck {
  readonly requestPath: string;
  readonly repository: string;
  readonly pullRequest: number;
}

interface Plan {
  readonly keyPath: string;
  readonly token: { readonly file: string } | { readonly base64: string };
  readonly check: BindingCheck | null;
  readonly passphraseFromStdin: boolean;
}

export async function runSign(argv: string[], io: CliIo): Promise<number> {
  const outcome = await sign(argv, io);
  if (isRefusal(outcome)) {
    io.stderr.write(`quorum-gate sign: ${outcome.message}\n`);
    return outcome.refused;
  }
  return 0;
}

async function sign(argv: string[], io: CliIo): Promise<Refusal | "done"> {
  const plan = planSign(argv);
  if (plan === "help") {
    io.stdout.write(HELP);
    return "done";
  }
  if (isRefusal(plan)) return plan;

  const token = readToken(plan.token, io);
  if (isRefusal(token)) return token;
  const records = decodeRecords(token);
  if (!records.ok) return refuse(1, `this is not a quorum token file (${records.reason}); nothing was signed`);
  if (plan.check !== null) {
    const bound = checkBinding(records.records, plan.check);
    if (bound !== null) return bound;
    io.stderr.write(
      `binding checked: every record is bound to ${plan.check.requestPath} in ${plan.check.repository}#${plan.check.pullRequest}\n`,
    );
  }

  const key = await loadPrivateKey(plan.keyPath, plan.passphraseFromStdin, io);
  if (isRefusal(key)) return key;
  const signature = signMessage(token, key);
  if (!verifyMessage(token, createPublicKey(key), signature))
    return refuse(1, "the signature does not verify under the key's own public half; nothing was printed");

  io.stderr.write(describeToken(token, records.records));
  io.stderr.write(`signed with the key ${fingerprint(createPublicKey(key))} (SHA-256 of its public key)\n`);
  io.stdout.write(renderApprovalComment(signature));
  return "done";
}

function planSign(argv: string[]): Plan | Refusal | "help" {
  const parsed = parseCommandArgs(argv, OPTIONS, 0, "use --passphrase-stdin, or answer the prompt on a terminal");
  if (!parsed.ok) return refuse(2, `${parsed.message}\nRun 'quorum-gate sign --help' for the options.`);
  const v = parsed.values;
  if (v.help === true) return "help";
  if (v.key === undefined || v.key === "") return refuse(2, "--key is required");
  const tokenFile = v["token-file"];
  if ((tokenFile === undefined) === (v.token === undefined))
    return refuse(2, "give the token once: --token-file FILE or --token BASE64");
  const token = tokenFile !== undefined ? { file: tokenFile } : { base64: v.token ?? "" };

  const given = [v.request, v.repository, v.pr].filter((x) => x !== undefined).length;
  if (given !== 0 && given !== 3)
    return refuse(2, "the binding check needs all three of --request, --repository and --pr");
  let check: BindingCheck | null = null;
  if (given === 3) {
    const repository = v.repository ?? "";
    if (!REPOSITORY.test(repository)) return refuse(2, "--repository must be owner/name, as GitHub spells it");
    if (!/^[1-9][0-9]{0,9}$/.test(v.pr ?? "")) return refuse(2, "--pr must be a pull request number");
    check = { requestPath: v.request ?? "", repository, pullRequest: Number(v.pr) };
  }
  return { keyPath: v.key, token, check, passphraseFromStdin: v["passphrase-stdin"] === true };
}

function readSmallFile(path: string, what: string): Buffer | Refusal {
  return readInputFile(path, what, { maxBytes: MAX_INPUT_BYTES, unreadableExit: 1 });
}

/**
 * The token bytes. `--token` is base64; but the sticky comment's one-line hint reads
 * `--token token.bin`, so a value that is no token in base64 but names a file is read as a file.
 */
function readToken(source: Plan["token"], io: CliIo): Buffer | Refusal {
  if ("file" in source) return readTokenFile(source.file, io);
  const decoded = decodeLenientBase64(source.base64);
  if (decoded.ok && decoded.bytes.length > 0 && decodeRecords(decoded.bytes).ok) return decoded.bytes;
  if (isFile(source.base64)) {
    io.stderr.write(
      `note: --token names a file; reading ${source.base64} as the raw token (--token-file says so explicitly)\n`,
    );
    return readTokenFile(source.base64, io);
  }
  if (!decoded.ok) return refuse(1, `--token is not base64: ${decoded.error}; nothing was signed`);
  return refuse(1, "--token is not the base64 of a quorum token file; nothing was signed");
}

/**
 * A CMU token file (the raw records), or a CloudHSM CLI token file (JSON, version 2.0), whose
 * approval_data is the same records: either way the bytes to sign.
 */
function readTokenFile(path: string, io: CliIo): Buffer | Refusal {
  const bytes = readSmallFile(path, "token file");
  if (isRefusal(bytes) || !looksLikeJson(bytes)) return bytes;
  const parsed = parseCliTokenFile(bytes);
  if (!parsed.ok)
    return refuse(1, `${path} is not a usable CloudHSM CLI token file: ${parsed.reason}; nothing was signed`);
  io.stderr.write(
    `note: ${path} is a CloudHSM CLI token file; signing its approval_data (the same bytes as a CMU token file)\n`,
  );
  return parsed.approvalData;
}

function isFile(path: string): boolean {
  try {
    return path.length <= 4096 && statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Null when every record is bound to the request in the pull request, for the right service. */
function checkBinding(records: readonly TokenRecord[], check: BindingCheck): Refusal | null {
  const bytes = readSmallFile(check.requestPath, "request file");
  if (isRefusal(bytes)) return bytes;
  const parsed = parseRequest(bytes);
  if (!parsed.ok)
    return refuse(
      1,
      `the gate refuses ${check.requestPath}; nothing was signed:\n${parsed.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`,
    );
  const context = toBindingContext(check.repository, check.pullRequest, parsed.digest);
  const expected = requestBindingDigest(parsed.request, context);
  const service = serviceOf(parsed.request.operation);
  const differences: string[] = [];
  records.forEach((r, i) => {
    const record = `record ${i} (node ${r.nodeId}, token ${r.tokenId})`;
    if (r.binding === null) differences.push(`${record}: not bound to any operation (a plain getToken token)`);
    else if (r.binding !== expected) differences.push(`${record}: bound to ${r.binding}`);
    if (r.service !== service)
      differences.push(
        `${record}: for service ${r.service}, but ${describeOperation(parsed.request.operation)} needs service ${service}`,
      );
  });
  if (differences.length === 0) return null;
  return refuse(
    1,
    [
      `refusing to sign: the token is not bound to exactly this request.`,
      `  expected binding ${expected}`,
      `    (${describeOperation(parsed.request.operation)} on ${parsed.request.cluster}; ${check.requestPath} SHA-256 ${parsed.digest}; ${check.repository}#${check.pullRequest})`,
      ...differences.map((d) => `  ${d}`),
    ].join("\n"),
  );
}

async function loadPrivateKey(path: string, passphraseFromStdin: boolean, io: CliIo): Promise<KeyObject | Refusal> {
  const pem = readSmallFile(path, "key file");
  if (isRefusal(pem)) return pem;
  let key: KeyObject;
  if (isEncryptedPrivateKeyPem(pem.toString("latin1"))) {
    const passphrase = await readPassphrase(path, passphraseFromStdin, io);
    if (isRefusal(passphrase)) return passphrase;
    try {
      key = createPrivateKey({ key: pem, format: "pem", passphrase });
    } catch {
      return refuse(1, `cannot decrypt ${path}: wrong pass phrase, or not a key; nothing was signed`);
    }
  } else {
    try {
      key = createPrivateKey({ key: pem, format: "pem" });
    } catch {
      return refuse(1, `${path} is not a PEM private key; nothing was signed`);
    }
  }
  if (key.asymmetricKeyType !== "rsa")
    return refuse(1, `${path} is a ${key.asymmetricKeyType ?? "non-RSA"} key; quorum keys are RSA-${RSA_BITS}`);
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== RSA_BITS) return refuse(1, `${path} is an RSA-${bits ?? "?"} key; quorum keys are RSA-${RSA_BITS}`);
  return key;
}

async function readPassphrase(path: string, fromStdin: boolean, io: CliIo): Promise<string | Refusal> {
  if (!fromStdin && !io.isTTY)
    return refuse(2, `${path} is encrypted and stdin is not a terminal: give the pass phrase with --passphrase-stdin`);
  const line = await readSecretLine(io, `Enter pass phrase for ${path}:`);
  if (line.ok) return line.line;
  if (line.reason === "cancelled") return refuse(1, "cancelled; nothing was signed");
  return refuse(
    1,
    line.reason === "empty"
      ? "no pass phrase on stdin; nothing was signed"
      : "the first line of stdin is too long for a pass phrase",
  );
}

function describeToken(token: Uint8Array, records: readonly TokenRecord[]): string {
  const lines = [
    `token: ${token.byteLength} bytes, SHA-256 ${sha256(token).toString("hex")} (compare with the sticky comment)`,
  ];
  for (const [i, r] of records.entries()) {
    const binding = r.binding === null ? "not bound to an operation" : `binding ${r.binding}`;
    lines.push(
      `  record ${i}: node ${r.nodeId}, token ${r.tokenId}, service ${r.service}, user ${r.userName}, ${binding}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
