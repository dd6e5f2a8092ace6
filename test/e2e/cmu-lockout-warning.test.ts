// The CMU shell's lock-out warning (our extension, docs/emulator-fidelity.md): before deleteUser,
// changePswd and setMValue it warns, with the numbers, when fewer than M + 1 officers would remain
// able to sign; it stays silent otherwise; the command itself runs as CMU runs it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { startCmu, type CmuChild } from "../helpers/cmu-driver.ts";
import { setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

describe("cmu shell: lock-out warning", () => {
  let cluster: TestCluster;
  let clients: NodeClient[];
  let work: string;
  let shell: CmuChild;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "qg-cmu-lockout-"));
    cluster = await startTestCluster({ nodes: 2 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    await setUpQuorumCluster(clients, { signers: ["officer1", "officer2", "officer3"], m: 2 });
    shell = await startCmu(cluster.clusterFile, work, { timeoutMs: 2000 });
  });
  after(async () => {
    shell?.kill();
    for (const c of clients ?? []) c.close();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("warns before deleting a signer and before raising M past the signers, with the numbers", async () => {
    const del = await shell.run("deleteUser CO officer1", "I", "I");
    assert.match(
      del,
      /^Warning: lock-out risk \(lockout_delete_officer\): deleting this officer would leave 2 officers able to sign for service 3 \(now 3\), but M is 2 and the lock-out guard needs at least 3 \(M \+ 1\); register more quorum keys first\.$/m,
    );
    assert.ok(
      del.indexOf("Warning: lock-out risk") < del.indexOf("Deleting user"),
      "the warning comes before the command runs",
    );
    const m = await shell.run("setMValue 3 3", "n");
    assert.match(
      m,
      /^Warning: lock-out risk \(lockout_raise_m\): raising M of service 3 to 3 would leave 3 officers able to sign for service 3 \(now 3\), but M is 3 and the lock-out guard needs at least 4/m,
    );
  });

  it("stays silent when nothing is lost: a crypto user, M that stays within reach, a 1FA officer's password", async () => {
    for (const [line, ...answers] of [
      ["deleteUser CU nobody", "I", "I"],
      ["setMValue 3 2", "n"],
      ["changePswd CO officer2 new-pass-1", "n"],
    ]) {
      const out = await shell.run(line ?? "", ...answers);
      assert.ok(!out.includes("lock-out risk"), `${line}: ${out}`);
    }
  });
});
