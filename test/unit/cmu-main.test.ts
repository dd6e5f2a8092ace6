// `quorum-gate cmu` arguments: --help, strict options (exit 2), and a cluster file that cannot be
// used (exit 1), all before any node is contacted.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, it } from "node:test";
import { runCmu } from "../../src/cmu/main.ts";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const stdin = new PassThrough();
  stdin.end();
  const code = await runCmu(argv, { stdin, stdout, stderr, isTTY: false });
  return { code, out, err };
}

describe("cmu command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-cmu-main-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints help and exits 0", async () => {
    const r = await run(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: quorum-gate cmu \[--cluster FILE\]/);
  });

  it("exits 2 on unknown options, stray arguments and a bad timeout", async () => {
    for (const argv of [["--bogus"], ["extra"], ["--timeout-ms", "soon"], ["--timeout-ms", "0"], ["--cluster"]]) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.err, /quorum-gate cmu: /);
      assert.equal(r.out, "");
    }
  });

  it("exits 1 with the reason when the cluster file is missing or invalid", async () => {
    const missing = await run(["--cluster", join(dir, "nope.json")]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no cluster file at .*nope\.json/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    const invalid = await run(["--cluster", bad]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /not valid JSON/);
  });
});
