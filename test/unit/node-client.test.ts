// The node client's transport (src/protocol/node-client.ts): a kept-alive connection that the node
// closed as idle just as a request went out on it is resent once on a new connection; a reset of
// a fresh connection is not resent, and comes back as RET_NODE_UNREACHABLE.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, it } from "node:test";
import { createNodeClient } from "../../src/protocol/node-client.ts";

/** A node stand-in: `decide` says, per request and its connection's count, whether to answer or reset. */
async function withServer(
  decide: (requestOnSocket: number) => "answer" | "reset",
  run: (port: number, stats: { connections: number; requests: number }) => Promise<void>,
): Promise<void> {
  const stats = { connections: 0, requests: 0 };
  const perSocket = new WeakMap<Socket, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    stats.requests += 1;
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    req.resume();
    req.on("end", () => {
      if (decide(n) === "reset") req.socket.resetAndDestroy();
      else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, data: { n } }));
    });
  });
  server.on("connection", () => {
    stats.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await run((server.address() as AddressInfo).port, stats);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe("node client transport", () => {
  it("resends once on a new connection when a kept-alive one is reset", async () => {
    // The second request on any connection is reset, as a node closing an idle connection does.
    await withServer(
      (n) => (n === 1 ? "answer" : "reset"),
      async (port, stats) => {
        const client = createNodeClient({ host: "127.0.0.1", port });
        try {
          assert.deepEqual(await client.call("quorum-values", {}), { ok: true, data: { n: 1 } });
          assert.deepEqual(await client.call("quorum-values", {}), { ok: true, data: { n: 1 } });
          assert.equal(stats.connections, 2, "the resend went out on a new connection");
          assert.equal(stats.requests, 3);
        } finally {
          client.close();
        }
      },
    );
  });

  it("does not resend when a fresh connection is reset", async () => {
    await withServer(
      () => "reset",
      async (port, stats) => {
        const client = createNodeClient({ host: "127.0.0.1", port });
        try {
          const r = await client.call("quorum-values", {});
          assert.equal(r.ok, false);
          assert.equal(!r.ok && r.error.code, "RET_NODE_UNREACHABLE");
          assert.equal(stats.requests, 1, "sent once");
        } finally {
          client.close();
        }
      },
    );
  });
});
