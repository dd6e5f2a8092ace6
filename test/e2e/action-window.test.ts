// The Action's apply job on a real cluster (docs/real-cluster.md, "The window on merge"): the
// bundled dist/index.js, run as the runner runs it on a push that merged a cloudhsm-cli request,
// reaches the cluster only through an executable running `quorum-gate cloudhsm-cli`, holds the
// execution window itself, and exits once the approvers' countersignatures (posted while it runs)
// let it apply the command on every HSM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { inputVariable } from "../../src/action/inputs.ts";
import { renderCountersignComment, renderPayloadComment } from "../../src/gate/approval-command.ts";
import { approvalPayloadOf, payloadExpiry, renderApprovalPayload } from "../../src/gate/approval-payload.ts";
import { STICKY_MARKER } from "../../src/gate/index.ts";
import { parseRequest } from "../../src/gate/request.ts";
import type { FakeRepo } from "../helpers/fake-github.ts";
import { POLICY_FILE, startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { testKey } from "../helpers/keys.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";
import { pinnedOfficerLines, writeCloudhsmCliWrapper } from "../helpers/real-cluster.ts";
import { opensslSign } from "../helpers/openssl-sign.ts";
import { passwordOf } from "../helpers/quorum-cluster.ts";

const DIST = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const OFFICERS = { alice: "officer1", bob: "officer2" } as const;
const ACTIONS_APP_ID = 15368;
const EXAMPLES = createRequire(import.meta.url)("@octokit/webhooks-examples") as {
  name: string;
  examples: Record<string, unknown>[];
}[];

describe("the Action's apply job holds a real cluster's execution window (dist/index.js, cloudhsm-cli shell)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-action-window-"));
  let h: GateHarness;
  let repo: FakeRepo;
  let clusterJson = "";

  before(async () => {
    h = await startGateHarness({ nodes: 2, officers: OFFICERS, cryptoUsers: ["act1"] });
    for (const officer of Object.values(OFFICERS))
      writeFileSync(join(dir, `${officer}.key`), testKey(officer).privatePem, { mode: 0o600 });
    const wrapper = writeCloudhsmCliWrapper(dir, h.cluster.clusterFile);
    clusterJson = JSON.stringify({ ...h.cluster.file, backend: { kind: "cloudhsm-cli", binary: wrapper } });
    const officers = pinnedOfficerLines(OFFICERS);
    repo = h.gh.createRepo("acme/real", {
      files: {
        [POLICY_FILE]: [
          `version: 1`,
          `cluster: ${h.q.clusterId}`,
          `backend: cloudhsm-cli`,
          `officers:`,
          ...officers,
          "",
        ].join("\n"),
      },
    });
  });
  after(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("apply on the push of the merge opens the window, waits for the countersignatures and applies the deletion", async () => {
    const path = "hsm-requests/act1.yml";
    const bytes = Buffer.from(
      `version: 1\ncluster: ${h.q.clusterId}\noperation: {kind: deleteUser, type: CU, name: act1}\nreason: retired\n`,
    );
    const number = repo.openPullRequest({ head: "req-act1", author: "dave", files: { [path]: bytes.toString() } });
    const parsed = parseRequest(bytes);
    assert.ok(parsed.ok);
    for (const login of ["alice", "bob"] as const) {
      const until = payloadExpiry(h.gh.now().getTime(), 2 * 86_400);
      const payload = renderApprovalPayload(
        approvalPayloadOf({
          verdict: "approve",
          request: parsed.request,
          requestDigest: parsed.digest,
          requestPath: path,
          repository: "acme/real",
          pullRequest: number,
          expiresAt: until,
        }),
      );
      const sig = Buffer.from(opensslSign(dir, OFFICERS[login], payload), "base64");
      repo.addComment(number, login, renderPayloadComment("approve", until, sig));
    }
    const mergeSha = repo.merge(number);

    const push = structuredClone(EXAMPLES.find((e) => e.name === "push")?.examples[0] ?? {});
    const commit = ((push["commits"] as Record<string, unknown>[])[0] ?? {}) as Record<string, unknown>;
    Object.assign(push, {
      ref: "refs/heads/main",
      before: "0".repeat(40),
      after: mergeSha,
      created: false,
      deleted: false,
      commits: [{ ...commit, id: mergeSha }],
      head_commit: { ...commit, id: mergeSha },
      repository: repo.repositoryPayload(),
    });
    writeFileSync(join(dir, "event.json"), JSON.stringify(push));
    writeFileSync(join(dir, "output"), "");
    writeFileSync(join(dir, "summary.md"), "");
    const token = h.gh.issueToken({ user: "github-actions[bot]", appId: ACTIONS_APP_ID, appSlug: "github-actions" });
    const child = spawn(process.execPath, [DIST], {
      cwd: dir,
      env: {
        PATH: process.env["PATH"] ?? "",
        ...compileCacheEnv(),
        GITHUB_ACTIONS: "true",
        GITHUB_EVENT_NAME: "push",
        GITHUB_EVENT_PATH: join(dir, "event.json"),
        GITHUB_REPOSITORY: "acme/real",
        GITHUB_API_URL: h.gh.url,
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_OUTPUT: join(dir, "output"),
        GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
        [inputVariable("mode")]: "apply",
        [inputVariable("github-token")]: token,
        [inputVariable("cluster")]: clusterJson,
        [inputVariable("gate-user")]: "gate",
        [inputVariable("gate-password")]: passwordOf("gate"),
        [inputVariable("window-seconds")]: "60",
        // Read the comments every second, not the default 10: the officers sign at once here.
        [inputVariable("window-poll-seconds")]: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (c: Buffer) => (log += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (log += c.toString("utf8")));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));

    // The officers, while the step runs: the token from the sticky comment, signed with openssl.
    const deadline = Date.now() + 30_000;
    let data: Buffer | undefined;
    while (data === undefined) {
      assert.ok(Date.now() < deadline, `no window opened:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
      const sticky = await h.deps.github.findStickyComment(
        { owner: "acme", repo: "real" },
        number,
        STICKY_MARKER,
        "github-actions[bot]",
      );
      const json = /```json\n([\s\S]*?)\n```/.exec(sticky?.body ?? "")?.[1];
      if (json !== undefined)
        data = Buffer.from((JSON.parse(json) as { approval_data: string }).approval_data, "base64");
    }
    for (const login of ["alice", "bob"] as const)
      repo.addComment(
        number,
        login,
        renderCountersignComment(Buffer.from(opensslSign(dir, OFFICERS[login], data), "base64")),
      );
    const code = await closed;
    assert.equal(code, 0, log);
    assert.match(readFileSync(join(dir, "output"), "utf8"), /^outcome<<.+\nexecuted\n/m);
    const lists = await h.all("list-users", {});
    assert.deepEqual(
      lists.map((l) => l.users.filter((u) => u.name === "act1").length),
      [0, 0],
    );
    // The window's record, made with the workflow's token (contents: write), sits on the merge.
    const records = [...repo.otherRefs()].filter(([ref]) => ref.startsWith(`refs/quorum-gate/windows/pr-${number}-`));
    assert.equal(records.length, 1, log);
    assert.deepEqual(repo.commitInfo(records[0]?.[1] ?? "").parents, [mergeSha]);
    const sticky = await h.deps.github.findStickyComment(
      { owner: "acme", repo: "real" },
      number,
      STICKY_MARKER,
      "github-actions[bot]",
    );
    assert.match(sticky?.body ?? "", /Recorded in git as `refs\/quorum-gate\/windows\/pr-/);
    // The gate's password reaches the log only in the mask command the runner consumes.
    assert.ok(!log.replace(`::add-mask::${passwordOf("gate")}`, "").includes(passwordOf("gate")));
  });
});
