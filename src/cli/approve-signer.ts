// The officer's key for `quorum-gate approve`: a PEM file (encrypted or not), or a PKCS#11 URI
// (`pkcs11:token=...;object=...`) that the system's `openssl` reaches through the libp11 engine
// (docs/approvals.md, "Keys in hardware"), so that the private key never has to be a file.
// Either way the signature is RSASSA-PKCS1-v1_5 with SHA-256, what `openssl dgst -sha256 -sign`
// makes, and it is checked against the key's public half before anything is posted.
import { spawn } from "node:child_process";
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RSA_BITS, fingerprint, isEncryptedPrivateKeyPem, signMessage, verifyMessage } from "../crypto/rsa.ts";
import { readInputFile } from "./input-file.ts";
import type { CliIo } from "./io.ts";
import { isRefusal, refuse, type Refusal } from "./refusal.ts";
import { createHiddenPrompter } from "./secret-input.ts";

export interface Signer {
  /** For people: the file, or the URI without any PIN in it. */
  readonly label: string;
  readonly publicKey: KeyObject;
  /** Hex SHA-256 of the public key's SPKI, as `key_fingerprint` in the policy. */
  readonly fingerprint: string;
  sign(message: Buffer): Promise<Buffer | Refusal>;
  /** Forgets what was loaded (a PIN file written for openssl). */
  close(): void;
}

export interface SignerOptions {
  readonly key: string;
  readonly passphraseFile: string | undefined;
  /** The openssl binary; `openssl` on PATH by default. */
  readonly openssl: string;
}

const MAX_KEY_BYTES = 64 * 1024;

export function isPkcs11Uri(key: string): boolean {
  return key.startsWith("pkcs11:");
}

export async function loadSigner(options: SignerOptions, io: CliIo): Promise<Signer | Refusal> {
  return isPkcs11Uri(options.key) ? loadPkcs11Signer(options, io) : loadPemSigner(options, io);
}

async function loadPemSigner(options: SignerOptions, io: CliIo): Promise<Signer | Refusal> {
  const path = options.key;
  const pem = readInputFile(path, "key file", { maxBytes: MAX_KEY_BYTES, unreadableExit: 1 });
  if (isRefusal(pem)) return pem;
  let key: KeyObject;
  if (isEncryptedPrivateKeyPem(pem.toString("latin1"))) {
    const passphrase = await secretOf(options.passphraseFile, io, `Enter pass phrase for ${path}:`, path);
    if (isRefusal(passphrase)) return passphrase;
    try {
      key = createPrivateKey({ key: pem, format: "pem", passphrase });
    } catch {
      return refuse(1, `bad_key: cannot decrypt ${path}: wrong pass phrase, or not a key`);
    }
  } else {
    try {
      key = createPrivateKey({ key: pem, format: "pem" });
    } catch {
      return refuse(1, `bad_key: ${path} is not a PEM private key`);
    }
  }
  const size = checkRsa(key, path);
  if (size !== null) return size;
  const publicKey = createPublicKey(key);
  return {
    label: path,
    publicKey,
    fingerprint: fingerprint(publicKey),
    sign: async (message) => signMessage(message, key),
    close: () => undefined,
  };
}

function checkRsa(key: KeyObject, what: string): Refusal | null {
  if (key.asymmetricKeyType !== "rsa")
    return refuse(
      1,
      `bad_key: ${what} is a ${key.asymmetricKeyType ?? "non-RSA"} key; quorum keys are RSA-${RSA_BITS}`,
    );
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== RSA_BITS)
    return refuse(1, `bad_key: ${what} is an RSA-${bits ?? "?"} key; quorum keys are RSA-${RSA_BITS}`);
  return null;
}

/** A pass phrase or PIN: the first line of --passphrase-file, or typed without echo on a terminal. */
async function secretOf(file: string | undefined, io: CliIo, prompt: string, what: string): Promise<string | Refusal> {
  if (file !== undefined) {
    const bytes = readInputFile(file, "pass phrase file", { maxBytes: 4096, unreadableExit: 1 });
    if (isRefusal(bytes)) return bytes;
    const line = bytes.toString("utf8").split(/\r?\n/)[0] ?? "";
    if (line === "") return refuse(1, `bad_key: ${file} holds no pass phrase on its first line`);
    return line;
  }
  if (!io.isTTY)
    return refuse(
      2,
      `bad_arguments: ${what} needs a pass phrase or PIN and stdin is not a terminal: give --passphrase-file FILE`,
    );
  const prompter = createHiddenPrompter(io.stdin, io.stderr);
  const line = await prompter.ask(prompt);
  prompter.close();
  if (line === null || line === "") return refuse(1, "cancelled: no pass phrase was given; nothing was signed");
  return line;
}

/** `pkcs11:a=b;c=d?query` split into its path attributes (without `type`) and its query. */
function splitUri(uri: string): { readonly path: string; readonly query: string } {
  const body = uri.slice("pkcs11:".length);
  const at = body.indexOf("?");
  const path = (at === -1 ? body : body.slice(0, at))
    .split(";")
    .filter((a) => a !== "" && !a.startsWith("type="))
    .join(";");
  return { path, query: at === -1 ? "" : body.slice(at + 1) };
}

async function loadPkcs11Signer(options: SignerOptions, io: CliIo): Promise<Signer | Refusal> {
  const { path, query } = splitUri(options.key);
  const label = `pkcs11:${path}`;
  const queryHasPin = query.split("&").some((q) => q.startsWith("pin-value=") || q.startsWith("pin-source="));
  const work = mkdtempSync(join(tmpdir(), "quorum-gate-approve-"));
  const cleanup = (): void => rmSync(work, { recursive: true, force: true });
  // The public half needs no PIN: read it first, so a wrong URI fails before any PIN is asked.
  const pub = await run(options.openssl, [
    "pkey",
    "-engine",
    "pkcs11",
    "-inform",
    "engine",
    "-pubin",
    "-in",
    `pkcs11:${path};type=public`,
    "-pubout",
  ]);
  if (!pub.ok) {
    cleanup();
    return refuse(
      1,
      `pkcs11_failed: openssl could not read the public key at ${label} (is the token plugged in, and the engine installed: libengine-pkcs11-openssl?):\n${pub.stderr}`,
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pub.stdout);
  } catch {
    cleanup();
    return refuse(1, `pkcs11_failed: openssl printed no public key for ${label}`);
  }
  const size = checkRsa(publicKey, label);
  if (size !== null) {
    cleanup();
    return size;
  }
  // The PIN goes to openssl as a file (pin-source), never on its command line, where the process
  // list would show it.
  let pinQuery = query;
  if (!queryHasPin) {
    // openssl reads the whole file as the PIN, line end included: hand it the first line only,
    // in a file of our own that is removed when the command ends.
    const pin = await secretOf(options.passphraseFile, io, `Enter PIN for ${label}:`, label);
    if (isRefusal(pin)) {
      cleanup();
      return pin;
    }
    const pinFile = join(work, "pin");
    writeFileSync(pinFile, pin, { mode: 0o600 });
    pinQuery = [query, `pin-source=file:${pinFile}`].filter((q) => q !== "").join("&");
  }
  const privateUri = `pkcs11:${path};type=private?${pinQuery}`;
  return {
    label,
    publicKey,
    fingerprint: fingerprint(publicKey),
    async sign(message) {
      const input = join(work, "message");
      const output = join(work, "signature");
      writeFileSync(input, message, { mode: 0o600 });
      const r = await run(options.openssl, [
        "dgst",
        "-sha256",
        "-engine",
        "pkcs11",
        "-keyform",
        "engine",
        "-sign",
        privateUri,
        "-out",
        output,
        input,
      ]);
      if (!r.ok)
        return refuse(
          1,
          `pkcs11_failed: openssl could not sign with ${label} (wrong PIN? a YubiKey locks after a few wrong PINs):\n${r.stderr.replaceAll(privateUri, label)}`,
        );
      const signature = readFileSync(output);
      return verifyMessage(message, publicKey, signature)
        ? signature
        : refuse(1, `pkcs11_failed: the signature from ${label} does not verify under its public key`);
    },
    close: cleanup,
  };
}

interface RunResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((done) => {
    // stdin is closed: the engine must never wait for a PIN typed into a pipe nobody writes to.
    const child = spawn(command, [...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) => done({ ok: false, stdout: "", stderr: e.message }));
    child.on("close", (code, signal) => {
      const text = Buffer.concat(err)
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "" && !l.startsWith('Engine "pkcs11" set.'))
        .slice(0, 8)
        .join("\n");
      const ok = code === 0;
      done({
        ok,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: text === "" && !ok ? `openssl ended with ${signal ?? `status ${code ?? "?"}`}` : text,
      });
    });
  });
}
