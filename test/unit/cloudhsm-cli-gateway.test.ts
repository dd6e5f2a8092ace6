// The cloudhsm-cli backend's pure parts (docs/real-cluster.md, "What runs on a real cluster"):
// which command an approved request becomes, which token service it needs, who holds a quorum
// key according to `user list`, and what the sticky comment records of an open window.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { approvalCommand, serviceWord } from "../../src/cluster/cloudhsm-cli-commands.ts";
import { registeredOfficers } from "../../src/cluster/cloudhsm-cli-gateway.ts";
import { readOpenWindow, renderWindowSection } from "../../src/gate/render-window.ts";

describe("cloudhsm-cli backend: commands", () => {
  it("a user deletion runs `user delete` with the role's CLI name, under a user-service token", () => {
    const op = { kind: "deleteUser", userType: "CO", userName: "officer9" } as const;
    assert.equal(serviceWord(op), "user");
    assert.deepEqual(approvalCommand(op, "/w/a.json"), [
      "user",
      "delete",
      "--username",
      "officer9",
      "--role",
      "admin",
      "--approval",
      "/w/a.json",
    ]);
    const cu = approvalCommand({ kind: "deleteUser", userType: "CU", userName: "app1" }, "f");
    assert.equal(cu?.[5], "crypto-user");
  });

  it("a quorum value of either service needs a quorum-service token", () => {
    for (const service of [3, 4] as const) {
      const op = { kind: "setMValue", service, value: 3 } as const;
      assert.equal(serviceWord(op), "quorum");
      assert.deepEqual(approvalCommand(op, "f"), [
        "quorum",
        "token-sign",
        "set-quorum-value",
        "--service",
        service === 3 ? "user" : "quorum",
        "--value",
        "3",
        "--approval",
        "f",
      ]);
    }
  });

  it("operations that set a password carry no password on their line: the shell asks for it", () => {
    assert.deepEqual(approvalCommand({ kind: "createUser", userType: "CU", userName: "a", sealedPassword: "x" }, "f"), [
      "user",
      "create",
      "--username",
      "a",
      "--role",
      "crypto-user",
      "--approval",
      "f",
    ]);
    assert.deepEqual(approvalCommand({ kind: "changePswd", userType: "CO", userName: "a", sealedPassword: "x" }, "f"), [
      "user",
      "change-password",
      "--username",
      "a",
      "--role",
      "admin",
      "--approval",
      "f",
    ]);
  });
});

describe("cloudhsm-cli backend: who holds a quorum key", () => {
  const user = (username: string, role: string, quorum: unknown) => ({
    username,
    role,
    locked: "false",
    mfa: [],
    quorum,
    "cluster-coverage": "full",
  });

  it("admins with an enabled token-sign strategy; not crypto users, not disabled strategies", () => {
    const data = {
      users: [
        user("admin", "admin", []),
        user("officer1", "admin", [{ strategy: "token-sign", status: "enabled" }]),
        user("officer2", "admin", [{ strategy: "token-sign", status: "disabled" }]),
        user("app1", "crypto-user", [{ strategy: "token-sign", status: "enabled" }]),
      ],
    };
    assert.deepEqual(registeredOfficers(data), ["officer1"]);
  });

  it("an answer of another shape is no answer (null), never a guess", () => {
    for (const data of [null, {}, { users: {} }, { users: [1] }, { users: [{ username: "a", role: "admin" }] }])
      assert.equal(registeredOfficers(data), null, JSON.stringify(data));
  });
});

describe("the execution window in the sticky comment", () => {
  const open = renderWindowSection({
    state: "open",
    tokenFile: Buffer.from('{"version":"2.0"}\n'),
    openedAt: 1_800_000_000,
    deadline: 1_800_000_595,
    waitingFor: ["alice", "bob"],
    counted: 0,
    required: 2,
  });

  it("an open window shows the deadline, mentions the approvers, and records its clock on the last line", () => {
    assert.match(open, /### Execution window: open until 2027-01-15T08:09:55Z/);
    assert.match(open, /@alice @bob: /);
    assert.deepEqual(readOpenWindow(`body\n${open}\n`), { openedAt: 1_800_000_000, deadline: 1_800_000_595 });
  });

  it("only the last line counts: a marker quoted higher up is not a window, and a closed window records none", () => {
    assert.equal(readOpenWindow(`${open}\nmore text`), null);
    const lapsed = renderWindowSection({ state: "lapsed", at: 1_800_000_600, counted: 1, required: 2, why: "late." });
    assert.equal(readOpenWindow(`${open}\n${lapsed}`), null);
    assert.match(lapsed, /1 of 2 countersignatures had counted/);
  });
});
