// Nodes with TLS, forced on 127.0.0.1 (the suite never binds outside loopback): a client that
// trusts the cluster CA gets through; plain HTTP, no CA, another CA or another host name do not.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createNodeClient } from "../../src/protocol/node-client.ts";
import { ensureClusterTls } from "../../src/cluster/tls.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

/** POST /v1/hello over HTTPS with the given trust; resolves to the HTTP status or the error code. */
function httpsHello(port: number, options: { ca?: string; servername?: string }): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/hello",
        headers: { "content-type": "application/json" },
        agent: false,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.servername ? { servername: options.servername } : {}),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end("{}");
  });
}

describe("TLS between clients and nodes", () => {
  let cluster: TestCluster;
  let port: number;
  let ca: string;
  const otherDir = mkdtempSync(join(tmpdir(), "qg-other-ca-"));

  before(async () => {
    cluster = await startTestCluster({ nodes: 2, tls: true });
    port = cluster.file.nodes[0]!.port;
    ca = cluster.file.ca!;
  });
  after(async () => {
    await cluster.stop();
    rmSync(otherDir, { recursive: true, force: true });
  });

  it("puts the cluster CA in the cluster file and endpoints", () => {
    assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
    assert.ok(cluster.endpoints.every((e) => e.ca === ca));
  });

  it("answers a client that trusts the cluster CA, on every node", async () => {
    for (const [i, endpoint] of cluster.endpoints.entries()) {
      const client = createNodeClient(endpoint);
      try {
        const r = await client.call("hello", {});
        assert.ok(r.ok, JSON.stringify(r));
        assert.equal(r.data.hsmId, cluster.file.nodes[i]?.hsmId);
      } finally {
        client.close();
      }
    }
  });

  it("does not answer plain HTTP", async () => {
    const client = createNodeClient({ host: "127.0.0.1", port });
    try {
      const r = await client.call("hello", {});
      assert.equal(!r.ok && r.error.code, "RET_NODE_UNREACHABLE");
    } finally {
      client.close();
    }
  });

  it("is refused by a client without the CA", async () => {
    assert.match(String(await httpsHello(port, {})), /SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it("is refused by a client that trusts another CA", async () => {
    const other = ensureClusterTls(otherDir, "cluster-otherotherot", [{ host: "127.0.0.1", hsmId: "hsm-aaaaaaaaaaa" }]);
    assert.notEqual(other.caPem, ca);
    assert.match(String(await httpsHello(port, { ca: other.caPem })), /SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it("is refused under a name its certificate does not cover", async () => {
    // Same socket (127.0.0.1), but the client expects the name "localhost", which is not in the SAN.
    assert.equal(await httpsHello(port, { ca, servername: "localhost" }), "ERR_TLS_CERT_ALTNAME_INVALID");
  });

  it("keeps private keys readable by the owner only", () => {
    for (const name of ["ca.key", "node-0.key", "node-1.key"]) {
      assert.equal(statSync(join(cluster.dataDir, "tls", name)).mode & 0o077, 0, name);
    }
  });
});
