// `quorum-gate audit`: every operation whose evidence landed on the first-parent history of a
// revision, oldest first, each verified by the same code as `verify`, with the nodes' replay
// results when a cluster is given. Two `git log` runs and one `git cat-file --batch` serve the
// whole history; operations are read and verified with a bounded number in flight.
import type { ClusterReader } from "../cluster/gateway.ts";
import { ObjectReader, type GitRepo } from "./git.ts";
import { evidenceCommits, findLandings } from "./history.ts";
import { askReplay, replayNotAsked, type ReplayColumn } from "./replay-status.ts";
import { verifyLanding, type LandedVerification } from "./verify-landing.ts";
import { listWindowRefs, recordedWindows } from "./window-records.ts";

export interface AuditEntry {
  readonly verification: LandedVerification;
  readonly replay: ReplayColumn;
}

/** Operations read from git at once: enough to keep cat-file busy, few enough to bound memory. */
const IN_FLIGHT = 64;
/** Operations asked of the nodes at once (each asks every node). */
const NODE_IN_FLIGHT = 8;

export async function auditHistory(repo: GitRepo, rev: string, cluster: ClusterReader | null): Promise<AuditEntry[]> {
  const [landings, made] = await Promise.all([findLandings(repo, rev), evidenceCommits(repo, rev)]);
  const windowRefs = await listWindowRefs(repo);
  const reader = new ObjectReader(repo);
  let verified: LandedVerification[];
  const recorded = new Map<LandedVerification, ReplayColumn>();
  try {
    verified = await mapLimit(landings, IN_FLIGHT, (l) => verifyLanding(reader, l, made));
    for (const [v, column] of await recordedWindows(repo, reader, verified, windowRefs, { wholeHistory: true }))
      recorded.set(v, column);
  } finally {
    reader.close();
  }
  const subject = (v: LandedVerification) => ({
    kind: v.kind,
    cluster: v.evidence?.cluster ?? null,
    replay: v.replay,
    payloadApprovals: v.evidence !== null && v.evidence.token === undefined,
  });
  const replays = await mapLimit(verified, cluster === null ? IN_FLIGHT : NODE_IN_FLIGHT, async (v) => {
    const fromGit = recorded.get(v);
    if (fromGit !== undefined) return fromGit;
    return cluster === null ? replayNotAsked(subject(v), "no --cluster given") : askReplay(cluster, subject(v));
  });
  return verified.map((verification, i) => ({ verification, replay: replays[i] as ReplayColumn }));
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
