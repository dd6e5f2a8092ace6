// The two clocks of a real cluster, end to end at the gate's core (docs/real-cluster.md): officers
// approve a request's payload with openssl (the long clock, judged by evaluateQuorum), then the
// gate's CloudHSM CLI session generates the HSM's token, the approvers countersign it with
// openssl, judgeWindow counts them, and the approved command runs with `--approval` through the
// driver against `quorum-gate cloudhsm-cli`, spawned as the real binary is. Every HSM applies it;
// the same approval cannot be used twice; a countersignature from an officer who did not approve
// counts for nothing. The App's and the Action's window (merge, sticky comment, /quorum retry) is
// not part of this file.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openCloudhsmCliSession, type CloudhsmCliSession } from "../../src/cluster/cloudhsm-cli-driver.ts";
import { readOperationState } from "../../src/cluster/cloudhsm-cli-state.ts";
import { renderCountersignComment, renderPayloadComment } from "../../src/gate/approval-command.ts";
import { approvalPayloadOf, payloadExpiry, renderApprovalPayload } from "../../src/gate/approval-payload.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { evaluateQuorum } from "../../src/gate/evaluate.ts";
import { judgeWindow, renderApprovalFile } from "../../src/gate/execution-window.ts";
import { parsePolicy, type Policy } from "../../src/gate/policy.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { createNodeClient } from "../../src/protocol/node-client.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { testKey } from "../helpers/keys.ts";
import { pinnedOfficerLines, writeCloudhsmCliWrapper } from "../helpers/real-cluster.ts";
import { opensslSign } from "../helpers/openssl-sign.ts";
import { passwordOf, setUpQuorumCluster } from "../helpers/quorum-cluster.ts";

const LOGINS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3" };
const REPO = "acme/hsm";
const PR = 7;
const PATH = "hsm-requests/drop-old.yml";

describe("the execution window against the CloudHSM CLI shell (driver, openssl, 2 HSMs)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-window-"));
  let cluster: TestCluster;
  let session: CloudhsmCliSession;
  let policy: Policy;
  const now = () => Math.floor(Date.now() / 1000);
  let clock = 0;
  const comment = (login: string, body: string, at = now()): ApprovalCandidate => {
    clock += 1;
    return {
      id: `issue_comment:${clock}`,
      kind: "issue_comment",
      author: login,
      authorIsBot: false,
      body,
      createdAt: new Date(at * 1000).toISOString(),
    };
  };

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    const clients = cluster.endpoints.map((e) => createNodeClient(e));
    await setUpQuorumCluster(clients, {
      signers: Object.values(LOGINS),
      members: ["gate"],
      cryptoUsers: ["retired1", "retired2"],
      m: 2,
    });
    for (const c of clients) c.close();
    for (const officer of Object.values(LOGINS))
      writeFileSync(join(dir, `${officer}.key`), testKey(officer).privateKey.export({ type: "pkcs8", format: "pem" }));
    const wrapper = writeCloudhsmCliWrapper(dir, cluster.clusterFile);
    const officers = pinnedOfficerLines(LOGINS)
      .map((l) => `${l}\n`)
      .join("");
    const parsed = parsePolicy(
      Buffer.from(`version: 1\ncluster: ${cluster.file.clusterId}\nbackend: cloudhsm-cli\nofficers:\n${officers}`),
    );
    assert.ok(parsed.ok, parsed.ok ? "" : JSON.stringify(parsed.issues));
    policy = parsed.policy;
    const opened = await openCloudhsmCliSession({
      binary: wrapper,
      credentials: { userName: "gate", password: passwordOf("gate") },
      cwd: dir,
    });
    assert.ok(opened.ok, opened.ok ? "" : `${opened.reason}: ${opened.message}`);
    session = opened.session;
  });
  after(async () => {
    await session?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The long clock: the request's payload approved by `logins` with openssl; the decision's approvers. */
  function longClock(name: string, logins: readonly string[]) {
    const bytes = Buffer.from(
      `version: 1\ncluster: ${cluster.file.clusterId}\noperation: {kind: deleteUser, type: CU, name: ${name}}\nreason: retired service\n`,
    );
    const req = parseRequest(bytes);
    assert.ok(req.ok);
    const until = payloadExpiry(Date.now(), 3 * 86400);
    const payload = renderApprovalPayload(
      approvalPayloadOf({
        verdict: "approve",
        request: req.request,
        requestDigest: req.digest,
        requestPath: PATH,
        repository: REPO,
        pullRequest: PR,
        expiresAt: until,
      }),
    );
    const candidates = logins.map((login) =>
      comment(
        login,
        renderPayloadComment("approve", until, Buffer.from(opensslSign(dir, LOGINS[login]!, payload), "base64")),
        now() - 3 * 86400 + 60,
      ),
    );
    const decision = evaluateQuorum({
      policy,
      request: req.request,
      requestDigest: req.digest,
      requestPath: PATH,
      repository: REPO,
      pullRequest: PR,
      tokenFile: null,
      officerKeys: new Map(),
      quorumValues: { user: 2, quorum: 1 },
      prAuthor: "requester",
      candidates,
      now: now(),
    });
    return decision;
  }

  /** The short clock's start: the gate's session generates the HSM token for the user service. */
  async function openWindow(file: string) {
    const generated = await session.run(["quorum", "token-sign", "generate", "--service", "user", "--token", file]);
    assert.ok(generated.ok, generated.ok ? "" : generated.message);
    const openedAt = now();
    return { tokenFile: readFileSync(join(dir, file)), openedAt, deadline: openedAt + 600 };
  }

  const approvalDataOf = (tokenFile: Uint8Array): Buffer =>
    Buffer.from(
      (JSON.parse(Buffer.from(tokenFile).toString("utf8")) as { approval_data: string }).approval_data,
      "base64",
    );

  async function usersNamed(name: string): Promise<string | undefined> {
    const list = await session.run(["user", "list"]);
    assert.ok(list.ok);
    const users = (list.data as { users: { username: string; "cluster-coverage": string }[] }).users;
    return users.find((u) => u.username === name)?.["cluster-coverage"];
  }

  it("approved over the review, countersigned in the window: applied on every HSM, and the approval is spent", async () => {
    const decision = longClock("retired1", ["alice", "bob"]);
    assert.equal(decision.state, "approved", JSON.stringify(decision.problems));
    const window = await openWindow("retired1.token");
    const data = approvalDataOf(window.tokenFile);
    const sig = (login: string) => Buffer.from(opensslSign(dir, LOGINS[login]!, data), "base64");
    const candidates = [
      comment("alice", renderCountersignComment(sig("alice"))),
      comment("bob", renderCountersignComment(sig("bob"))),
    ];
    const judged = judgeWindow({
      window,
      policy,
      approvers: decision.approvers,
      required: decision.required,
      candidates,
      now: now(),
    });
    assert.ok(judged.ok);
    assert.equal(judged.state, "ready", JSON.stringify(judged.verdicts));
    writeFileSync(join(dir, "retired1.approval"), renderApprovalFile(window.tokenFile, judged.signers));
    assert.equal(await usersNamed("retired1"), "full");
    const op = { kind: "deleteUser", userType: "CU", userName: "retired1" } as const;
    assert.equal((await readOperationState(session, op)).state, "not_applied");
    const ran = await session.run([
      "user",
      "delete",
      "--username",
      "retired1",
      "--role",
      "crypto-user",
      "--approval",
      "retired1.approval",
    ]);
    assert.ok(ran.ok, ran.ok ? "" : ran.message);
    assert.equal(await usersNamed("retired1"), undefined, "gone from every HSM");
    // What a retry or a replica taking over reads before it opens another window.
    assert.equal((await readOperationState(session, op)).state, "applied");
    // The HSM token was used up: the same approval file runs nothing more.
    const again = await session.run([
      "user",
      "delete",
      "--username",
      "retired2",
      "--role",
      "crypto-user",
      "--approval",
      "retired1.approval",
    ]);
    assert.deepEqual(again.ok ? null : [again.reason, again.message], [
      "command_failed",
      "The quorum token is not valid: it was used, deleted or expired, or it was generated in another login session",
    ]);
    assert.equal(await usersNamed("retired2"), "full");
  });

  it("a countersignature from an officer who did not approve counts for nothing, so the window stays open", async () => {
    const decision = longClock("retired2", ["alice", "bob"]);
    assert.equal(decision.state, "approved");
    const window = await openWindow("retired2.token");
    const data = approvalDataOf(window.tokenFile);
    const sig = (login: string) => Buffer.from(opensslSign(dir, LOGINS[login]!, data), "base64");
    const judged = judgeWindow({
      window,
      policy,
      approvers: decision.approvers,
      required: decision.required,
      candidates: [
        comment("alice", renderCountersignComment(sig("alice"))),
        comment("carol", renderCountersignComment(sig("carol"))),
      ],
      now: now(),
    });
    assert.ok(judged.ok);
    assert.equal(judged.state, "open");
    assert.deepEqual(
      judged.verdicts.map((v) => v.reason),
      ["valid", "not_an_approver"],
    );
    assert.deepEqual(judged.waitingFor, ["officer2"]);
    // Carol's signature is a valid HSM signature, yet the gate never hands it to the HSM.
    assert.equal(judged.signers.length, 1);
    await session.run(["quorum", "token-sign", "delete", "--scope", "user"]);
    assert.equal(await usersNamed("retired2"), "full");
  });

  it("reads from the cluster whether an operation has taken effect, before any retry", async () => {
    const state = async (op: Parameters<typeof readOperationState>[1]) => (await readOperationState(session, op)).state;
    assert.equal(
      await state({ kind: "createUser", userType: "CU", userName: "retired2", sealedPassword: "" }),
      "applied",
    );
    assert.equal(
      await state({ kind: "createUser", userType: "CU", userName: "nobody1", sealedPassword: "" }),
      "not_applied",
    );
    assert.equal(
      await state({ kind: "createUser", userType: "CO", userName: "retired2", sealedPassword: "" }),
      "unknown",
    );
    assert.equal(await state({ kind: "setMValue", service: 3, value: 2 }), "applied");
    assert.equal(await state({ kind: "setMValue", service: 4, value: 2 }), "not_applied");
    assert.equal(
      await state({ kind: "changePswd", userType: "CU", userName: "retired2", sealedPassword: "" }),
      "unknown",
    );
  });
});
