// Security of the node protocol, against real node processes (a 2-node cluster on 127.0.0.1):
// sessions (random, bound to their login, dead after logout, restart or deletion, idle expiry),
// brute force (lockout per node), hostile request bodies, slow clients, and the node process's
// refusal to serve plain HTTP off loopback.
//
// Covered elsewhere and not repeated here:
// - test/contract/node-server.test.ts: malformed JSON, non-UTF-8, empty or non-object bodies,
//   413 by content-length and chunked, methods, paths, content types, missing, unknown and
//   malformed (with a space) x-session headers, and startNodeServer's in-process refusal of
//   non-loopback hosts;
// - test/contract/tls.test.ts: TLS trust (cluster CA, other CA, host name, key file modes);
// - test/unit/hsm-core.test.ts: lockout on one core, an idle session ending with its tokens;
// - test/unit/node-args.test.ts: argument parsing and isLoopbackHost.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createCluster } from "../../src/cluster/cluster.ts";
import { createNodeClient, type CallResult, type NodeClient } from "../../src/protocol/node-client.ts";
import { signMessage } from "../../src/crypto/rsa.ts";
import { MAX_BODY_BYTES } from "../../src/protocol/messages.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { loginAs, makeNode } from "../helpers/core.ts";
import { rawRequest, type RawResponse } from "../helpers/http.ts";
import { testKey } from "../helpers/keys.ts";
import { LISTEN_MARKER } from "../helpers/no-listen.ts";
import { ADMIN_PASSWORD, passwordOf, setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

const code = (r: CallResult<unknown>): string => (r.ok ? "ok" : r.error.code);
const JSON_TYPE = { "content-type": "application/json" };

function sessionOf(r: CallResult<{ sessionId: string } | { challenge: unknown }>): string {
  assert.ok(r.ok && "sessionId" in r.data, JSON.stringify(r));
  return r.data.sessionId;
}

describe("node protocol security (real node processes)", { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let clients: NodeClient[] = [];
  const c = (i: number): NodeClient => clients[i]!;
  const login = async (
    i: number,
    userType: "CO" | "CU",
    userName: string,
    password = passwordOf(userName),
  ): Promise<string> => sessionOf(await c(i).call("login", { userType, userName, password }));
  /** A fresh client per node: after a restart, pooled keep-alive sockets point at a dead process. */
  const reconnect = (): void => {
    for (const old of clients) old.close();
    clients = cluster.endpoints.map((e) => createNodeClient(e, { timeoutMs: 15_000 }));
  };
  const alive = async (i: number, session: string): Promise<string> => code(await c(i).call("del-token", {}, session));

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    reconnect();
    await setUpQuorumCluster(clients, {
      signers: [],
      members: ["alice_co", "bob_co"],
      cryptoUsers: ["carol", "dave", "erin"],
      m: 1,
    });
  });
  after(async () => {
    for (const old of clients) old.close();
    await cluster?.stop();
  });

  describe("sessions", () => {
    it("are 256-bit random hex ids, unique over 300 logins", async () => {
      const ids: string[] = [];
      for (let batch = 0; batch < 30; batch += 1) {
        const answers = await Promise.all(
          Array.from({ length: 10 }, () =>
            c(0).call("login", { userType: "CU", userName: "dave", password: passwordOf("dave") }),
          ),
        );
        ids.push(...answers.map(sessionOf));
      }
      for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
      assert.equal(new Set(ids).size, ids.length, "no id repeats");
      // Not a randomness test suite, just a guard against counters, timestamps or short entropy:
      // every hex position varies, and about half of all bits are set (13 sigma of slack).
      for (let pos = 0; pos < 64; pos += 1)
        assert.ok(new Set(ids.map((id) => id[pos])).size > 1, `position ${pos} never changes`);
      const ones = ids.reduce(
        (n, id) => n + [...Buffer.from(id, "hex")].reduce((m, b) => m + b.toString(2).replaceAll("0", "").length, 0),
        0,
      );
      const share = ones / (ids.length * 256);
      assert.ok(share > 0.47 && share < 0.53, `share of set bits ${share}`);
      await Promise.all(ids.map((id) => c(0).call("logout", {}, id)));
    });

    it("act only as the user who logged in, on the node where they logged in", async () => {
      const alice = await login(0, "CO", "alice_co");
      const bob = await login(0, "CO", "bob_co");
      const carol = await login(0, "CU", "carol");

      assert.equal(
        code(await c(0).call("get-token", { service: 3, userName: "bob_co" }, alice)),
        "RET_PERMISSION_DENIED",
      );
      const reg = Buffer.from("registration");
      const key = testKey("protocol-security");
      const registerForBob = await c(0).call(
        "register-quorum-key",
        {
          userType: "CO",
          userName: "bob_co",
          registrationToken: reg.toString("base64"),
          signature: signMessage(reg, key.privateKey).toString("base64"),
          publicKeyPem: key.publicPem,
        },
        alice,
      );
      assert.equal(code(registerForBob), "RET_PERMISSION_DENIED");

      const generated = await c(0).call("token-generate", { service: 3, binding: "ab".repeat(32) }, alice);
      assert.ok(generated.ok, JSON.stringify(generated));
      assert.equal(generated.data.token.userName, "alice_co", "the token belongs to the session's user");
      const tokenData = generated.data.record;
      // Bob, another officer, cannot use, approve or delete Alice's token.
      assert.equal(code(await c(0).call("del-token", { tokenData }, bob)), "RET_PERMISSION_DENIED");
      const fakeSignature = Buffer.alloc(256, 1).toString("base64");
      assert.equal(
        code(
          await c(0).call(
            "approve-token",
            { tokenData, approvals: [{ approverType: 2, approverName: "bob_co", signature: fakeSignature }] },
            bob,
          ),
        ),
        "RET_PERMISSION_DENIED",
      );
      const execute = await c(0).call(
        "execute",
        {
          idempotencyKey: "steal-1",
          operation: { kind: "deleteUser", userType: "CU", userName: "dave" },
          context: { repository: "acme/x", pullRequest: 1, requestDigest: "00".repeat(32) },
          approval: { tokenData, signatures: [{ userName: "bob_co", signature: fakeSignature }] },
        },
        bob,
      );
      assert.equal(code(execute), "RET_PERMISSION_DENIED");

      // A crypto user's session has a crypto user's rights, whatever the body says.
      assert.equal(
        code(await c(0).call("create-user", { userType: "CO", userName: "mallory", password: "mallory-pw" }, carol)),
        "RET_PERMISSION_DENIED",
      );
      assert.equal(code(await c(0).call("token-generate", { service: 3 }, carol)), "RET_PERMISSION_DENIED");
      assert.equal(
        code(await c(0).call("change-password", { userType: "CU", userName: "dave", password: "taken-over" }, carol)),
        "RET_PERMISSION_DENIED",
      );
      assert.equal(
        code(await c(0).call("login", { userType: "CU", userName: "dave", password: "taken-over" })),
        "RET_USER_LOGIN_FAILURE",
        "dave's password did not change",
      );

      // Sessions are per node, and the id must match exactly.
      assert.equal(code(await c(1).call("del-token", {}, alice)), "RET_SESSION_INVALID");
      assert.equal(await alive(0, alice.toUpperCase()), "RET_SESSION_INVALID");
      assert.equal(await alive(0, `${alice.slice(0, -1)}${alice.endsWith("0") ? "1" : "0"}`), "RET_SESSION_INVALID");
      assert.equal(await alive(0, alice.slice(0, 32)), "RET_SESSION_INVALID");

      // Ending one session leaves the others alone.
      assert.equal(code(await c(0).call("logout", {}, alice)), "ok");
      assert.equal(await alive(0, bob), "ok");
      assert.equal(await alive(0, carol), "ok");
      const aliceAgain = await login(0, "CO", "alice_co");
      assert.equal(code(await c(0).call("token-delete", { scope: "user" }, aliceAgain)), "ok");
      for (const s of [aliceAgain, bob, carol]) await c(0).call("logout", {}, s);
    });

    it("are dead after logout, with their tokens", async () => {
      const bob = await login(0, "CO", "bob_co");
      const token = await c(0).call("get-token", { service: 3, userName: "bob_co" }, bob);
      assert.ok(token.ok, JSON.stringify(token));
      assert.equal(code(await c(0).call("logout", {}, bob)), "ok");
      assert.equal(await alive(0, bob), "RET_SESSION_INVALID");
      assert.equal(code(await c(0).call("logout", {}, bob)), "RET_SESSION_INVALID");
      const tokens = await c(0).call("list-tokens", {});
      assert.ok(tokens.ok);
      assert.deepEqual(
        tokens.data.tokens.filter((t) => t.userName === "bob_co"),
        [],
      );
      const next = await login(0, "CO", "bob_co");
      assert.notEqual(next, bob);
      await c(0).call("logout", {}, next);
    });

    it("are dead after the node restarts; persisted token-sign tokens survive, the other node's sessions too", async () => {
      const on0 = await login(0, "CO", "alice_co");
      const on1 = await login(1, "CO", "alice_co");
      const sessionToken = await c(0).call("get-token", { service: 3, userName: "alice_co" }, on0);
      const persisted = await c(0).call("token-generate", { service: 3, binding: "cd".repeat(32) }, on0);
      assert.ok(sessionToken.ok && persisted.ok);
      await cluster.restart(0);
      reconnect();
      assert.equal(await alive(0, on0), "RET_SESSION_INVALID");
      const tokens = await c(0).call("list-tokens", {});
      assert.ok(tokens.ok);
      assert.deepEqual(
        tokens.data.tokens.map((t) => [t.id, t.persisted]),
        [[persisted.data.token.id, true]],
      );
      assert.equal(await alive(1, on1), "ok");
      const again = await login(0, "CO", "alice_co");
      assert.equal(code(await c(0).call("token-delete", { scope: "user" }, again)), "ok");
      await c(0).call("logout", {}, again);
      await c(1).call("logout", {}, on1);
    });

    it("cannot be moved to another user record: a logged-in user is never removed or replaced, and a deleted user's session is dead", async () => {
      const admin0 = await login(0, "CO", "admin", ADMIN_PASSWORD);
      const admin1 = await login(1, "CO", "admin", ADMIN_PASSWORD);
      assert.equal(
        code(
          await c(0).call("create-user", { userType: "CU", userName: "frank", password: passwordOf("frank") }, admin0),
        ),
        "ok",
      );
      assert.equal(
        code(await c(1).call("create-user", { userType: "CU", userName: "frank", password: "frank-other-pw" }, admin1)),
        "ok",
      );
      const frank = await login(0, "CU", "frank");

      // Every path that deletes or replaces a user record refuses while the user is logged in.
      assert.equal(
        code(await c(0).call("delete-user", { userType: "CU", userName: "frank" }, admin0)),
        "RET_USER_IN_USE",
      );
      assert.equal(
        code(
          await c(0).call("change-password", { userType: "CU", userName: "frank", password: "reset-by-admin" }, admin0),
        ),
        "RET_USER_IN_USE",
      );
      // (rollback of the creation: see the todo test below.)
      const exported = await c(1).call("export-user", { userName: "frank" }, admin1);
      assert.ok(exported.ok, JSON.stringify(exported));
      assert.equal(code(await c(0).call("import-user", { masked: exported.data.masked }, admin0)), "RET_USER_IN_USE");
      assert.equal(await alive(0, frank), "ok");
      assert.equal(
        code(await c(0).call("login", { userType: "CU", userName: "frank", password: "frank-other-pw" })),
        "RET_USER_LOGIN_FAILURE",
        "node 0 still has frank's own record",
      );

      // Once frank is gone, a new frank does not inherit the old session.
      assert.equal(code(await c(0).call("logout", {}, frank)), "ok");
      assert.equal(code(await c(0).call("delete-user", { userType: "CU", userName: "frank" }, admin0)), "ok");
      assert.equal(
        code(await c(0).call("create-user", { userType: "CU", userName: "frank", password: "new-frank-pw" }, admin0)),
        "ok",
      );
      assert.equal(await alive(0, frank), "RET_SESSION_INVALID");
      assert.equal(code(await c(0).call("delete-user", { userType: "CU", userName: "frank" }, admin0)), "ok");
      assert.equal(code(await c(1).call("delete-user", { userType: "CU", userName: "frank" }, admin1)), "ok");
      await c(0).call("logout", {}, admin0);
      await c(1).call("logout", {}, admin1);
    });

    it("refuses to roll back the creation of a logged-in user, and rolls it back once the user has logged out", async () => {
      const admin0 = await login(0, "CO", "admin", ADMIN_PASSWORD);
      let gina: string | undefined;
      try {
        const created = await c(0).call(
          "create-user",
          { userType: "CU", userName: "gina", password: passwordOf("gina") },
          admin0,
        );
        assert.ok(created.ok, JSON.stringify(created));
        gina = await login(0, "CU", "gina");
        assert.equal(code(await c(0).call("rollback", { undoId: created.data.undoId }, admin0)), "RET_USER_IN_USE");
        assert.equal(await alive(0, gina), "ok");
        assert.equal(code(await c(0).call("logout", {}, gina)), "ok");
        assert.equal(code(await c(0).call("rollback", { undoId: created.data.undoId }, admin0)), "ok");
        assert.equal(await alive(0, gina), "RET_SESSION_INVALID");
      } finally {
        if (gina !== undefined) await c(0).call("logout", {}, gina);
        await c(0).call("delete-user", { userType: "CU", userName: "gina" }, admin0);
        await c(0).call("logout", {}, admin0);
      }
    });
  });

  describe("brute force", () => {
    it("locks a user after 5 wrong passwords on one node, refuses even the right one, counts per node, survives a restart, and an officer's reset unlocks", async () => {
      const wrong = { userType: "CU" as const, userName: "erin", password: "guess-000" };
      const right = { userType: "CU" as const, userName: "erin", password: passwordOf("erin") };
      const failures = async (i: number): Promise<number | undefined> => {
        const r = await c(i).call("list-users", {});
        assert.ok(r.ok);
        return r.data.users.find((u) => u.name === "erin")?.loginFailureCnt;
      };
      for (let n = 1; n <= 4; n += 1) {
        const r = await c(0).call("login", { ...wrong, password: `guess-00${n}` });
        assert.equal(code(r), "RET_USER_LOGIN_FAILURE");
        assert.doesNotMatch(r.ok ? "" : r.error.message, /locked/);
      }
      const fifth = await c(0).call("login", wrong);
      assert.equal(code(fifth), "RET_USER_LOGIN_FAILURE");
      assert.match(fifth.ok ? "" : fifth.error.message, /5 failed logins: the user is now locked/);
      // Locked: the right password is refused, and a wrong one gets the same answer (no oracle).
      assert.equal(code(await c(0).call("login", right)), "RET_USER_LOCKED");
      assert.equal(code(await c(0).call("login", wrong)), "RET_USER_LOCKED");
      assert.equal(await failures(0), 5);

      // The other node counts on its own.
      assert.equal(await failures(1), 0);
      for (let n = 0; n < 3; n += 1) assert.equal(code(await c(1).call("login", wrong)), "RET_USER_LOGIN_FAILURE");
      assert.equal(await failures(1), 3);
      const onOther = await login(1, "CU", "erin");
      assert.equal(await failures(1), 0, "a good login resets the count on that node");
      await c(1).call("logout", {}, onOther);

      // The lock is state, not memory: it survives a restart.
      await cluster.restart(0);
      reconnect();
      assert.equal(code(await c(0).call("login", right)), "RET_USER_LOCKED");

      // An officer resets the password (quorum is off on this cluster), which unlocks.
      const admin0 = await login(0, "CO", "admin", ADMIN_PASSWORD);
      assert.equal(
        code(
          await c(0).call("change-password", { userType: "CU", userName: "erin", password: "erin-reset-pw" }, admin0),
        ),
        "ok",
      );
      assert.equal(await failures(0), 0);
      assert.equal(code(await c(0).call("login", right)), "RET_USER_LOGIN_FAILURE", "the old password is gone");
      const erin = await login(0, "CU", "erin", "erin-reset-pw");
      await c(0).call("logout", {}, erin);
      assert.equal(
        code(
          await c(0).call(
            "change-password",
            { userType: "CU", userName: "erin", password: passwordOf("erin") },
            admin0,
          ),
        ),
        "ok",
      );
      await c(0).call("logout", {}, admin0);
    });
  });

  describe("hostile request bodies (within the size limit)", () => {
    let port: number;
    let officer: string;
    before(async () => {
      port = cluster.endpoints[0]!.port;
      officer = await login(0, "CO", "alice_co");
    });
    after(async () => {
      await c(0).call("logout", {}, officer);
    });

    const snapshot = async (): Promise<unknown> => {
      const [users, tokens, quorum] = await Promise.all([
        c(0).call("list-users", {}),
        c(0).call("list-tokens", {}),
        c(0).call("quorum-values", {}),
      ]);
      return { users, tokens, quorum };
    };
    /** Sends a raw body as the logged-in officer; checks the answer's code and that nothing changed. */
    const refused = async (path: string, body: string, expected: string, message: RegExp): Promise<RawResponse> => {
      assert.ok(
        Buffer.byteLength(body) <= MAX_BODY_BYTES,
        `the case must fit the size limit (${Buffer.byteLength(body)} bytes)`,
      );
      const before = await snapshot();
      const res = await rawRequest({ port, path, headers: { ...JSON_TYPE, "x-session": officer }, body });
      const env = res.json as { ok: boolean; error?: { code: string; message: string } } | undefined;
      assert.ok(res.status === 200 || res.status === 400, `HTTP ${res.status}: ${res.text.slice(0, 200)}`);
      assert.equal(env?.ok, false, res.text.slice(0, 200));
      assert.equal(env?.error?.code, expected, res.text.slice(0, 200));
      assert.match(env?.error?.message ?? "", message);
      assert.deepEqual(await snapshot(), before, "a refused request changes nothing");
      return res;
    };

    const DEPTH = 200_000;
    it(`refuses ${DEPTH} levels of nested arrays and objects, at the top and inside known fields`, async () => {
      const arrays = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;
      const objects = `${'{"kind":'.repeat(DEPTH / 4)}"createUser"${"}".repeat(DEPTH / 4)}`;
      await refused("/v1/hello", `{"a":${arrays}}`, "RET_BAD_REQUEST", /unknown field "a"/);
      await refused(
        "/v1/login",
        `{"userType":"CU","userName":"dave","password":${arrays}}`,
        "RET_BAD_REQUEST",
        /"password" must be a string/,
      );
      await refused(
        "/v1/execute",
        `{"idempotencyKey":"deep-1","operation":${objects},"approval":{"tokenData":"","signatures":[]}}`,
        "RET_BAD_REQUEST",
        /"kind" must be a string/,
      );
      await refused(
        "/v1/approve-token",
        `{"tokenData":"AAAA","approvals":[{"approverType":2,"approverName":"x","signature":${arrays}}]}`,
        "RET_BAD_REQUEST",
        /"signature" must be a string/,
      );
    });

    it("refuses huge arrays: as a scalar field, and over the documented entry limits", async () => {
      const zeros = (n: number): string => `[${Array.from({ length: n }, () => "0").join(",")}]`;
      await refused(
        "/v1/login",
        `{"userType":"CU","userName":${zeros(250_000)},"password":"x"}`,
        "RET_BAD_REQUEST",
        /"userName" must be a string/,
      );
      // Too many approvals is the CMU limit of 20 approvals per file: an invalid argument, not a malformed body.
      await refused(
        "/v1/approve-token",
        `{"tokenData":"AAAA","approvals":${zeros(250_000)}}`,
        "RET_INVALID_INPUT",
        /"approvals" has more than 20 entries/,
      );
      await refused(
        "/v1/execute",
        `{"idempotencyKey":"huge-1","operation":{"kind":"deleteUser","userType":"CU","userName":"dave"},"approval":{"tokenData":"AAAA","signatures":${zeros(250_000)}}}`,
        "RET_INVALID_INPUT",
        /"signatures" has more than 20 entries/,
      );
      const longSignature = "A".repeat(40_000);
      const twenty = JSON.stringify(
        Array.from({ length: 20 }, () => ({ approverType: 2, approverName: "officer1", signature: longSignature })),
      );
      await refused(
        "/v1/approve-token",
        `{"tokenData":"AAAA","approvals":${twenty}}`,
        "RET_BAD_REQUEST",
        /"signature" is longer than/,
      );
    });

    const op = { kind: "deleteUser", userType: "CU", userName: "dave" };
    const context = { repository: "acme/x", pullRequest: 7, requestDigest: "00".repeat(32) };
    const approval = { tokenData: "AAAA", signatures: [] };
    const nested: [string, string, unknown, RegExp][] = [
      [
        "execute",
        "operation.userType a number",
        { idempotencyKey: "t1", operation: { ...op, userType: 3 }, approval },
        /"userType" must be a string/,
      ],
      [
        "execute",
        "operation a string",
        { idempotencyKey: "t2", operation: "deleteUser", approval },
        /must be a JSON object/,
      ],
      ["execute", "operation null", { idempotencyKey: "t3", operation: null, approval }, /must be a JSON object/],
      ["execute", "operation an array", { idempotencyKey: "t4", operation: [op], approval }, /must be a JSON object/],
      [
        "execute",
        "operation with an extra field",
        { idempotencyKey: "t5", operation: { ...op, sealedPassword: "AAAA" }, approval },
        /unknown field "sealedPassword"/,
      ],
      [
        "execute",
        "operation.value Infinity (1e400)",
        { idempotencyKey: "t6", operation: { kind: "setMValue", service: 3, value: "@INF@" }, approval },
        /"value" must be an integer/,
      ],
      [
        "execute",
        "context.pullRequest a string",
        { idempotencyKey: "t7", operation: op, context: { ...context, pullRequest: "7" }, approval },
        /"pullRequest" must be an integer/,
      ],
      [
        "execute",
        "context.requestDigest upper-case hex",
        { idempotencyKey: "t8", operation: op, context: { ...context, requestDigest: "AB".repeat(32) }, approval },
        /"requestDigest" must be a SHA-256/,
      ],
      [
        "execute",
        "approval.signatures an object",
        { idempotencyKey: "t9", operation: op, approval: { tokenData: "AAAA", signatures: {} } },
        /"signatures" must be an array/,
      ],
      [
        "execute",
        "a signature entry null",
        { idempotencyKey: "t10", operation: op, approval: { tokenData: "AAAA", signatures: [null] } },
        /must be a JSON object/,
      ],
      [
        "execute",
        "signature userName an array",
        {
          idempotencyKey: "t11",
          operation: op,
          approval: { tokenData: "AAAA", signatures: [{ userName: ["officer1"], signature: "AAAA" }] },
        },
        /"userName" must be a string/,
      ],
      [
        "execute",
        "approval.tokenData a number",
        { idempotencyKey: "t12", operation: op, approval: { tokenData: 12, signatures: [] } },
        /"tokenData" must be a string/,
      ],
      [
        "execute",
        "tokenData not base64",
        { idempotencyKey: "t13", operation: op, approval: { tokenData: "%%%%", signatures: [] } },
        /not valid base64/,
      ],
      [
        "execute",
        "idempotencyKey with a space",
        { idempotencyKey: "a b", operation: op, approval },
        /"idempotencyKey" must be/,
      ],
      [
        "approve-token",
        "approverType a string",
        { tokenData: "AAAA", approvals: [{ approverType: "2", approverName: "officer1", signature: "AAAA" }] },
        /"approverType" must be an integer/,
      ],
      [
        "approve-token",
        "an approval an array",
        { tokenData: "AAAA", approvals: [["officer1"]] },
        /must be a JSON object/,
      ],
      [
        "create-user",
        "twoFactor a string",
        { userType: "CU", userName: "tf1", password: "tf1-password", twoFactor: "yes" },
        /must be a JSON object/,
      ],
      [
        "create-user",
        "twoFactor.challengeId a number",
        { userType: "CU", userName: "tf2", password: "tf2-password", twoFactor: { challengeId: 5, signature: "AAAA" } },
        /"challengeId" must be a string/,
      ],
      [
        "create-user",
        "both password and sealedPassword",
        { userType: "CU", userName: "tf3", password: "tf3-password", sealedPassword: "AAAA" },
        /exactly one of/,
      ],
    ];
    for (const [command, what, body, message] of nested) {
      it(`refuses ${command} with ${what}: RET_BAD_REQUEST, nothing changed`, async () => {
        await refused(`/v1/${command}`, JSON.stringify(body).replace('"@INF@"', "1e400"), "RET_BAD_REQUEST", message);
      });
    }

    it("refuses __proto__ and constructor keys at any level, and stays healthy", async () => {
      await refused(
        "/v1/login",
        '{"__proto__":{"userType":"CU"},"userName":"dave","password":"x"}',
        "RET_BAD_REQUEST",
        /unknown field "__proto__"/,
      );
      await refused(
        "/v1/execute",
        `{"idempotencyKey":"p1","operation":{"kind":"deleteUser","userType":"CU","userName":"dave","__proto__":{"x":1}},"approval":{"tokenData":"AAAA","signatures":[]}}`,
        "RET_BAD_REQUEST",
        /unknown field "__proto__"/,
      );
      await refused(
        "/v1/create-user",
        '{"userType":"CU","userName":"p2","password":"p2-password","constructor":{"prototype":{"admin":true}}}',
        "RET_BAD_REQUEST",
        /unknown field "constructor"/,
      );
      // Had anything been polluted, ordinary commands would misbehave.
      assert.equal(code(await c(0).call("hello", {})), "ok");
      assert.equal(await alive(0, officer), "ok");
    });

    it("refuses an x-session header sent twice (either session could be meant), and one over 512 characters", async () => {
      const bob = await login(0, "CO", "bob_co");
      const twice = await exchange(
        port,
        `POST /v1/del-token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-session: ${officer}\r\nx-session: ${bob}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      assert.equal(twice.status, 400, twice.text);
      assert.match(twice.text, /RET_BAD_REQUEST/);
      const long = await rawRequest({
        port,
        path: "/v1/del-token",
        headers: { ...JSON_TYPE, "x-session": "a".repeat(513) },
        body: "{}",
      });
      assert.equal(long.status, 400);
      const longest = await rawRequest({
        port,
        path: "/v1/del-token",
        headers: { ...JSON_TYPE, "x-session": "a".repeat(512) },
        body: "{}",
      });
      assert.equal(
        (longest.json as { error: { code: string } }).error.code,
        "RET_SESSION_INVALID",
        "512 characters is well-formed, and unknown",
      );
      await c(0).call("logout", {}, bob);
    });
  });

  describe("slow clients", () => {
    it("do not block other clients, and a half-sent command is never applied", async () => {
      const port = cluster.endpoints[0]!.port;
      const admin0 = await login(0, "CO", "admin", ADMIN_PASSWORD);
      /** Open sockets and how many more bytes each may send without completing its request. */
      const slow: { socket: Socket; room: number }[] = [];
      const answered: string[] = [];
      let trickle: NodeJS.Timeout | undefined;
      try {
        // 16 clients that send the headers and half the body of a create-user, then dribble
        // spaces, never the last byte.
        for (let k = 0; k < 16; k += 1) {
          const body = JSON.stringify({ userType: "CU", userName: `slow${k}`, password: passwordOf(`slow${k}`) });
          const head = `POST /v1/create-user HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-session: ${admin0}\r\nContent-Length: ${body.length}\r\n\r\n`;
          const socket = await open(port);
          socket.on("data", () => answered.push(`slow${k}`));
          const half = Math.floor(body.length / 2);
          socket.write(head + body.slice(0, half));
          slow.push({ socket, room: body.length - half - 1 });
        }
        // 4 clients that never finish their headers.
        for (let k = 0; k < 4; k += 1) {
          const socket = await open(port);
          socket.on("data", () => answered.push(`headers${k}`));
          socket.write("POST /v1/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
          slow.push({ socket, room: 1000 });
        }
        trickle = setInterval(() => {
          for (const s of slow) {
            if (s.room > 0 && !s.socket.destroyed) {
              s.socket.write(" ");
              s.room -= 1;
            }
          }
        }, 100);

        // Meanwhile other clients are served: reads, logins and a write.
        for (let n = 0; n < 10; n += 1) {
          const [hello, users, dave] = await Promise.all([
            c(0).call("hello", {}),
            c(0).call("list-users", {}),
            c(0).call("login", { userType: "CU", userName: "dave", password: passwordOf("dave") }),
          ]);
          assert.deepEqual([code(hello), code(users), code(dave)], ["ok", "ok", "ok"]);
          await c(0).call("logout", {}, sessionOf(dave));
        }
        assert.equal(
          code(
            await c(0).call(
              "create-user",
              { userType: "CU", userName: "fast1", password: passwordOf("fast1") },
              admin0,
            ),
          ),
          "ok",
        );
        assert.deepEqual(answered, [], "the slow requests were still waiting for their bodies");
        assert.ok(
          slow.every((s) => !s.socket.destroyed),
          "and still connected",
        );
      } finally {
        clearInterval(trickle);
        for (const s of slow) s.socket.destroy();
      }
      // The half-sent commands never ran: the node only acts on a complete body.
      const users = await c(0).call("list-users", {});
      assert.ok(users.ok);
      assert.deepEqual(
        users.data.users.filter((u) => /^(slow|fast)/.test(u.name)).map((u) => u.name),
        ["fast1"],
      );
      assert.equal(code(await c(0).call("delete-user", { userType: "CU", userName: "fast1" }, admin0)), "ok");
      await c(0).call("logout", {}, admin0);
    });
  });
});

/** One raw HTTP/1.1 exchange over a fresh socket (`Connection: close` in `request`). */
function exchange(port: number, request: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error("no answer within 10 s")), 10_000);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("utf8");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
    socket.write(request);
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.on("error", reject);
  });
}

describe("idle sessions (on the core, with a hand-driven clock)", { timeout: 30_000 }, () => {
  // The node process has no setting for sessionIdleSeconds (src/node/main.ts serves with
  // DEFAULT_CORE_CONFIG, 30 minutes), so expiry is checked on the core with a short idle time.
  // test/unit/hsm-core.test.ts already checks that an idle session ends with its tokens.
  const IDLE = 60;
  function node() {
    const n = makeNode({ config: { sessionIdleSeconds: IDLE } });
    const preco = loginAs(n, "PRECO", "admin", "password");
    n.must("change-password", { userType: "PRECO", userName: "admin", password: ADMIN_PASSWORD }, preco);
    n.must("create-user", { userType: "CU", userName: "ivy", password: "ivy-password" }, preco);
    return { n, admin: loginAs(n, "CO", "admin", ADMIN_PASSWORD) };
  }

  it("keeps a session used within sessionIdleSeconds (the limit included) and ends it one second later, for good", () => {
    const { n, admin } = node();
    n.must("get-token", { service: 3, userName: "admin" }, admin);
    n.advance(IDLE);
    assert.ok(n.call("del-token", {}, admin).ok, "idle for exactly the limit: still alive");
    n.must("get-token", { service: 3, userName: "admin" }, admin);
    for (let k = 0; k < 3; k += 1) {
      n.advance(IDLE - 1);
      assert.ok(n.call("list-tokens", {}).ok);
      assert.ok(n.call("enroll-challenge", {}, admin).ok, "use slides the window");
    }
    n.advance(IDLE + 1);
    const r = n.call("enroll-challenge", {}, admin);
    assert.equal(r.ok ? "ok" : r.code, "RET_SESSION_INVALID");
    assert.match(r.ok ? "" : r.message, /idled out/);
    assert.deepEqual(n.must("list-tokens", {}).tokens, [], "its token died with it");
    const again = loginAs(n, "CO", "admin", ADMIN_PASSWORD);
    assert.notEqual(again, admin);
    const stillDead = n.call("enroll-challenge", {}, admin);
    assert.equal(stillDead.ok ? "ok" : stillDead.code, "RET_SESSION_INVALID", "a new login does not revive the old id");
  });

  it("no longer counts an idled-out session as a login: its user can be deleted", () => {
    const { n, admin } = node();
    loginAs(n, "CU", "ivy", "ivy-password");
    n.advance(IDLE - 1);
    n.must("enroll-challenge", {}, admin);
    n.advance(2);
    const r = n.call("delete-user", { userType: "CU", userName: "ivy" }, admin);
    assert.equal(r.ok ? "ok" : r.code, "ok", "ivy's only session idled out, so ivy is not logged in");
  });
});

describe("the node process off loopback", { timeout: 120_000 }, () => {
  const NODE_MAIN = fileURLToPath(new URL("../../src/node/main.ts", import.meta.url));
  const NO_LISTEN = fileURLToPath(new URL("../helpers/no-listen.ts", import.meta.url));
  const root = mkdtempSync(join(tmpdir(), "qg-offloopback-"));
  let dataDir = "";
  before(() => {
    dataDir = createCluster(join(root, "c"), 1).nodes[0]!.dir;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Runs the node process with listen() disabled (see no-listen.ts): nothing can be bound. */
  function runNode(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ["--import", NO_LISTEN, NODE_MAIN, "--data", dataDir, "--port", "0", ...args],
        { timeout: 20_000 },
        (err, stdout, stderr) => {
          resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : null, stdout, stderr });
        },
      );
    });
  }

  it("the guard works: with listen() disabled even a loopback node fails at listen()", async () => {
    const r = await runNode(["--host", "127.0.0.1"]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(LISTEN_MARKER), r.stderr);
  });

  for (const host of ["0.0.0.0", "::", "10.1.2.3", "192.168.1.20", "::ffff:10.0.0.1", "example.com"]) {
    it(`refuses --host ${host} without TLS files before it tries to bind: exit code 1 and a clear message`, async () => {
      const r = await runNode(["--host", host]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^node: refusing to listen on ${host.replaceAll(".", "\\.")} without TLS: a node reachable from the network needs a certificate, its key and the cluster CA$`,
          "m",
        ),
      );
      assert.ok(!r.stderr.includes(LISTEN_MARKER), "listen() was never called");
      assert.doesNotMatch(r.stdout, /listening/);
    });
  }

  it("refuses incomplete TLS options with exit code 2 before it opens anything", async () => {
    const r = await runNode(["--host", "0.0.0.0", "--tls-cert", join(root, "missing.pem")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /TLS needs all of --tls-cert, --tls-key and --tls-ca/);
    assert.ok(!r.stderr.includes(LISTEN_MARKER));
  });
});
