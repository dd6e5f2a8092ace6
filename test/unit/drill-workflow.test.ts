// The scheduled drill workflow (examples/workflows/quorum-drill.yml; actionlint checks it with the
// other workflows in workflows.test.ts) calls the drill CLI only with options the CLI has.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..", "..");
const PATH = "examples/workflows/quorum-drill.yml";

describe("the drill workflow example", () => {
  it("uses only options the drill CLI documents", () => {
    const text = readFileSync(join(ROOT, PATH), "utf8");
    const help = readFileSync(join(ROOT, "src/cli/drill.ts"), "utf8");
    const used = [
      ...new Set(
        [...text.matchAll(/ drill (?:open|check)[^\n]*(?:\n\s+--[^\n]*)*/g)].flatMap((m) =>
          [...m[0].matchAll(/--[a-z-]+/g)].map((x) => x[0]),
        ),
      ),
    ];
    assert.ok(used.length >= 5, used.join(" "));
    for (const o of used) assert.ok(help.includes(`  ${o} `), `${o} is in the drill's --help`);
  });
});
