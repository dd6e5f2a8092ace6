import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { sealSecret } from "../../src/crypto/seal.ts";
import { createClusterGateway, type ClusterGateway } from "../../src/cluster/gateway.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { bindingDigest } from "../../src/hsm/binding.ts";
import { decodeRecords } from "../../src/hsm/token-record.ts";
import type { BindingContext, Operation, OpName, OpRequest, OpResponse } from "../../src/protocol/messages.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { testKey } from "../helpers/keys.ts";
import { must, passwordOf, setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

const CONTEXT: BindingContext = { repository: "acme/hsm", pullRequest: 12, requestDigest: "cd".repeat(32) };

describe("the gate's cluster gateway", () => {
  let cluster: TestCluster;
  let clients: NodeClient[];
  let gateway: ClusterGateway;

  const all = <K extends OpName>(
    op: K,
    body: OpRequest<K>,
    sessions: readonly string[] = [],
  ): Promise<OpResponse<K>[]> => must(clients, op, () => body, sessions);

  before(async () => {
    cluster = await startTestCluster({ nodes: 3 });
    clients = cluster.endpoints.map((e) => createNodeClient(e));
    await setUpQuorumCluster(clients, { signers: ["officer1", "officer2"], members: ["gate"], m: 2 });
    gateway = createClusterGateway(cluster.file, { userName: "gate", password: passwordOf("gate") });
  });
  after(async () => {
    gateway?.close();
    for (const c of clients ?? []) c.close();
    await cluster?.stop();
  });

  it("reads the officers' keys, M and the sealing key from every node", async () => {
    const keys = await gateway.officerKeys();
    assert.ok("keys" in keys);
    assert.deepEqual([...keys.keys.keys()], ["officer1", "officer2"]);
    assert.deepEqual(keys.drift, []);
    assert.deepEqual(await gateway.quorumValues(), { user: 2, quorum: 1 });
    assert.ok("publicKeyPem" in (await gateway.sealingKey()));
  });

  it("issues one bound token across all nodes, executes it exactly once, and replays the recorded result", async () => {
    const sealing = await gateway.sealingKey();
    assert.ok("publicKeyPem" in sealing);
    const operation: Operation = {
      kind: "createUser",
      userType: "CU",
      userName: "app12",
      sealedPassword: sealSecret(createPublicKey(sealing.publicKeyPem), "app12-pass").toString("base64"),
    };
    const issued = await gateway.issueToken(3, bindingDigest(gateway.clusterId, operation, CONTEXT));
    assert.ok(issued.ok);
    const decoded = decodeRecords(issued.tokenData);
    assert.ok(decoded.ok);
    assert.deepEqual(
      decoded.records.map((r) => r.nodeId),
      cluster.file.nodes.map((n) => n.nodeId),
      "one record per node, in server order",
    );
    assert.ok(issued.validitySeconds > 590);

    const signatures = ["officer1", "officer2"].map((userName) => ({
      userName,
      signature: signMessage(issued.tokenData, testKey(userName).privateKey),
    }));
    const request = {
      idempotencyKey: "pr-12-token",
      operation,
      context: CONTEXT,
      tokenData: issued.tokenData,
      signatures,
    };
    const first = await gateway.execute(request);
    assert.deepEqual(
      first.map((o) => o.ok && !o.value.replayed),
      [true, true, true],
    );
    const again = await gateway.execute(request, [1]);
    assert.deepEqual(
      again.map((o) => o.index),
      [1],
    );
    assert.ok(again[0]?.ok && again[0].value.replayed, "a redelivery gets the recorded outcome");
    for (const users of await all("list-users", {}))
      assert.equal(users.users.filter((u) => u.name === "app12").length, 1);
  });

  it("takes back a partly issued token when a node is down", async () => {
    await cluster.kill(2);
    try {
      const issued = await gateway.issueToken(3, "ee".repeat(32));
      assert.equal(issued.ok, false);
      assert.ok(!issued.ok && issued.failures.some((f) => f.index === 2 && f.code === "RET_NODE_UNREACHABLE"));
      for (const c of clients.slice(0, 2)) {
        const r = await c.call("list-tokens", {});
        assert.ok(r.ok);
        assert.equal(r.data.tokens.length, 0, "no node keeps a token the others lack");
      }
    } finally {
      await cluster.restart(2);
    }
  });

  it("deletes its token everywhere, and reports a wrong password per node", async () => {
    const issued = await gateway.issueToken(3, "ab".repeat(32));
    assert.ok(issued.ok);
    const deleted = await gateway.deleteToken(issued.tokenData);
    assert.deepEqual(
      deleted.map((o) => o.ok && o.value.deleted),
      [1, 1, 1],
    );
    const wrong = createClusterGateway(cluster.file, { userName: "gate", password: "not-the-password" });
    try {
      const r = await wrong.issueToken(3, "ab".repeat(32));
      assert.ok(!r.ok && r.failures.every((f) => f.code === "RET_USER_LOGIN_FAILURE"));
    } finally {
      wrong.close();
    }
  });
});
