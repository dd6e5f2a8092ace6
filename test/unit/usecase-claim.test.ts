// underClaim (src/usecases/claim.ts) over a port that holds claims in memory: the winner works and
// lets go, a loser waits for the claim to go and then looks again, a claim nobody lets go is
// taken over after CLAIM_WAIT_MS, and a release that fails does not fail the work.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GitHubPort } from "../../src/github/port.ts";
import { CLAIM_POLL_MS, CLAIM_WAIT_MS, underClaim } from "../../src/usecases/claim.ts";
import type { GateDeps } from "../../src/usecases/deps.ts";

const REPO = { owner: "acme", repo: "hsm" };

function world(options: { releasedAfterPolls?: number; releaseFails?: boolean; forbidden?: boolean } = {}) {
  const held = new Set<string>();
  const logs: string[] = [];
  let slept = 0;
  let polls = 0;
  const github = {
    claim: async (_r: unknown, name: string) => {
      if (options.forbidden === true) return "unavailable";
      if (held.has(name)) return "held";
      held.add(name);
      return "claimed";
    },
    claimHeld: async (_r: unknown, name: string) => {
      polls++;
      if (options.releasedAfterPolls !== undefined && polls >= options.releasedAfterPolls) held.delete(name);
      return held.has(name);
    },
    releaseClaim: async (_r: unknown, name: string) => {
      if (options.releaseFails === true) throw new Error("[github] DELETE failed: HTTP 502");
      held.delete(name);
    },
  } as unknown as GitHubPort;
  const deps = {
    github,
    log: (l: string) => logs.push(l),
    sleep: async (ms: number) => {
      slept += ms;
    },
  } as unknown as GateDeps;
  return { deps, held, logs, slept: () => slept };
}

describe("underClaim", () => {
  it("the winner does the work and lets go", async () => {
    const w = world();
    assert.deepEqual(await underClaim(w.deps, REPO, "pr-1", "a".repeat(40), async () => 42), {
      kind: "done",
      value: 42,
    });
    assert.equal(w.held.size, 0);
    assert.equal(w.slept(), 0);
  });

  it("lets go also when the work throws", async () => {
    const w = world();
    await assert.rejects(
      underClaim(w.deps, REPO, "pr-1", "a".repeat(40), async () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(w.held.size, 0);
  });

  it("a loser waits for the claim to go, does not do the work, and says so", async () => {
    const w = world({ releasedAfterPolls: 3 });
    w.held.add("pr-1");
    let ran = false;
    const r = await underClaim(w.deps, REPO, "pr-1", "a".repeat(40), async () => {
      ran = true;
    });
    assert.deepEqual(r, { kind: "waited" });
    assert.equal(ran, false);
    assert.equal(w.slept(), 3 * CLAIM_POLL_MS);
  });

  it("a claim nobody lets go is taken over after the wait", async () => {
    const w = world();
    w.held.add("pr-1");
    assert.deepEqual(await underClaim(w.deps, REPO, "pr-1", "a".repeat(40), async () => 1), { kind: "waited" });
    assert.equal(w.slept(), CLAIM_WAIT_MS);
    assert.equal(w.held.size, 0, "released, so the next look can claim it");
    assert.match(w.logs.join("\n"), /claim pr-1 held for more than 30 s: taking it over/);
  });

  it("where the token may not create refs, the work runs unguarded", async () => {
    const w = world({ forbidden: true });
    assert.deepEqual(await underClaim(w.deps, REPO, "pr-1", "a".repeat(40), async () => 7), { kind: "done", value: 7 });
    assert.equal(w.slept(), 0);
  });

  it("a release that fails is logged; the work's result stands", async () => {
    const w = world({ releaseFails: true });
    assert.deepEqual(await underClaim(w.deps, REPO, "pr-1", "a".repeat(40), async () => "ok"), {
      kind: "done",
      value: "ok",
    });
    assert.match(w.logs.join("\n"), /could not release claim pr-1: \[github\] DELETE failed: HTTP 502/);
  });
});
