// The baseline for the flow benchmark: a bare loopback HTTP server that commits one SQLite row
// per request (WAL, synchronous=FULL, like a node) and answers a small JSON envelope. It runs
// in its own process, as nodes do. Prints `listening <host>:<port>` when ready.
import { createServer } from "node:http";
import { DatabaseSync } from "node:sqlite";

const dbPath = process.argv[2];
if (dbPath === undefined) throw new Error("usage: baseline-server.ts DB");
const db = new DatabaseSync(dbPath);
db.exec(
  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT",
);
const insert = db.prepare("INSERT INTO t (body) VALUES (?)");

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    db.exec("BEGIN IMMEDIATE");
    insert.run(body);
    db.exec("COMMIT");
    const out = JSON.stringify({ ok: true, data: { size: body.length } });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
    res.end(out);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address !== null && typeof address === "object") process.stdout.write(`listening 127.0.0.1:${address.port}\n`);
});
process.on("SIGTERM", () =>
  server.close(() => {
    db.close();
    process.exit(0);
  }),
);
