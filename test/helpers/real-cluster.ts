// What a test of the cloudhsm-cli backend sets up the same way every time: an executable that runs
// `quorum-gate cloudhsm-cli` against an emulated cluster, as the gate would run AWS's binary, and
// a policy's officers with their pinned public keys (testKey(officer)).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testKey } from "./keys.ts";

const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));

/** Writes `<dir>/cloudhsm-cli`, a shell script that runs the emulator's CloudHSM CLI shell on `clusterFile`; returns its path. */
export function writeCloudhsmCliWrapper(dir: string, clusterFile: string): string {
  const wrapper = join(dir, "cloudhsm-cli");
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec "${process.execPath}" "${BIN}" cloudhsm-cli --cluster "${clusterFile}" "$@"\n`,
    {
      mode: 0o755,
    },
  );
  return wrapper;
}

/** The `officers:` entries (without the key line) mapping each login to its officer and pinned key. */
export function pinnedOfficerLines(officers: Readonly<Record<string, string>>): string[] {
  return Object.entries(officers).map(
    ([login, officer]) =>
      `  ${login}:\n    officer: ${officer}\n    public_key: |\n${testKey(officer)
        .publicPem.trimEnd()
        .split("\n")
        .map((l) => `      ${l}`)
        .join("\n")}`,
  );
}
