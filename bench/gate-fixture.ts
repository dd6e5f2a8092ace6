// Shared inputs of the gate benchmarks (gate-verify, gate-evaluate), built in memory: a policy of
// 20 officers (the most a policy may map), a createUser request, a 3-node token file bound to it,
// the officers' registered keys and helpers to make candidates. Keys come from
// test/helpers/keys.ts, generated once per process (about a second each).
import { signMessage } from "../src/crypto/rsa.ts";
import type { ApprovalCandidate } from "../src/gate/candidate.ts";
import type { EvaluationInput } from "../src/gate/evaluate.ts";
import { requestBindingDigest, toBindingContext } from "../src/gate/operation.ts";
import { parsePolicy, type Policy } from "../src/gate/policy.ts";
import { parseRequest, type GateRequest } from "../src/gate/request.ts";
import { encodeRecord } from "../src/hsm/token-record.ts";
import { testKey, type TestKey } from "../test/helpers/keys.ts";

export const OFFICER_COUNT = 20;
export const REPO = "acme/hsm-ops";
export const PR = 42;
export const NOW = 1_800_000_000;

export interface Officer {
  readonly login: string;
  readonly officer: string;
  readonly key: TestKey;
}

export interface GateFixture {
  readonly officers: readonly Officer[];
  readonly policy: Policy;
  readonly request: GateRequest;
  readonly requestDigest: string;
  /** The current token file: 3 operation-bound records, one per node. */
  readonly token: Buffer;
  /** An older token of the same request, for stale approvals. */
  readonly oldToken: Buffer;
  readonly officerKeys: ReadonlyMap<string, string>;
  /** An evaluation of this request with these candidates. */
  input(candidates: readonly ApprovalCandidate[]): EvaluationInput;
}

let cached: GateFixture | null = null;

export function gateFixture(): GateFixture {
  if (cached !== null) return cached;
  const officers: Officer[] = Array.from({ length: OFFICER_COUNT }, (_, i) => ({
    login: `officer-login-${i + 1}`,
    officer: `officer${i + 1}`,
    key: testKey(`bench-gate-officer${i + 1}`),
  }));
  const mappings = officers.map((o) => `  ${o.login}: ${o.officer}\n`).join("");
  const policyResult = parsePolicy(
    Buffer.from(`version: 1\ncluster: cluster-bench\ntoken_lifetime_seconds: 86400\nofficers:\n${mappings}`),
  );
  if (!policyResult.ok) throw new Error(`bench policy: ${JSON.stringify(policyResult.issues)}`);
  const sealed = Buffer.alloc(256, 7).toString("base64");
  const requestResult = parseRequest(
    Buffer.from(
      `version: 1\ncluster: cluster-bench\noperation:\n  kind: createUser\n  type: CU\n  name: payments7\n  sealed_password: ${sealed}\nreason: payments service account\n`,
    ),
  );
  if (!requestResult.ok) throw new Error("bench request does not parse");
  const request = requestResult.request;
  const requestDigest = requestResult.digest;
  const binding = requestBindingDigest(request, toBindingContext(REPO, PR, requestDigest));
  const tokenAt = (createdAt: number, tokenId: number) =>
    Buffer.concat(
      [0, 1, 2].map((nodeId) =>
        encodeRecord({
          service: 3,
          tokenId,
          keyHandle: 0n,
          nonce: `${nodeId}${tokenId}`.padEnd(32, "a"),
          userName: "quorum-gate",
          nodeId,
          createdAt,
          binding,
        }),
      ),
    );
  const token = tokenAt(NOW - 30_000, 2);
  const oldToken = tokenAt(NOW - 90_000, 1);
  const officerKeys = new Map(officers.map((o) => [o.officer, o.key.publicPem]));
  cached = {
    officers,
    policy: policyResult.policy,
    request,
    requestDigest,
    token,
    oldToken,
    officerKeys,
    input: (candidates) => ({
      policy: policyResult.policy,
      request,
      requestDigest,
      repository: REPO,
      pullRequest: PR,
      tokenFile: token,
      officerKeys,
      quorumValues: { user: 2, quorum: 2 },
      prAuthor: "requester",
      candidates,
      now: NOW,
    }),
  };
  return cached;
}

/** `/quorum approve <base64>` as an officer posts it, over `token` with `key`. */
export function approvalBody(token: Uint8Array, key: TestKey): string {
  return `/quorum approve ${signMessage(token, key.privateKey).toString("base64")}\n`;
}

/** An issue comment posted `seq` seconds into the discussion. */
export function comment(
  seq: number,
  author: string,
  body: string,
  extra: Partial<ApprovalCandidate> = {},
): ApprovalCandidate {
  return {
    id: `issue_comment:${1_000_000 + seq}`,
    kind: "issue_comment",
    author,
    authorIsBot: false,
    body,
    createdAt: new Date((NOW - 25_000 + seq) * 1000).toISOString(),
    url: `https://github.com/${REPO}/pull/${PR}#issuecomment-${1_000_000 + seq}`,
    ...extra,
  };
}
