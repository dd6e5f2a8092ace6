// One file added or replaced on a branch with one commit (the evidence file of an approved
// request). The contents API needs the blob SHA of the file it replaces; a branch the app may
// not write (a fork, a protected branch) is an outcome for the caller, not an exception.
import type { OctokitLike } from "./octokit-like.ts";
import { parseCommitSha } from "./parse.ts";
import type { CommitResult, RepoRef } from "./port.ts";
import { lookupFile } from "./read-file.ts";
import { describe, send } from "./send.ts";

const REFUSED = [403, 404, 409, 422] as const;

function refusal(status: number): "forbidden" | "not_found" | "conflict" {
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  // 409: a protected branch or a ruleset said no. 422: the blob SHA we sent no longer matches,
  // because the file changed between our read and our write. Both mean "not now, not like this".
  return "conflict";
}

export async function commitFile(octokit: OctokitLike, repo: RepoRef, branch: string, path: string, content: Uint8Array, message: string): Promise<CommitResult> {
  if (branch === "") throw new Error("[github] commitFile needs a branch");
  const existing = await lookupFile(octokit, repo, path, branch);
  if (existing.kind === "unknown_ref") return { ok: false, reason: "not_found" };
  const route = "PUT /repos/{owner}/{repo}/contents/{path}";
  const params = {
    owner: repo.owner,
    repo: repo.repo,
    path,
    branch,
    message,
    content: Buffer.from(content).toString("base64"),
    ...(existing.kind === "file" ? { sha: existing.sha } : {}),
  };
  const answer = await send(octokit, route, params, REFUSED);
  if (!answer.ok) return { ok: false, reason: refusal(answer.status) };
  return { ok: true, sha: parseCommitSha(answer.data, describe(route, params)) };
}
