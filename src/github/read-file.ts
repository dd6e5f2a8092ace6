// Reading one file at one ref through the contents API, bounded in size. The gate reads request,
// policy and officer files this way, from the base branch or the merge commit.
import type { OctokitLike } from "./octokit-like.ts";
import { decodeBase64, malformed, parseBlob, parseContents } from "./parse.ts";
import type { RepoRef } from "./port.ts";
import { describe, send, sendData } from "./send.ts";

/** Request, policy and evidence files are small; anything bigger is refused, never streamed. */
export const MAX_FILE_BYTES = 1024 * 1024;

export type FileLookup =
  | {
      readonly kind: "file";
      readonly sha: string;
      readonly size: number;
      readonly content: string | null;
      readonly where: string;
    }
  | { readonly kind: "missing" }
  | { readonly kind: "unknown_ref"; readonly where: string };

/** A repository path as the contents API takes it: relative, no empty, `.` or `..` segments. */
export function checkRepoPath(path: string): void {
  const segments = path.split("/");
  if (path === "" || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new Error(`[github] ${JSON.stringify(path)} is not a repository file path`);
  }
}

/**
 * The contents API answers 404 both for a missing file and for a ref that does not exist. The two
 * must not be confused: "no policy file at the base" is a decision, "no such base" is an error.
 * GitHub tells them apart only by the message, so that is what is matched.
 */
function isUnknownRef(message: string): boolean {
  return /no commit found for the ref/i.test(message);
}

export async function lookupFile(octokit: OctokitLike, repo: RepoRef, path: string, ref: string): Promise<FileLookup> {
  checkRepoPath(path);
  if (ref === "") throw new Error("[github] a ref is required to read a file");
  const route = "GET /repos/{owner}/{repo}/contents/{path}";
  const params = { owner: repo.owner, repo: repo.repo, path, ref };
  const where = `${describe(route, params)}?ref=${encodeURIComponent(ref)}`;
  const answer = await send(octokit, route, params, [404]);
  if (!answer.ok) return isUnknownRef(answer.message) ? { kind: "unknown_ref", where } : { kind: "missing" };
  const entry = parseContents(answer.data, where);
  if (entry.kind === "directory") throw new Error(`[github] ${where}: ${path} is a directory, not a file`);
  if (entry.kind === "other") throw new Error(`[github] ${where}: ${path} is a ${entry.type}, not a file`);
  return { ...entry, where };
}

export async function readFile(
  octokit: OctokitLike,
  repo: RepoRef,
  path: string,
  ref: string,
): Promise<Uint8Array | null> {
  const found = await lookupFile(octokit, repo, path, ref);
  if (found.kind === "missing") return null;
  if (found.kind === "unknown_ref")
    throw new Error(`[github] ${found.where}: no commit found for ref ${JSON.stringify(ref)}`);
  if (found.size > MAX_FILE_BYTES) {
    throw new Error(
      `[github] ${path} at ${ref} is ${found.size} bytes; the gate reads files of at most ${MAX_FILE_BYTES} bytes`,
    );
  }
  if (found.content !== null) return decodeBase64(found.content, found.size, found.where);
  // Between 1 MB and 1 MiB the contents API omits the content: the blob API serves it.
  const route = "GET /repos/{owner}/{repo}/git/blobs/{file_sha}";
  const params = { owner: repo.owner, repo: repo.repo, file_sha: found.sha };
  const where = describe(route, params);
  const blob = parseBlob(await sendData(octokit, route, params), where);
  if (blob.size !== found.size) throw malformed(where, `size is ${blob.size}, the contents API said ${found.size}`);
  return decodeBase64(blob.content, blob.size, where);
}
