// Everything a use-case test of the gate needs: a real cluster whose officers hold registered keys
// (plus the gate's own officer account, M(3) = 2), the fake GitHub API with a repository that
// carries the policy, and the GateDeps the App and the Action would build. The gate's clock
// follows the fake's, so "a /quorum retry newer than the last replay" means what it says.
import { Octokit } from "@octokit/rest";
import { createClusterGateway, type ClusterGateway } from "../../src/cluster/gateway.ts";
import { createNodeClient, type NodeClient } from "../../src/protocol/node-client.ts";
import { createGitHubPort } from "../../src/github/octokit-port.ts";
import type { OpName, OpRequest, OpResponse } from "../../src/protocol/messages.ts";
import type { GateDeps, PullRequestEvent } from "../../src/usecases/deps.ts";
import { startTestCluster, type TestCluster } from "./cluster.ts";
import { startFakeGitHub, type FakeGitHub, type FakeRepo } from "./fake-github.ts";
import { must, passwordOf, setUpQuorumCluster, type QuorumCluster } from "./quorum-cluster.ts";

export const POLICY_FILE = ".github/quorum-gate.yml";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export interface GateHarness {
  readonly cluster: TestCluster;
  readonly clients: readonly NodeClient[];
  readonly q: QuorumCluster;
  readonly gateway: ClusterGateway;
  readonly gh: FakeGitHub;
  /** `acme/hsm`, holding the policy of `policyLogins` on its default branch. */
  readonly repo: FakeRepo;
  readonly deps: GateDeps;
  readonly logs: readonly string[];
  /** One command on every node; throws on the first refusal. */
  all<K extends OpName>(op: K, body: OpRequest<K>, sessions?: readonly string[]): Promise<OpResponse<K>[]>;
  /** A policy mapping these logins to their officers, with optional extra top-level lines. */
  policyYaml(logins: readonly string[], extra?: string): string;
  /** A createUser request for a CU, its password sealed to the cluster. */
  requestYaml(name: string, password?: string): string;
  event(number: number, kind?: PullRequestEvent["trigger"]["kind"], action?: string): PullRequestEvent;
  stop(): Promise<void>;
}

export async function startGateHarness(options: {
  readonly nodes?: number;
  readonly officers: Readonly<Record<string, string>>;
  readonly policyLogins?: readonly string[];
  /** CU users to create before M is raised (for requests that delete them). */
  readonly cryptoUsers?: readonly string[];
}): Promise<GateHarness> {
  const cluster = await startTestCluster({ nodes: options.nodes ?? 3 });
  const clients = cluster.endpoints.map((e) => createNodeClient(e));
  const q = await setUpQuorumCluster(clients, {
    signers: Object.values(options.officers),
    members: ["gate"],
    m: 2,
    ...(options.cryptoUsers === undefined ? {} : { cryptoUsers: options.cryptoUsers }),
  });
  const gh = await startFakeGitHub({ startTime: new Date() });
  const policyYaml = (logins: readonly string[], extra = ""): string =>
    [
      `version: 1`,
      `cluster: ${q.clusterId}`,
      ...(extra === "" ? [] : [extra]),
      `officers:`,
      ...logins.map((l) => `  ${l}: ${options.officers[l] ?? ""}`),
      "",
    ].join("\n");
  const repo = gh.createRepo("acme/hsm", {
    files: {
      [POLICY_FILE]: policyYaml(options.policyLogins ?? Object.keys(options.officers)),
      "README.md": "HSM requests\n",
    },
  });
  const gateway = createClusterGateway(cluster.file, { userName: "gate", password: passwordOf("gate") });
  const logs: string[] = [];
  const deps: GateDeps = {
    github: createGitHubPort(new Octokit({ baseUrl: gh.url, auth: gh.issueToken(), log: quiet })),
    cluster: gateway,
    now: () => Math.floor(gh.now().getTime() / 1000),
    botLogin: gh.app.botLogin,
    appId: gh.app.id,
    ownPushesNotify: true,
    log: (line) => logs.push(line),
  };
  return {
    cluster,
    clients,
    q,
    gateway,
    gh,
    repo,
    deps,
    logs,
    all: (op, body, sessions = []) => must(clients, op, () => body, sessions),
    policyYaml,
    requestYaml: (name, password = `${name}-pass-1`) =>
      [
        `version: 1`,
        `cluster: ${q.clusterId}`,
        `operation:`,
        `  kind: createUser`,
        `  type: CU`,
        `  name: ${name}`,
        `  sealed_password: ${q.seal(password)}`,
        `reason: payments service`,
        "",
      ].join("\n"),
    event: (number, kind = "comment", action = "created") => ({
      repo: { owner: "acme", repo: "hsm" },
      number,
      trigger: { kind, action },
    }),
    async stop() {
      gateway.close();
      for (const c of clients) c.close();
      await gh.close();
      await cluster.stop();
    },
  };
}
