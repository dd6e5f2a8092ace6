// TLS material for a cluster whose nodes are reachable off loopback: one cluster CA and one server
// certificate per node, under DIR/tls. node:crypto cannot issue X.509 certificates, so this uses
// the `openssl` binary (no new dependency; it is on every machine that runs CloudHSM tooling).
// Everything is generated at run time, private keys are mode 0600, and nothing is ever logged.
//
// Material is reused across starts while it is still valid: same CA, node certificate issued by
// it, covering the node's host and not expiring within a day. Otherwise the node certificate (or
// everything, when the CA is unusable) is issued again.
import { randomBytes, X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";

export interface NodeTlsFiles {
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPath: string;
}

export interface ClusterTls {
  readonly caPem: string;
  readonly nodes: readonly NodeTlsFiles[];
}

const DAY_MS = 24 * 3600 * 1000;

export function ensureClusterTls(
  dataDir: string,
  clusterId: string,
  nodes: readonly { readonly host: string; readonly hsmId: string }[],
): ClusterTls {
  const dir = join(dataDir, "tls");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caPath = join(dir, "ca.crt");
  const caKeyPath = join(dir, "ca.key");
  if (!usableCa(caPath, caKeyPath)) makeCa(caPath, caKeyPath, clusterId);
  const ca = new X509Certificate(readFileSync(caPath));
  const files = nodes.map((node, i) => {
    const certPath = join(dir, `node-${i}.crt`);
    const keyPath = join(dir, `node-${i}.key`);
    if (!usableNodeCert(certPath, keyPath, ca, node.host)) makeNodeCert(certPath, keyPath, caPath, caKeyPath, node);
    return { certPath, keyPath, caPath };
  });
  return { caPem: ca.toString(), nodes: files };
}

function usableCa(caPath: string, caKeyPath: string): boolean {
  if (!existsSync(caPath) || !existsSync(caKeyPath)) return false;
  try {
    const ca = new X509Certificate(readFileSync(caPath));
    return ca.ca && notExpiringSoon(ca);
  } catch {
    return false;
  }
}

function usableNodeCert(certPath: string, keyPath: string, ca: X509Certificate, host: string): boolean {
  if (!existsSync(certPath) || !existsSync(keyPath)) return false;
  try {
    const cert = new X509Certificate(readFileSync(certPath));
    const covers = isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
    return covers && cert.checkIssued(ca) && cert.verify(ca.publicKey) && notExpiringSoon(cert);
  } catch {
    return false;
  }
}

function notExpiringSoon(cert: X509Certificate): boolean {
  return cert.validToDate.getTime() - Date.now() > DAY_MS;
}

function makeCa(caPath: string, caKeyPath: string, clusterId: string): void {
  openssl(
    ["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ["-keyout", caKeyPath, "-out", caPath, "-days", "3650", "-subj", `/CN=quorum-gate cluster CA ${clusterId}`],
    ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  );
  chmodSync(caKeyPath, 0o600);
  // Node certificates issued by an older CA now fail usableNodeCert and are issued again.
}

function makeNodeCert(
  certPath: string,
  keyPath: string,
  caPath: string,
  caKeyPath: string,
  node: { host: string; hsmId: string },
): void {
  const csrPath = `${certPath}.csr`;
  const extPath = `${certPath}.ext`;
  const san = isIP(node.host) ? `IP:${node.host}` : `DNS:${node.host}`;
  writeFileSync(
    extPath,
    `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  try {
    openssl([
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      csrPath,
      "-subj",
      `/CN=${node.hsmId}`,
    ]);
    chmodSync(keyPath, 0o600);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        csrPath,
        "-CA",
        caPath,
        "-CAkey",
        caKeyPath,
        "-set_serial",
        `0x${randomBytes(16).toString("hex")}`,
      ],
      ["-days", "825", "-sha256", "-extfile", extPath, "-out", certPath],
    );
  } finally {
    rmSync(csrPath, { force: true });
    rmSync(extPath, { force: true });
  }
}

function openssl(...parts: string[][]): void {
  const args = parts.flat();
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") throw new Error("TLS for the cluster needs the openssl binary on PATH");
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString("utf8").trim().split("\n")[0] ?? e.message}`);
  }
}
