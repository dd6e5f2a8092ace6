// action.yml is the Action's contract with the workflows that use it: it must declare exactly the
// inputs and outputs the code reads and sets, each described, and run the committed bundle on Node 24.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { INPUT_NAMES } from "../../src/action/inputs.ts";
import { OUTPUT_NAMES } from "../../src/action/verdict.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const manifest = parse(readFileSync(`${ROOT}action.yml`, "utf8")) as {
  name: string;
  description: string;
  branding: { icon: string; color: string };
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
};

describe("action.yml", () => {
  it("declares exactly the inputs the code reads, each described, none required (the code reports what is missing)", () => {
    assert.deepEqual(Object.keys(manifest.inputs).sort(), [...INPUT_NAMES].sort());
    for (const [name, input] of Object.entries(manifest.inputs)) {
      assert.ok(input.description.trim().length > 20, `${name} is described`);
      assert.notEqual(input.required, true, `${name}: a required input fails before the code can say why`);
    }
    assert.equal(manifest.inputs["mode"]?.default, "evaluate");
    assert.equal(manifest.inputs["github-token"]?.default, "${{ github.token }}");
    assert.equal(manifest.inputs["gate-password"]?.default, "", "no default secret");
  });

  it("declares exactly the outputs the code sets, each described", () => {
    assert.deepEqual(Object.keys(manifest.outputs).sort(), [...OUTPUT_NAMES].sort());
    for (const [name, output] of Object.entries(manifest.outputs))
      assert.ok(output.description.trim().length > 20, `${name} is described`);
  });

  it("runs the committed bundle on node24, with branding for the marketplace", () => {
    assert.deepEqual(manifest.runs, { using: "node24", main: "dist/index.js" });
    assert.ok(existsSync(`${ROOT}dist/index.js`), "dist/index.js is committed (npm run bundle)");
    assert.ok(manifest.branding.icon !== "" && manifest.branding.color !== "");
    assert.ok(manifest.name !== "" && manifest.description !== "");
  });

  it("the code reads no input that action.yml does not declare", () => {
    const sources = ["src/action/inputs.ts", "src/action/run.ts", "src/action/main.ts"]
      .map((f) => readFileSync(`${ROOT}${f}`, "utf8"))
      .join("\n");
    // Inputs are read only through inputVariable(name) over INPUT_NAMES; a raw INPUT_ or getInput would bypass the contract.
    assert.doesNotMatch(sources, /["'`]INPUT_[A-Z]/);
    assert.doesNotMatch(sources, /getInput\(/);
  });
});
