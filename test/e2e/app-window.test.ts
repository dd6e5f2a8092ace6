// The App on a real cluster (docs/real-cluster.md, "The window on merge"): two `probot run`
// replicas behind a round-robin proxy reach the cluster only through an executable that runs
// `quorum-gate cloudhsm-cli`, as they would run AWS's binary. Officers approve the payload with
// openssl; the merge reaches both replicas, one opens the window and answers at once, holds it,
// reads the countersignatures itself and runs the command. A replica stopped with SIGKILL while
// it holds a window leaves nothing applied and a window that lapses on its own; `/quorum retry`
// to the other replica opens a new one.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { renderCountersignComment, renderPayloadComment } from "../../src/gate/approval-command.ts";
import { approvalPayloadOf, payloadExpiry, renderApprovalPayload } from "../../src/gate/approval-payload.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { startAppE2E, type AppE2E } from "../helpers/app-e2e.ts";

/**
 * Processes whose command line runs the CloudHSM CLI shell on this cluster file, read from /proc
 * (so the count cannot pass merely because a tool such as pgrep is missing).
 */
function shellsOn(clusterFile: string): number {
  let n = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (args.includes("cloudhsm-cli") && args.includes(clusterFile)) n += 1;
    } catch {
      // gone in the meantime
    }
  }
  return n;
}

const OFFICERS = { alice: "officer1", bob: "officer2", carol: "officer3" } as const;
/** The shortest window the App takes; its deadline is 5 s earlier still. */
const WINDOW_SECONDS = 10;

describe("the App holds a real cluster's execution window (probot run ×2, cloudhsm-cli shell, openssl)", () => {
  let h: AppE2E;

  before(async () => {
    h = await startAppE2E({
      officers: OFFICERS,
      tmpPrefix: "qg-app-window-",
      replicas: 2,
      realClock: true,
      backend: "cloudhsm-cli",
      cryptoUsers: ["win1", "win2"],
      env: { QG_WINDOW_SECONDS: String(WINDOW_SECONDS), QG_WINDOW_POLL_SECONDS: "1" },
    });
  });
  after(async () => {
    await h?.stop();
  });

  /** Every outcome line the replicas logged for delivery `id`. */
  const outcomesOf = (id: string): Record<string, unknown>[] =>
    h.appLog.flatMap((l) => {
      try {
        const e = JSON.parse(l) as Record<string, unknown>;
        return e["id"] === id && typeof e["outcome"] === "string" ? [e] : [];
      } catch {
        return [];
      }
    });

  async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      assert.ok(Date.now() < deadline, `${what}:\n${h.appLog.slice(-30).join("\n")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** A deletion request, approved by alice and bob over the payload, then merged. */
  async function approvedAndMerged(name: string): Promise<number> {
    const path = `hsm-requests/${name}.yml`;
    const bytes = Buffer.from(
      `version: 1\ncluster: ${h.quorum.clusterId}\noperation: {kind: deleteUser, type: CU, name: ${name}}\nreason: retired\n`,
    );
    const number = h.repo.openPullRequest({ head: `req-${name}`, author: "dave", files: { [path]: bytes.toString() } });
    const opened = await h.deliver("pull_request", h.pullRequestEvent(number, "opened", "dave"));
    assert.equal(opened.outcome?.["outcome"], "evaluated", JSON.stringify(opened.outcome));
    const parsed = parseRequest(bytes);
    assert.ok(parsed.ok);
    for (const login of ["alice", "bob"] as const) {
      const untilAt = payloadExpiry(Date.now(), 3 * 86_400);
      const payload = renderApprovalPayload(
        approvalPayloadOf({
          verdict: "approve",
          request: parsed.request,
          requestDigest: parsed.digest,
          requestPath: path,
          repository: "acme/hsm",
          pullRequest: number,
          expiresAt: untilAt,
        }),
      );
      const signature = Buffer.from(h.sign(OFFICERS[login], payload), "base64");
      const c = h.repo.addComment(number, login, renderPayloadComment("approve", untilAt, signature));
      const judged = await h.deliver("issue_comment", h.commentEvent(number, c, login));
      assert.equal(judged.outcome?.["outcome"], "evaluated");
      if (login === "bob") assert.equal(judged.outcome?.["evidence"], "committed", "the payload approvals at M");
    }
    // The evidence commit comes back as the app's own synchronize, which puts the check on its head.
    const sync = await h.deliver("pull_request", h.pullRequestEvent(number, "synchronize", h.gh.app.botLogin));
    assert.equal(sync.outcome?.["evidence"], "present");
    assert.ok(h.repo.readBytes(`req-${name}`, `hsm-requests/${name}.evidence/officer2.payload`) !== null);
    assert.equal(h.quorumCheck(h.repo.branchSha(`req-${name}`) ?? "")?.["conclusion"], "success");
    h.repo.merge(number);
    return number;
  }

  /** The token the sticky comment shows while a window is open, once it shows one newer than `after`. */
  async function openWindowToken(number: number, after = ""): Promise<Buffer> {
    return until("an open window in the sticky comment", async () => {
      const body = (await h.stickyComment(number))?.body ?? "";
      if (!/### Execution window: open until /.test(body)) return undefined;
      const json = /```json\n([\s\S]*?)\n```/.exec(body)?.[1];
      if (json === undefined) return undefined;
      const data = (JSON.parse(json) as { approval_data: string }).approval_data;
      return data === after ? undefined : Buffer.from(data, "base64");
    });
  }

  async function countersign(number: number, login: keyof typeof OFFICERS, data: Buffer): Promise<void> {
    const c = h.repo.addComment(
      number,
      login,
      renderCountersignComment(Buffer.from(h.sign(OFFICERS[login], data), "base64")),
    );
    // Its delivery may reach a replica that does not hold the window: that one leaves the comment
    // to the holder, which reads it itself.
    const d = await deliverToLive("issue_comment", h.commentEvent(number, c, login));
    assert.equal(d.outcome?.["outcome"], "ignored", JSON.stringify(d.outcome));
  }

  /** A delivery to whichever replica is alive: the proxy answers 502 for one that was stopped, and GitHub would redeliver. */
  async function deliverToLive(event: string, payload: unknown) {
    const body = JSON.stringify(payload);
    const id = crypto.randomUUID();
    for (let attempt = 0; ; attempt++) {
      const d = await h.deliver(event, null, { body, id });
      if (d.status !== 502 || attempt >= 2) return d;
    }
  }

  it("one replica opens the window for a merge both receive, answers at once, and applies the command on every HSM", async () => {
    const number = await approvedAndMerged("win1");
    const merge = h.pullRequestEvent(number, "closed", "maintainer");
    const body = JSON.stringify(merge);
    const id = crypto.randomUUID();
    const started = Date.now();
    const answers = await Promise.all([0, 1].map(() => h.deliver("pull_request", null, { body, id })));
    for (const a of answers) assert.equal(a.status, 200);
    assert.ok(Date.now() - started < 10_000, "both deliveries answered within GitHub's 10 s");
    const first = await until("both outcomes", () => {
      const o = outcomesOf(id);
      return o.length >= 2 ? o : undefined;
    });
    assert.deepEqual(first.map((o) => o["outcome"]).sort(), ["ignored", "window_open"], JSON.stringify(first));
    const data = await openWindowToken(number);
    assert.match((await h.stickyComment(number))?.body ?? "", /@alice @bob/);
    await countersign(number, "alice", data);
    await countersign(number, "bob", data);
    const done = await until("the window's outcome", () => outcomesOf(id).find((o) => o["outcome"] === "executed"));
    assert.equal(done["result"], "applied");
    assert.deepEqual(await h.usersNamed("win1"), [0, 0, 0]);
    const after = (await h.stickyComment(number))?.body ?? "";
    assert.match(after, /### Execution: applied on the cluster/);
    // One record of the one window, on the merge, named in the sticky comment.
    const records = [...h.repo.otherRefs()].filter(([ref]) => ref.startsWith(`refs/quorum-gate/windows/pr-${number}-`));
    assert.equal(records.length, 1);
    assert.match(after, new RegExp(`Recorded in git as \`${records[0]?.[0]}\``));
  });

  it("a replica killed while it holds the window: nothing ran, the window lapses, /quorum retry on the other opens a new one", async () => {
    const number = await approvedAndMerged("win2");
    const merged = await h.deliver("pull_request", h.pullRequestEvent(number, "closed", "maintainer"));
    assert.equal(merged.outcome?.["outcome"], "window_open", JSON.stringify(merged.outcome));
    const holderPid = merged.outcome?.["pid"];
    const holder = h.apps.find((a) => a.pid === holderPid);
    assert.ok(holder !== undefined, `the outcome names the replica's pid (${String(holderPid)})`);
    const data = await openWindowToken(number);
    assert.ok(shellsOn(h.cluster.clusterFile) >= 1, "the holder's shell runs while the window is open");
    const exited = new Promise((r) => holder.once("exit", r));
    holder.kill("SIGKILL");
    await exited;
    // Its CloudHSM CLI session goes with it: no shell of that window is left running.
    await until("the window's shell to end", () => (shellsOn(h.cluster.clusterFile) === 0 ? true : undefined));
    await countersign(number, "alice", data);
    await countersign(number, "bob", data);
    assert.deepEqual(await h.usersNamed("win2"), [1, 1, 1], "nothing ran");
    // Until the recorded deadline passes, a retry is told the window is open; afterwards it opens a new one.
    // Waited out to the deadline the sticky comment records (whole seconds), not a whole window.
    const recorded = /<!-- quorum-gate:window (\d+) (\d+) -->/.exec((await h.stickyComment(number))?.body ?? "");
    assert.ok(recorded !== null, "the sticky comment records the open window's clock");
    const deadline = Number(recorded[2]);
    assert.ok(deadline <= Number(recorded[1]) + WINDOW_SECONDS, "the deadline lies within QG_WINDOW_SECONDS");
    await new Promise((r) => setTimeout(r, Math.max(0, (deadline + 1) * 1000 - Date.now()) + 100));
    const retry = h.repo.addComment(number, "carol", "/quorum retry\n");
    const retried = await deliverToLive("issue_comment", h.commentEvent(number, retry, "carol"));
    assert.equal(retried.outcome?.["outcome"], "window_open", JSON.stringify(retried.outcome));
    const fresh = await openWindowToken(number, data.toString("base64"));
    assert.notDeepEqual(fresh, data, "a new token");
    await countersign(number, "bob", fresh);
    await countersign(number, "alice", fresh);
    const done = await until("the new window's outcome", () =>
      outcomesOf(retried.id).find((o) => o["outcome"] === "executed"),
    );
    assert.equal(done["result"], "applied");
    assert.deepEqual(await h.usersNamed("win2"), [0, 0, 0]);
  });
});
