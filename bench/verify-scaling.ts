// How the cost of verifying an approved token grows: with the number of approvers (2, 20) and
// with the amount of work (1x, 10x, 100x tokens of 20 approvers each), through the core's own
// verification path on a real SQLite repository.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { signMessage } from "../src/crypto/rsa.ts";
import { DEFAULT_CORE_CONFIG, type CoreContext } from "../src/hsm/context.ts";
import { initNode } from "../src/hsm/init.ts";
import { makeVerifier } from "../src/hsm/password.ts";
import { verifyApprovals } from "../src/hsm/tokens.ts";
import { createNodeDatabase } from "../src/node/sqlite-repository.ts";
import { testKey } from "../test/helpers/keys.ts";
import { sealingKeys } from "../test/helpers/core.ts";
import { linearity, timeIt, type Sample } from "./lib.ts";

export async function run(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "qg-bench-verify-"));
  try {
    const keys = sealingKeys();
    const repo = createNodeDatabase(
      join(dir, "hsm.db"),
      { clusterId: "bench", nodeId: 0, hsmId: "hsm-bench", sealingPublicKeyPem: keys.publicPem },
      keys.privatePem,
    );
    const ctx: CoreContext = { repo, env: { now: () => Date.now(), randomBytes }, config: DEFAULT_CORE_CONFIG };
    repo.transaction(() => initNode(ctx));
    const names = Array.from({ length: 20 }, (_, i) => `officer${i + 1}`);
    repo.transaction(() => {
      for (const name of names) {
        repo.insertUser({
          type: "CO",
          name,
          ...makeVerifier(ctx.env, "bench-pass"),
          loginFailures: 0,
          quorumKeyPem: testKey(name).publicPem,
          twoFactor: false,
        });
      }
    });
    const tokenData = randomBytes(80 * 3);
    const approvals = names.map((approverName) => ({
      approverName,
      approverType: 2,
      signature: signMessage(tokenData, testKey(approverName).privateKey),
    }));

    const byApprovers: Sample[] = [];
    for (const n of [2, 20]) {
      const subset = approvals.slice(0, n);
      byApprovers.push({
        label: `${n} approvers`,
        units: n,
        msPerCall: await timeIt(() => repo.transaction(() => verifyApprovals(ctx, tokenData, subset))),
      });
    }
    const byWork: Sample[] = [];
    for (const tokens of [1, 10, 100]) {
      byWork.push({
        label: `${tokens} token(s) x 20 approvers`,
        units: tokens,
        msPerCall: await timeIt(
          () => {
            for (let i = 0; i < tokens; i += 1) repo.transaction(() => verifyApprovals(ctx, tokenData, approvals));
          },
          { rounds: 3 },
        ),
      });
    }
    repo.close();
    return [
      "### Token verification (core path, SQLite repository, one process)",
      "",
      "| case | ms per call | work | cost | cost / work |",
      "|---|---|---|---|---|",
      ...linearity(byApprovers),
      ...linearity(byWork),
      "",
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
