// The shell's fan-out of mutating commands, with scripted servers instead of nodes: where the change
// is at the end (applied, refused, answer lost, had it already), rollBack newest first and what it
// cannot undo, the hidden letters of the recovery prompts, the divergence warning, and the output
// guard that ends the shell when stdout closes.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import type { CallResult, NodeClient } from "../../src/protocol/node-client.ts";
import { createShellContext, type ShellContext } from "../../src/cmu/context.ts";
import { fanOutMutating } from "../../src/cmu/fan-out.ts";
import { guardOutput } from "../../src/cmu/main.ts";
import type { Prompter } from "../../src/cmu/prompt.ts";
import type { Server } from "../../src/cmu/session.ts";

type Reply = CallResult<unknown>;
const ok = (data: unknown = {}): Reply => ({ ok: true, data });
const err = (code: string, message = ""): Reply => ({ ok: false, error: { code, message } }) as Reply;
const refused = err("RET_NODE_UNREACHABLE", "connection refused");
const lost = err("RET_NODE_UNREACHABLE", "no answer within 100 ms");

/** A server whose node answers `rollback` from a script; other ops are sent through the spec. */
function fakeServer(index: number, rollback: Reply[] = []): Server & { readonly calls: string[] } {
  const calls: string[] = [];
  const client: NodeClient = {
    endpoint: { host: "127.0.0.1", port: 1000 + index },
    async call(op, body) {
      calls.push(`${op} ${JSON.stringify(body)}`);
      return (rollback.shift() ?? err("RET_UNDO_UNAVAILABLE")) as never;
    },
    close() {},
  };
  return {
    index,
    host: "127.0.0.1",
    port: 1000 + index,
    hsmId: `hsm-${index}`,
    nodeId: index,
    client,
    sessionId: `s${index}`,
    login: null,
    reachable: true,
    sessionDropped: false,
    calls,
  };
}

function shellWith(servers: Server[], answers: string[]): { ctx: ShellContext; out: string[] } {
  const out: string[] = [];
  const prompter: Prompter = {
    async ask(prompt) {
      const answer = answers.shift() ?? null;
      out.push(`${prompt}${answer ?? "<EOF>"}`);
      return answer;
    },
    ended: false,
    close() {},
  };
  const ctx = createShellContext({ allServers: servers, prompter, print: (...lines) => out.push(...lines), cwd: "/" });
  return { ctx, out };
}

/** A send() that replays per-server scripts. */
function scripted(scripts: Map<Server, Reply[]>): (server: Server) => Promise<CallResult<unknown>> {
  return async (server) => scripts.get(server)?.shift() ?? err("RET_INTERNAL", "script ran out");
}

describe("cmu fan-out of mutating commands", () => {
  it("rolls back the servers that applied, newest first, and stops", async () => {
    const [a, b, c, d] = [fakeServer(0, [ok()]), fakeServer(1, [ok()]), fakeServer(2), fakeServer(3)];
    const { ctx, out } = shellWith([a, b, c, d], ["B"]);
    const outcome = await fanOutMutating(ctx, {
      command: "deleteUser",
      style: "RBI",
      send: scripted(
        new Map([
          [a, [ok({ undoId: "u0" })]],
          [b, [ok({ undoId: "u1" })]],
          [c, [err("RET_MXN_AUTH_FAILED")]],
        ]),
      ),
    });
    assert.deepEqual(out, [
      "deleteUser success on server 0(127.0.0.1)",
      "deleteUser success on server 1(127.0.0.1)",
      "deleteUser failed: RET_MXN_AUTH_FAILED",
      "deleteUser failed on server 2(127.0.0.1)",
      "",
      "Retry/rollBack/Ignore?(R/B/I):B",
      "rollBack success on server 1(127.0.0.1)",
      "rollBack success on server 0(127.0.0.1)",
      "rollBack: deleteUser is undone; no server has the change now.",
    ]);
    assert.deepEqual([a.calls, b.calls, d.calls], [['rollback {"undoId":"u0"}'], ['rollback {"undoId":"u1"}'], []]);
    assert.equal(outcome.completed, false);
    assert.deepEqual(outcome.applied, []);
    assert.deepEqual(
      outcome.missing.map((s) => s.index),
      [0, 1, 2, 3],
    );
  });

  it("keeps what rollBack cannot undo in the warning: a refused undo, a success known only from a probe", async () => {
    const [a, b, c] = [
      fakeServer(0, [err("RET_UNDO_UNAVAILABLE", "the user changed since")]),
      fakeServer(1),
      fakeServer(2),
    ];
    const { ctx, out } = shellWith([a, b, c], ["R", "A"]);
    const outcome = await fanOutMutating(ctx, {
      command: "createUser",
      style: "RIA",
      // server 1: the answer is lost, the retry is refused because the lost attempt had landed.
      send: scripted(
        new Map([
          [a, [ok({ undoId: "u0" })]],
          [b, [lost, err("RET_USER_EXISTS", "exists")]],
          [c, [refused]],
        ]),
      ),
      landed: async (s) => s === b,
    });
    assert.deepEqual(
      outcome.applied.map((s) => s.index),
      [0, 1],
    );
    assert.ok(
      out.includes("(server 1(127.0.0.1) had applied the earlier attempt after all; only its answer was lost)"),
      out.join("\n"),
    );
    // The same again, but server 2 refused is answered B (accepted at R/I/A, though not shown).
    const again = shellWith([a, b, c], ["R", "B"]);
    const rolled = await fanOutMutating(again.ctx, {
      command: "createUser",
      style: "RIA",
      send: scripted(
        new Map([
          [a, [ok({ undoId: "u0" })]],
          [b, [lost, err("RET_USER_EXISTS", "exists")]],
          [c, [refused]],
        ]),
      ),
      landed: async (s) => s === b,
    });
    assert.deepEqual(again.out.slice(again.out.indexOf("Retry/Ignore/Abort?(R/I/A):B") + 1), [
      "rollBack failed: RET_UNDO_UNAVAILABLE (the server's answer was lost, so the shell holds no undo id for it)",
      "rollBack failed on server 1(127.0.0.1)",
      "rollBack failed: RET_UNDO_UNAVAILABLE (the user changed since)",
      "rollBack failed on server 0(127.0.0.1)",
      "WARNING: after this createUser the servers disagree; the cluster is divergent (HSMs do not synchronize each other).",
      "  with the change:    server 0(127.0.0.1), server 1(127.0.0.1)",
      "  without it:         server 2(127.0.0.1)",
      "  Compare the servers with 'quorum-gate cluster status' (or listUsers / getMValue here, per server).",
      "  To repair, copy the user from a server that is right: 'server <n>', then 'syncUser <user ID> <server ID>';",
      "    or run the command again in server mode on the servers without the change.",
    ]);
    assert.deepEqual(
      rolled.applied.map((s) => s.index),
      [0, 1],
    );
  });

  it("reports a lost answer as unknown, and a refusal of a server already in the wanted state as having it", async () => {
    const [a, b, c] = [fakeServer(0), fakeServer(1), fakeServer(2)];
    const { ctx, out } = shellWith([a, b, c], ["I", "I"]);
    const outcome = await fanOutMutating(ctx, {
      command: "createUser",
      style: "RIA",
      send: scripted(
        new Map([
          [a, [err("RET_USER_EXISTS", "exists")]],
          [b, [lost]],
          [c, [ok({ undoId: "u2" })]],
        ]),
      ),
      landed: async (s) => s === a,
    });
    assert.deepEqual(
      [outcome.applied, outcome.already, outcome.missing, outcome.unknown].map((l) => l.map((s) => s.index)),
      [[2], [0], [], [1]],
    );
    assert.deepEqual(out.slice(out.findIndex((l) => l.startsWith("WARNING"))), [
      "WARNING: it is not known whether createUser took effect on every server; the cluster may be divergent.",
      "  with the change:    server 0(127.0.0.1) (had it already), server 2(127.0.0.1)",
      "  unknown (no answer, it may still apply): server 1(127.0.0.1)",
      "  Compare the servers with 'quorum-gate cluster status' (or listUsers / getMValue here, per server).",
      "  To repair, copy the user from a server that is right: 'server <n>', then 'syncUser <user ID> <server ID>';",
      "    or run the command again in server mode on the servers without the change.",
    ]);
  });

  it("prints no warning when nothing applied (the seed's Abort) and treats end of input as Abort", async () => {
    const [a, b] = [fakeServer(0), fakeServer(1)];
    const { ctx, out } = shellWith([a, b], []);
    const outcome = await fanOutMutating(ctx, {
      command: "createUser",
      style: "RIA",
      send: scripted(new Map([[a, [err("RET_MXN_AUTH_FAILED")]]])),
    });
    assert.deepEqual(out, [
      "createUser failed: RET_MXN_AUTH_FAILED",
      "creating user on server 0(127.0.0.1) failed",
      "",
      "Retry/Ignore/Abort?(R/I/A):<EOF>",
    ]);
    assert.equal(outcome.completed, false);
  });

  it("explains the letters after an invalid answer, and accepts A at R/B/I", async () => {
    const [a] = [fakeServer(0)];
    const { ctx, out } = shellWith([a], ["x", "a"]);
    await fanOutMutating(ctx, {
      command: "deleteUser",
      style: "RBI",
      send: scripted(new Map([[a, [err("RET_MXN_AUTH_FAILED")]]])),
    });
    assert.deepEqual(out.slice(3), [
      "Retry/rollBack/Ignore?(R/B/I):x",
      "Invalid option, please type 'R', 'B' or 'I' ('A' stops without undoing anything)",
      "",
      "Retry/rollBack/Ignore?(R/B/I):a",
    ]);
  });

  it("runs a command on the server of server mode only", async () => {
    const [a, b] = [fakeServer(0), fakeServer(1)];
    const { ctx, out } = shellWith([a, b], []);
    ctx.setServerMode(b);
    await fanOutMutating(ctx, {
      command: "setMValue",
      style: "RIA",
      send: scripted(new Map([[b, [ok({ undoId: "x" })]]])),
    });
    assert.deepEqual(out, ["setMValue success on server 1(127.0.0.1)"]);
    ctx.setServerMode(null);
    assert.equal(ctx.servers.length, 2);
  });
});

describe("cmu output guard", () => {
  it("passes writes through, and after the first write error calls back once and drops the rest", async () => {
    const written: string[] = [];
    let fail = false;
    const target = new Writable({
      write(chunk: Buffer, _enc, done) {
        if (fail) done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
        else {
          written.push(chunk.toString());
          done();
        }
      },
    });
    let closed = 0;
    const guarded = guardOutput(target, () => closed++);
    guarded.write("one\n");
    fail = true;
    guarded.write("two\n");
    await new Promise((r) => setImmediate(r));
    guarded.write("three\n");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(written, ["one\n"]);
    assert.equal(closed, 1);
  });
});
