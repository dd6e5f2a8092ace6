import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseNodeArgs } from "../../src/node/main.ts";
import { hostPort, isLoopbackHost } from "../../src/node/loopback.ts";

describe("node process arguments", () => {
  it("parses the required options and defaults", () => {
    assert.deepEqual(parseNodeArgs(["--data", "d", "--port", "0"]), {
      dataDir: "d",
      host: "127.0.0.1",
      port: 0,
      tls: null,
      watchStdin: false,
    });
    assert.deepEqual(
      parseNodeArgs([
        "--data",
        "d",
        "--port",
        "2225",
        "--host",
        "::1",
        "--tls-cert",
        "c",
        "--tls-key",
        "k",
        "--tls-ca",
        "a",
        "--watch-stdin",
      ]),
      {
        dataDir: "d",
        host: "::1",
        port: 2225,
        tls: { cert: "c", key: "k", ca: "a" },
        watchStdin: true,
      },
    );
  });

  for (const [args, pattern] of [
    [["--port", "1"], /--data DIR is required/],
    [["--data", "d"], /--port P is required/],
    [["--data", "d", "--port", "65536"], /--port must be 0..65535/],
    [["--data", "d", "--port", "-1"], /--port/],
    [["--data", "d", "--port", "1", "--tls-cert", "c"], /all of --tls-cert, --tls-key and --tls-ca/],
    [["--data", "d", "--port", "1", "--nope"], /Unknown option/],
  ] as const) {
    it(`refuses ${args.join(" ")}`, () => {
      assert.throws(() => parseNodeArgs(args), pattern);
    });
  }
});

describe("loopback addresses", () => {
  it("tells loopback from the network", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "::ffff:127.0.0.1"])
      assert.equal(isLoopbackHost(h), true, h);
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "example.com", "::ffff:10.0.0.1", ""])
      assert.equal(isLoopbackHost(h), false, h);
  });

  it("brackets IPv6 in host:port", () => {
    assert.equal(hostPort("127.0.0.1", 2225), "127.0.0.1:2225");
    assert.equal(hostPort("::1", 2225), "[::1]:2225");
  });
});
