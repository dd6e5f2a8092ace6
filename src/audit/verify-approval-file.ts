// A CMU approval file checked offline the way `approveToken` checks it on the HSM: every approver
// must be a crypto officer whose signature file verifies over the whole token file under that
// officer's key (one bad approval and CMU refuses the whole file), each officer counts once, and
// at least `required` distinct officers must approve. The keys are the ones the auditor gives, or
// those of an evidence.json beside the file that the policy pins. With an evidence.json beside it,
// the files are also checked against it, as for evidence in git.
import { fingerprint, storedPublicKey, verifyMessage } from "../crypto/rsa.ts";
import { APPROVER_TYPE_CO, type Approver } from "../formats/approval-file.ts";
import type { Policy } from "../gate/policy.ts";
import type { VerdictReason } from "../gate/verdict.ts";
import type { EvidenceRecord } from "../gate/evidence-document.ts";
import { checkApprovalFile, checkSignatureFiles, checkTokenFile } from "./evidence-files.ts";
import { failure, pass, type Check, type OfflineReason } from "./findings.ts";
import { pinKey } from "./pinned-keys.ts";

export type KeySource =
  /** `--key officer=pem`: the auditor vouches for these keys. */
  | { readonly kind: "given"; readonly keys: ReadonlyMap<string, string> }
  /** `--policy`: the keys in the evidence.json beside the file, where the policy pins them. */
  | { readonly kind: "pinned"; readonly policy: Policy; readonly evidence: EvidenceRecord };

export interface ApprovalFileInput {
  /** The approvers of the parsed approval file, in its order. */
  readonly approvers: readonly Approver[];
  readonly token: Uint8Array;
  /** Each approver's signature file, in the same order. */
  readonly signatures: readonly Uint8Array[];
  readonly keys: KeySource;
  readonly required: number;
  /** An evidence.json beside the approval file, with the folder's files (name → bytes, approval.txt included). */
  readonly beside: {
    readonly evidence: EvidenceRecord;
    readonly approvalText: string;
    readonly files: ReadonlyMap<string, Uint8Array>;
  } | null;
}

export interface ApproverVerdict {
  readonly officer: string;
  readonly approvalFile: string;
  readonly keyFingerprint: string | null;
  readonly counted: boolean;
  readonly reason: VerdictReason | OfflineReason;
  readonly message: string;
}

export interface ApprovalFileVerification {
  readonly holds: boolean;
  readonly checks: readonly Check[];
  readonly approvers: readonly ApproverVerdict[];
  readonly counted: number;
  readonly required: number;
}

export function verifyApprovalFile(input: ApprovalFileInput): ApprovalFileVerification {
  const counted = new Set<string>();
  const approvers = input.approvers.map((a, i): ApproverVerdict => {
    const officer = a.approverName.toLowerCase();
    const base = { officer, approvalFile: a.approvalFile };
    if (a.approverType !== APPROVER_TYPE_CO)
      return {
        ...base,
        keyFingerprint: null,
        counted: false,
        reason: "not_a_crypto_officer",
        message: `approver type ${a.approverType}: only crypto officers (type ${APPROVER_TYPE_CO}) approve quorum tokens`,
      };
    const key = keyOf(input.keys, officer);
    if (!key.ok)
      return { ...base, keyFingerprint: key.fingerprint, counted: false, reason: key.reason, message: key.message };
    const signature = input.signatures[i] ?? new Uint8Array();
    if (!verifyMessage(input.token, key.key, signature)) {
      return {
        ...base,
        keyFingerprint: key.fingerprint,
        counted: false,
        reason: "bad_signature",
        message: `${a.approvalFile} does not verify over the token file under ${officer}'s key (${key.fingerprint.slice(0, 16)}…)`,
      };
    }
    if (counted.has(officer))
      return {
        ...base,
        keyFingerprint: key.fingerprint,
        counted: false,
        reason: "duplicate",
        message: `officer ${officer} is already counted once`,
      };
    counted.add(officer);
    return {
      ...base,
      keyFingerprint: key.fingerprint,
      counted: true,
      reason: "valid",
      message: `signed by officer ${officer}`,
    };
  });

  const checks: Check[] = [];
  if (input.beside !== null) {
    const { evidence, approvalText, files } = input.beside;
    checks.push(checkTokenFile(input.token, evidence));
    checks.push(checkApprovalFile(approvalText, evidence.approvals, [...files.keys()]));
    checks.push(checkSignatureFiles(files, evidence.approvals));
  }
  const refused = approvers.find((a) => !a.counted && a.reason !== "duplicate");
  checks.push(
    refused === undefined
      ? pass("approvals", `approveToken would accept every approval in the file`)
      : failure(
          "approvals",
          "approval_rejected",
          `approveToken would refuse the whole file: ${refused.officer}: ${refused.reason}`,
        ),
  );
  checks.push(
    counted.size >= input.required
      ? pass("quorum", `${counted.size} of ${input.required} required officers approved`)
      : failure("quorum", "quorum_not_met", `${counted.size} of ${input.required} required officers approved`),
  );
  return { holds: checks.every((c) => c.ok), checks, approvers, counted: counted.size, required: input.required };
}

type KeyLookup =
  | { readonly ok: true; readonly key: NonNullable<ReturnType<typeof storedPublicKey>>; readonly fingerprint: string }
  | {
      readonly ok: false;
      readonly reason: OfflineReason;
      readonly fingerprint: string | null;
      readonly message: string;
    };

function keyOf(source: KeySource, officer: string): KeyLookup {
  if (source.kind === "given") {
    const pem = [...source.keys].find(([name]) => name.toLowerCase() === officer)?.[1];
    const key = pem === undefined ? null : storedPublicKey(pem);
    if (key === null)
      return {
        ok: false,
        reason: "no_key",
        fingerprint: null,
        message: `no key was given for officer ${officer} (--key ${officer}=FILE)`,
      };
    return { ok: true, key, fingerprint: fingerprint(key) };
  }
  const recorded = source.evidence.approvals.find((a) => a.officer.toLowerCase() === officer);
  const pin = pinKey(source.policy, officer, recorded?.publicKey);
  if (pin.status !== "pinned")
    return {
      ok: false,
      reason: pin.status,
      fingerprint: pin.fingerprint,
      message:
        recorded === undefined ? `evidence.json records no approval, so no key, of officer ${officer}` : pin.message,
    };
  const key = storedPublicKey(pin.pem);
  if (key === null)
    return {
      ok: false,
      reason: "no_public_key",
      fingerprint: null,
      message: "the public key in evidence.json is not an RSA-2048 public key",
    };
  return { ok: true, key, fingerprint: pin.fingerprint };
}
