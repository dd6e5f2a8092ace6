// Crash durability of a node: a real node process takes a stream of concurrent create-user writes
// and is SIGKILLed at a random moment, many times over. After each restart every acknowledged
// write must be there, and anything else that is there must be one of the writes that were in
// flight at the kill, complete (its password works), never a stranger.
//
// The seed is printed in every failure message; set QG_SEED to replay a run.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { prng } from "../helpers/prng.ts";

const ROUNDS = 20;
const WRITERS = 4;
const TIME_BUDGET_MS = 60_000;
const MIN_ROUNDS = 5;

const passwordOf = (name: string): string => `Pw${name}`;

describe("node durability under SIGKILL", () => {
  let cluster: TestCluster;
  let client: NodeClient;
  const seed = Number(process.env["QG_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  const random = prng(seed);
  const why = (text: string): string => `${text} (QG_SEED=${seed})`;

  before(async () => {
    cluster = await startTestCluster({ nodes: 1 });
    client = createNodeClient(cluster.endpoints[0]!, { timeoutMs: 5000 });
    const preco = await client.call("login", { userType: "PRECO", userName: "admin", password: "password" });
    assert.ok(preco.ok && "sessionId" in preco.data, JSON.stringify(preco));
    const activated = await client.call(
      "change-password",
      { userType: "PRECO", userName: "admin", password: "admin-pass-1" },
      preco.data.sessionId,
    );
    assert.ok(activated.ok, JSON.stringify(activated));
  });
  after(async () => {
    client?.close();
    await cluster?.stop();
  });

  async function loginAdmin(): Promise<string> {
    const r = await client.call("login", { userType: "CO", userName: "admin", password: "admin-pass-1" });
    assert.ok(r.ok && "sessionId" in r.data, why(`login after restart: ${JSON.stringify(r)}`));
    return r.data.sessionId;
  }

  it(`keeps every acknowledged write across ${ROUNDS} random kills`, async () => {
    const acked = new Set<string>();
    /** Sent but not acknowledged when the node died: may or may not have committed. */
    const uncertain = new Set<string>();
    const started = Date.now();
    let rounds = 0;
    let uncertainSeen = 0;

    for (let round = 0; round < ROUNDS; round++) {
      if (rounds >= MIN_ROUNDS && Date.now() - started > TIME_BUDGET_MS) break;
      rounds++;
      const session = await loginAdmin();
      // Kill after a random number of acknowledgements in this round (1..12), with the other
      // writers' requests still in flight at that moment.
      const killAfter = 1 + Math.floor(random() * 12);
      let ackedThisRound = 0;
      let killing: Promise<void> | undefined;

      const writer = async (w: number): Promise<void> => {
        for (let k = 0; ; k++) {
          const name = `u${round}_${w}_${k}`;
          uncertain.add(name);
          const r = await client.call(
            "create-user",
            { userType: "CU", userName: name, password: passwordOf(name) },
            session,
          );
          if (!r.ok) {
            assert.equal(
              r.error.code,
              "RET_NODE_UNREACHABLE",
              why(`create-user ${name}: ${r.error.code} ${r.error.message}`),
            );
            return; // the node is gone; whether this write landed is unknown
          }
          uncertain.delete(name);
          acked.add(name);
          if (++ackedThisRound === killAfter) killing = cluster.kill(0);
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      await killing;
      await cluster.restart(0);

      // Check the node's state against what the clients know.
      const sessionAfter = await loginAdmin();
      const list = await client.call("list-users", {});
      assert.ok(list.ok, why(JSON.stringify(list)));
      const present = new Set(list.data.users.filter((u) => u.type === "CU").map((u) => u.name));
      for (const name of acked)
        assert.ok(present.has(name), why(`acknowledged user ${name} is missing after kill ${round}`));
      for (const name of present) {
        assert.ok(acked.has(name) || uncertain.has(name), why(`user ${name} was never written but is present`));
        if (uncertain.has(name)) {
          // It committed before the kill: it must be whole, so its password must work.
          const login = await client.call("login", { userType: "CU", userName: name, password: passwordOf(name) });
          assert.ok(login.ok, why(`in-flight user ${name} is present but cannot log in: ${JSON.stringify(login)}`));
          await client.call("logout", {}, "sessionId" in login.data ? login.data.sessionId : null);
          uncertain.delete(name);
          acked.add(name);
          uncertainSeen++;
        }
      }
      // What did not land is gone for good: were it to appear in a later round, the "never
      // written" check above would catch it.
      uncertain.clear();
      await client.call("logout", {}, sessionAfter);
      assert.equal(present.size, acked.size, why("every present user is accounted for"));
    }

    assert.ok(rounds >= MIN_ROUNDS, why(`only ${rounds} rounds ran`));
    assert.deepEqual(cluster.crashes, [], "kills were requested, not crashes");
    // Not an assertion on timing luck, just context in the test output.
    process.stderr.write(
      `durability: ${rounds} kills, ${acked.size} users, ${uncertainSeen} in-flight writes found committed, seed ${seed}\n`,
    );
  });
});
