// The shell's output formats against the seed transcripts, byte for byte: the listUsers table,
// getToken and listTokens blocks, getMValue lines, failure lines and the CRITICAL banner.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TokenView, UserView } from "../../src/protocol/messages.ts";
import {
  CONFIRM_PROMPT,
  CRITICAL_BANNER,
  creatingUserLine,
  changingPasswordLine,
  deletingUserLine,
  failedCodeLine,
  failedOnServerLine,
  getTokenBlock,
  INFO_HEADER,
  infoRow,
  LIST_USERS_HEADER,
  listTokensServerBlock,
  listUsersBlock,
  loginStateText,
  mValueLine,
  RETRY_IGNORE_ABORT_PROMPT,
  RETRY_ROLLBACK_IGNORE_PROMPT,
  settingMValueLine,
  successLine,
  userRow,
  type ServerName,
} from "../../src/cmu/render.ts";
import {
  SEED_APPROVE_TOKEN,
  SEED_DELETE_USER,
  SEED_FAILED_CREATE_USER,
  SEED_GET_M_VALUE,
  SEED_GET_TOKEN,
  SEED_LIST_TOKENS_APPROVED,
  SEED_LIST_TOKENS_EMPTY,
  SEED_LIST_USERS,
} from "../helpers/cmu-seeds.ts";

const S0: ServerName = { index: 0, host: "10.0.2.14" };
const S1: ServerName = { index: 1, host: "10.0.1.4" };

const SEED_USERS: readonly UserView[] = [
  { id: 1, type: "PCO", name: "admin", mofnPubKey: false, loginFailureCnt: 0, twoFactor: false },
  { id: 2, type: "AU", name: "app_user", mofnPubKey: false, loginFailureCnt: 0, twoFactor: false },
  ...[1, 2, 3, 4, 5].map(
    (n): UserView => ({
      id: n + 2,
      type: "CO",
      name: `officer${n}`,
      mofnPubKey: true,
      loginFailureCnt: 0,
      twoFactor: false,
    }),
  ),
  { id: 8, type: "CU", name: "user1", mofnPubKey: false, loginFailureCnt: 0, twoFactor: false },
];

function token(nodeId: number, approvers: readonly string[]): TokenView {
  return {
    id: 1,
    service: 3,
    nodeId,
    keyHandle: "0",
    userName: "officer1",
    validitySeconds: 506,
    required: 2,
    approvers,
    persisted: false,
    bound: false,
  };
}

describe("render: listUsers", () => {
  it("prints the seed's 8-user tables byte for byte", () => {
    const printed = [...listUsersBlock(S0, SEED_USERS), ...listUsersBlock(S1, SEED_USERS)];
    assert.deepEqual(printed, SEED_LIST_USERS.slice(1));
  });

  it("keeps the 116-column header and aligns YES/NO and counts to the right", () => {
    assert.equal(LIST_USERS_HEADER.length, 116);
    const row = userRow({
      id: 12,
      type: "CO",
      name: "a_31_character_name_abcdefghijk",
      mofnPubKey: true,
      loginFailureCnt: 5,
      twoFactor: true,
    });
    assert.equal(row.length, 116);
    assert.equal(
      row,
      "        12              CO              a_31_character_name_abcdefghijk         YES               5              YES",
    );
  });
});

describe("render: tokens", () => {
  it("prints getToken blocks as in the seed", () => {
    assert.deepEqual([...getTokenBlock(S0, token(1, [])), ...getTokenBlock(S1, token(0, []))], SEED_GET_TOKEN.slice(1));
  });

  it("prints listTokens frames as in the seed (with and without tokens)", () => {
    const approved = [
      ...listTokensServerBlock(S0, [token(1, ["officer1", "officer2"])]),
      ...listTokensServerBlock(S1, [token(0, ["officer1", "officer2"])]),
      "",
      "listTokens success",
    ];
    assert.deepEqual(approved, SEED_LIST_TOKENS_APPROVED.slice(1));
    const empty = [...listTokensServerBlock(S0, []), ...listTokensServerBlock(S1, []), "", "listTokens success"];
    assert.deepEqual(empty, SEED_LIST_TOKENS_EMPTY.slice(1));
  });

  it("numbers several tokens from 0", () => {
    const lines = listTokensServerBlock(S0, [token(1, []), { ...token(1, ["officer3"]), id: 2 }]);
    assert.deepEqual(
      lines.filter((l) => l.startsWith("--------")),
      ["-------- Token - 0 ----------", "-------- Token - 1 ----------"],
    );
    assert.equal(lines.at(-1), "Num of tokens = 2");
  });
});

describe("render: lines", () => {
  it("prints getMValue lines as in the seed", () => {
    assert.deepEqual([mValueLine(3, "USER_MGMT", S0, 2), mValueLine(3, "USER_MGMT", S1, 2)], SEED_GET_M_VALUE.slice(1));
  });

  it("prints the CRITICAL banner, progress and failure lines of the createUser seed", () => {
    const printed = [
      ...CRITICAL_BANNER,
      `${CONFIRM_PROMPT}y`,
      creatingUserLine("user1", "CU", 2),
      failedCodeLine("createUser", "RET_MXN_AUTH_FAILED"),
      failedOnServerLine("createUser", S0),
      "",
      `${RETRY_IGNORE_ABORT_PROMPT}A`,
    ];
    assert.deepEqual(printed, SEED_FAILED_CREATE_USER.slice(1));
  });

  it("prints the deleteUser failure lines and R/B/I prompt of the seed", () => {
    const perServer = (s: ServerName): string[] => [
      failedCodeLine("deleteUser", "RET_MXN_AUTH_FAILED"),
      failedOnServerLine("deleteUser", s),
      "",
      `${RETRY_ROLLBACK_IGNORE_PROMPT}I`,
    ];
    assert.deepEqual(
      [deletingUserLine("user1", "CU", 2), ...perServer(S0), ...perServer(S1)],
      SEED_DELETE_USER.slice(1),
    );
  });

  it("prints per-server success lines as in the seed", () => {
    assert.deepEqual([successLine("approveToken", S0), successLine("approveToken", S1)], SEED_APPROVE_TOKEN.slice(1));
  });

  it("keeps CMU's literal plural 'on 1 nodes'", () => {
    assert.equal(changingPasswordLine("admin", "PRECO", 1), "Changing password for admin(PRECO) on 1 nodes");
    assert.equal(settingMValueLine(2, 3, 2), "Setting M Value(2) for 3 on 2 nodes");
  });

  it("lays out info server like the documented row", () => {
    assert.equal(
      INFO_HEADER,
      "Id      Name                    Hostname         Port   State           Partition               LoginState",
    );
    const row = infoRow({
      index: 0,
      host: "10.0.0.1",
      port: 2225,
      state: "Connected",
      partition: "hsm-udw0tkfg1ab",
      loginState: loginStateText({ name: "testuser", type: "CU" }),
    });
    assert.equal(
      row,
      "0       10.0.0.1                10.0.0.1        2225    Connected       hsm-udw0tkfg1ab         Logged in as 'testuser(CU)'",
    );
  });
});
