// The YAML reader under request and policy files: failsafe scalars (text as written), refusals
// of anchors, aliases, tags and complex keys, limits, and line numbers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseYamlTree, type YamlNode } from "../../src/gate/yaml-tree.ts";

const read = (text: string, max = 1024) => parseYamlTree(Buffer.from(text, "utf8"), max, "the file");

function plain(node: YamlNode): unknown {
  if (node.kind === "scalar") return node.text;
  if (node.kind === "seq") return node.items.map(plain);
  return Object.fromEntries([...node.entries].map(([k, e]) => [k, plain(e.value)]));
}

describe("yaml tree", () => {
  it("keeps every scalar as the text written: no booleans, numbers or nulls", () => {
    const r = read("a: yes\nb: 007\nc: 1e3\nd: ~\ne:\nf: [x, 'y']\n");
    assert.ok(r.ok);
    assert.deepEqual(plain(r.root), { a: "yes", b: "007", c: "1e3", d: "~", e: "", f: ["x", "y"] });
  });

  it("keeps __proto__ as an ordinary key", () => {
    const r = read("__proto__: x\n");
    assert.ok(r.ok && r.root.kind === "map");
    assert.equal(r.root.kind === "map" ? r.root.entries.get("__proto__")?.value.kind : "", "scalar");
  });

  it("gives keys their line", () => {
    const r = read("a: 1\n\nb:\n  c: 2\n");
    assert.ok(r.ok && r.root.kind === "map");
    if (r.root.kind !== "map") return;
    assert.equal(r.root.entries.get("b")?.line, 3);
    const b = r.root.entries.get("b")?.value;
    assert.equal(b?.kind === "map" ? b.entries.get("c")?.line : 0, 4);
  });

  const refused: [string, string, string][] = [
    ["anchor", "a: &x 1\n", "invalid_yaml"],
    ["alias", "a: &x 1\nb: *x\n", "invalid_yaml"],
    ["tag", "a: !custom 1\n", "invalid_yaml"],
    ["complex key", "? [a]\n: b\n", "invalid_yaml"],
    ["tab indentation", "a:\n\t- b\n", "invalid_yaml"],
    ["deep nesting", `${"[".repeat(40)}${"]".repeat(40)}`, "invalid_yaml"],
    ["too large", "a: 1\n".repeat(300), "too_large"],
  ];
  for (const [name, text, code] of refused) {
    it(`refuses: ${name}`, () => {
      const r = read(text);
      assert.ok(!r.ok);
      assert.ok(
        r.issues.every((i) => i.code === code),
        JSON.stringify(r.issues),
      );
    });
  }

  it("does not quote the source in its messages", () => {
    const r = read("password: 'hunter2 is here\n");
    assert.ok(!r.ok);
    assert.ok(!JSON.stringify(r.issues).includes("hunter2"));
    assert.equal(typeof r.issues[0]?.line, "number");
  });
});
