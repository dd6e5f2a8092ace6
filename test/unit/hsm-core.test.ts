import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import { decodeRecords } from "../../src/hsm/token-record.ts";
import { loginAs, makeNode, type TestNode } from "../helpers/core.ts";
import { signDigest, testKey } from "../helpers/keys.ts";

const ADMIN_PW = "admin-pass-1";
const OFFICERS = ["officer1", "officer2", "officer3"] as const;

function activate(node: TestNode): string {
  const preco = loginAs(node, "PRECO", "admin", "password");
  node.must("change-password", { userType: "PRECO", userName: "admin", password: ADMIN_PW }, preco);
  return preco;
}

function registerKey(node: TestNode, name: string): void {
  const session = loginAs(node, "CO", name, `${name}-pw`);
  const token = Buffer.from("token to be signed\n");
  node.must(
    "register-quorum-key",
    {
      userType: "CO",
      userName: name,
      registrationToken: token.toString("base64"),
      signature: signMessage(token, testKey(name).privateKey).toString("base64"),
      publicKeyPem: testKey(name).publicPem,
    },
    session,
  );
  node.must("logout", {}, session);
}

/** An activated node with three officers holding registered keys and M(3) = 2. */
function quorumNode(): { node: TestNode; admin: string } {
  const node = makeNode();
  const admin = activate(node);
  for (const name of OFFICERS)
    node.must("create-user", { userType: "CO", userName: name, password: `${name}-pw` }, admin);
  for (const name of OFFICERS) registerKey(node, name);
  node.must("set-m-value", { service: 3, value: 2 }, admin);
  return { node, admin };
}

function approvedToken(node: TestNode, session: string, service: number, signers: readonly string[]): Buffer {
  const { record } = node.must("get-token", { service, userName: "officer1" }, session);
  const tokenData = Buffer.from(record, "base64");
  node.must(
    "approve-token",
    {
      tokenData: record,
      approvals: signers.map((name) => ({
        approverType: 2,
        approverName: name,
        signature: signMessage(tokenData, testKey(name).privateKey).toString("base64"),
      })),
    },
    session,
  );
  return tokenData;
}

describe("a new node", () => {
  it("starts as a fresh CloudHSM: PRECO admin and the appliance user, not activated", () => {
    const node = makeNode();
    const { users } = node.must("list-users", {});
    assert.deepEqual(
      users.map((u) => [u.id, u.type, u.name]),
      [
        [1, "PRECO", "admin"],
        [2, "AU", "app_user"],
      ],
    );
    assert.equal(node.must("hello", {}).activated, false);
  });

  it("refuses everything but the PRECO's own password change before activation", () => {
    const node = makeNode();
    const preco = loginAs(node, "PRECO", "admin", "password");
    const r = node.call("create-user", { userType: "CU", userName: "early", password: "password1" }, preco);
    assert.equal(r.ok ? "ok" : r.code, "RET_CLUSTER_NOT_ACTIVATED");
  });

  it("is activated by the first password change, which makes admin the PCO", () => {
    const node = makeNode();
    activate(node);
    assert.equal(node.must("list-users", {}).users[0]?.type, "PCO");
    assert.equal(node.must("hello", {}).activated, true);
    const again = node.call("login", { userType: "CO", userName: "admin", password: ADMIN_PW });
    assert.ok(again.ok, "the PCO logs in as CO");
  });
});

describe("logins", () => {
  it("session says who a live session belongs to, and RET_SESSION_INVALID once it has ended", () => {
    const node = makeNode();
    const admin = activate(node);
    assert.deepEqual(node.must("session", {}, admin), { userName: "admin", userType: "PCO" });
    node.must("logout", {}, admin);
    const ended = node.call("session", {}, admin);
    assert.equal(ended.ok ? "ok" : ended.code, "RET_SESSION_INVALID");
    const none = node.call("session", {});
    assert.equal(none.ok ? "ok" : none.code, "RET_NOT_LOGGED_IN");
  });

  it("locks a user after five wrong passwords and counts per node", () => {
    const node = makeNode();
    const admin = activate(node);
    node.must("create-user", { userType: "CU", userName: "alice", password: "alice-pw" }, admin);
    for (let i = 0; i < 5; i += 1) {
      const r = node.call("login", { userType: "CU", userName: "alice", password: "wrong-pw" });
      assert.equal(r.ok ? "ok" : r.code, "RET_USER_LOGIN_FAILURE");
    }
    const locked = node.call("login", { userType: "CU", userName: "Alice", password: "alice-pw" });
    assert.equal(locked.ok ? "ok" : locked.code, "RET_USER_LOCKED");
    assert.equal(node.must("list-users", {}).users.find((u) => u.name === "alice")?.loginFailureCnt, 5);
    // A crypto officer resets the password, which unlocks (quorum is off here).
    node.must("change-password", { userType: "CU", userName: "alice", password: "alice-pw2" }, admin);
    assert.ok(node.call("login", { userType: "CU", userName: "alice", password: "alice-pw2" }).ok);
  });

  it("tells an unknown user from a wrong type and a wrong password", () => {
    const node = makeNode();
    activate(node);
    const codes = [
      node.call("login", { userType: "CO", userName: "nobody", password: "whatever1" }),
      node.call("login", { userType: "CU", userName: "admin", password: ADMIN_PW }),
    ].map((r) => (r.ok ? "ok" : r.code));
    assert.deepEqual(codes, ["RET_INVALID_USER", "RET_INVALID_USER_TYPE"]);
  });

  it("ends idle sessions and their tokens", () => {
    const { node } = quorumNode();
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
    node.must("get-token", { service: 3, userName: "officer1" }, s);
    node.advance(node.ctx.config.sessionIdleSeconds + 1);
    const r = node.call("list-users", {}, s);
    assert.ok(r.ok, "list-users needs no session");
    const gated = node.call("del-token", {}, s);
    assert.equal(gated.ok ? "ok" : gated.code, "RET_SESSION_INVALID");
    assert.equal(node.must("list-tokens", {}).tokens.length, 0);
  });
});

describe("quorum minimum (M)", () => {
  it("is set without a token the first time, within 2..8 and the number of officers", () => {
    const node = makeNode();
    const admin = activate(node);
    node.must("create-user", { userType: "CO", userName: "officer1", password: "officer1-pw" }, admin);
    const tooHigh = node.call("set-m-value", { service: 3, value: 3 }, admin);
    assert.equal(tooHigh.ok ? "ok" : tooHigh.code, "RET_INVALID_M_VALUE");
    const one = node.call("set-m-value", { service: 3, value: 1 }, admin);
    assert.equal(one.ok ? "ok" : one.code, "RET_INVALID_M_VALUE");
    node.must("set-m-value", { service: 3, value: 2 }, admin);
    assert.deepEqual(node.must("get-m-value", { service: 3 }), { service: 3, name: "USER_MGMT", value: 2 });
    assert.deepEqual(node.must("quorum-values", {}), { user: 2, quorum: 1 });
  });

  it("needs a MISC_CO token with the current M of approvals once quorum is on", () => {
    const { node } = quorumNode();
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
    const denied = node.call("set-m-value", { service: 3, value: 3 }, s);
    assert.equal(denied.ok ? "ok" : denied.code, "RET_MXN_AUTH_FAILED");
    approvedToken(node, s, 4, ["officer1"]);
    const stillDenied = node.call("set-m-value", { service: 3, value: 3 }, s);
    assert.equal(
      stillDenied.ok ? "ok" : stillDenied.code,
      "RET_MXN_AUTH_FAILED",
      "one approval is below the current M of 2",
    );
    node.must("del-token", {}, s);
    approvedToken(node, s, 4, ["officer2", "officer3"]);
    node.must("set-m-value", { service: 3, value: 3 }, s);
    assert.equal(node.must("get-m-value", { service: 3 }).value, 3);
    assert.equal(node.must("list-tokens", {}).tokens.length, 0, "the token was consumed");
  });
});

describe("the quorum flow of the seed (one node)", () => {
  it("fails without a token, succeeds once with two approvals, then fails again", () => {
    const { node } = quorumNode();
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
    const before = node.must("list-users", {}).users.length;
    const denied = node.call("create-user", { userType: "CU", userName: "user1", password: "password" }, s);
    assert.equal(denied.ok ? "ok" : denied.code, "RET_MXN_AUTH_FAILED");
    assert.equal(node.must("list-users", {}).users.length, before, "nothing changed");

    approvedToken(node, s, 3, ["officer1", "officer2"]);
    const [token] = node.must("list-tokens", {}).tokens;
    assert.deepEqual(token?.approvers, ["officer1", "officer2"]);
    assert.equal(token?.required, 2);
    assert.equal(token?.validitySeconds, 600);

    node.must("create-user", { userType: "CU", userName: "user1", password: "password" }, s);
    assert.equal(node.must("list-tokens", {}).tokens.length, 0, "a token serves one operation");
    const again = node.call("delete-user", { userType: "CU", userName: "user1" }, s);
    assert.equal(again.ok ? "ok" : again.code, "RET_MXN_AUTH_FAILED");
  });

  it("counts an officer once, and rejects unregistered or forged approvals without recording any", () => {
    const { node, admin } = quorumNode();
    node.must("logout", {}, admin);
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
    const { record } = node.must("get-token", { service: 3, userName: "officer1" }, s);
    const data = Buffer.from(record, "base64");
    const sig = (signer: string) => signMessage(data, testKey(signer).privateKey).toString("base64");

    node.must(
      "approve-token",
      {
        tokenData: record,
        approvals: [
          { approverType: 2, approverName: "officer1", signature: sig("officer1") },
          { approverType: 2, approverName: "OFFICER1", signature: sig("officer1") },
        ],
      },
      s,
    );
    assert.deepEqual(node.must("list-tokens", {}).tokens[0]?.approvers, ["officer1"]);

    const cases: [string, string, string][] = [
      ["admin", sig("officer2"), "RET_KEY_NOT_REGISTERED"],
      ["officer2", sig("officer3"), "RET_INVALID_SIGNATURE"],
      ["ghost", sig("officer2"), "RET_INVALID_USER"],
    ];
    for (const [approverName, signature, code] of cases) {
      const r = node.call(
        "approve-token",
        {
          tokenData: record,
          approvals: [
            { approverType: 2, approverName: "officer2", signature: sig("officer2") },
            { approverType: 2, approverName, signature },
          ],
        },
        s,
      );
      assert.equal(r.ok ? "ok" : r.code, code, approverName);
    }
    assert.deepEqual(node.must("list-tokens", {}).tokens[0]?.approvers, ["officer1"], "failed calls recorded nothing");
  });

  it("keeps tokens to their session: logout and reboot delete them", () => {
    const { node } = quorumNode();
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
    approvedToken(node, s, 3, ["officer1", "officer2"]);
    node.must("logout", {}, s);
    assert.equal(node.must("list-tokens", {}).tokens.length, 0);
    const s2 = loginAs(node, "CO", "officer1", "officer1-pw");
    approvedToken(node, s2, 3, ["officer1", "officer2"]);
    node.reboot();
    assert.equal(node.must("list-tokens", {}).tokens.length, 0);
  });

  it("writes token records the seed way: Id 1, service 3, key handle 0, the user's name", () => {
    const { node } = quorumNode();
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
    const { record, token } = node.must("get-token", { service: 3, userName: "officer1" }, s);
    const decoded = decodeRecords(Buffer.from(record, "base64"));
    assert.ok(decoded.ok);
    assert.deepEqual(
      { ...decoded.records[0], keyHandle: String(decoded.records[0]?.keyHandle) },
      {
        service: 3,
        tokenId: token.id,
        keyHandle: "0",
        nonce: decoded.records[0]?.nonce,
        userName: "officer1",
        nodeId: 0,
        createdAt: decoded.records[0]?.createdAt,
        binding: null,
      },
    );
    const dup = node.call("get-token", { service: 3, userName: "officer1" }, s);
    assert.equal(dup.ok ? "ok" : dup.code, "RET_TOKEN_EXISTS");
  });
});

describe("2FA", () => {
  it("enrols a CO with the same key for 2FA and quorum, logs in with two factors, and drops both on a plain password change", () => {
    const { node, admin } = quorumNode();
    node.must("set-m-value", { service: 3, value: 2 }, admin); // unchanged M is a no-op
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
    approvedToken(node, s, 3, ["officer1", "officer2"]);
    const key = testKey("mfa-user");
    const { challengeId, digest } = node.must("enroll-challenge", {}, s);
    const signature = signDigest(key, Buffer.from(digest, "base64")).toString("base64");
    const { user } = node.must(
      "create-user",
      {
        userType: "CO",
        userName: "mfa",
        password: "mfa-pass1",
        twoFactor: { challengeId, publicKeyPem: key.publicPem, signature },
      },
      s,
    );
    assert.equal(user.twoFactor, true);
    assert.equal(user.mofnPubKey, true);

    const first = node.must("login", { userType: "CO", userName: "mfa", password: "mfa-pass1" });
    assert.ok("challenge" in first);
    const wrong = node.call("login-2fa", {
      challengeId: first.challenge.id,
      signature: signDigest(testKey("officer2"), Buffer.from(first.challenge.digest, "base64")).toString("base64"),
    });
    assert.equal(wrong.ok ? "ok" : wrong.code, "RET_2FA_FAILURE");
    const reused = node.call("login-2fa", {
      challengeId: first.challenge.id,
      signature: signDigest(key, Buffer.from(first.challenge.digest, "base64")).toString("base64"),
    });
    assert.equal(reused.ok ? "ok" : reused.code, "RET_2FA_FAILURE", "a challenge answers once");

    const second = node.must("login", { userType: "CO", userName: "mfa", password: "mfa-pass1" });
    assert.ok("challenge" in second);
    const { sessionId } = node.must("login-2fa", {
      challengeId: second.challenge.id,
      signature: signDigest(key, Buffer.from(second.challenge.digest, "base64")).toString("base64"),
    });
    // Changing one's own password without -2fa removes 2FA and the MofN registration (seed 004).
    const { user: after } = node.must(
      "change-password",
      { userType: "CO", userName: "mfa", password: "mfa-pass2" },
      sessionId,
    );
    assert.deepEqual([after.twoFactor, after.mofnPubKey], [false, false]);
  });

  it("refuses registerQuorumPubKey for a 2FA officer and 2FA for a CU", () => {
    const { node } = quorumNode();
    const s = loginAs(node, "CO", "officer1", "officer1-pw");
    approvedToken(node, s, 3, ["officer1", "officer2"]);
    const { challengeId, digest } = node.must("enroll-challenge", {}, s);
    const key = testKey("mfa-user");
    const r = node.call(
      "create-user",
      {
        userType: "CU",
        userName: "cu2fa",
        password: "cu2fa-pass",
        twoFactor: {
          challengeId,
          publicKeyPem: key.publicPem,
          signature: signDigest(key, Buffer.from(digest, "base64")).toString("base64"),
        },
      },
      s,
    );
    assert.equal(r.ok ? "ok" : r.code, "RET_INVALID_INPUT");
  });
});
