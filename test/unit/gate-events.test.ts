// One list of the events that wake the gate (src/usecases/gate-events.ts): the App subscribes to
// it, the Action plans from it, and app.yml must ask GitHub for exactly those events, or the App
// would miss approvals (an event not asked for is never delivered) or be sent ones it ignores.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { changesVerdict, GATE_EVENTS, gateEventKeys, isGateEvent, isOwnEvent } from "../../src/usecases/gate-events.ts";

describe("the gate's events", () => {
  it("app.yml's default_events are exactly the events the gate listens to", () => {
    const manifest = parse(readFileSync(new URL("../../app.yml", import.meta.url), "utf8")) as {
      default_events: string[];
    };
    assert.deepEqual([...manifest.default_events].sort(), Object.keys(GATE_EVENTS).sort());
  });

  it("names each event.action pair as Probot subscribes to it", () => {
    assert.deepEqual(gateEventKeys("issue_comment"), [
      "issue_comment.created",
      "issue_comment.edited",
      "issue_comment.deleted",
    ]);
    assert.equal(changesVerdict("pull_request", "synchronize"), true);
    assert.equal(changesVerdict("pull_request", "labeled"), false);
    assert.equal(isGateEvent("push"), false);
    assert.equal(isGateEvent("toString"), false, "no inherited names");
  });

  it("drops the gate's own comments and reviews, whatever the case of the login, and never a pull request event", () => {
    assert.equal(isOwnEvent("comment", "Quorum-Gate[bot]", "quorum-gate[bot]"), true);
    assert.equal(isOwnEvent("review", "github-actions[bot]", "github-actions[bot]"), true);
    assert.equal(isOwnEvent("pull_request", "quorum-gate[bot]", "quorum-gate[bot]"), false);
    assert.equal(isOwnEvent("comment", "alice", "quorum-gate[bot]"), false);
    assert.equal(isOwnEvent("comment", null, "quorum-gate[bot]"), false);
  });
});
