// One landed evidence folder, read from git objects and verified: the folder's files and the
// approved file as the landing commit holds them, the policy from its first parent, and the time
// the evidence was made. Nothing is read from the working tree.
import { EVIDENCE_FILE_NAME } from "../gate/evidence.ts";
import { POLICY_PATH } from "../gate/policy.ts";
import { parseEvidenceDocument } from "./evidence-document.ts";
import { ObjectReader } from "./git.ts";
import { evidenceCommitOf, isGovernanceFolder, type EvidenceCommit, type Landing } from "./history.ts";
import { subjectPath, verifyEvidence, type Verification } from "./verify-evidence.ts";

export interface LandedVerification extends Verification {
  readonly landing: Landing;
  /** The commit whose committer time judged the token. */
  readonly evidenceCommit: EvidenceCommit;
}

/** File modes of a regular file or an executable one in a git tree. */
const BLOB_MODES = new Set(["100644", "100755"]);

export async function verifyLanding(reader: ObjectReader, landing: Landing, made: ReadonlyMap<string, EvidenceCommit>): Promise<LandedVerification> {
  const { commit, folder } = landing;
  const tree = await reader.read(`${commit}:${folder}`);
  const entries = tree !== null && tree.type === "tree" ? ObjectReader.entries(tree).filter((e) => BLOB_MODES.has(e.mode)) : [];
  const blobs = await Promise.all(entries.map((e) => reader.read(e.oid)));
  const files = new Map<string, Uint8Array>();
  entries.forEach((e, i) => {
    const blob = blobs[i];
    if (blob !== null && blob !== undefined) files.set(e.name, blob.content);
  });

  const evidenceEntry = entries.find((e) => e.name === EVIDENCE_FILE_NAME);
  const evidenceCommit = evidenceEntry === undefined ? { commit, committedAt: landing.committedAt } : evidenceCommitOf(landing, evidenceEntry.oid, made);
  const doc = files.get(EVIDENCE_FILE_NAME);
  const parsed = doc === undefined ? null : parseEvidenceDocument(doc);
  const path = isGovernanceFolder(folder) ? POLICY_PATH : parsed?.ok === true ? subjectPath(folder, parsed.evidence) : null;
  const [subject, policy] = await Promise.all([
    path === null ? null : reader.read(`${commit}:${path}`),
    landing.firstParent === null ? null : reader.read(`${landing.firstParent}:${POLICY_PATH}`),
  ]);
  const verification = verifyEvidence({
    folder,
    files,
    subject: subject?.type === "blob" ? subject.content : null,
    policy: policy?.type === "blob" ? policy.content : null,
    now: evidenceCommit.committedAt,
  });
  return { ...verification, landing, evidenceCommit };
}
