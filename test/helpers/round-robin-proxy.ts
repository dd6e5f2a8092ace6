// A load balancer in front of several App replicas, as a deployment puts one: each request goes to
// the next replica in turn, whole (method, path, headers, body), and the replica's answer comes back
// as it is. Two deliveries sent at once therefore reach two different processes. Binds 127.0.0.1
// and stops with close().
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RoundRobinProxy {
  readonly url: string;
  /** How many requests each upstream received, by index. */
  readonly served: readonly number[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(upstreams: readonly number[]): Promise<RoundRobinProxy> {
  let next = 0;
  const served = upstreams.map(() => 0);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const index = next++ % upstreams.length;
    served[index] = (served[index] ?? 0) + 1;
    const upstream = request(
      { host: "127.0.0.1", port: upstreams[index], method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
