// `quorum-gate audit` over a generated history of 1,000 and 10,000 operations, as the CLI runs
// (a subprocess, output discarded), against `git log --first-parent --name-only` over the same
// history in the same run: the floor of walking it at all. Also timed in this process: the audit's
// two `git log` walks alone, so that what the audit adds on top of git (reading the blobs and
// verifying every operation) can be told apart. The histories are written with
// `git fast-import`: a policy commit, then per operation either a pull request branch commit
// (request file and evidence) merged with a merge commit, or one squash commit, alternately.
//
// Every operation is verified in full (the engine with two RSA verifications, every file check).
// To generate 10,000 operations quickly they share one request text, pull request number and
// token, so the generator signs twice instead of 20,000 times; each has its own request file,
// evidence folder, evidence.json and commits, which is all the audit's cost depends on.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildEvidence } from "../src/gate/evidence.ts";
import { parseRequest } from "../src/gate/request.ts";
import { evidenceCommits, findLandings } from "../src/audit/history.ts";
import {
  approveRequest,
  clusterFacts,
  gitSync,
  policyText,
  requestText,
  type Officer,
} from "../test/helpers/git-repo.ts";
import { testKey } from "../test/helpers/keys.ts";

const BIN = fileURLToPath(new URL("../bin/quorum-gate.js", import.meta.url));
const SIZES = [1_000, 10_000] as const;
const ROUNDS = 3;
const T0 = 1_800_000_000;
const REPOSITORY = "acme/hsm";

/** A fast-import stream of `operations` operations; returns the stream. */
function history(operations: number): Buffer {
  const officers: Officer[] = [
    { login: "alice", officer: "officer1", key: testKey("bench-audit-officer1") },
    { login: "bob", officer: "officer2", key: testKey("bench-audit-officer2") },
  ];
  const policy = policyText({ cluster: "cluster-bench", officers });
  const request = requestText("cluster-bench", "app");
  const approved = approveRequest(policy, "hsm-requests/op-0.yml", request, {
    repository: REPOSITORY,
    pullRequest: 1,
    author: "dave",
    signers: officers,
    decidedAt: T0,
    cluster: clusterFacts(officers, 2),
  });
  const parsed = parseRequest(Buffer.from(request));
  if (!parsed.ok) throw new Error("bench request");
  const officerKeys = clusterFacts(officers, 2).officerKeys;
  const shared = (name: string): Uint8Array => approved.files[`hsm-requests/op-0.evidence/${name}`] ?? new Uint8Array();

  const parts: Buffer[] = [];
  const text = (s: string): void => {
    parts.push(Buffer.from(s));
  };
  const data = (bytes: Uint8Array | string): void => {
    const b = Buffer.from(bytes);
    text(`data ${b.length}\n`);
    parts.push(b);
    text("\n");
  };
  const blob = (mark: number, bytes: Uint8Array | string): void => {
    text(`blob\nmark :${mark}\n`);
    data(bytes);
  };
  blob(1, policy);
  blob(2, request);
  blob(3, shared("token.bin"));
  blob(4, shared("officer1.sig"));
  blob(5, shared("officer2.sig"));
  blob(6, shared("approval.txt"));
  const committer = (at: number): string => `committer Bench <bench@example.invalid> ${at} +0000\n`;
  let mark = 10;
  text(`commit refs/heads/main\nmark :${mark}\n${committer(T0 - 3600)}`);
  data("Adopt the quorum-gate policy");
  text("M 100644 :1 .github/quorum-gate.yml\n");
  let main = mark;
  for (let i = 0; i < operations; i++) {
    const path = `hsm-requests/op-${i}.yml`;
    const folder = `hsm-requests/op-${i}.evidence/`;
    // The evidence of operation i: the shared decision, its own request path.
    const built = buildEvidence({
      decision: approved.decision,
      request: parsed.request,
      requestPath: path,
      repository: REPOSITORY,
      pullRequest: 1,
      tokenFile: approved.token,
      officerKeys,
      pullRequestAuthor: "dave",
      now: T0,
    });
    if (!built.ok) throw new Error(built.message);
    const evidence = built.files.find((f) => f.path.endsWith("evidence.json"))?.content ?? new Uint8Array();
    const files = (): void => {
      text(
        `M 100644 :2 ${path}\nM 100644 :3 ${folder}token.bin\nM 100644 :4 ${folder}officer1.sig\nM 100644 :5 ${folder}officer2.sig\nM 100644 :6 ${folder}approval.txt\n`,
      );
      text(`M 100644 inline ${folder}evidence.json\n`);
      data(evidence);
    };
    const at = T0 + i * 4;
    if (i % 2 === 0) {
      mark += 1;
      const branch = mark;
      text(`commit refs/heads/pr\nmark :${branch}\n${committer(at)}`);
      data(`Request and evidence ${i}`);
      text(`from :${main}\n`);
      files();
      mark += 1;
      text(`commit refs/heads/main\nmark :${mark}\n${committer(at + 2)}`);
      data(`Merge pull request for operation ${i}`);
      text(`from :${main}\nmerge :${branch}\n`);
      files();
    } else {
      mark += 1;
      text(`commit refs/heads/main\nmark :${mark}\n${committer(at + 2)}`);
      data(`Operation ${i} (squashed)`);
      text(`from :${main}\n`);
      files();
    }
    main = mark;
  }
  text("done\n");
  return Buffer.concat(parts);
}

/** Wall time of one subprocess, in ms; it must exit 0. */
function timed(cmd: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      // Exit 0 (the audit: every operation verifies) is part of what is measured.
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err.slice(0, 500)}`));
      else resolve(performance.now() - start);
    });
  });
}

export async function run(): Promise<string[]> {
  const dirs: string[] = [];
  try {
    const rows: { ops: number; audit: number; baseline: number; walks: number; generate: number }[] = [];
    for (const ops of SIZES) {
      const dir = mkdtempSync(join(tmpdir(), `qg-bench-audit-${ops}-`));
      dirs.push(dir);
      const started = performance.now();
      gitSync(dir, ["init", "--quiet", "--initial-branch=main"]);
      gitSync(dir, ["fast-import", "--quiet"], undefined, history(ops));
      const generate = performance.now() - started;
      const count = gitSync(dir, ["rev-list", "--count", "main"]).trim();
      process.stderr.write(
        `bench audit: ${ops} operations, ${count} commits on main's history, generated in ${(generate / 1000).toFixed(1)} s\n`,
      );
      const git = ["-C", dir, "log", "--first-parent", "--name-only", "main"];
      const audit = [BIN, "audit", "--repo", dir, "--rev", "main"];
      // Interleaved, so load on the machine hits both alike.
      const auditTimes: number[] = [];
      const gitTimes: number[] = [];
      const walkTimes: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        gitTimes.push(await timed("git", git));
        auditTimes.push(await timed(process.execPath, audit));
        const start = performance.now();
        const [landings] = await Promise.all([findLandings({ dir }, "main"), evidenceCommits({ dir }, "main")]);
        walkTimes.push(performance.now() - start);
        if (landings.length !== ops) throw new Error(`found ${landings.length} landings, not ${ops}`);
      }
      const mid = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
      rows.push({ ops, audit: mid(auditTimes), baseline: mid(gitTimes), walks: mid(walkTimes), generate });
    }
    const [small, large] = rows;
    const lines = [
      `### quorum-gate audit over ${SIZES.map((n) => n.toLocaleString("en-US")).join(" and ")} operations`,
      "",
      `Median of ${ROUNDS} interleaved runs each, the CLI as a subprocess (Node start-up included), output discarded.`,
      "",
      "| operations | audit (CLI) | baseline: git log --first-parent --name-only | audit / baseline | the audit's two git log walks | the rest, per operation |",
      "|---|---|---|---|---|---|",
      ...rows.map(
        (r) =>
          `| ${r.ops.toLocaleString("en-US")} | ${(r.audit / 1000).toFixed(2)} s | ${(r.baseline / 1000).toFixed(2)} s | ${(r.audit / r.baseline).toFixed(1)}x | ${(r.walks / 1000).toFixed(2)} s | ${((r.audit - r.walks) / r.ops).toFixed(2)} ms |`,
      ),
      "",
    ];
    if (small !== undefined && large !== undefined) {
      const rest = (r: typeof small): number => r.audit - r.walks;
      lines.push(
        `Growth for 10x operations: audit ${(large.audit / small.audit).toFixed(1)}x, baseline ${(large.baseline / small.baseline).toFixed(1)}x, the audit's git walks ${(large.walks / small.walks).toFixed(1)}x, the rest (start-up, reading blobs, verifying) ${(rest(large) / rest(small)).toFixed(1)}x.`,
        `Generating the histories with git fast-import took ${rows.map((r) => `${(r.generate / 1000).toFixed(0)} s`).join(" and ")}.`,
        "",
      );
    }
    return lines;
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
