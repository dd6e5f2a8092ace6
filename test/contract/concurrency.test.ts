// Many clients at once against the same three node processes. There is no client-side lock:
// each node serializes its own writes (one SQLite transaction per command), and that alone must
// keep every node consistent.
//
// 1. A seeded random workload: WORKERS crypto officers, each with its own connections and
//    sessions, create and delete users through the CMU flow (getToken, two officers' signatures,
//    approveToken, createUser/deleteUser) and through `execute` with operation-bound tokens, log
//    users in and out, read, and log themselves out and in again. Some names are shared by every
//    worker on purpose. Every ok answer goes into a model; afterwards each node must match it: no
//    lost create or delete, no duplicate name or id, no user nobody created, no token left over.
// 2. Exactly-once: one approved `execute` fired many times at once with the same idempotency key
//    (one application, the rest replays) and with different keys (one success, the rest find no
//    token); one approved CMU token raced by many commands; many wrong passwords at once.
//
// The seed is printed in every failure message; set QG_SEED to replay a schedule (the
// interleaving of the nodes is not replayable, the choices of the workers are).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createNodeClient, type CallResult, type NodeClient } from "../../src/protocol/node-client.ts";
import { bindingDigest } from "../../src/hsm/binding.ts";
import type { ErrorCode } from "../../src/hsm/ret-codes.ts";
import type { BindingContext, Operation, UserView } from "../../src/protocol/messages.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import {
  approvals,
  concatRecords,
  fanOut,
  loginAll,
  must,
  passwordOf,
  setUpQuorumCluster,
  signatures,
  type QuorumCluster,
} from "../helpers/quorum-cluster.ts";
import { prng } from "../helpers/prng.ts";

const NODES = 3;
const WORKERS = 12;
const MAX_STEPS_PER_WORKER = 30;
const TIME_BUDGET_MS = 25_000;
const RACERS = 16;
const SHARED = ["shared0", "shared1", "shared2"] as const;
const SIGNERS = ["officer1", "officer2"] as const;
const GATE = "gate";
const LOCK_TARGET = "lockme";
const workerName = (w: number): string => `worker${w}`;

const code = (r: CallResult<unknown>): string => (r.ok ? "ok" : r.error.code);
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

/** What the clients were told, per node and user name. Creates and deletes of one name alternate on a node. */
class Model {
  readonly nodes: Map<string, { creates: number; deletes: number; ids: Set<number> }>[] = Array.from(
    { length: NODES },
    () => new Map(),
  );
  private entry(node: number, name: string) {
    const m = this.nodes[node]!;
    let e = m.get(name);
    if (e === undefined) {
      e = { creates: 0, deletes: 0, ids: new Set() };
      m.set(name, e);
    }
    return e;
  }
  created(node: number, name: string, id: number): void {
    const e = this.entry(node, name);
    e.creates += 1;
    e.ids.add(id);
  }
  deleted(node: number, name: string): void {
    this.entry(node, name).deletes += 1;
  }
}

describe("a 3-node cluster under many concurrent clients", { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let admin: NodeClient[];
  let q: QuorumCluster;
  const seed = Number(process.env["QG_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  const why = (text: string): string => `${text} (QG_SEED=${seed})`;
  const clientsToClose: NodeClient[] = [];
  const newClients = (): NodeClient[] => {
    const clients = cluster.endpoints.map((e) => createNodeClient(e, { timeoutMs: 30_000 }));
    clientsToClose.push(...clients);
    return clients;
  };
  /** A number of independent callers (own connections, own sessions) logged in as `user` on every node. */
  const callers = async (count: number, user: string): Promise<{ clients: NodeClient[]; sessions: string[] }[]> =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const clients = newClients();
        return { clients, sessions: await loginAll(clients, "CO", user) };
      }),
    );

  before(async () => {
    cluster = await startTestCluster({ nodes: NODES });
    admin = newClients();
    q = await setUpQuorumCluster(admin, {
      signers: SIGNERS,
      members: [GATE, ...Array.from({ length: WORKERS }, (_, w) => workerName(w))],
      cryptoUsers: [LOCK_TARGET],
      m: 2,
    });
  });
  after(async () => {
    for (const c of clientsToClose) c.close();
    await cluster?.stop();
  });

  it(`keeps every node consistent with what ${WORKERS} concurrent workers were told`, async () => {
    const model = new Model();
    const unexpected: string[] = [];
    const tally = new Map<string, number>();
    const deadline = Date.now() + TIME_BUDGET_MS;
    let steps = 0;

    /** Returns the data of an ok answer; records any error that is not in `allowed`. */
    const expectOk = <T>(
      who: string,
      op: string,
      node: number,
      r: CallResult<T>,
      allowed: readonly ErrorCode[] = [],
    ): T | null => {
      // Tallied by kind of name (shared or private), not by name.
      const key = `${op.replace(/ shared\d+$/, " shared").replace(/ w\d+u\d+$/, " private")} ${code(r)}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if (r.ok) return r.data;
      if (!(allowed as readonly string[]).includes(r.error.code))
        unexpected.push(`${who}: ${op} on server ${node}: ${r.error.code} ${r.error.message}`);
      return null;
    };
    const checkList = (who: string, node: number, users: readonly UserView[]): void => {
      if (new Set(users.map((u) => u.id)).size !== users.length)
        unexpected.push(`${who}: server ${node} lists a duplicate user id: ${users.map((u) => u.id).join(",")}`);
      if (new Set(users.map((u) => u.name)).size !== users.length)
        unexpected.push(`${who}: server ${node} lists a duplicate user name`);
    };

    async function worker(w: number): Promise<void> {
      const me = workerName(w);
      const random = prng(seed + w * 7919);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const clients = newClients();
      let sessions = await loginAll(clients, "CO", me);
      /** Private users this worker created on every node and has not deleted. */
      const mine: string[] = [];
      let fresh = 0;
      const createName = (): string => (random() < 0.5 ? pick(SHARED) : `w${w}u${fresh++}`);
      const deleteName = (): string => (mine.length === 0 || random() < 0.5 ? pick(SHARED) : pick(mine));
      const isShared = (name: string): boolean => (SHARED as readonly string[]).includes(name);

      /** Deletes this worker's token on the nodes where the command did not use it up. */
      const dropToken = async (nodes: readonly number[], tokenData: Buffer): Promise<void> => {
        await Promise.all(
          nodes.map(async (i) => {
            const r = await clients[i]!.call("del-token", { tokenData: b64(tokenData) }, sessions[i]);
            const data = expectOk(me, "del-token", i, r);
            if (data !== null && data.deleted !== 1)
              unexpected.push(`${me}: del-token on server ${i} deleted ${data.deleted}`);
          }),
        );
      };
      const applied = (
        name: string,
        kind: "create" | "delete",
        results: readonly CallResult<object>[],
        op: string,
      ): number[] => {
        const allowed: ErrorCode[] = !isShared(name)
          ? []
          : kind === "create"
            ? ["RET_USER_EXISTS"]
            : ["RET_INVALID_USER", "RET_USER_IN_USE"];
        const failed: number[] = [];
        results.forEach((r, i) => {
          const data = expectOk(me, `${op} ${name}`, i, r, allowed);
          if (data === null) failed.push(i);
          else if (kind === "delete") model.deleted(i, name);
          else {
            const user = (data as { user?: UserView }).user;
            if (user === undefined) unexpected.push(`${me}: ${op} ${name} on server ${i} answered without the user`);
            else model.created(i, name, user.id);
          }
        });
        if (!isShared(name) && failed.length === 0) {
          if (kind === "create") mine.push(name);
          else mine.splice(mine.indexOf(name), 1);
        }
        return failed;
      };

      async function cmuFlow(kind: "create" | "delete", name: string): Promise<void> {
        const got = await fanOut(clients, "get-token", () => ({ service: 3, userName: me }), sessions);
        const records = got.map((r, i) => expectOk(me, "get-token", i, r));
        if (records.some((r) => r === null)) {
          await fanOut(clients, "del-token", () => ({}), sessions);
          return;
        }
        const tokenData = concatRecords(records as { record: string }[]);
        const approved = await fanOut(
          clients,
          "approve-token",
          () => ({ tokenData: b64(tokenData), approvals: approvals(tokenData, SIGNERS) }),
          sessions,
        );
        approved.forEach((r, i) => {
          const data = expectOk(me, "approve-token", i, r);
          if (data !== null && data.token.approvers.length !== 2)
            unexpected.push(`${me}: approve-token on server ${i} counted ${data.token.approvers.join(",")}`);
        });
        const results =
          kind === "create"
            ? await fanOut(
                clients,
                "create-user",
                () => ({ userType: "CU", userName: name, password: passwordOf(name) }),
                sessions,
              )
            : await fanOut(clients, "delete-user", () => ({ userType: "CU", userName: name }), sessions);
        await dropToken(applied(name, kind, results, `cmu ${kind}-user`), tokenData);
      }

      async function executeFlow(kind: "create" | "delete", name: string, step: number): Promise<void> {
        const operation: Operation =
          kind === "create"
            ? { kind: "createUser", userType: "CU", userName: name, sealedPassword: q.seal(passwordOf(name)) }
            : { kind: "deleteUser", userType: "CU", userName: name };
        const context: BindingContext = {
          repository: "acme/hsm-requests",
          pullRequest: 1000 * (w + 1) + step,
          requestDigest: "cd".repeat(32),
        };
        const binding = bindingDigest(q.clusterId, operation, context);
        const generated = await fanOut(clients, "token-generate", () => ({ service: 3, binding }), sessions);
        const records = generated.map((r, i) => expectOk(me, "token-generate", i, r));
        if (records.some((r) => r === null)) {
          await fanOut(clients, "token-delete", () => ({ scope: "user" }), sessions);
          return;
        }
        const tokenData = concatRecords(records as { record: string }[]);
        const body = {
          idempotencyKey: `w${w}-s${step}`,
          operation,
          context,
          approval: { tokenData: b64(tokenData), signatures: signatures(tokenData, SIGNERS) },
        };
        const results = await fanOut(clients, "execute", () => body, sessions);
        results.forEach((r, i) => {
          if (r.ok && r.data.replayed)
            unexpected.push(`${me}: a first execute on server ${i} was answered as a replay`);
        });
        await dropToken(applied(name, kind, results, `execute ${operation.kind}`), tokenData);
      }

      async function loginLogout(name: string): Promise<void> {
        const logins = await fanOut(clients, "login", () => ({
          userType: "CU",
          userName: name,
          password: passwordOf(name),
        }));
        await Promise.all(
          logins.map(async (r, i) => {
            const data = expectOk(me, `login ${name}`, i, r, isShared(name) ? ["RET_INVALID_USER"] : []);
            if (data === null) return;
            if (!("sessionId" in data)) {
              unexpected.push(`${me}: login ${name} on server ${i} asked for 2FA`);
              return;
            }
            // Hold the session for one more round trip, so deletes of this user can meet it.
            expectOk(me, "list-tokens", i, await clients[i]!.call("list-tokens", {}));
            expectOk(me, `logout ${name}`, i, await clients[i]!.call("logout", {}, data.sessionId));
          }),
        );
      }

      try {
        for (let step = 0; step < MAX_STEPS_PER_WORKER && Date.now() < deadline; step += 1) {
          steps += 1;
          const roll = random();
          if (roll < 0.2) await cmuFlow("create", createName());
          else if (roll < 0.36) await cmuFlow("delete", deleteName());
          else if (roll < 0.52) await executeFlow("create", createName(), step);
          else if (roll < 0.66) await executeFlow("delete", deleteName(), step);
          else if (roll < 0.8) await loginLogout(mine.length > 0 && random() < 0.4 ? pick(mine) : pick(SHARED));
          else if (roll < 0.93) {
            const [users, tokens] = await Promise.all([
              fanOut(clients, "list-users", () => ({})),
              fanOut(clients, "list-tokens", () => ({})),
            ]);
            users.forEach((r, i) => {
              const data = expectOk(me, "list-users", i, r);
              if (data !== null) checkList(me, i, data.users);
            });
            for (const [i, r] of tokens.entries()) expectOk(me, "list-tokens", i, r);
          } else {
            for (const [i, r] of (await fanOut(clients, "logout", () => ({}), sessions)).entries())
              expectOk(me, "logout", i, r);
            sessions = await loginAll(clients, "CO", me);
          }
        }
      } finally {
        for (const [i, r] of (await fanOut(clients, "logout", () => ({}), sessions)).entries())
          expectOk(me, "final logout", i, r);
      }
    }

    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    const summary = [...tally]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join("; ");
    assert.deepEqual(unexpected.slice(0, 20), [], why(`${unexpected.length} unexpected answers; tally: ${summary}`));

    // Each node against the model.
    const fixed = new Map<string, string>([
      ["admin", "PCO"],
      ["app_user", "AU"],
      [GATE, "CO"],
      [LOCK_TARGET, "CU"],
      ...SIGNERS.map((s) => [s, "CO"] as [string, string]),
      ...Array.from({ length: WORKERS }, (_, w) => [workerName(w), "CO"] as [string, string]),
    ]);
    const lists = await must(admin, "list-users", () => ({}));
    let present = 0;
    for (const [i, { users }] of lists.entries()) {
      checkList("final", i, users);
      const byName = new Map(users.map((u) => [u.name, u]));
      for (const [name, type] of fixed)
        assert.equal(byName.get(name)?.type, type, why(`server ${i}: ${name} should be a ${type}`));
      for (const [name, e] of model.nodes[i]!) {
        const live = e.creates - e.deletes;
        assert.ok(
          live === 0 || live === 1,
          why(`server ${i}: ${name} acknowledged ${e.creates} creates and ${e.deletes} deletes`),
        );
        const user = byName.get(name);
        if (live === 1) {
          assert.ok(
            user !== undefined,
            why(`server ${i}: ${name} was acknowledged as created (last) but is missing: a lost update`),
          );
          assert.ok(
            e.ids.has(user.id),
            why(`server ${i}: ${name} has id ${user.id}, never acknowledged (${[...e.ids].join(",")})`),
          );
          present += 1;
        } else {
          assert.equal(
            user,
            undefined,
            why(`server ${i}: ${name} was acknowledged as deleted (last) but is present: a lost delete`),
          );
        }
      }
      for (const u of users) {
        if (!fixed.has(u.name))
          assert.ok(
            model.nodes[i]!.has(u.name),
            why(`server ${i}: ${u.name} exists but no client was told it was created`),
          );
      }
    }
    // Every user that is there is whole: its password works.
    const logins = await Promise.all(
      lists.flatMap(({ users }, i) =>
        users
          .filter((u) => u.type === "CU" && u.name !== LOCK_TARGET)
          .map(async (u) => {
            const r = await admin[i]!.call("login", { userType: "CU", userName: u.name, password: passwordOf(u.name) });
            if (r.ok && "sessionId" in r.data) await admin[i]!.call("logout", {}, r.data.sessionId);
            return `${i}:${u.name}:${code(r)}`;
          }),
      ),
    );
    assert.deepEqual(
      logins.filter((l) => !l.endsWith(":ok")),
      [],
      why("every present user logs in"),
    );
    // Every token was used up, deleted, or died with its session.
    const tokens = await must(admin, "list-tokens", () => ({}));
    assert.deepEqual(
      tokens.map((t) => t.tokens.length),
      [0, 0, 0],
      why("no token left over"),
    );
    assert.deepEqual(cluster.crashes, []);
    assert.deepEqual(
      cluster.logs.filter((l) => /internal error|exception/.test(l)),
      [],
    );
    process.stderr.write(
      `concurrency: ${WORKERS} workers, ${steps} steps, ${present} users present on 3 nodes, seed ${seed}\n  ${summary}\n`,
    );
  });

  /** A bound createUser token of `gate` on every node, with the two officers' signatures. */
  async function approvedExecute(
    userName: string,
    pullRequest: number,
  ): Promise<{
    body: {
      operation: Operation;
      context: BindingContext;
      approval: { tokenData: string; signatures: { userName: string; signature: string }[] };
    };
    gate: { clients: NodeClient[]; sessions: string[] };
  }> {
    const [gate] = await callers(1, GATE);
    const operation: Operation = {
      kind: "createUser",
      userType: "CU",
      userName,
      sealedPassword: q.seal(passwordOf(userName)),
    };
    const context: BindingContext = { repository: "acme/hsm-requests", pullRequest, requestDigest: "ef".repeat(32) };
    const binding = bindingDigest(q.clusterId, operation, context);
    const tokenData = concatRecords(
      await must(gate!.clients, "token-generate", () => ({ service: 3, binding }), gate!.sessions),
    );
    return {
      body: { operation, context, approval: { tokenData: b64(tokenData), signatures: signatures(tokenData, SIGNERS) } },
      gate: gate!,
    };
  }

  async function countOnEveryNode(name: string): Promise<number[]> {
    return (await must(admin, "list-users", () => ({}))).map((l) => l.users.filter((u) => u.name === name).length);
  }

  it(`applies one approved execute once when ${RACERS} copies with the same idempotency key race`, async () => {
    const { body } = await approvedExecute("once_same", 900_001);
    const racers = await callers(RACERS, GATE);
    const request = { ...body, idempotencyKey: "pr-900001" };
    const answers = await Promise.all(racers.map((c) => fanOut(c.clients, "execute", () => request, c.sessions)));
    for (let i = 0; i < NODES; i += 1) {
      const onNode = answers.map((a) => a[i]!);
      assert.deepEqual(
        onNode.filter((r) => !r.ok),
        [],
        `server ${i}: every copy is answered ok`,
      );
      const data = onNode.flatMap((r) => (r.ok ? [r.data] : []));
      assert.equal(data.filter((d) => !d.replayed).length, 1, `server ${i}: exactly one copy applied`);
      assert.equal(data.filter((d) => d.replayed).length, RACERS - 1, `server ${i}: the rest are replays`);
      assert.equal(new Set(data.map((d) => d.user?.id)).size, 1, `server ${i}: every answer names the same user`);
      assert.ok(data.every((d) => d.approvers.join() === SIGNERS.join()));
    }
    assert.deepEqual(await countOnEveryNode("once_same"), [1, 1, 1]);
    // The outcome is stored: a later copy is a replay too, and the token is gone.
    const late = await fanOut(racers[0]!.clients, "execute", () => request, racers[0]!.sessions);
    assert.deepEqual(
      late.map((r) => (r.ok ? r.data.replayed : r.error.code)),
      [true, true, true],
    );
    assert.deepEqual(
      (await must(admin, "list-tokens", () => ({}))).map((t) => t.tokens.length),
      [0, 0, 0],
    );
  });

  it(`consumes one approved token once when ${RACERS} copies with different idempotency keys race`, async () => {
    const { body } = await approvedExecute("once_diff", 900_002);
    const racers = await callers(RACERS, GATE);
    const answers = await Promise.all(
      racers.map((c, j) =>
        fanOut(c.clients, "execute", () => ({ ...body, idempotencyKey: `pr-900002-${j}` }), c.sessions),
      ),
    );
    for (let i = 0; i < NODES; i += 1) {
      const codes = answers.map((a) => {
        const r = a[i]!;
        return r.ok ? (r.data.replayed ? "replayed" : "applied") : r.error.code;
      });
      assert.equal(codes.filter((c) => c === "applied").length, 1, `server ${i}: ${codes.join(",")}`);
      assert.equal(
        codes.filter((c) => c === "RET_TOKEN_NOT_FOUND").length,
        RACERS - 1,
        `server ${i}: ${codes.join(",")}`,
      );
    }
    assert.deepEqual(await countOnEveryNode("once_diff"), [1, 1, 1]);
  });

  it(`lets one approved CMU token authorize one of ${RACERS} racing createUser commands`, async () => {
    const [gate] = await callers(1, GATE);
    const { clients, sessions } = gate!;
    const tokenData = concatRecords(await must(clients, "get-token", () => ({ service: 3, userName: GATE }), sessions));
    await must(
      clients,
      "approve-token",
      () => ({ tokenData: b64(tokenData), approvals: approvals(tokenData, SIGNERS) }),
      sessions,
    );
    const names = Array.from({ length: RACERS }, (_, j) => `race${j}`);
    const answers = await Promise.all(
      names.map((name) =>
        fanOut(
          clients,
          "create-user",
          () => ({ userType: "CU", userName: name, password: passwordOf(name) }),
          sessions,
        ),
      ),
    );
    const lists = await must(admin, "list-users", () => ({}));
    for (let i = 0; i < NODES; i += 1) {
      const codes = answers.map((a) => code(a[i]!));
      assert.equal(codes.filter((c) => c === "ok").length, 1, `server ${i}: ${codes.join(",")}`);
      assert.equal(
        codes.filter((c) => c === "RET_MXN_AUTH_FAILED").length,
        RACERS - 1,
        `server ${i}: ${codes.join(",")}`,
      );
      const winner = names[codes.indexOf("ok")];
      assert.deepEqual(
        lists[i]!.users.filter((u) => u.name.startsWith("race")).map((u) => u.name),
        [winner],
        `server ${i}`,
      );
    }
    await must(clients, "logout", () => ({}), sessions);
  });

  it(`issues one unbound token per officer and service when ${RACERS} of the officer's sessions ask at once`, async () => {
    const racers = await callers(RACERS, GATE);
    const answers = await Promise.all(
      racers.map((c) => fanOut(c.clients, "get-token", () => ({ service: 3, userName: GATE }), c.sessions)),
    );
    for (let i = 0; i < NODES; i += 1) {
      const codes = answers.map((a) => code(a[i]!));
      assert.equal(codes.filter((c) => c === "ok").length, 1, `server ${i}: ${codes.join(",")}`);
      assert.equal(codes.filter((c) => c === "RET_TOKEN_EXISTS").length, RACERS - 1, `server ${i}: ${codes.join(",")}`);
    }
    await Promise.all(racers.map((c) => must(c.clients, "logout", () => ({}), c.sessions)));
    assert.deepEqual(
      (await must(admin, "list-tokens", () => ({}))).map((t) => t.tokens.length),
      [0, 0, 0],
      "session tokens die with their sessions",
    );
  });

  it("counts every one of many concurrent wrong passwords: no lost increment, then locked", async () => {
    const attempts = 10;
    const answers = await Promise.all(
      Array.from({ length: attempts }, () =>
        fanOut(admin, "login", () => ({ userType: "CU", userName: LOCK_TARGET, password: "not-the-password" })),
      ),
    );
    const lists = await must(admin, "list-users", () => ({}));
    for (let i = 0; i < NODES; i += 1) {
      const codes = answers.map((a) => code(a[i]!));
      assert.equal(codes.filter((c) => c === "RET_USER_LOGIN_FAILURE").length, 5, `server ${i}: ${codes.join(",")}`);
      assert.equal(
        codes.filter((c) => c === "RET_USER_LOCKED").length,
        attempts - 5,
        `server ${i}: ${codes.join(",")}`,
      );
      assert.equal(lists[i]!.users.find((u) => u.name === LOCK_TARGET)?.loginFailureCnt, 5, `server ${i}`);
    }
  });
});
