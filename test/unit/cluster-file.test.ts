import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  backendOf,
  clusterEndpoints,
  DEFAULT_CLOUDHSM_CLI_BINARY,
  readClusterFile,
  writeClusterFile,
  type ClusterFile,
} from "../../src/cluster/cluster-file.ts";

const dir = mkdtempSync(join(tmpdir(), "qg-cluster-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const sample: ClusterFile = {
  version: 1,
  clusterId: "cluster-abcdefghijk",
  nodes: [
    { index: 0, host: "127.0.0.1", port: 2225, hsmId: "hsm-aaaaaaaaaaa", nodeId: 1 },
    { index: 1, host: "127.0.0.1", port: 2226, hsmId: "hsm-bbbbbbbbbbb", nodeId: 0 },
  ],
};

function readText(text: string): ReturnType<typeof readClusterFile> {
  const path = join(dir, `f-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, text);
  return readClusterFile(path);
}

describe("cluster file", () => {
  it("round-trips through an atomic write and leaves no temp file behind", () => {
    const sub = mkdtempSync(join(dir, "rt-"));
    const path = join(sub, "cluster.json");
    writeClusterFile(path, sample);
    writeClusterFile(path, { ...sample, nodes: [{ ...sample.nodes[0]!, port: 3000 }] });
    const r = readClusterFile(path);
    assert.ok(r.ok, !r.ok ? r.error : "");
    assert.equal(r.value.nodes.length, 1);
    assert.equal(r.value.nodes[0]?.port, 3000);
    assert.deepEqual(readdirSync(sub), ["cluster.json"]);
  });

  it("gives endpoints in server order, with the CA when there is one", () => {
    assert.deepEqual(clusterEndpoints(sample), [
      { host: "127.0.0.1", port: 2225 },
      { host: "127.0.0.1", port: 2226 },
    ]);
    const ca = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert.equal(clusterEndpoints({ ...sample, ca })[1]?.ca, ca);
  });

  it("reports a missing file clearly", () => {
    const r = readClusterFile(join(dir, "nope.json"));
    assert.deepEqual(r, { ok: false, error: `no cluster file at ${join(dir, "nope.json")}` });
  });

  it("reports broken JSON without a raw parser error", () => {
    const r = readText('{"version": 1,');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : "", /is not valid JSON$/);
  });

  const broken: [string, unknown, RegExp][] = [
    ["an array", [], /must be a JSON object/],
    ["another version", { ...sample, version: 2 }, /"version" must be 1/],
    ["no cluster id", { ...sample, clusterId: "" }, /"clusterId"/],
    ["no nodes", { ...sample, nodes: [] }, /"nodes" must be a non-empty array/],
    ["an unknown field", { ...sample, extra: 1 }, /unknown field "extra"/],
    ["nodes out of order", { ...sample, nodes: [sample.nodes[1], sample.nodes[0]] }, /nodes\[0\]: "index" must be 0/],
    ["a port out of range", { ...sample, nodes: [{ ...sample.nodes[0], port: 70000 }] }, /"port"/],
    ["a port of 0", { ...sample, nodes: [{ ...sample.nodes[0], port: 0 }] }, /"port"/],
    ["a bad hsm id", { ...sample, nodes: [{ ...sample.nodes[0], hsmId: "HSM-1" }] }, /"hsmId"/],
    [
      "a duplicate hsm id",
      { ...sample, nodes: [sample.nodes[0], { ...sample.nodes[1], hsmId: "hsm-aaaaaaaaaaa" }] },
      /appears twice/,
    ],
    ["a negative node id", { ...sample, nodes: [{ ...sample.nodes[0], nodeId: -1 }] }, /"nodeId"/],
    ["a CA that is not PEM", { ...sample, ca: "hello" }, /"ca" must be a PEM certificate/],
    [
      "an unknown backend",
      { ...sample, backend: { kind: "pkcs11" } },
      /backend: "kind" must be one of emulator, cloudhsm-cli/,
    ],
    ["a backend that is not an object", { ...sample, backend: "cloudhsm-cli" }, /backend: must be an object/],
    [
      "a binary for the emulator",
      { ...sample, backend: { kind: "emulator", binary: "/bin/x" } },
      /backend: unknown field "binary" for kind emulator/,
    ],
    [
      "an empty binary",
      { ...sample, backend: { kind: "cloudhsm-cli", binary: "" } },
      /backend: "binary" must be a non-empty path/,
    ],
    [
      "args that are not strings",
      { ...sample, backend: { kind: "cloudhsm-cli", args: ["--x", 1] } },
      /backend: "args" must be an array of strings/,
    ],
    [
      "a password key that is not an RSA-2048 public key",
      {
        ...sample,
        backend: { kind: "cloudhsm-cli", passwordKey: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n" },
      },
      /backend: "passwordKey" must be the gate's password key as an RSA-2048 public key in PEM/,
    ],
    [
      "a password key for the emulator",
      { ...sample, backend: { kind: "emulator", passwordKey: "x" } },
      /backend: unknown field "passwordKey" for kind emulator/,
    ],
  ];
  for (const [what, value, pattern] of broken) {
    it(`refuses a file with ${what}`, () => {
      const r = readText(JSON.stringify(value));
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.error : "", pattern);
    });
  }

  it("reads the backend: the emulator by default, cloudhsm-cli with its binary's default path", () => {
    assert.deepEqual(backendOf(sample), { kind: "emulator" });
    assert.deepEqual(backendOf({ ...sample, backend: { kind: "emulator" } }), { kind: "emulator" });
    assert.deepEqual(backendOf({ ...sample, backend: { kind: "cloudhsm-cli" } }), {
      kind: "cloudhsm-cli",
      binary: DEFAULT_CLOUDHSM_CLI_BINARY,
      args: [],
    });
    assert.equal(DEFAULT_CLOUDHSM_CLI_BINARY, "/opt/cloudhsm/bin/cloudhsm-cli");
    const r = readText(
      JSON.stringify({
        ...sample,
        backend: { kind: "cloudhsm-cli", binary: "/usr/local/bin/cli", args: ["--region", "eu-west-1"] },
      }),
    );
    assert.ok(r.ok, !r.ok ? r.error : "");
    assert.deepEqual(backendOf(r.value), {
      kind: "cloudhsm-cli",
      binary: "/usr/local/bin/cli",
      args: ["--region", "eu-west-1"],
    });
  });

  it("refuses to write an invalid file", () => {
    const path = join(dir, "invalid.json");
    assert.throws(() => writeClusterFile(path, { ...sample, nodes: [] }), /invalid cluster file/);
    assert.equal(readClusterFile(path).ok, false);
  });
});
