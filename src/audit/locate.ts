// What `quorum-gate verify` is asked about, as an evidence folder: a request file
// (`hsm-requests/app7.yml` → `hsm-requests/app7.evidence/`), an evidence folder or a file in one,
// or the policy file (its newest governance evidence). Paths are repository-relative.
import { evidenceFolder } from "../gate/evidence.ts";
import { POLICY_PATH } from "../gate/policy.ts";
import { isEvidenceFolder } from "./history.ts";

export type Target =
  | {
      readonly kind: "folder";
      readonly folder: string /** The request file it belongs to, when the user named one. */;
      readonly requestPath: string | null;
    }
  /** The policy file: evidence of governance requests. */
  | { readonly kind: "governance" };

export function targetOf(rawPath: string): Target | { readonly error: string } {
  const path = rawPath.replace(/^(\.\/)+/, "");
  if (path === "" || path.startsWith("/") || path.split("/").includes(".."))
    return { error: `${JSON.stringify(rawPath)} is not a repository-relative path` };
  if (path === POLICY_PATH) return { kind: "governance" };
  if (/\.ya?ml$/.test(path)) return { kind: "folder", folder: evidenceFolder(path), requestPath: path };
  const asFolder = `${path.replace(/\/+$/, "")}/`;
  if (isEvidenceFolder(asFolder)) return { kind: "folder", folder: asFolder, requestPath: null };
  const parent = path.slice(0, path.lastIndexOf("/") + 1);
  if (!path.endsWith("/") && isEvidenceFolder(parent)) return { kind: "folder", folder: parent, requestPath: null };
  return {
    error: `${path} is neither a request file (*.yml), ${POLICY_PATH}, nor an evidence folder (*.evidence/ or .github/quorum-gate.evidence/pr-N/) or a file in one`,
  };
}
