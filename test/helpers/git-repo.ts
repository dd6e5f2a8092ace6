// A repository with the gate's history in it, for the offline audit's tests and benchmark: the
// files the gate writes, made by the real engine (policy and request parsers, evaluateQuorum /
// evaluateGovernance, buildEvidence / buildGovernanceEvidence) over a token from the nodes' own
// record encoder or a real cluster, and `git` to commit them in a temporary directory.
//
//   const repo = createTestRepo();             // git init, in a fresh temp dir
//   after(() => repo.remove());
//   repo.commitFiles({ ".github/quorum-gate.yml": policyText(...) }, "policy", T0);
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fingerprint, signMessage } from "../../src/crypto/rsa.ts";
import { renderPayloadComment } from "../../src/gate/approval-command.ts";
import { approvalPayloadOf, renderApprovalPayload } from "../../src/gate/approval-payload.ts";
import type { ApprovalCandidate } from "../../src/gate/candidate.ts";
import { evaluateQuorum, type Decision } from "../../src/gate/evaluate.ts";
import { buildEvidence, buildGovernanceEvidence, type EvidenceFile } from "../../src/gate/evidence.ts";
import {
  evaluateGovernance,
  governanceBindingDigest,
  GOVERNANCE_SERVICE,
  parseGovernanceRequest,
} from "../../src/gate/governance.ts";
import { requestBindingDigest, serviceOf, toBindingContext } from "../../src/gate/operation.ts";
import { parsePolicy, type Policy } from "../../src/gate/policy.ts";
import { parseRequest } from "../../src/gate/request.ts";
import { encodeRecord } from "../../src/hsm/token-record.ts";
import type { TestKey } from "./keys.ts";

// ---- the gate's files ------------------------------------------------------------------------

export interface Officer {
  readonly login: string;
  readonly officer: string;
  readonly key: TestKey;
}

export interface PolicyOptions {
  readonly cluster: string;
  readonly officers: readonly Officer[];
  /** Officers whose key the policy pins (by officer name); default: every one. A string pins that fingerprint instead. */
  readonly pins?: Readonly<Record<string, boolean | string>>;
  readonly allowSelfApproval?: boolean;
  readonly tokenLifetimeSeconds?: number;
  /** `cloudhsm-cli`: officers approve the payload, and each pins its `public_key` (not only the fingerprint). */
  readonly backend?: "cloudhsm-cli";
}

export function policyText(o: PolicyOptions): string {
  const lines = [`version: 1`, `cluster: ${o.cluster}`];
  if (o.allowSelfApproval !== undefined) lines.push(`allow_self_approval: ${o.allowSelfApproval}`);
  if (o.tokenLifetimeSeconds !== undefined) lines.push(`token_lifetime_seconds: ${o.tokenLifetimeSeconds}`);
  if (o.backend !== undefined) lines.push(`backend: ${o.backend}`);
  lines.push("officers:");
  for (const officer of o.officers) {
    const pin = o.pins?.[officer.officer] ?? true;
    if (o.backend !== undefined)
      lines.push(
        `  ${officer.login}:`,
        `    officer: ${officer.officer}`,
        `    public_key: |`,
        ...officer.key.publicPem
          .trimEnd()
          .split("\n")
          .map((l) => `      ${l}`),
      );
    else if (pin === false) lines.push(`  ${officer.login}: ${officer.officer}`);
    else
      lines.push(
        `  ${officer.login}:`,
        `    officer: ${officer.officer}`,
        `    key_fingerprint: ${pin === true ? fingerprint(officer.key.publicKey) : pin}`,
      );
  }
  return `${lines.join("\n")}\n`;
}

/** A createUser request for a CU; the sealed password is filler of the right size (no cluster opens it). */
export function requestText(
  cluster: string,
  userName: string,
  options: { readonly sealedPassword?: string; readonly requestedBy?: string } = {},
): string {
  const sealed = options.sealedPassword ?? Buffer.alloc(256, userName.length).toString("base64");
  return [
    `version: 1`,
    `cluster: ${cluster}`,
    `operation:`,
    `  kind: createUser`,
    `  type: CU`,
    `  name: ${userName}`,
    `  sealed_password: ${sealed}`,
    `reason: service account ${userName}`,
    ...(options.requestedBy === undefined ? [] : [`requested_by: ${options.requestedBy}`]),
    "",
  ].join("\n");
}

/** A token file as the nodes write it: one operation-bound record per node, created at `createdAt`. */
export function tokenFile(service: number, binding: string, createdAt: number, nodes = 2, tokenId = 1): Buffer {
  return Buffer.concat(
    Array.from({ length: nodes }, (_, nodeId) =>
      encodeRecord({
        service,
        tokenId,
        keyHandle: 0n,
        nonce: `${nodeId}${tokenId}`.padStart(32, "0").slice(-32),
        userName: "gate",
        nodeId,
        createdAt,
        binding,
      }),
    ),
  );
}

/** What the gate needs from the cluster, as it would read it: every officer's key, and M. */
export interface ClusterFacts {
  readonly officerKeys: ReadonlyMap<string, string>;
  readonly m: number;
}

export function clusterFacts(officers: readonly Officer[], m: number): ClusterFacts {
  return { officerKeys: new Map(officers.map((o) => [o.officer, o.key.publicPem])), m };
}

export interface ApprovalSpec {
  readonly repository: string;
  readonly pullRequest: number;
  readonly author: string;
  /** Who signs, in posting order. */
  readonly signers: readonly Officer[];
  /** Unix seconds when the gate decides (the approvals are posted just before). */
  readonly decidedAt: number;
  readonly cluster: ClusterFacts;
  /** The token file; default: one from the record encoder, issued a minute before `decidedAt`. */
  readonly token?: Uint8Array;
}

export interface Approved {
  readonly decision: Decision;
  readonly token: Uint8Array;
  /** The evidence folder's files, repository paths → bytes. */
  readonly files: Readonly<Record<string, Uint8Array>>;
}

function candidates(spec: ApprovalSpec, token: Uint8Array): ApprovalCandidate[] {
  return spec.signers.map((s, i) => ({
    id: `issue_comment:${spec.pullRequest * 1000 + i}`,
    kind: "issue_comment",
    author: s.login,
    authorIsBot: false,
    body: `/quorum approve ${signMessage(token, s.key.privateKey).toString("base64")}\n`,
    createdAt: new Date((spec.decidedAt - 30 + i) * 1000).toISOString(),
  }));
}

function asFiles(files: readonly EvidenceFile[]): Record<string, Uint8Array> {
  return Object.fromEntries(files.map((f) => [f.path, f.content]));
}

/** A request approved by `spec.signers`, and the evidence the gate commits for it. Throws unless approved. */
export function approveRequest(
  policyBytes: string,
  requestPath: string,
  requestBytes: string,
  spec: ApprovalSpec,
): Approved {
  const policy = mustPolicy(policyBytes);
  const parsed = parseRequest(Buffer.from(requestBytes));
  if (!parsed.ok) throw new Error(`test request does not parse: ${JSON.stringify(parsed.issues)}`);
  const binding = requestBindingDigest(
    parsed.request,
    toBindingContext(spec.repository, spec.pullRequest, parsed.digest),
  );
  const token = spec.token ?? tokenFile(serviceOf(parsed.request.operation), binding, spec.decidedAt - 60);
  const input = {
    policy,
    repository: spec.repository,
    pullRequest: spec.pullRequest,
    tokenFile: token,
    officerKeys: spec.cluster.officerKeys,
    quorumValues: { user: spec.cluster.m, quorum: spec.cluster.m },
    prAuthor: spec.author,
    candidates: candidates(spec, token),
    now: spec.decidedAt,
  };
  const decision = evaluateQuorum({ ...input, request: parsed.request, requestDigest: parsed.digest });
  const built = buildEvidence({
    decision,
    request: parsed.request,
    requestPath,
    repository: spec.repository,
    pullRequest: spec.pullRequest,
    tokenFile: token,
    officerKeys: spec.cluster.officerKeys,
    pullRequestAuthor: spec.author,
    now: spec.decidedAt,
  });
  if (!built.ok)
    throw new Error(
      `test request not approved: ${built.message}; ${JSON.stringify(decision.problems)} ${JSON.stringify(decision.verdicts.map((v) => v.reason))}`,
    );
  return { decision, token, files: asFiles(built.files) };
}

/**
 * A request approved on a real cluster's long clock (backend cloudhsm-cli): each signer signs the
 * approval payload valid until `until`, and the evidence holds payloads and signatures, no token.
 */
export function approvePayloadRequest(
  policyBytes: string,
  requestPath: string,
  requestBytes: string,
  spec: ApprovalSpec & { readonly until: string },
): Approved {
  const policy = mustPolicy(policyBytes);
  const parsed = parseRequest(Buffer.from(requestBytes));
  if (!parsed.ok) throw new Error(`test request does not parse: ${JSON.stringify(parsed.issues)}`);
  const payload = renderApprovalPayload(
    approvalPayloadOf({
      verdict: "approve",
      request: parsed.request,
      requestDigest: parsed.digest,
      requestPath,
      repository: spec.repository,
      pullRequest: spec.pullRequest,
      expiresAt: spec.until,
    }),
  );
  const decision = evaluateQuorum({
    policy,
    repository: spec.repository,
    pullRequest: spec.pullRequest,
    tokenFile: null,
    officerKeys: new Map(),
    registeredOfficers: spec.signers.map((s) => s.officer),
    quorumValues: { user: spec.cluster.m, quorum: spec.cluster.m },
    prAuthor: spec.author,
    candidates: spec.signers.map((s, i) => ({
      id: `issue_comment:${spec.pullRequest * 1000 + i}`,
      kind: "issue_comment",
      author: s.login,
      authorIsBot: false,
      body: renderPayloadComment("approve", spec.until, signMessage(payload, s.key.privateKey)),
      createdAt: new Date((spec.decidedAt - 30 + i) * 1000).toISOString(),
    })),
    now: spec.decidedAt,
    request: parsed.request,
    requestDigest: parsed.digest,
    requestPath,
  });
  const built = buildEvidence({
    decision,
    request: parsed.request,
    requestPath,
    repository: spec.repository,
    pullRequest: spec.pullRequest,
    tokenFile: null,
    officerKeys: new Map(),
    policy,
    pullRequestAuthor: spec.author,
    now: spec.decidedAt,
  });
  if (!built.ok)
    throw new Error(
      `test request not approved: ${built.message}; ${JSON.stringify(decision.problems)} ${JSON.stringify(decision.verdicts.map((v) => v.message))}`,
    );
  return { decision, token: new Uint8Array(), files: asFiles(built.files) };
}

/** The binding digest of a request's token in a pull request: what a real cluster is asked to bind. */
export function requestBinding(
  requestBytes: string,
  repository: string,
  pullRequest: number,
): { readonly binding: string; readonly service: number } {
  const parsed = parseRequest(Buffer.from(requestBytes));
  if (!parsed.ok) throw new Error("test request does not parse");
  return {
    binding: requestBindingDigest(parsed.request, toBindingContext(repository, pullRequest, parsed.digest)),
    service: serviceOf(parsed.request.operation),
  };
}

/** A policy change (`proposed`, or null for a deletion) approved by the current policy's officers, and its evidence. */
export function approveGovernance(currentBytes: string, proposed: string | null, spec: ApprovalSpec): Approved {
  const policy = mustPolicy(currentBytes);
  const change = parseGovernanceRequest(proposed === null ? null : Buffer.from(proposed), Buffer.from(currentBytes));
  if (!change.ok) throw new Error("test policy change does not parse");
  const binding = governanceBindingDigest(policy.cluster, change.request, spec.repository, spec.pullRequest);
  const token = spec.token ?? tokenFile(GOVERNANCE_SERVICE, binding, spec.decidedAt - 60);
  const decision = evaluateGovernance({
    policy,
    change: change.request,
    repository: spec.repository,
    pullRequest: spec.pullRequest,
    tokenFile: token,
    officerKeys: spec.cluster.officerKeys,
    quorumValues: { user: spec.cluster.m, quorum: spec.cluster.m },
    prAuthor: spec.author,
    candidates: candidates(spec, token),
    now: spec.decidedAt,
  });
  const built = buildGovernanceEvidence({
    decision,
    change: change.request,
    policy,
    repository: spec.repository,
    pullRequest: spec.pullRequest,
    tokenFile: token,
    officerKeys: spec.cluster.officerKeys,
    pullRequestAuthor: spec.author,
    now: spec.decidedAt,
  });
  if (!built.ok) throw new Error(`test policy change not approved: ${built.message}`);
  return { decision, token, files: asFiles(built.files) };
}

function mustPolicy(bytes: string): Policy {
  const parsed = parsePolicy(Buffer.from(bytes));
  if (!parsed.ok) throw new Error(`test policy does not parse: ${JSON.stringify(parsed.issues)}`);
  return parsed.policy;
}

// ---- git ---------------------------------------------------------------------------------------

export interface TestRepo {
  readonly dir: string;
  /** Runs git in the repository; returns stdout. `at` (Unix seconds) sets author and committer dates. */
  git(args: readonly string[], at?: number): string;
  /** Writes (or, for null, deletes) files in the working tree, stages them and commits; returns the commit id. */
  commitFiles(files: Readonly<Record<string, string | Uint8Array | null>>, message: string, at: number): string;
  remove(): void;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

/** `git` for tests: a fixed identity, no user or system configuration, dates as given. */
export function gitSync(dir: string, args: readonly string[], at?: number, input?: Buffer): string {
  const dates = at === undefined ? {} : { GIT_AUTHOR_DATE: `@${at} +0000`, GIT_COMMITTER_DATE: `@${at} +0000` };
  return execFileSync("git", ["-C", dir, ...args], {
    env: {
      ...process.env,
      ...IDENTITY,
      ...dates,
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      LC_ALL: "C",
    },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    ...(input === undefined ? {} : { input }),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

export function createTestRepo(): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), "qg-audit-repo-"));
  gitSync(dir, ["init", "--quiet", "--initial-branch=main"]);
  const git = (args: readonly string[], at?: number): string => gitSync(dir, args, at);
  return {
    dir,
    git,
    commitFiles(files, message, at) {
      for (const [path, content] of Object.entries(files)) {
        const full = join(dir, path);
        if (content === null) {
          git(["rm", "--quiet", "--", path]);
          continue;
        }
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
        git(["add", "--", path]);
      }
      git(["commit", "--quiet", "--allow-empty", "-m", message], at);
      return git(["rev-parse", "HEAD"]).trim();
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
