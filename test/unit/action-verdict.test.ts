// The Action's inputs and its step verdict: every problem with the inputs at once and no password
// in any message; outputs and failures from the gate's outcomes.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inputVariable, readInputs } from "../../src/action/inputs.ts";
import { stepVerdict } from "../../src/action/verdict.ts";
import type { GateOutcome } from "../../src/usecases/deps.ts";

const CLUSTER = JSON.stringify({
  version: 1,
  clusterId: "cluster-test",
  nodes: [{ index: 0, host: "127.0.0.1", port: 2225, hsmId: "hsm-abcdefghijk", nodeId: 1 }],
});
const env = (inputs: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(inputs).map(([k, v]) => [inputVariable(k as never), v]));

describe("the Action's inputs", () => {
  it("maps names as the runner does: INPUT_ + upper case, hyphens kept", () => {
    assert.equal(inputVariable("gate-password"), "INPUT_GATE-PASSWORD");
    assert.equal(inputVariable("github-token"), "INPUT_GITHUB-TOKEN");
  });

  it("reads a complete set, the cluster from JSON text or from a file", () => {
    const fromText = readInputs(
      env({ mode: "apply", "github-token": "t", cluster: CLUSTER, "gate-user": "gate", "gate-password": " p w " }),
    );
    assert.ok(fromText.ok);
    assert.equal(fromText.value.mode, "apply");
    assert.deepEqual(
      fromText.value.cluster?.credentials,
      { userName: "gate", password: " p w " },
      "a password keeps its spaces",
    );
    const dir = mkdtempSync(join(tmpdir(), "qg-action-inputs-"));
    try {
      writeFileSync(join(dir, "cluster.json"), CLUSTER);
      const fromFile = readInputs(
        env({
          "github-token": "t",
          "cluster-file": join(dir, "cluster.json"),
          "gate-user": "gate",
          "gate-password": "p",
        }),
      );
      assert.ok(fromFile.ok);
      assert.equal(fromFile.value.mode, "evaluate", "the default mode");
      assert.equal(fromFile.value.cluster?.file.clusterId, "cluster-test");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("window-seconds: empty means the HSM token's life; a value outside 10..3600 or not whole is refused by name", () => {
    const none = readInputs(env({ "github-token": "t" }));
    assert.ok(none.ok && none.value.windowSeconds === null);
    const set = readInputs(env({ "github-token": "t", "window-seconds": "300" }));
    assert.ok(set.ok && set.value.windowSeconds === 300);
    for (const bad of ["9", "3601", "5m", "-1", "1e3"]) {
      const r = readInputs(env({ "github-token": "t", "window-seconds": bad }));
      assert.ok(!r.ok, bad);
      assert.match(r.errors.join("; "), /^window-seconds: ".*" is not a whole number of seconds from 10 to 3600$/);
    }
  });

  it("password-key: an RSA private key in PEM for a real cluster's passwords; anything else is refused without quoting it", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const full = { mode: "apply", "github-token": "t", cluster: CLUSTER, "gate-user": "gate", "gate-password": "p" };
    const r = readInputs(env({ ...full, "password-key": pem }));
    assert.ok(r.ok);
    assert.equal(r.value.cluster?.credentials.passwordKey?.export({ type: "pkcs8", format: "pem" }).toString(), pem);
    const none = readInputs(env(full));
    assert.ok(none.ok && none.value.cluster?.credentials.passwordKey === undefined);
    const bad = readInputs(env({ ...full, "password-key": "hunter2-not-a-key" }));
    assert.ok(!bad.ok);
    assert.match(bad.errors.join("; "), /^password-key is not an unencrypted private key in PEM$/);
    assert.doesNotMatch(bad.errors.join("; "), /hunter2/);
  });

  it("window-poll-seconds: empty means the gate's 10 s; a value outside 1..60 or not whole is refused by name", () => {
    const none = readInputs(env({ "github-token": "t" }));
    assert.ok(none.ok && none.value.windowPollSeconds === null);
    const set = readInputs(env({ "github-token": "t", "window-poll-seconds": "30" }));
    assert.ok(set.ok && set.value.windowPollSeconds === 30);
    for (const bad of ["0", "61", "2s", "1.5"]) {
      const r = readInputs(env({ "github-token": "t", "window-poll-seconds": bad }));
      assert.ok(!r.ok, bad);
      assert.match(r.errors.join("; "), /^window-poll-seconds: ".*" is not a whole number of seconds from 1 to 60$/);
    }
  });

  it("without any cluster input the cluster is absent, not an error (runs with nothing to judge need none)", () => {
    const r = readInputs(env({ "github-token": "t" }));
    assert.ok(r.ok && r.value.cluster === null);
  });

  it("reports every problem at once, by input name, and never repeats the password", () => {
    const secret = "Sup3r-Secret-Value";
    const r = readInputs(
      env({
        mode: "replay",
        "github-token": "",
        cluster: "{not json",
        "cluster-file": "/nowhere.json",
        "gate-password": secret,
      }),
    );
    assert.ok(!r.ok);
    const text = r.errors.join("\n");
    for (const name of ["mode:", "github-token", "cluster and cluster-file are both set", "gate-user is empty"])
      assert.match(text, new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    assert.doesNotMatch(text, new RegExp(secret));
    const bad = readInputs(
      env({ "github-token": "t", cluster: '{"version":2}', "gate-user": "gate", "gate-password": secret }),
    );
    assert.ok(!bad.ok && /cluster: the cluster input is invalid/.test(bad.errors.join()));
    const noPassword = readInputs(env({ "github-token": "t", cluster: CLUSTER, "gate-user": "gate" }));
    assert.ok(!noPassword.ok && /gate-password is empty/.test(noPassword.errors.join()));
  });
});

const evaluated = (state: "approved" | "pending" | "rejected", approvals: number): GateOutcome => ({
  code: "evaluated",
  state,
  approvals,
  required: 2,
  evidence: state === "approved" ? "committed" : "none",
  missing: Math.max(0, 2 - approvals),
  requestDigest: "d".repeat(64),
  subject: "createUser CU app7",
  approvers: approvals > 0 ? [{ officer: "officer1", login: "alice", createdAt: "2026-01-01T00:00:00Z" }] : [],
  verdicts: [{ author: "mallory|<b>", verdict: "rejected", reason: "unknown_officer", message: "not | an officer" }],
  problems: [],
});

describe("the Action's step verdict", () => {
  it("evaluate: passes at quorum, fails while pending, with the counts as outputs", () => {
    const ok = stepVerdict("evaluate", [{ number: 4, outcome: evaluated("approved", 2) }]);
    assert.equal(ok.failure, null);
    assert.deepEqual(ok.outputs, {
      outcome: "evaluated",
      approved: "true",
      approvals: "2",
      required: "2",
      missing: "0",
      "request-digest": "d".repeat(64),
      nodes: "[]",
    });
    const pending = stepVerdict("evaluate", [{ number: 4, outcome: evaluated("pending", 1) }]);
    assert.match(pending.failure ?? "", /#4: quorum not met \(1 of 2 approvals, pending\)/);
    assert.equal(pending.outputs.approved, "false");
    assert.equal(pending.outputs.missing, "1");
  });

  it("the summary escapes what users typed, so a login or a message cannot break the table", () => {
    const { summary } = stepVerdict("evaluate", [{ number: 4, outcome: evaluated("pending", 1) }]);
    assert.match(summary, /\| mallory\\\|&lt;b&gt; \|/);
    assert.match(summary, /not \\\| an officer/);
    assert.match(summary, /1 more officer approval needed\./);
  });

  it("nothing to gate passes; an invalid request or an unreachable cluster fails", () => {
    for (const o of [
      { code: "unconfigured", message: "m" },
      { code: "not_a_request", message: "m" },
      { code: "ignored", message: "m" },
      { code: "token_deleted", message: "m" },
    ] as const) {
      assert.equal(stepVerdict("evaluate", [{ number: 1, outcome: o }]).failure, null, o.code);
    }
    for (const o of [
      { code: "invalid", message: "bad file" },
      { code: "cluster_unavailable", message: "down" },
    ] as const) {
      assert.notEqual(stepVerdict("evaluate", [{ number: 1, outcome: o }]).failure, null, o.code);
    }
  });

  it("apply: every node applied passes; a node that failed, or a merge without quorum, fails loudly", () => {
    const node = (index: number, ok: boolean, result: string) => ({
      index,
      hsmId: `hsm-node0000000${index}`,
      ok,
      result,
      message: ok ? "" : "down",
    });
    const all = stepVerdict("apply", [
      { number: 9, outcome: { code: "replayed", nodes: [node(0, true, "applied"), node(1, true, "already_applied")] } },
    ]);
    assert.equal(all.failure, null);
    assert.equal(all.outputs.approved, "true");
    assert.deepEqual(JSON.parse(all.outputs.nodes), [
      { index: 0, hsmId: "hsm-node00000000", ok: true, result: "applied" },
      { index: 1, hsmId: "hsm-node00000001", ok: true, result: "already_applied" },
    ]);
    const partial = stepVerdict("apply", [
      { number: 9, outcome: { code: "replayed", nodes: [node(0, true, "applied"), node(1, false, "RET_TIMEOUT")] } },
    ]);
    assert.match(partial.failure ?? "", /server 1 \(RET_TIMEOUT\).*\/quorum retry/);
    assert.match(
      stepVerdict("apply", [{ number: 9, outcome: { code: "not_replayed", message: "1 of 2" } }]).failure ?? "",
      /merged but not replayed/,
    );
    const none = stepVerdict("apply", []);
    assert.equal(none.failure, null);
    assert.equal(none.outputs.outcome, "skipped");
  });
});
