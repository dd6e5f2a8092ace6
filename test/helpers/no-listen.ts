// Preloaded (`node --import <this file> ...`) into a process that a test expects to refuse to
// listen. Every listen() is reported on stderr and thrown back instead of binding, so the process
// can never bind an address, whatever it was asked for; the test then checks that the marker is
// absent, which proves the refusal came before any attempt to bind.
import { Server } from "node:net";

export const LISTEN_MARKER = "no-listen: listen() was called";

Server.prototype.listen = function listen(): never {
  process.stderr.write(`${LISTEN_MARKER}\n`);
  throw new Error("no-listen: binding is disabled in this process");
};
