// One landed evidence folder, read from git objects and verified: the folder's files and the
// approved file as the landing commit holds them, the policy as its first parent holds it, and the
// time the evidence was made. Blobs are read by id (the history walk found them); nothing is read
// from the working tree.
import { EVIDENCE_FILE_NAME } from "../gate/evidence.ts";
import { POLICY_PATH } from "../gate/policy.ts";
import { parseEvidenceDocument } from "../gate/evidence-document.ts";
import type { ObjectReader } from "./git.ts";
import { evidenceCommitOf, isGovernanceFolder, type EvidenceCommit, type Landing } from "./history.ts";
import { subjectPath, verifyEvidence, type Verification } from "./verify-evidence.ts";

export interface LandedVerification extends Verification {
  readonly landing: Landing;
  /** The commit whose committer time judged the token. */
  readonly evidenceCommit: EvidenceCommit;
}

export async function verifyLanding(
  reader: ObjectReader,
  landing: Landing,
  made: ReadonlyMap<string, EvidenceCommit>,
): Promise<LandedVerification> {
  const { folder } = landing;
  const names = [...landing.files.keys()];
  const blobs = await Promise.all(names.map((name) => blob(reader, landing.files.get(name) ?? null)));
  const files = new Map<string, Uint8Array>();
  names.forEach((name, i) => {
    const content = blobs[i];
    if (content !== null && content !== undefined) files.set(name, content);
  });

  const doc = files.get(EVIDENCE_FILE_NAME);
  const parsed = doc === undefined ? null : parseEvidenceDocument(doc);
  const path = isGovernanceFolder(folder)
    ? POLICY_PATH
    : parsed?.ok === true
      ? subjectPath(folder, parsed.evidence)
      : null;
  const [subject, policy] = await Promise.all([
    blob(reader, path === null ? null : (landing.subjects.get(path) ?? null)),
    blob(reader, landing.policyBlob),
  ]);
  const evidenceCommit = evidenceCommitOf(landing, made);
  const verification = verifyEvidence({ folder, files, subject, policy, now: evidenceCommit.committedAt });
  return { ...verification, landing, evidenceCommit };
}

async function blob(reader: ObjectReader, oid: string | null): Promise<Uint8Array | null> {
  if (oid === null) return null;
  const object = await reader.read(oid);
  return object !== null && object.type === "blob" ? object.content : null;
}
