// The documentation is the first place a newcomer looks, and code comments send them there: every
// relative link in README.md and docs/ must reach a file (and its heading, for a `#anchor`), and
// every comment that cites `docs/<page>.md, "<Heading>"` must name a heading that exists.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

const ROOT = resolve(import.meta.dirname, "../..");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function headingsOf(markdown: string): { readonly titles: Set<string>; readonly anchors: Set<string> } {
  const titles = new Set<string>();
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m === null) continue;
    const title = (m[1] ?? "").replace(/`/g, "");
    titles.add(title);
    const base = anchorOf(m[1] ?? "");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return { titles, anchors };
}

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, keep));
    else if (keep(path)) out.push(path);
  }
  return out;
}

const headingCache = new Map<string, ReturnType<typeof headingsOf>>();
function headingsOfFile(path: string): ReturnType<typeof headingsOf> {
  let h = headingCache.get(path);
  if (h === undefined) {
    h = headingsOf(readFileSync(path, "utf8"));
    headingCache.set(path, h);
  }
  return h;
}

/** Relative Markdown links of a page, outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    const text = line.replace(/`[^`]*`/g, "");
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] ?? "";
      if (!/^[a-z]+:/i.test(target)) out.push(target);
    }
  }
  return out;
}

function brokenLinks(page: string): string[] {
  const broken: string[] = [];
  for (const target of linksOf(readFileSync(page, "utf8"))) {
    const [file = "", anchor] = target.split("#", 2);
    const path = file === "" ? page : resolve(dirname(page), file);
    if (!existsSync(path)) {
      broken.push(`${target}: no such file`);
      continue;
    }
    if (anchor !== undefined && path.endsWith(".md") && !headingsOfFile(path).anchors.has(anchor))
      broken.push(`${target}: no heading with that anchor`);
  }
  return broken;
}

describe("documentation links", () => {
  it("computes GitHub's anchors (the check can fail)", () => {
    assert.equal(anchorOf("Roles: one database, two views"), "roles-one-database-two-views");
    assert.equal(
      anchorOf("2FA for a crypto officer (seed 2fa-crypto-officers.zh.md)"),
      "2fa-for-a-crypto-officer-seed-2fa-crypto-officerszhmd",
    );
    assert.equal(anchorOf("The `quorum` check"), "the-quorum-check");
    assert.deepEqual(linksOf("see [a](a.md#x) and `[b](b.md)` and [c](https://example.com)"), ["a.md#x"]);
  });

  it("every relative link in README.md and docs/ reaches its file and heading", () => {
    const pages = [join(ROOT, "README.md"), ...filesUnder(join(ROOT, "docs"), (p) => p.endsWith(".md"))];
    const broken = pages.flatMap((page) => brokenLinks(page).map((b) => `${relative(ROOT, page)}: ${b}`));
    assert.deepEqual(broken, []);
  });

  it("every code comment that cites a docs page and a heading names one that exists", () => {
    const cite = /(docs\/[a-z0-9-]+\.md)((?:,? "[^"]+"(?: and| ,|,)?)+)/g;
    const problems: string[] = [];
    for (const dir of ["src", "test", "bench", "scripts"]) {
      if (!existsSync(join(ROOT, dir))) continue;
      for (const file of filesUnder(join(ROOT, dir), (p) => p.endsWith(".ts"))) {
        const text = readFileSync(file, "utf8");
        for (const m of text.matchAll(cite)) {
          const page = join(ROOT, m[1] ?? "");
          if (!existsSync(page)) {
            problems.push(`${relative(ROOT, file)}: ${m[1]} does not exist`);
            continue;
          }
          const { titles } = headingsOfFile(page);
          for (const q of (m[2] ?? "").matchAll(/"([^"]+)"/g)) {
            const title = q[1] ?? "";
            // A quoted phrase after a page may also be a quotation rather than a heading; only
            // phrases that look like a title (capitalised, no trailing punctuation) are checked.
            if (
              /^[A-Z0-9`]/.test(title) &&
              !/[.:;]$/.test(title) &&
              !titles.has(title) &&
              ![...titles].some((t) => t.startsWith(title))
            ) {
              problems.push(`${relative(ROOT, file)}: ${m[1]} has no heading "${title}"`);
            }
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
