// The gate's policy of the repository the CLI runs in, if any: `.github/quorum-gate.yml` in the
// working directory or the nearest parent up to the repository's root (the directory holding
// `.git`). `request` writes into the policy's request folder and refuses a cluster the policy does
// not govern, which the gate would refuse only after the pull request is open.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { formatIssue, parsePolicy, POLICY_PATH, type Policy } from "../gate/index.ts";

export type RepoPolicy =
  | { readonly kind: "none" }
  | { readonly kind: "found"; readonly root: string; readonly policy: Policy }
  | { readonly kind: "invalid"; readonly path: string; readonly problems: readonly string[] };

export function findRepoPolicy(start: string): RepoPolicy {
  for (let dir = start; ; dir = dirname(dir)) {
    const path = join(dir, POLICY_PATH);
    if (existsSync(path)) {
      const parsed = parsePolicy(readFileSync(path));
      return parsed.ok
        ? { kind: "found", root: dir, policy: parsed.policy }
        : { kind: "invalid", path, problems: parsed.issues.map(formatIssue) };
    }
    // The repository's root ends the search: a policy above it governs another repository.
    if (existsSync(join(dir, ".git")) || dirname(dir) === dir) return { kind: "none" };
  }
}
