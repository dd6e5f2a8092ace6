// The governance rules through the gate's use case (fake GitHub, real cluster): the lock-out
// guard refuses before any token, a veto blocks, a cooling-off keeps the check pending, an AND
// group is waited for, and an edit of the reason after approval makes the approvals stale.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signMessage } from "../../src/crypto/rsa.ts";
import {
  approvalPayloadOf,
  parseRequest,
  payloadExpiry,
  readStickyToken,
  renderApprovalComment,
  renderApprovalPayload,
  renderPayloadComment,
  STICKY_MARKER,
} from "../../src/gate/index.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";
import { POLICY_FILE, startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { testKey } from "../helpers/keys.ts";

const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3" };

describe("governance rules through the use case", () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({ officers: OFFICERS });
  });
  after(async () => {
    await h?.stop();
  });

  const stickyOf = (number: number): string => {
    const found = [...h.gh.calls]
      .reverse()
      .find(
        (c) =>
          (c.method === "POST" || c.method === "PATCH") &&
          c.path.includes("/comments") &&
          typeof (c.body as { body?: unknown } | null)?.body === "string" &&
          (c.body as { body: string }).body.startsWith(STICKY_MARKER) &&
          (c.method === "PATCH" || c.path.endsWith(`/issues/${number}/comments`)),
      );
    assert.ok(found !== undefined, "the gate wrote its sticky comment");
    return (found.body as { body: string }).body;
  };
  const approve = (number: number, login: string, token: Uint8Array) =>
    h.repo.addComment(
      number,
      login,
      renderApprovalComment(signMessage(token, testKey(OFFICERS[login] ?? "").privateKey)),
    );
  const quorumCheck = (_number: number, branch: string) =>
    h.repo
      .checkRuns(h.repo.branchSha(branch))
      .filter((c) => c["name"] === "quorum")
      .map((c) => [c["status"], c["conclusion"], (c["output"] as { title?: string } | undefined)?.title])
      .at(-1);
  const withPolicy = (extra: string) =>
    h.repo.commit("main", { [POLICY_FILE]: h.policyYaml(Object.keys(OFFICERS), extra) }, { message: "policy" });

  it("the reason is signed: editing it after approval makes the approvals stale", async () => {
    const yaml = h.requestYaml("reason1");
    const number = h.repo.openPullRequest({
      head: "req-reason",
      author: "alice",
      files: { "hsm-requests/reason1.yml": yaml },
    });
    await handlePullRequest(h.deps, h.event(number, "pull_request", "opened"));
    const token = readStickyToken(stickyOf(number));
    assert.ok(token !== null);
    approve(number, "alice", token);
    approve(number, "bob", token);
    const approved = await handlePullRequest(h.deps, h.event(number));
    assert.ok(approved.code === "evaluated" && approved.state === "approved", JSON.stringify(approved));

    const edited = yaml.replace("reason: payments service", "reason: payments service, and also the ledger");
    assert.notEqual(edited, yaml);
    h.repo.commit("req-reason", { "hsm-requests/reason1.yml": edited });
    const after = await handlePullRequest(h.deps, h.event(number, "pull_request", "synchronize"));
    assert.ok(after.code === "evaluated" && after.state === "pending" && after.approvals === 0, JSON.stringify(after));
    const r = parseRequest(Buffer.from(edited));
    assert.ok(r.ok && after.requestDigest === r.digest, "the decision is about the edited bytes");
    const newToken = readStickyToken(stickyOf(number));
    assert.ok(
      newToken !== null && !Buffer.from(newToken).equals(Buffer.from(token)),
      "a new token, bound to the new request digest",
    );
    assert.ok(after.verdicts.filter((v) => v.reason === "stale_token").length === 2, "both old approvals are stale");
  });

  it("the lock-out guard refuses before any token is asked for, with the numbers", async () => {
    const yaml = [
      `version: 1`,
      `cluster: ${h.q.clusterId}`,
      `operation:`,
      `  kind: deleteUser`,
      `  type: CO`,
      `  name: officer3`,
      `reason: leaves the team`,
      "",
    ].join("\n");
    const number = h.repo.openPullRequest({
      head: "req-lockout",
      author: "alice",
      files: { "hsm-requests/drop-officer3.yml": yaml },
    });
    const logsBefore = h.logs.length;
    const out = await handlePullRequest(h.deps, h.event(number, "pull_request", "opened"));
    assert.ok(out.code === "evaluated" && out.state === "rejected", JSON.stringify(out));
    assert.ok(!h.logs.slice(logsBefore).some((l) => l.startsWith("issued a token")), "no token was issued");
    const sticky = stickyOf(number);
    assert.equal(readStickyToken(sticky), null);
    assert.match(sticky, /No token: the request is refused as it stands/);
    assert.match(
      sticky,
      /`lockout`: lockout\\_delete\\_officer: deleting this officer would leave 2 officers able to sign for service 3 \(now 3\), but M is 2 and the lock-out guard needs at least 3/,
    );
    assert.deepEqual(quorumCheck(number, "req-lockout")?.slice(0, 2), ["completed", "failure"]);
  });

  it("a veto blocks; a blocked request does not turn green when more approvals come", async () => {
    const path = "hsm-requests/veto1.yml";
    const number = h.repo.openPullRequest({
      head: "req-veto",
      author: "alice",
      files: { [path]: h.requestYaml("veto1") },
    });
    await handlePullRequest(h.deps, h.event(number, "pull_request", "opened"));
    const token = readStickyToken(stickyOf(number));
    assert.ok(token !== null);
    const request = parseRequest(h.repo.readBytes("req-veto", path) ?? Buffer.alloc(0));
    assert.ok(request.ok);
    const until = payloadExpiry(h.deps.now() * 1000, 3600);
    const payload = renderApprovalPayload(
      approvalPayloadOf({
        verdict: "reject",
        request: request.request,
        requestDigest: request.digest,
        requestPath: path,
        repository: "acme/hsm",
        pullRequest: number,
        expiresAt: until,
      }),
    );
    h.repo.addComment(
      number,
      "carol",
      renderPayloadComment("reject", until, signMessage(payload, testKey("officer3").privateKey)),
    );
    approve(number, "alice", token);
    approve(number, "bob", token);
    const out = await handlePullRequest(h.deps, h.event(number));
    assert.ok(out.code === "evaluated" && out.state === "rejected", JSON.stringify(out));
    assert.ok(out.verdicts.some((v) => v.officer === "officer3" && v.reason === "reject"));
    assert.match(stickyOf(number), /`vetoed`: 1 officer rejected this request \(officer3\); 1 block it/);
    assert.deepEqual(quorumCheck(number, "req-veto")?.slice(0, 2), ["completed", "failure"]);

    // Merged anyway (the check was not required): the replay judges the veto too, and runs nothing.
    h.repo.merge(number);
    const merged = await handlePullRequest(h.deps, h.event(number, "pull_request", "closed"));
    assert.equal(merged.code, "not_replayed", JSON.stringify(merged));
  });

  it("cooling-off and an AND group: pending until both are met, then approved", async () => {
    withPolicy(
      "groups:\n  platform: [carol]\noperations:\n  createUser:\n    groups:\n      platform: 1\n    delay_seconds: 600",
    );
    const number = h.repo.openPullRequest({
      head: "req-cool",
      author: "alice",
      files: { "hsm-requests/cool1.yml": h.requestYaml("cool1") },
    });
    await handlePullRequest(h.deps, h.event(number, "pull_request", "opened"));
    const token = readStickyToken(stickyOf(number));
    assert.ok(token !== null);
    approve(number, "alice", token);
    approve(number, "bob", token);
    const noGroup = await handlePullRequest(h.deps, h.event(number));
    assert.ok(
      noGroup.code === "evaluated" && noGroup.state === "pending" && noGroup.approvals === 2,
      JSON.stringify(noGroup),
    );
    assert.match(stickyOf(number), /\| `platform` \| 1 \| 0 \| 1 \|/);
    approve(number, "carol", token);
    const cooling = await handlePullRequest(h.deps, h.event(number));
    assert.ok(cooling.code === "evaluated" && cooling.state === "pending", JSON.stringify(cooling));
    assert.match(
      String(quorumCheck(number, "req-cool")?.[2]),
      /^Cooling off: may go at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/,
    );
    const later = { ...h.deps, now: () => h.deps.now() + 601 };
    const done = await handlePullRequest(later, h.event(number));
    assert.ok(done.code === "evaluated" && done.state === "approved", JSON.stringify(done));
    withPolicy("");
  });
});
