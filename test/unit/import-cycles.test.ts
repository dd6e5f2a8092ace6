// No import cycles (docs/architecture.md, "Rules of the map"): a cycle means two modules cannot be
// understood, tested or replaced apart. Every kind of import counts, type-only and dynamic
// `import()` included, because each is a dependency a reader must follow. The check reads the
// sources as text (relative specifiers only: packages cannot import us back) and finds strongly
// connected components, so it names every file of a cycle at once.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, it } from "node:test";

const ROOT = resolve(import.meta.dirname, "..", "..");
const SPECIFIER =
  /(?:^|\n)[ \t]*(?:import|export)\s[^;'"]*?from\s*["'](\.[^"']+)["']|(?:^|\n)[ \t]*import\s*["'](\.[^"']+)["']|\bimport\(\s*["'](\.[^"']+)["']\s*\)/g;

type Graph = ReadonlyMap<string, readonly string[]>;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function importGraph(dir: string): Graph {
  const graph = new Map<string, string[]>();
  for (const file of sources(dir)) {
    const text = readFileSync(file, "utf8");
    graph.set(
      file,
      [...text.matchAll(SPECIFIER)].map((m) => resolve(dirname(file), m[1] ?? m[2] ?? m[3] ?? "")),
    );
  }
  return graph;
}

/** Strongly connected components of more than one node, or with a self-edge (Tarjan). */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      component.push(w);
    }
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The graph between the top-level folders of `dir` (src/hsm, src/gate, ...). */
function folderGraph(dir: string, graph: Graph): Graph {
  const folderOf = (file: string): string => relative(dir, file).split(sep)[0] ?? "";
  const out = new Map<string, Set<string>>();
  for (const [file, deps] of graph) {
    const from = folderOf(file);
    const set = out.get(from) ?? new Set<string>();
    for (const d of deps) if (folderOf(d) !== from && graph.has(d)) set.add(folderOf(d));
    out.set(from, set);
  }
  return new Map([...out].map(([k, v]) => [k, [...v]]));
}

describe("import cycles", () => {
  for (const tree of ["src", "test", "bench", "scripts"]) {
    it(`none between the files of ${tree}/`, () => {
      const found = cycles(importGraph(join(ROOT, tree)));
      assert.deepEqual(
        found.map((c) => c.map((f) => relative(ROOT, f)).join(" -> ")),
        [],
      );
    });
  }

  it("finds a cycle when there is one (the check can fail)", () => {
    const g = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
      ["e", ["e"]],
    ]);
    assert.deepEqual(cycles(g), [["a", "b", "c"], ["e"]]);
  });

  it("reads every kind of import", () => {
    const text =
      'import type { A } from "./a.ts";\nexport { B } from "./b.ts";\nimport "./c.ts";\nconst d = await import("./d.ts");\nimport {\n  E,\n} from "./e.ts";\n';
    assert.deepEqual(
      [...text.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3]),
      ["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts"],
    );
  });

  it("none between the folders of src/", () => {
    const src = join(ROOT, "src");
    assert.deepEqual(cycles(folderGraph(src, importGraph(src))), []);
  });
});
