// The app's credentials as GitHub checks them: an RS256 JWT signed with the app's private key
// (iss = app id, at most ten minutes of life) buys an installation token, and the token is what
// every repository route accepts. The key pair is generated per fake, never stored anywhere.
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import type { FakeUser } from "./model.ts";

export interface FakeApp {
  readonly id: number;
  readonly slug: string;
  readonly installationId: number;
  /** PKCS#8 PEM, for Probot's `privateKey` / the PRIVATE_KEY environment variable. */
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
  readonly bot: FakeUser;
  /** The installation's permissions: the manifest's `default_permissions`. */
  readonly permissions: Readonly<Record<string, "read" | "write">>;
}

export function createApp(
  id: number,
  slug: string,
  installationId: number,
  permissions: FakeApp["permissions"],
  privateKeyPem?: string,
): FakeApp {
  let pem = privateKeyPem;
  if (pem === undefined) {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    pem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  }
  return {
    id,
    slug,
    installationId,
    privateKeyPem: pem,
    publicKey: createPublicKey(pem),
    bot: { login: `${slug}[bot]`, type: "Bot" },
    permissions,
  };
}

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");

/** What @octokit/auth-app sends: iat backdated 30 s, exp ten minutes later. */
export function signAppJwt(
  appId: number | string,
  privateKey: KeyObject | string,
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  const head = `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ iat: nowSeconds - 30, exp: nowSeconds + 570, iss: appId })}`;
  return `${head}.${sign("sha256", Buffer.from(head), privateKey).toString("base64url")}`;
}

function decodePart(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v)) : null;
  } catch {
    return null;
  }
}

/** Null when the JWT is the app's and current; otherwise why GitHub would refuse it. */
export function jwtProblem(jwt: string, app: FakeApp, nowSeconds = Math.floor(Date.now() / 1000)): string | null {
  const [h, p, s] = jwt.split(".");
  if (h === undefined || p === undefined || s === undefined) return "not a JWT";
  const header = decodePart(h);
  const payload = decodePart(p);
  if (header === null || payload === null) return "not a JWT";
  if (header["alg"] !== "RS256") return "the JWT is not RS256";
  if (!verify("sha256", Buffer.from(`${h}.${p}`), app.publicKey, Buffer.from(s, "base64url")))
    return "the JWT signature does not verify with the app's key";
  if (String(payload["iss"]) !== String(app.id)) return "the JWT is for another app";
  const { iat, exp } = payload;
  if (typeof iat !== "number" || typeof exp !== "number") return "the JWT has no iat/exp";
  if (exp <= nowSeconds) return "the JWT has expired";
  if (iat > nowSeconds + 60 || exp - nowSeconds > 660) return "the JWT is dated in the future or lives too long";
  return null;
}

/** An installation-token look-alike: ghs_ and 36 base62 characters. */
export function newToken(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return `ghs_${[...randomBytes(36)].map((b) => alphabet[b % 62]).join("")}`;
}
