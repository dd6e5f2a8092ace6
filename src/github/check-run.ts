// This app's check run of one name on one commit: updated in place, created the first time.
// The lookup filters by app when the id is known, so another app's (or a workflow's) check run
// with the same name is never taken for ours.
import { clipUtf8 } from "./clip.ts";
import type { OctokitLike } from "./octokit-like.ts";
import { parseCheckRuns, parseId, type ParsedCheckRun } from "./parse.ts";
import type { CheckRunReport, CreateGuard, RepoRef } from "./port.ts";
import { describe, sendData, sendPaged } from "./send.ts";

interface CheckRunBody {
  readonly status: CheckRunReport["status"];
  readonly conclusion?: NonNullable<CheckRunReport["conclusion"]>;
  readonly output: { readonly title: string; readonly summary: string; readonly text?: string };
}

/** The fields GitHub takes for both create and update. */
function reportBody(report: CheckRunReport): CheckRunBody {
  const completed = report.status === "completed";
  // GitHub completes a run that is given a conclusion, and refuses a completed run without one:
  // either mismatch is a bug in the caller, not something to send and see.
  if (completed !== (report.conclusion !== undefined)) {
    throw new Error(
      `[github] check run ${JSON.stringify(report.name)}: a conclusion goes with status "completed" and only with it`,
    );
  }
  const output = {
    title: report.title,
    summary: clipUtf8(report.summary),
    ...(report.text === undefined ? {} : { text: clipUtf8(report.text) }),
  };
  return {
    status: report.status,
    ...(report.conclusion === undefined ? {} : { conclusion: report.conclusion }),
    output,
  };
}

export async function upsertCheckRun(
  octokit: OctokitLike,
  repo: RepoRef,
  appId: number | null,
  report: CheckRunReport,
  guardCreate?: CreateGuard,
  /** The runs of this name on this head, already read (a pull request snapshot): the first look. */
  known?: readonly ParsedCheckRun[],
): Promise<{ readonly id: number }> {
  const body = reportBody(report);
  const base = { owner: repo.owner, repo: repo.repo };
  const update = async (ours: ParsedCheckRun): Promise<{ readonly id: number }> => {
    // Probot paces writes to one a second, so an update that changes nothing costs a whole second
    // of every delivery (most events leave the decision as it was).
    if (unchanged(ours, body)) return { id: ours.id };
    const route = "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}";
    const params = { ...base, check_run_id: ours.id, ...body };
    return { id: parseId(await sendData(octokit, route, params), describe(route, params)) };
  };
  const create = async (): Promise<{ readonly id: number }> => {
    const route = "POST /repos/{owner}/{repo}/check-runs";
    const params = { ...base, name: report.name, head_sha: report.headSha, ...body };
    return { id: parseId(await sendData(octokit, route, params), describe(route, params)) };
  };

  const lookThenWrite = async (): Promise<{ readonly id: number }> => {
    const ours = await findOurs(octokit, repo, appId, report);
    return ours === undefined ? create() : update(ours);
  };

  const found = known === undefined ? await findOurs(octokit, repo, appId, report) : ours(known, appId, report);
  if (found !== undefined) return update(found);
  if (guardCreate === undefined) return create();
  // Under the claim, look again: the run may have been made between the first look and the claim.
  const guarded = await guardCreate(lookThenWrite);
  // "retry": another process held the claim and has let go, so its run is there now (or it died first).
  return guarded === "retry" ? lookThenWrite() : guarded;
}

async function findOurs(
  octokit: OctokitLike,
  repo: RepoRef,
  appId: number | null,
  report: CheckRunReport,
): Promise<ParsedCheckRun | undefined> {
  const listRoute = "GET /repos/{owner}/{repo}/commits/{ref}/check-runs";
  const listParams = {
    owner: repo.owner,
    repo: repo.repo,
    ref: report.headSha,
    check_name: report.name,
    ...(appId === null ? {} : { app_id: appId }),
  };
  return ours(
    parseCheckRuns(await sendPaged(octokit, listRoute, listParams), describe(listRoute, listParams)),
    appId,
    report,
  );
}

function ours(
  runs: readonly ParsedCheckRun[],
  appId: number | null,
  report: CheckRunReport,
): ParsedCheckRun | undefined {
  // The query already filters; checking again costs nothing and does not trust the filter.
  return runs.find((r) => r.name === report.name && (appId === null || r.appId === appId));
}

function unchanged(run: ParsedCheckRun, body: CheckRunBody): boolean {
  const { output } = body;
  return (
    run.status === body.status &&
    run.conclusion === (body.conclusion ?? null) &&
    run.output !== null &&
    run.output.title === output.title &&
    run.output.summary === output.summary &&
    run.output.text === (output.text ?? null)
  );
}
