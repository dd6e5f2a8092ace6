// The whole ceremony of a real cluster through the gate's use cases (docs/real-cluster.md): a
// cloudhsm-cli policy, officers approving the payload with openssl over days, a merge that opens
// the execution window in a session of `quorum-gate cloudhsm-cli` spawned as the real binary is,
// the officers countersigning the HSM token they read from the sticky comment, and the command
// applied on every HSM. Also: a window that lapses and `/quorum retry`, a countersignature from an
// officer who did not approve, two processes receiving the same merge, the gate stopped
// mid-window, and an operation the cluster already shows. The clock is the fake GitHub's, moved
// by the gate's own polling; nothing here reaches into the nodes behind the shell except to look.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createCloudhsmCliGateway } from "../../src/cluster/cloudhsm-cli-gateway.ts";
import type { ClusterGateway } from "../../src/cluster/gateway.ts";
import { renderCountersignComment, renderPayloadComment } from "../../src/gate/approval-command.ts";
import { approvalPayloadOf, payloadExpiry, renderApprovalPayload } from "../../src/gate/approval-payload.ts";
import { governancePayloadOf, parseGovernanceRequest } from "../../src/gate/governance.ts";
import { STICKY_MARKER } from "../../src/gate/index.ts";
import { parseRequest } from "../../src/gate/request.ts";
import type { FakeRepo } from "../helpers/fake-github.ts";
import { POLICY_FILE, startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { createTestRepo } from "../helpers/git-repo.ts";
import { testKey } from "../helpers/keys.ts";
import { pinnedOfficerLines, writeCloudhsmCliWrapper } from "../helpers/real-cluster.ts";
import { opensslSign } from "../helpers/openssl-sign.ts";
import { loginAll, passwordOf } from "../helpers/quorum-cluster.ts";
import { sealSecret } from "../../src/crypto/seal.ts";
import type { GateDeps, GateOutcome, PullRequestEvent } from "../../src/usecases/deps.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";

const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2", carol: "officer3" };
const USERS = ["app1", "app2", "app3", "app4", "app5", "app6"];
const DAY = 86_400;
const BIN = fileURLToPath(new URL("../../bin/quorum-gate.js", import.meta.url));

/** `quorum-gate` as a user runs it. */
function runCli(args: readonly string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
}

describe("gate: the execution window on a real cluster (cloudhsm-cli shell, openssl, 2 HSMs)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-gate-window-"));
  let h: GateHarness;
  let repo: FakeRepo;
  let cli: ClusterGateway;
  const repoRef = { owner: "acme", repo: "real" };

  before(async () => {
    h = await startGateHarness({ nodes: 2, officers: OFFICERS, cryptoUsers: USERS });
    for (const officer of Object.values(OFFICERS))
      writeFileSync(join(dir, `${officer}.key`), testKey(officer).privateKey.export({ type: "pkcs8", format: "pem" }));
    const wrapper = writeCloudhsmCliWrapper(dir, h.cluster.clusterFile);
    const file = { ...h.cluster.file, backend: { kind: "cloudhsm-cli" as const, binary: wrapper } };
    cli = createCloudhsmCliGateway(file, { userName: "gate", password: passwordOf("gate") });
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
        "README.md": "a real cluster\n",
      },
    });
  });
  after(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The gate's deps with the cloudhsm-cli gateway; every poll moves the clock and lets `onPoll` act. */
  function deps(onPoll: (n: number) => Promise<void> | void = () => {}, maxSeconds?: number): GateDeps {
    let polls = 0;
    return {
      ...h.deps,
      cluster: cli,
      sleep: async (ms) => {
        h.gh.advance(ms / 1000);
        polls += 1;
        await onPoll(polls);
      },
      windowHold: { pollSeconds: 10, ...(maxSeconds === undefined ? {} : { maxSeconds }) },
    };
  }

  const event = (number: number, kind: PullRequestEvent["trigger"]["kind"], action: string): PullRequestEvent => ({
    repo: repoRef,
    number,
    trigger: { kind, action },
  });

  /** A request (by default: delete the CU `name`), opened by dave. */
  function openRequest(name: string, operation = `{kind: deleteUser, type: CU, name: ${name}}`) {
    const path = `hsm-requests/${name}.yml`;
    const bytes = Buffer.from(
      `version: 1\ncluster: ${h.q.clusterId}\noperation: ${operation}\nreason: retired service\n`,
    );
    const number = repo.openPullRequest({ head: `req-${name}`, author: "dave", files: { [path]: bytes.toString() } });
    return { number, bytes, path };
  }

  /** The long clock: `login` approves the request's payload with openssl, valid for 5 days. */
  function approve(req: { number: number; bytes: Buffer; path: string }, login: string): void {
    const parsed = parseRequest(req.bytes);
    assert.ok(parsed.ok);
    const until = payloadExpiry(h.gh.now().getTime(), 5 * DAY);
    const payload = renderApprovalPayload(
      approvalPayloadOf({
        verdict: "approve",
        request: parsed.request,
        requestDigest: parsed.digest,
        requestPath: req.path,
        repository: "acme/real",
        pullRequest: req.number,
        expiresAt: until,
      }),
    );
    const officer = OFFICERS[login] as string;
    const signature = Buffer.from(opensslSign(dir, officer, payload), "base64");
    repo.addComment(req.number, login, renderPayloadComment("approve", until, signature));
  }

  async function sticky(number: number): Promise<string> {
    const found = await h.deps.github.findStickyComment(repoRef, number, STICKY_MARKER, h.deps.botLogin);
    assert.ok(found !== null, "the gate's sticky comment");
    return found.body;
  }

  /** What an officer does in the window: read the HSM token from the sticky comment, sign it, post it. */
  async function countersign(number: number, login: string): Promise<void> {
    const body = await sticky(number);
    const json = /```json\n([\s\S]*?)\n```/.exec(body)?.[1];
    assert.ok(json !== undefined, "the sticky comment shows the HSM token");
    const data = Buffer.from((JSON.parse(json) as { approval_data: string }).approval_data, "base64");
    const signature = Buffer.from(opensslSign(dir, OFFICERS[login] as string, data), "base64");
    repo.addComment(number, login, renderCountersignComment(signature));
  }

  async function coverage(name: string): Promise<number> {
    const lists = await h.all("list-users", {});
    return lists.filter((l) => l.users.some((u) => u.name === name)).length;
  }

  /** Approved over days by alice and bob, then merged. */
  async function approvedAndMerged(name: string, operation?: string) {
    const req = openRequest(name, operation);
    const opened = await handlePullRequest(deps(), event(req.number, "pull_request", "opened"));
    assert.equal(opened.code, "evaluated");
    // What to sign on a real cluster: the payload, with the command for this very pull request.
    const shown = await sticky(req.number);
    assert.match(shown, new RegExp(`quorum-gate approve acme/real#${req.number} --key officer\\.key`));
    assert.doesNotMatch(shown, /the gate asks the cluster for one/);
    approve(req, "alice");
    h.gh.advance(2 * DAY);
    approve(req, "bob");
    const judged = await handlePullRequest(deps(), event(req.number, "comment", "created"));
    assert.ok(judged.code === "evaluated" && judged.state === "approved", JSON.stringify(judged));
    h.gh.advance(DAY);
    repo.merge(req.number);
    return req;
  }

  it("the facts of a decision (registered officers, quorum values) come from one session, not one per question", async () => {
    const counted = join(dir, "counted-cli");
    writeFileSync(
      counted,
      `#!/bin/sh\necho started >> "${join(dir, "starts")}"\nexec "${join(dir, "cloudhsm-cli")}" "$@"\n`,
      {
        mode: 0o755,
      },
    );
    const gateway = createCloudhsmCliGateway(
      { ...h.cluster.file, backend: { kind: "cloudhsm-cli", binary: counted } },
      { userName: "gate", password: passwordOf("gate") },
    );
    const [keys, values] = await Promise.all([gateway.officerKeys(), gateway.quorumValues()]);
    assert.ok(!("failures" in keys) && !("failures" in values), JSON.stringify([keys, values]));
    assert.deepEqual(keys.registered, Object.values(OFFICERS).sort());
    assert.deepEqual(values, { user: 2, quorum: 1 });
    assert.equal(readFileSync(join(dir, "starts"), "utf8"), "started\n");
  });

  it("merged after approvals over days: the window opens, the approvers countersign, every HSM applies it", async () => {
    const req = await approvedAndMerged("app1");
    assert.equal(await coverage("app1"), 2);
    const outcome = await handlePullRequest(
      deps(async (poll) => {
        if (poll === 1) {
          const body = await sticky(req.number);
          assert.match(body, /### Execution window: open until /);
          assert.match(body, /@alice @bob/);
          await countersign(req.number, "alice");
          await countersign(req.number, "bob");
        }
      }),
      event(req.number, "pull_request", "closed"),
    );
    assert.equal(outcome.code, "executed", JSON.stringify(outcome));
    assert.equal(outcome.code === "executed" ? outcome.result : "", "applied");
    assert.equal(await coverage("app1"), 0, "gone from every HSM");
    assert.match(await sticky(req.number), /### Execution: applied on the cluster/);
    const checks = repo.checkRuns().filter((c) => c["name"] === "quorum");
    assert.equal(checks.at(-1)?.["conclusion"], "success");
    // The window's claim is let go once the window closes.
    assert.equal(await h.deps.github.claimHeld(repoRef, `window-${req.number}-merge`), false);
    // A redelivered merge finds the change done and opens no window.
    const again = await handlePullRequest(deps(), event(req.number, "pull_request", "closed"));
    assert.equal(again.code, "executed");
    assert.equal(again.code === "executed" ? again.result : "", "already_applied");
  });

  it("the approvals at M are committed as evidence, the window as a record: the audit and openssl verify both", async (ctx) => {
    const req = await approvedAndMerged("app5");
    const ran = await handlePullRequest(
      deps(async (poll) => {
        if (poll === 1) {
          await countersign(req.number, "alice");
          await countersign(req.number, "bob");
        }
      }),
      event(req.number, "pull_request", "closed"),
    );
    assert.equal(ran.code === "executed" ? ran.result : ran.code, "applied");
    const records = [...repo.otherRefs()].filter(([ref]) =>
      ref.startsWith(`refs/quorum-gate/windows/pr-${req.number}-`),
    );
    assert.equal(records.length, 1, "one record of the one window");
    const [recordRef, recordSha] = records[0] as [string, string];
    const merge = repo.commitInfo(recordSha).parents;
    assert.deepEqual(merge, [repo.branchSha(repo.defaultBranch)], "the record sits on the merge commit");
    const opened = recordRef.slice(recordRef.lastIndexOf("-") + 1);
    const recordFolder = `hsm-requests/app5.evidence/window-${opened}/`;
    const record = Object.fromEntries(
      ["window.json", "token.json", "approval.json"].map((n) => [n, repo.readBytes(recordSha, `${recordFolder}${n}`)]),
    ) as Record<string, Buffer | null>;
    const windowDoc = JSON.parse(record["window.json"]?.toString() ?? "{}") as {
      mergeCommit: string;
      countersignatures: { officer: string }[];
      result: { state: string };
    };
    assert.equal(windowDoc.mergeCommit, merge[0]);
    assert.deepEqual(
      windowDoc.countersignatures.map((c) => c.officer),
      ["officer1", "officer2"],
    );
    assert.equal(windowDoc.result.state, "applied");
    assert.match(await sticky(req.number), new RegExp(`Recorded in git as \`${recordRef}\``));
    const folder = "hsm-requests/app5.evidence/";
    const names = ["officer1.sig", "officer1.payload", "officer2.sig", "officer2.payload", "evidence.json"];
    const files = Object.fromEntries(
      names.map((n) => [`${folder}${n}`, repo.readBytes(`req-app5`, `${folder}${n}`) ?? Buffer.alloc(0)]),
    );
    for (const [path, bytes] of Object.entries(files)) assert.ok(bytes.length > 0, `${path} committed`);
    assert.equal(repo.readBytes("req-app5", `${folder}token.bin`), null, "no token: none exists before merge");
    assert.equal(repo.readBytes("req-app5", `${folder}approval.txt`), null);
    const doc = JSON.parse(files[`${folder}evidence.json`]?.toString() ?? "{}") as {
      token?: unknown;
      approvals: { officer: string; until: string; payloadFile: string }[];
    };
    assert.equal(doc.token, undefined);
    assert.deepEqual(
      doc.approvals.map((a) => [a.officer, a.payloadFile]),
      [
        ["officer1", "officer1.payload"],
        ["officer2", "officer2.payload"],
      ],
    );

    // What docs/audit.md tells an auditor to run, on the files as committed.
    const pub = join(dir, "officer1.pub.pem");
    writeFileSync(pub, testKey("officer1").publicKey.export({ type: "spki", format: "pem" }));
    const work = mkdtempSync(join(dir, "evidence-"));
    for (const [path, bytes] of Object.entries(files)) writeFileSync(join(work, path.slice(folder.length)), bytes);
    const openssl = (payload: string) =>
      spawnSync(
        "openssl",
        ["dgst", "-sha256", "-verify", pub, "-signature", join(work, "officer1.sig"), join(work, payload)],
        {
          encoding: "utf8",
        },
      );
    assert.match(openssl("officer1.payload").stdout, /Verified OK/);
    assert.notEqual(openssl("officer2.payload").status, 0, "officer1's signature is over officer1's payload only");

    // The same history in a real repository, then `quorum-gate verify` over it.
    const t = Math.floor(h.gh.now().getTime() / 1000);
    const git = createTestRepo();
    try {
      git.commitFiles({ [POLICY_FILE]: repo.readBytes(repo.defaultBranch, POLICY_FILE) ?? "" }, "policy", t - 4 * DAY);
      git.git(["checkout", "--quiet", "-b", "req-app5"]);
      git.commitFiles({ [req.path]: req.bytes }, "request", t - 3 * DAY);
      git.commitFiles(files, "quorum-gate: evidence", t - DAY);
      git.git(["checkout", "--quiet", "main"]);
      git.git(["merge", "--quiet", "--no-ff", "-m", "merge", "req-app5"], t);
      const verified = runCli(["verify", "--repo", git.dir, req.path]);
      assert.equal(verified.status, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /2 payload files, each the approval payload of the request/);
      const unfetched = runCli(["audit", "--repo", git.dir, "--json"]);
      assert.equal(unfetched.status, 0, unfetched.stderr);
      const [row] = JSON.parse(unfetched.stdout) as { holds: boolean; replay: { state: string; reason: string } }[];
      assert.equal(row?.holds, true);
      assert.match(row?.replay.reason ?? "", /no record of one \(fetch refs\/quorum-gate\/windows\/\*/);

      // The window's record, as a fetch of refs/quorum-gate/windows/* brings it: a commit on top
      // of the merge with the record's files. The replica's merge has its own id, which window.json
      // names in place of the fake's.
      const realMerge = git.git(["rev-parse", "HEAD"]).trim();
      const recordOnto = (doc: Buffer, extra: Record<string, Buffer | string> = {}) => {
        git.git(["checkout", "--quiet", "--detach", realMerge]);
        const sha = git.commitFiles(
          {
            [`${recordFolder}window.json`]: doc,
            [`${recordFolder}token.json`]: record["token.json"] ?? "",
            [`${recordFolder}approval.json`]: record["approval.json"] ?? "",
            ...extra,
          },
          "quorum-gate: execution window",
          t + 600,
        );
        git.git(["update-ref", recordRef, sha]);
        git.git(["checkout", "--quiet", "main"]);
      };
      const realDoc = (edit: (d: Record<string, unknown>) => void = () => {}) => {
        const d = JSON.parse(record["window.json"]?.toString() ?? "{}") as Record<string, unknown>;
        d["mergeCommit"] = realMerge;
        edit(d);
        return Buffer.from(JSON.stringify(d, null, 2));
      };
      type Row = {
        holds: boolean;
        replay: {
          state: string;
          windows: { holds: boolean; result: string; countersignedBy: string[]; failures: { code: string }[] }[];
        };
      };
      recordOnto(realDoc());
      const audited = runCli(["audit", "--repo", git.dir, "--json"]);
      assert.equal(audited.status, 0, audited.stdout + audited.stderr);
      const [withRecord] = JSON.parse(audited.stdout) as Row[];
      assert.equal(withRecord?.replay.state, "recorded");
      assert.deepEqual(
        withRecord?.replay.windows.map((w) => [w.holds, w.result, w.countersignedBy]),
        [[true, "applied", ["officer1", "officer2"]]],
      );
      const table = runCli(["audit", "--repo", git.dir]);
      assert.match(table.stdout, /window \S+: applied by officer1, officer2/);
      const verifiedWindow = runCli(["verify", "--repo", git.dir, req.path]);
      assert.equal(verifiedWindow.status, 0, verifiedWindow.stdout + verifiedWindow.stderr);
      assert.match(
        verifiedWindow.stdout,
        /execution windows \(refs\/quorum-gate\/windows\/\)\n {4}window \S+: applied by officer1, officer2/,
      );

      // What docs/audit.md tells an auditor to run on the record: a countersignature over the token.
      const recordWork = mkdtempSync(join(dir, "record-"));
      writeFileSync(join(recordWork, "token.json"), record["token.json"] ?? "");
      writeFileSync(join(recordWork, "window.json"), record["window.json"] ?? "");
      const hasJq = spawnSync("jq", ["--version"]).status === 0;
      if (!hasJq) ctx.diagnostic("jq is not on PATH: the documented openssl check of a window record is not run");
      const sh = !hasJq
        ? { stdout: "Verified OK", stderr: "" }
        : spawnSync(
            "sh",
            [
              "-c",
              [
                "jq -r .approval_data token.json | base64 -d > token-data.bin",
                `jq -r '.countersignatures[] | select(.officer == "officer1") | .signature' window.json | base64 -d > officer1.countersig`,
                `openssl dgst -sha256 -verify ${JSON.stringify(pub)} -signature officer1.countersig token-data.bin`,
              ].join(" && "),
            ],
            { cwd: recordWork, encoding: "utf8" },
          );
      assert.match(sh.stdout, /Verified OK/, sh.stderr);

      // A record that claims more than happened: a countersignature moved to another officer's
      // name, and a file outside its folder. Both fail, and the audit exits 1.
      recordOnto(
        realDoc((d) => {
          const list = d["countersignatures"] as Record<string, unknown>[];
          (list[1] as Record<string, unknown>)["signature"] = (list[0] as Record<string, unknown>)["signature"];
        }),
        { "README.md": "rewritten\n" },
      );
      const forged = runCli(["audit", "--repo", git.dir, "--json"]);
      assert.equal(forged.status, 1, forged.stdout + forged.stderr);
      const forgedVerify = runCli(["verify", "--repo", git.dir, req.path]);
      assert.equal(forgedVerify.status, 1, forgedVerify.stdout);
      assert.match(forgedVerify.stdout, /FAIL {2}bad_countersignature {2}officer2 \(bob\)/);
      const [bad] = JSON.parse(forged.stdout) as Row[];
      assert.deepEqual(bad?.replay.windows[0]?.failures.map((f) => f.code).sort(), [
        "bad_countersignature",
        "quorum_not_met",
        "quorum_not_met",
        "record_outside_folder",
      ]);
      git.git(["update-ref", "-d", recordRef]);

      // A payload edited after signing: the file no longer is the request's payload, and fails.
      git.git(["checkout", "--quiet", "-b", "edited", "req-app5"]);
      const edited = Buffer.from(files[`${folder}officer1.payload`] ?? "")
        .toString()
        .replace("retired", "rehired");
      git.commitFiles({ [`${folder}officer1.payload`]: edited }, "edit a payload", t - DAY + 60);
      git.git(["checkout", "--quiet", "main"]);
      git.git(["reset", "--quiet", "--hard", "HEAD~1"]);
      git.git(["merge", "--quiet", "--no-ff", "-m", "merge", "edited"], t);
      const refused = runCli(["verify", "--repo", git.dir, req.path]);
      assert.notEqual(refused.status, 0);
      assert.match(refused.stdout, /officer1\.payload: is not the approval payload of the request/);
    } finally {
      git.remove();
    }
  });

  it("a policy change on a real cluster: the current officers approve its payload, the evidence verifies, the merge takes no token", async () => {
    const current = repo.readBytes(repo.defaultBranch, POLICY_FILE) ?? Buffer.alloc(0);
    const proposed = Buffer.from(
      current
        .toString()
        .replace("backend: cloudhsm-cli\n", "backend: cloudhsm-cli\napproval_lifetime_seconds: 1209600\n"),
    );
    const number = repo.openPullRequest({
      head: "policy-lifetime",
      author: "dave",
      files: { [POLICY_FILE]: proposed.toString() },
    });
    const opened = await handlePullRequest(deps(), event(number, "pull_request", "opened"));
    assert.ok(opened.code === "evaluated" && opened.state === "pending", JSON.stringify(opened));
    const before = await sticky(number);
    assert.match(before, /### Approval payload to sign/);
    assert.match(before, new RegExp(`quorum-gate approve acme/real#${number} --key officer\\.key`));
    assert.match(before, /none: the officers sign the gate's approval payload of this change/);
    assert.doesNotMatch(before, /quorum-gate:token|MISC_CO/);

    const change = parseGovernanceRequest(proposed, current);
    assert.ok(change.ok);
    const approveChange = (login: string, verdict: "approve" | "reject" = "approve") => {
      const until = payloadExpiry(h.gh.now().getTime(), 5 * DAY);
      const payload = renderApprovalPayload(
        governancePayloadOf({
          verdict,
          change: change.request,
          clusterId: h.q.clusterId,
          repository: "acme/real",
          pullRequest: number,
          expiresAt: until,
        }),
      );
      const signature = Buffer.from(opensslSign(dir, OFFICERS[login] as string, payload), "base64");
      repo.addComment(number, login, renderPayloadComment(verdict, until, signature));
    };
    approveChange("alice");
    h.gh.advance(DAY);
    // A signature over a request's payload shape but for another pull request counts for nothing.
    const foreign = renderApprovalPayload(
      governancePayloadOf({
        verdict: "approve",
        change: change.request,
        clusterId: h.q.clusterId,
        repository: "acme/real",
        pullRequest: number + 1000,
        expiresAt: payloadExpiry(h.gh.now().getTime(), DAY),
      }),
    );
    repo.addComment(
      number,
      "carol",
      renderPayloadComment(
        "approve",
        payloadExpiry(h.gh.now().getTime(), DAY),
        Buffer.from(opensslSign(dir, "officer3", foreign), "base64"),
      ),
    );
    const one = await handlePullRequest(deps(), event(number, "comment", "created"));
    assert.ok(one.code === "evaluated" && one.state === "pending", JSON.stringify(one));
    approveChange("bob");
    const judged = await handlePullRequest(deps(), event(number, "comment", "created"));
    assert.ok(judged.code === "evaluated" && judged.state === "approved", JSON.stringify(judged));

    const folder = `.github/quorum-gate.evidence/pr-${number}/`;
    const names = ["officer1.sig", "officer1.payload", "officer2.sig", "officer2.payload", "evidence.json"];
    const files = Object.fromEntries(
      names.map((n) => [`${folder}${n}`, repo.readBytes("policy-lifetime", `${folder}${n}`) ?? Buffer.alloc(0)]),
    );
    for (const [path, bytes] of Object.entries(files)) assert.ok(bytes.length > 0, `${path} committed`);
    assert.equal(repo.readBytes("policy-lifetime", `${folder}token.bin`), null);

    h.gh.advance(DAY);
    repo.merge(number);
    const merged = await handlePullRequest(deps(), event(number, "pull_request", "closed"));
    assert.ok(merged.code === "policy_merged" && merged.approved, JSON.stringify(merged));
    assert.match(await sticky(number), /No HSM token was involved/);

    // The same history in a real repository: the audit verifies the governance evidence.
    const t = Math.floor(h.gh.now().getTime() / 1000);
    const git = createTestRepo();
    try {
      git.commitFiles({ [POLICY_FILE]: current }, "policy", t - 4 * DAY);
      git.git(["checkout", "--quiet", "-b", "policy-lifetime"]);
      git.commitFiles({ [POLICY_FILE]: proposed }, "policy change", t - 3 * DAY);
      git.commitFiles(files, "quorum-gate: evidence", t - 2 * DAY);
      git.git(["checkout", "--quiet", "main"]);
      git.git(["merge", "--quiet", "--no-ff", "-m", "merge", "policy-lifetime"], t);
      const audited = runCli(["audit", "--repo", git.dir, "--json"]);
      assert.equal(audited.status, 0, audited.stdout + audited.stderr);
      const [row] = JSON.parse(audited.stdout) as { kind: string; holds: boolean; counted: number }[];
      assert.deepEqual([row?.kind, row?.holds, row?.counted], ["governance", true, 2]);
    } finally {
      git.remove();
    }
  });

  it("what a window costs GitHub: each poll of an open window is three REST reads", async () => {
    const req = await approvedAndMerged("app6");
    const marks: number[] = [];
    const lapsed = await handlePullRequest(
      deps(() => {
        marks.push(h.gh.calls.length);
      }, 60),
      event(req.number, "pull_request", "closed"),
    );
    assert.equal(lapsed.code, "window_lapsed", JSON.stringify(lapsed));
    const perPoll = marks.slice(1).map((m, i) => m - (marks[i] as number));
    assert.ok(perPoll.length >= 4, `polls: ${marks.length}`);
    // The reads between two polls: the comments (issue comments, reviews, review comments), one page each.
    assert.deepEqual(new Set(perPoll), new Set([3]), `calls per poll: ${perPoll.join(", ")}`);
    assert.equal(await coverage("app6"), 2, "nothing ran");
  });

  it("passwords on a real cluster: sealed to the gate's password key, a user created and a password changed through the shell's prompts", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyed = createCloudhsmCliGateway(
      { ...h.cluster.file, backend: { kind: "cloudhsm-cli", binary: join(dir, "cloudhsm-cli") } },
      { userName: "gate", password: passwordOf("gate") },
      { passwordKey: privateKey },
    );
    const sealed = (pw: string) => sealSecret(publicKey, pw).toString("base64");
    const withKey = (onPoll?: (n: number) => Promise<void>): GateDeps => ({ ...deps(onPoll), cluster: keyed });

    // Without the key the gate refuses such a request before anyone approves it...
    const create = `{kind: createUser, type: CU, name: svc1, sealed_password: ${sealed("svc1-pass-1")}}`;
    const without = openRequest("svc1-nokey", create);
    const refused = await handlePullRequest(deps(), event(without.number, "pull_request", "opened"));
    assert.ok(refused.code === "evaluated" && refused.state === "rejected", JSON.stringify(refused));
    assert.match(await sticky(without.number), /backend_unsupported|holds no password key/);
    // ...and with the key, a password sealed to another key is refused as it stands.
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const foreign = openRequest(
      "svc1-foreign",
      `{kind: createUser, type: CU, name: svc1, sealed_password: ${sealSecret(other, "x-pass-12").toString("base64")}}`,
    );
    const unreadable = await handlePullRequest(withKey(), event(foreign.number, "pull_request", "opened"));
    assert.ok(unreadable.code === "evaluated" && unreadable.state === "rejected", JSON.stringify(unreadable));
    assert.match(await sticky(foreign.number), /not sealed to the gate's password key/);

    const apply = async (name: string, operation: string) => {
      const req = openRequest(name, operation);
      const opened = await handlePullRequest(withKey(), event(req.number, "pull_request", "opened"));
      assert.ok(opened.code === "evaluated" && opened.state === "pending", JSON.stringify(opened));
      approve(req, "alice");
      approve(req, "bob");
      const judged = await handlePullRequest(withKey(), event(req.number, "comment", "created"));
      assert.ok(judged.code === "evaluated" && judged.state === "approved", JSON.stringify(judged));
      repo.merge(req.number);
      const outcome = await handlePullRequest(
        withKey(async (poll) => {
          if (poll === 1) {
            await countersign(req.number, "alice");
            await countersign(req.number, "bob");
          }
        }),
        event(req.number, "pull_request", "closed"),
      );
      return { ...req, outcome };
    };
    const { outcome: created } = await apply("svc1", create);
    assert.ok(created.code === "executed" && created.result === "applied", JSON.stringify(created));
    assert.equal(await coverage("svc1"), 2, "created on every HSM");
    // The new user logs in with the password the requester sealed, then leaves (a logged-in user cannot be changed).
    await h.all("logout", {}, await loginAll(h.clients, "CU", "svc1", "svc1-pass-1"));

    const { outcome: changed, number } = await apply(
      "svc1-pw",
      `{kind: changePswd, type: CU, name: svc1, sealed_password: ${sealed("svc1-pass-2")}}`,
    );
    assert.ok(changed.code === "executed" && changed.result === "applied", JSON.stringify(changed));
    await h.all("logout", {}, await loginAll(h.clients, "CU", "svc1", "svc1-pass-2"));
    await assert.rejects(loginAll(h.clients, "CU", "svc1", "svc1-pass-1"));
    // No password in what the gate said: logs, comments, check runs.
    const said = [...h.logs, ...repo.checkRuns().map((c) => JSON.stringify(c)), await sticky(number)];
    for (const pw of ["svc1-pass-1", "svc1-pass-2"]) assert.ok(!said.some((t) => t.includes(pw)), pw);
  });

  it("a window lapses with one approver and a non-approver countersigning; /quorum retry opens a new one", async () => {
    const req = await approvedAndMerged("app2");
    const lapsed = await handlePullRequest(
      deps(async (poll) => {
        if (poll === 1) {
          await countersign(req.number, "alice");
          // carol holds a registered key and signs the right token, but never approved this request.
          await countersign(req.number, "carol");
        }
      }, 30),
      event(req.number, "pull_request", "closed"),
    );
    assert.equal(lapsed.code, "window_lapsed", JSON.stringify(lapsed));
    assert.equal(await coverage("app2"), 2, "nothing ran");
    const body = await sticky(req.number);
    assert.match(body, /### Execution window: lapsed at /);
    assert.match(body, /1 of 2 countersignatures had counted/);

    // A countersignature delivery after the window does nothing by itself.
    const stray = await handlePullRequest(deps(), event(req.number, "comment", "created"));
    assert.equal(stray.code, "ignored");

    repo.addComment(req.number, "bob", "/quorum retry\n");
    const retried = await handlePullRequest(
      deps(async (poll) => {
        if (poll === 1) {
          await countersign(req.number, "bob");
          await countersign(req.number, "alice");
          // GitHub fails the holder's next read once: the window goes on, the next poll reads again.
          h.gh.failNext("GET", /\/issues\/\d+\/comments/, 502);
        }
      }),
      event(req.number, "comment", "created"),
    );
    assert.equal(retried.code, "executed", JSON.stringify(retried));
    assert.ok(
      h.logs.some((l) => /could not read the comments of acme\/real#\d+: .*502/.test(l)),
      h.logs.join("\n"),
    );
    assert.equal(await coverage("app2"), 0);

    // Each window has its own record: the lapsed one with alice's countersignature alone, and
    // no approval file; the retry's with both and the file the command ran with.
    const records = [...repo.otherRefs()]
      .filter(([ref]) => ref.startsWith(`refs/quorum-gate/windows/pr-${req.number}-`))
      .sort(([a], [b]) => a.localeCompare(b));
    assert.equal(records.length, 2);
    const read = ([ref, sha]: [string, string], name: string) =>
      repo.readBytes(sha, `hsm-requests/app2.evidence/window-${ref.slice(ref.lastIndexOf("-") + 1)}/${name}`);
    const docs = records.map(
      (r) =>
        JSON.parse(read(r, "window.json")?.toString() ?? "{}") as {
          result: { state: string; code: string | null };
          countersignatures: { officer: string }[];
        },
    );
    assert.deepEqual(
      docs.map((d) => [d.result.state, d.result.code, d.countersignatures.map((c) => c.officer)]),
      [
        ["lapsed", "window_lapsed", ["officer1"]],
        ["applied", null, ["officer2", "officer1"]],
      ],
    );
    assert.equal(read(records[0] as [string, string], "approval.json"), null);
    assert.ok(read(records[1] as [string, string], "approval.json") !== null);
  });

  it("two processes receive the same merge: one window, one application", async () => {
    const req = await approvedAndMerged("app3");
    const other = createCloudhsmCliGateway(
      { ...h.cluster.file, backend: { kind: "cloudhsm-cli", binary: join(dir, "cloudhsm-cli") } },
      { userName: "gate", password: passwordOf("gate") },
    );
    let signed = false;
    const onPoll = async () => {
      if (signed) return;
      signed = true;
      await countersign(req.number, "alice");
      await countersign(req.number, "bob");
    };
    const outcomes: GateOutcome[] = await Promise.all([
      handlePullRequest(deps(onPoll), event(req.number, "pull_request", "closed")),
      handlePullRequest({ ...deps(onPoll), cluster: other }, event(req.number, "pull_request", "closed")),
    ]);
    // One ran it; the other either met the claim or, coming after the window, found it done.
    const applied = outcomes.filter((o) => o.code === "executed" && o.result === "applied");
    assert.equal(applied.length, 1, JSON.stringify(outcomes));
    const rest = outcomes.find((o) => !applied.includes(o));
    assert.ok(
      (rest?.code === "ignored" && /another process holds this execution window/.test(rest.message)) ||
        (rest?.code === "executed" && rest.result === "already_applied"),
      JSON.stringify(rest),
    );
    assert.equal(await coverage("app3"), 0);
  });

  it("the gate stopped mid-window: nothing ran, the token died with the session, and a retry after the deadline starts clean", async () => {
    const req = await approvedAndMerged("app4");
    await assert.rejects(
      handlePullRequest(
        deps(async () => {
          await countersign(req.number, "alice");
          throw new Error("the process was stopped");
        }),
        event(req.number, "pull_request", "closed"),
      ),
      /the process was stopped/,
    );
    assert.equal(await coverage("app4"), 2, "nothing ran");
    assert.match(await sticky(req.number), /### Execution window: open until /);
    // While the recorded window lasts, a retry is told to wait for it...
    repo.addComment(req.number, "alice", "/quorum retry\n");
    const early = await handlePullRequest(deps(), event(req.number, "comment", "created"));
    assert.equal(early.code, "ignored");
    // ...after its deadline the retry opens a new window, and alice's old countersignature does not count in it.
    h.gh.advance(700);
    repo.addComment(req.number, "bob", "/quorum retry\n");
    let polls = 0;
    const retried = await handlePullRequest(
      deps(async () => {
        polls += 1;
        if (polls === 1) await countersign(req.number, "bob");
        if (polls === 3) await countersign(req.number, "alice");
      }),
      event(req.number, "comment", "created"),
    );
    assert.equal(retried.code, "executed", JSON.stringify(retried));
    assert.equal(polls, 3, "bob's countersignature and alice's old one were not enough");
    assert.equal(await coverage("app4"), 0);
  });

  it("a change the cluster already shows when the request merges: reported as done, no window opened", async () => {
    // M of the user service is 2 already: setting it to 2 changes nothing.
    const req = await approvedAndMerged("m-user-2", "{kind: setMValue, service: 3, value: 2}");
    const outcome = await handlePullRequest(
      deps(() => assert.fail("no window should be held")),
      event(req.number, "pull_request", "closed"),
    );
    assert.equal(outcome.code, "executed", JSON.stringify(outcome));
    assert.equal(outcome.code === "executed" ? outcome.result : "", "already_applied");
    assert.match(await sticky(req.number), /### Execution: the cluster already shows the change/);
  });
});
