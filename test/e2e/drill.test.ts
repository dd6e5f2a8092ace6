// Quorum drills end to end: `quorum-gate drill open` against a real 3-node cluster, officers
// signing with the real openssl binary, `drill check` verifying against the keys the nodes hold,
// healthy at M + 1 and failing with a stable reason below it; and the pure document and judge.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runDrill } from "../../src/cli/drill.ts";
import { readClusterFile } from "../../src/cluster/cluster-file.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { judgeDrill, openDrill, parseDrill, renderDrill, DRILL_TITLE } from "../../src/gate/drill.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { testKey } from "../helpers/keys.ts";
import { setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

const SIGNERS = ["officer1", "officer2", "officer3"];

function capture() {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: {
        write: (t: string | Uint8Array) => {
          out += Buffer.from(t).toString("utf8");
          return true;
        },
      },
      stderr: {
        write: (t: string | Uint8Array) => {
          err += Buffer.from(t).toString("utf8");
          return true;
        },
      },
    } as unknown as Parameters<typeof runDrill>[1],
    out: () => out,
    err: () => err,
  };
}

describe("quorum drills (pure)", () => {
  const entropy = (n: number) => Buffer.alloc(n, 0xab);
  it("the document is domain-separated, strict, and round-trips", () => {
    const o = openDrill({ clusterId: "cluster-x1", now: 1_800_000_000, windowSeconds: 3600, entropy });
    assert.ok(o.ok);
    const bytes = renderDrill(o.drill);
    assert.equal(bytes.toString("utf8").split("\n")[0], DRILL_TITLE);
    assert.match(
      bytes.toString("utf8"),
      /^quorum-gate drill v1\ncluster: "cluster-x1"\nchallenge: (ab){32}\nopened-at: 2027-01-15T08:00:00Z\ncloses-at: 2027-01-15T09:00:00Z\n$/,
    );
    assert.deepEqual(parseDrill(bytes), { ok: true, drill: o.drill });
    assert.equal(parseDrill(Buffer.concat([bytes, Buffer.from("\n")])).ok, false);
    assert.equal(parseDrill(Buffer.from(bytes.toString("utf8").replace("drill v1", "approval payload v1"))).ok, false);
    assert.deepEqual(openDrill({ clusterId: "c", now: 0, windowSeconds: 5, entropy }).ok, false);
  });

  it("late, forged and unknown answers do not count; health against M and M + 1", () => {
    const o = openDrill({ clusterId: "c1", now: 1000, windowSeconds: 600, entropy });
    assert.ok(o.ok);
    const bytes = renderDrill(o.drill);
    const keys = new Map(SIGNERS.map((n) => [n, testKey(n).publicPem]));
    const sign = (n: string) => signMessage(bytes, testKey(n).privateKey);
    const r = judgeDrill({
      drill: o.drill,
      answers: [
        { officer: "officer1", signature: sign("officer1"), answeredAt: 1100 },
        { officer: "officer2", signature: sign("officer3"), answeredAt: 1100 },
        { officer: "officer3", signature: sign("officer3"), answeredAt: 1700 },
        { officer: "mallory", signature: sign("officer1") },
      ],
      officerKeys: keys,
      quorumValues: { user: 1, quorum: 1 },
      now: 1200,
    });
    assert.deepEqual(
      r.officers.map((x) => [x.officer, x.status]),
      [
        ["officer1", "answered"],
        ["officer2", "bad_signature"],
        ["officer3", "late"],
      ],
    );
    assert.equal(r.reason, "drill_below_m_plus_1");
    assert.equal(
      judgeDrill({ drill: o.drill, answers: [], officerKeys: keys, quorumValues: { user: 2, quorum: 2 }, now: 1200 })
        .reason,
      "drill_below_m",
    );
  });
});

describe("quorum-gate drill (real cluster, openssl)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-drill-"));
  let cluster: TestCluster;
  let clients: NodeClient[];
  before(async () => {
    cluster = await startTestCluster({ nodes: 3 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    await setUpQuorumCluster(clients, { signers: SIGNERS, m: 2 });
    for (const n of SIGNERS) writeFileSync(join(dir, `${n}.key`), testKey(n).privatePem, { mode: 0o600 });
  });
  after(async () => {
    for (const c of clients ?? []) c.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sign = (n: string, drill: string): string => {
    const sig = join(dir, `${n}.sig`);
    execFileSync("openssl", ["dgst", "-sha256", "-sign", join(dir, `${n}.key`), "-out", sig, drill]);
    return sig;
  };

  it("opens a drill; M + 1 answers are healthy, M answers fail with drill_below_m_plus_1", async () => {
    const drill = join(dir, "drill.txt");
    const o = capture();
    assert.equal(
      await runDrill(["open", "--cluster", cluster.clusterFile, "--window-seconds", "3600", "--out", drill], o.io),
      0,
      o.err(),
    );
    const file = readClusterFile(cluster.clusterFile);
    assert.ok(file.ok);
    assert.match(
      readFileSync(drill, "utf8"),
      new RegExp(`^quorum-gate drill v1\\ncluster: "${file.value.clusterId}"\\nchallenge: [0-9a-f]{64}\\n`),
    );
    const again = join(dir, "drill2.txt");
    await runDrill(["open", "--cluster", cluster.clusterFile, "--out", again], capture().io);
    assert.notEqual(
      readFileSync(again, "utf8").split("\n")[2],
      readFileSync(drill, "utf8").split("\n")[2],
      "a fresh challenge each time",
    );

    const summary = join(dir, "summary.md");
    const all = capture();
    const code = await runDrill(
      [
        "check",
        "--cluster",
        cluster.clusterFile,
        "--drill",
        drill,
        "--summary",
        summary,
        "--annotate",
        ...SIGNERS.map((n) => `--answer=${n}=${sign(n, drill)}`),
      ],
      all.io,
    );
    assert.equal(code, 0, all.err());
    assert.match(all.out(), /healthy \(`drill_healthy`\)/);
    assert.match(readFileSync(summary, "utf8"), /\| 3 \| 2 \| 3 \| ok \|/);
    assert.match(
      all.out(),
      /\n::notice title=Quorum drill%3A healthy::drill_healthy: 3 officers answered within the window[^\n]*\n$/,
      "the verdict reaches the job's check run as an annotation",
    );

    const two = capture();
    assert.equal(
      await runDrill(
        [
          "check",
          "--cluster",
          cluster.clusterFile,
          "--drill",
          drill,
          "--json",
          ...SIGNERS.slice(0, 2).map((n) => `--answer=${n}=${sign(n, drill)}`),
        ],
        two.io,
      ),
      1,
    );
    const json = JSON.parse(two.out()) as { reason: string; services: { status: string }[] };
    assert.equal(json.reason, "drill_below_m_plus_1");
    assert.deepEqual(
      json.services.map((s) => s.status),
      ["below_m_plus_1", "ok"],
      "M(3) = 2 needs 3; M(4) = 1 needs 2",
    );
    assert.match(two.err(), /drill_below_m_plus_1: 2 officers answered/);

    const forged = capture();
    assert.equal(
      await runDrill(
        ["check", "--cluster", cluster.clusterFile, "--drill", again, `--answer=officer1=${sign("officer1", drill)}`],
        forged.io,
      ),
      1,
      "a signature over another drill counts for nothing",
    );
    assert.match(forged.out(), /\| `officer1` \| bad_signature \|/);

    const annotated = capture();
    assert.equal(
      await runDrill(
        [
          "check",
          "--cluster",
          cluster.clusterFile,
          "--drill",
          drill,
          "--annotate",
          `--answer=officer1=${sign("officer1", drill)}`,
        ],
        annotated.io,
      ),
      1,
    );
    assert.match(annotated.out(), /\n::error title=Quorum drill%3A unhealthy::drill_below_m: 1 officers answered/);
    assert.equal(
      await runDrill(
        ["check", "--cluster", cluster.clusterFile, "--drill", drill, "--annotate", "--json"],
        capture().io,
      ),
      2,
      "an annotation line would break the JSON document",
    );
  });

  it("--help, and bad arguments exit 2", async () => {
    const h = capture();
    assert.equal(await runDrill(["--help"], h.io), 0);
    assert.match(h.out(), /quorum-gate drill open/);
    assert.equal(await runDrill(["sweep"], capture().io), 2);
    assert.equal(await runDrill(["check", "--cluster", cluster.clusterFile], capture().io), 2);
  });
});
