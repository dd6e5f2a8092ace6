// The protocol edge of a node: every malformed request gets a clear RET_BAD_REQUEST envelope with
// the right HTTP status, and changes nothing (checked through list-users and the audit log).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { handleCommand } from "../../src/hsm/core.ts";
import { createNodeClient } from "../../src/protocol/node-client.ts";
import { MAX_BODY_BYTES } from "../../src/protocol/messages.ts";
import { startNodeServer } from "../../src/node/server.ts";
import { rawRequest, type RawResponse } from "../helpers/http.ts";
import { startInProcessNode, type InProcessNode } from "../helpers/node-server.ts";

const JSON_TYPE = { "content-type": "application/json" };

function assertRefused(res: RawResponse, status: number, messagePattern: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  const env = res.json as { ok: boolean; error?: { code: string; message: string } };
  assert.equal(env.ok, false);
  assert.equal(env.error?.code, "RET_BAD_REQUEST");
  assert.match(env.error?.message ?? "", messagePattern);
}

describe("node server: protocol edge", () => {
  let node: InProcessNode;
  let port: number;
  /** What a refused request must leave untouched. */
  let snapshot: () => Promise<{ users: unknown; audit: number }>;

  before(async () => {
    node = await startInProcessNode();
    port = node.server.port;
    snapshot = async () => {
      const res = await rawRequest({ port, path: "/v1/list-users", headers: JSON_TYPE, body: "{}" });
      const last = node.repo.listAudit(1)[0];
      return { users: res.json, audit: last?.seq ?? 0 };
    };
  });
  after(() => node.stop());

  /** Runs `send` and checks that the node's state is the same before and after. */
  async function unchanged(send: () => Promise<RawResponse>): Promise<RawResponse> {
    const before = await snapshot();
    const res = await send();
    assert.deepEqual(await snapshot(), before);
    return res;
  }

  it("answers a well-formed command with HTTP 200 and an ok envelope", async () => {
    const res = await rawRequest({ port, path: "/v1/hello", headers: JSON_TYPE, body: "{}" });
    assert.equal(res.status, 200);
    const env = res.json as { ok: boolean; data: { hsmId: string; activated: boolean } };
    assert.equal(env.ok, true);
    assert.equal(env.data.hsmId, node.repo.identity().hsmId);
    assert.equal(env.data.activated, false);
  });

  it("refuses malformed JSON with 400", async () => {
    const res = await unchanged(() =>
      rawRequest({ port, path: "/v1/login", headers: JSON_TYPE, body: '{"userType":"PRECO",' }),
    );
    assertRefused(res, 400, /not valid UTF-8 JSON/);
  });

  it("refuses bytes that are not UTF-8 with 400", async () => {
    const res = await unchanged(() =>
      rawRequest({ port, path: "/v1/hello", headers: JSON_TYPE, body: Buffer.from([0x7b, 0xff, 0x7d]) }),
    );
    assertRefused(res, 400, /UTF-8/);
  });

  it("refuses an empty body with 400", async () => {
    const res = await unchanged(() => rawRequest({ port, path: "/v1/hello", headers: JSON_TYPE }));
    assertRefused(res, 400, /JSON/);
  });

  for (const body of ["[]", "null", "42", '"text"', "true"]) {
    it(`refuses a JSON body that is not an object (${body}) with 400`, async () => {
      const res = await unchanged(() => rawRequest({ port, path: "/v1/list-users", headers: JSON_TYPE, body }));
      assertRefused(res, 400, /must be a JSON object/);
    });
  }

  it("refuses a body over MAX_BODY_BYTES with 413 without reading it (content-length)", async () => {
    const big = `{"userType":"PRECO","userName":"admin","password":"${"x".repeat(MAX_BODY_BYTES)}"}`;
    const res = await unchanged(() => rawRequest({ port, path: "/v1/login", headers: JSON_TYPE, body: big }));
    assertRefused(res, 413, /larger than/);
    assert.equal(res.headers["connection"], "close");
  });

  it("refuses a chunked body that grows over MAX_BODY_BYTES with 413", async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES * 2, 0x20);
    const res = await unchanged(() =>
      rawRequest({ port, path: "/v1/login", headers: JSON_TYPE, body: big, chunked: true }),
    );
    assertRefused(res, 413, /larger than/);
  });

  it("accepts a body of exactly MAX_BODY_BYTES (the limit is inclusive)", async () => {
    const body = `{}${" ".repeat(MAX_BODY_BYTES - 2)}`;
    const res = await rawRequest({ port, path: "/v1/hello", headers: JSON_TYPE, body });
    assert.equal(res.status, 200);
  });

  for (const method of ["GET", "PUT", "DELETE"]) {
    it(`refuses ${method} with 405 and names the allowed method`, async () => {
      const res = await unchanged(() => rawRequest({ port, method, path: "/v1/list-users", headers: JSON_TYPE }));
      assertRefused(res, 405, /use POST/);
      assert.equal(res.headers["allow"], "POST");
    });
  }

  it("refuses an unknown command with 404", async () => {
    const res = await unchanged(() => rawRequest({ port, path: "/v1/format-hsm", headers: JSON_TYPE, body: "{}" }));
    assertRefused(res, 404, /unknown command "format-hsm"/);
  });

  for (const path of ["/", "/v2/hello", "/v1/hello/extra", "/v1/hello?x=1", "/v1/HELLO"]) {
    it(`refuses the path ${path} with 404`, async () => {
      const res = await unchanged(() => rawRequest({ port, path, headers: JSON_TYPE, body: "{}" }));
      assertRefused(res, 404, /./);
    });
  }

  for (const type of [
    undefined,
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin1",
    "application/jsonp",
  ]) {
    it(`refuses content-type ${type ?? "(none)"} with 415`, async () => {
      const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
      const res = await unchanged(() => rawRequest({ port, path: "/v1/hello", headers, body: "{}" }));
      assertRefused(res, 415, /application\/json/);
    });
  }

  it("accepts application/json with a utf-8 charset parameter", async () => {
    const res = await rawRequest({
      port,
      path: "/v1/hello",
      headers: { "content-type": "Application/JSON; charset=UTF-8" },
      body: "{}",
    });
    assert.equal(res.status, 200);
  });

  it("answers a command that needs a login without a session: 200, RET_NOT_LOGGED_IN, nothing created", async () => {
    const body = JSON.stringify({ userType: "CU", userName: "intruder", password: "password1" });
    const res = await unchanged(() => rawRequest({ port, path: "/v1/create-user", headers: JSON_TYPE, body }));
    assert.equal(res.status, 200);
    assert.deepEqual((res.json as { error: { code: string } }).error.code, "RET_NOT_LOGGED_IN");
  });

  it("answers an unknown session with RET_SESSION_INVALID", async () => {
    const body = JSON.stringify({ userType: "CU", userName: "intruder", password: "password1" });
    const res = await unchanged(() =>
      rawRequest({ port, path: "/v1/create-user", headers: { ...JSON_TYPE, "x-session": "f".repeat(64) }, body }),
    );
    assert.equal(res.status, 200);
    assert.equal((res.json as { error: { code: string } }).error.code, "RET_SESSION_INVALID");
  });

  it("refuses a malformed session header with 400", async () => {
    const res = await unchanged(() =>
      rawRequest({ port, path: "/v1/logout", headers: { ...JSON_TYPE, "x-session": "a b" }, body: "{}" }),
    );
    assertRefused(res, 400, /x-session/);
  });

  it("commits what a failing command wrote: a wrong password still counts", async () => {
    const client = createNodeClient({ host: "127.0.0.1", port });
    try {
      const r = await client.call("login", { userType: "PRECO", userName: "admin", password: "not-the-password" });
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.error.code, "RET_USER_LOGIN_FAILURE");
      const users = await client.call("list-users", {});
      assert.ok(users.ok);
      assert.equal(users.data.users.find((u) => u.name === "admin")?.loginFailureCnt, 1);
    } finally {
      client.close();
    }
  });

  it("keeps serving on the same keep-alive connection after a refused request", async () => {
    const client = createNodeClient({ host: "127.0.0.1", port });
    try {
      // @ts-expect-error: an unknown field, on purpose; the core refuses it.
      const bad = await client.call("hello", { surprise: 1 });
      assert.equal(!bad.ok && bad.error.code, "RET_BAD_REQUEST");
      const good = await client.call("hello", {});
      assert.equal(good.ok, true);
    } finally {
      client.close();
    }
  });
});

describe("node server: failures inside a command", () => {
  it("answers an exception with 500 RET_INTERNAL, rolls back, and leaks neither stack nor body", async () => {
    const secret = "hunter2-do-not-log";
    const node = await startInProcessNode({
      handler: (ctx, op, sessionId, body) => {
        if (op !== "create-user") return handleCommand(ctx, op, sessionId, body);
        ctx.repo.setMValue(3, 7);
        ctx.repo.appendAudit({ at: 0, opcode: "CN_TEST", userName: null, detail: "", result: "RET_OK" });
        throw new Error("simulated bug");
      },
    });
    try {
      const auditBefore = node.repo.listAudit(1000).length;
      const res = await rawRequest({
        port: node.server.port,
        path: "/v1/create-user",
        headers: JSON_TYPE,
        body: JSON.stringify({ userType: "CU", userName: "x", password: secret }),
      });
      assert.equal(res.status, 500);
      assert.deepEqual(res.json, { ok: false, error: { code: "RET_INTERNAL", message: "internal error" } });
      assert.doesNotMatch(res.text, /simulated bug|\bat \w|\.ts/);
      assert.equal(node.repo.getMValue(3), 1, "the command's writes were rolled back");
      assert.equal(node.repo.listAudit(1000).length, auditBefore);
      // The operator sees what failed, never what was sent.
      assert.ok(node.logs.some((l) => l.includes("create-user") && l.includes("simulated bug")));
      assert.ok(node.logs.every((l) => !l.includes(secret)));
    } finally {
      await node.stop();
    }
  });
});

describe("node server: listen address", () => {
  for (const host of ["0.0.0.0", "10.1.2.3", "::", "example.com"]) {
    it(`refuses to listen on ${host} without TLS`, async () => {
      const node = await startInProcessNode();
      try {
        await assert.rejects(
          startNodeServer({ repo: node.repo, host, port: 0 }),
          /refusing to listen on .* without TLS/,
        );
      } finally {
        await node.stop();
      }
    });
  }
});
