// `quorum-gate`: the operator CLI. This file only routes to the command modules, loaded on
// demand so that `quorum-gate cmu` does not pay for the cluster runner and the other way round.
import { readFileSync } from "node:fs";
import type { CliIo } from "./io.ts";
import { runCli } from "./router.ts";

const io: CliIo = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stdin.isTTY === true,
  version: (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
    .version,
};

runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A bug, not bad input: bad input is answered by the commands with exit code 2.
    process.stderr.write(`quorum-gate: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 70;
  },
);
