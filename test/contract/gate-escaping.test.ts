// What a pull request brings (file names, above all) reaches the gate's own comment and check run
// only as plain text: no link, no mention, no HTML, no table break. The decision's comment always
// escaped it; these are the short notices the use cases render when there is no decision.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { STICKY_MARKER } from "../../src/gate/index.ts";
import { handlePullRequest } from "../../src/usecases/handle-pull-request.ts";
import { startGateHarness, type GateHarness } from "../helpers/gate-harness.ts";

const HOSTILE = "docs/[release notes](https://evil.example)@acme/admins <img src=x>.md";

describe("escaping in the gate's notices", () => {
  let h: GateHarness;
  before(async () => {
    h = await startGateHarness({ nodes: 1, officers: { alice: "officer1", bob: "officer2" } });
  });
  after(async () => {
    await h?.stop();
  });

  it("prints a hostile file name of a refused pull request as plain text", async () => {
    const number = h.repo.openPullRequest({
      head: "req-hostile",
      author: "carol",
      files: { "hsm-requests/app11.yml": h.requestYaml("app11"), [HOSTILE]: "x\n" },
    });
    const r = await handlePullRequest(h.deps, h.event(number, "pull_request", "opened"));
    assert.equal(r.code, "invalid");
    const sticky = await h.deps.github.findStickyComment(
      { owner: "acme", repo: "hsm" },
      number,
      STICKY_MARKER,
      h.gh.app.botLogin,
    );
    assert.ok(sticky !== null);
    assert.match(sticky.body, /release notes/, "the name is shown");
    assert.doesNotMatch(sticky.body, /\[release notes\]\(https:/, "but not as a link");
    assert.doesNotMatch(sticky.body, /@acme\/admins/, "nor as a mention");
    assert.doesNotMatch(sticky.body, /<img/, "nor as HTML");
    const head = (h.repo.pullRequestPayload(number)["head"] as { sha: string }).sha;
    const output = h.repo.checkRuns(head).at(-1)?.["output"] as { summary?: string } | undefined;
    const summary = output?.summary ?? "";
    assert.match(summary, /release notes/);
    assert.doesNotMatch(summary, /\[release notes\]\(https:|@acme\/admins|<img/);
  });
});
