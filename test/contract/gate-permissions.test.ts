// The App's permissions (app.yml) against the fake GitHub, which holds an installation to exactly
// the manifest's `default_permissions` and answers anything else as GitHub does (403 "Resource not
// accessible by integration"; FORBIDDEN for the GraphQL mutation). The whole flow (open, two
// approvals, evidence commit, merge, replay) runs once with the manifest as it is, then once per
// permission removed from, or lowered in, a copy of it: each permission the REST and GraphQL
// calls need breaks the flow without it, so none can be dropped unnoticed.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Octokit } from "@octokit/rest";
import { parse, stringify } from "yaml";
import { signMessage } from "../../src/crypto/rsa.ts";
import { readStickyToken, renderApprovalComment, STICKY_MARKER } from "../../src/gate/index.ts";
import { createGitHubPort } from "../../src/github/octokit-port.ts";
import type { GateDeps } from "../../src/usecases/deps.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";
import { startFakeGitHub, type FakeCall, type FakeGitHub } from "../helpers/fake-github.ts";
import { startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";
import { testKey } from "../helpers/keys.ts";

const OFFICERS: Record<string, string> = { alice: "officer1", bob: "officer2" };
const MANIFEST = fileURLToPath(new URL("../../app.yml", import.meta.url));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Run {
  /** Opened, approved with the evidence committed, merged and replayed on every node. */
  readonly ok: boolean;
  /** Where it stopped: the outcome or the error that ended it. */
  readonly stop: string;
  /** Requests the permissions refused (REST 403, or the mutation's FORBIDDEN). */
  readonly refused: readonly string[];
}

describe("the App's permissions: the flow needs every permission app.yml asks for (fake GitHub, real cluster)", () => {
  const dir = mkdtempSync(join(tmpdir(), "qg-permissions-"));
  let h: GateHarness;
  let runs = 0;

  before(async () => {
    h = await startGateHarness({ officers: OFFICERS });
  });
  after(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of app.yml with `default_permissions` changed (a permission set to null is removed). */
  function manifestWith(change: Readonly<Record<string, "read" | "write" | null>>): string {
    const doc = parse(readFileSync(MANIFEST, "utf8")) as { default_permissions: Record<string, string> };
    for (const [name, access] of Object.entries(change)) {
      if (access === null) delete doc.default_permissions[name];
      else doc.default_permissions[name] = access;
    }
    const path = join(dir, `app-${runs}.yml`);
    writeFileSync(path, stringify(doc));
    return path;
  }

  const refusals = (calls: readonly FakeCall[]): string[] =>
    calls
      .filter((c) => c.status === 403 || c.errorTypes?.includes("FORBIDDEN") === true)
      .map(
        (c) =>
          `${c.method} ${c.path.replace(/\/[0-9a-f]{40}(?=\/|$)/, "/{sha}").replace(/\/\d+(?=\/|$)/g, "/{n}")}${c.status === 403 ? "" : " FORBIDDEN"}`,
      );

  /** The whole flow on a fresh fake GitHub whose installation holds the manifest at `manifest`. */
  async function flow(manifest: string | undefined): Promise<Run> {
    runs += 1;
    const gh: FakeGitHub = await startFakeGitHub({
      startTime: new Date(),
      ...(manifest === undefined ? {} : { manifest }),
    });
    try {
      const repo = gh.createRepo("acme/hsm", {
        files: { ".github/quorum-gate.yml": h.policyYaml(Object.keys(OFFICERS)), "README.md": "HSM requests\n" },
      });
      const deps: GateDeps = {
        ...h.deps,
        github: createGitHubPort(new Octokit({ baseUrl: gh.url, auth: gh.issueToken(), log: quiet })),
        now: () => Math.floor(gh.now().getTime() / 1000),
        botLogin: gh.app.botLogin,
        appId: gh.app.id,
        log: () => {},
      };
      const event = (number: number, kind: "comment" | "pull_request" = "comment", action = "created") =>
        ({ repo: { owner: "acme", repo: "hsm" }, number, trigger: { kind, action } }) as const;
      const name = `perm${runs}`;
      const head = `req-${name}`;
      const number = repo.openPullRequest({
        head,
        author: "alice",
        files: { [`hsm-requests/${name}.yml`]: h.requestYaml(name) },
      });
      const result = (stop: string): Run => ({ ok: false, stop, refused: refusals(gh.calls) });
      try {
        const opened = await handlePullRequest(deps, event(number, "pull_request", "opened"));
        if (!(opened.code === "evaluated" && opened.state === "pending")) return result(JSON.stringify(opened));
        const sticky = [...gh.calls]
          .reverse()
          .find(
            (c) =>
              c.method !== "GET" &&
              c.path.includes("/comments") &&
              JSON.stringify(c.body ?? null).includes(STICKY_MARKER.slice(0, 10)),
          );
        const token = readStickyToken(String((sticky?.body as { body?: unknown } | undefined)?.body ?? ""));
        if (token === null) return result("no token in a sticky comment");
        for (const login of Object.keys(OFFICERS))
          repo.addComment(
            number,
            login,
            renderApprovalComment(signMessage(token, testKey(OFFICERS[login] ?? "").privateKey)),
          );
        const approvedHead = repo.branchSha(head) ?? "";
        const approved = await handlePullRequest(deps, event(number));
        if (!(approved.code === "evaluated" && approved.state === "approved" && approved.evidence === "committed"))
          return result(JSON.stringify(approved));
        const checks = repo
          .checkRuns(approvedHead)
          .filter((c) => c["name"] === "quorum")
          .map((c) => c["conclusion"]);
        if (checks.join() !== "success") return result(`quorum check on the approved head: ${JSON.stringify(checks)}`);
        repo.merge(number);
        const replay = await handlePullRequest(deps, event(number, "pull_request", "closed"));
        if (!(replay.code === "replayed" && replay.nodes.every((n) => n.result === "applied")))
          return result(JSON.stringify(replay));
        return { ok: true, stop: "replayed", refused: refusals(gh.calls) };
      } catch (err) {
        return result(err instanceof Error ? err.message : String(err));
      }
    } finally {
      await gh.close();
    }
  }

  it("with app.yml as it is, the whole flow runs and nothing is refused", async () => {
    const run = await flow(undefined);
    assert.deepEqual(run, { ok: true, stop: "replayed", refused: [] });
  });

  const needed: readonly [string, Readonly<Record<string, "read" | "write" | null>>, RegExp][] = [
    ["without checks", { checks: null }, /check-runs/],
    ["with checks: read", { checks: "read" }, /POST \/repos\/acme\/hsm\/check-runs/],
    ["without pull_requests", { pull_requests: null }, /GET \/repos\/acme\/hsm\/pulls\/\{n\}/],
    // Read covers the lists; the sticky comment is the write (issues: read does not allow it).
    ["with pull_requests: read", { pull_requests: "read" }, /POST \/repos\/acme\/hsm\/issues\/\{n\}\/comments/],
    ["without contents", { contents: null }, /GET \/repos\/acme\/hsm\/contents\//],
    ["with contents: read (the evidence commit)", { contents: "read" }, /^POST \/graphql FORBIDDEN$/],
  ];
  for (const [name, change, refusedCall] of needed) {
    it(`${name}, the flow fails on a request GitHub would refuse`, async () => {
      const run = await flow(manifestWith(change));
      assert.equal(run.ok, false, `the flow should not complete: ${JSON.stringify(run)}`);
      assert.ok(
        run.refused.some((r) => refusedCall.test(r)) || refusedCall.test(run.stop),
        `a refusal matching ${refusedCall}: ${JSON.stringify(run)}`,
      );
    });
  }

  // issues: read is asked for the issue_comment webhook (GitHub sends it only to Apps that can read
  // issues), which these tests deliver themselves; metadata: read is granted to every App anyway.
  for (const name of ["issues", "metadata"]) {
    it(`without ${name}, the REST and GraphQL calls still pass (the permission is for webhooks / implied)`, async () => {
      const run = await flow(manifestWith({ [name]: null }));
      assert.deepEqual(run, { ok: true, stop: "replayed", refused: [] });
    });
  }
});
