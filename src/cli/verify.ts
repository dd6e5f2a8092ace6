// `quorum-gate verify`: check an approved operation from git alone (docs/audit.md). Given a
// repository and a request file, an evidence folder or a landing commit, it finds where the
// evidence landed on the first-parent history, re-verifies it against the policy of that commit's
// first parent and prints a verdict per signature. With --approval-file it checks a CMU approval
// file and its signature files instead, as approveToken would.
//
// Exit codes: 0 the quorum holds; 1 it does not, or the evidence is inconsistent; 2 bad arguments,
// not a git repository, or a file that is not there.
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseEvidenceDocument, type EvidenceRecord } from "../gate/evidence-document.ts";
import { GitError, openRepository } from "../audit/git.ts";
import { targetOf } from "../audit/locate.ts";
import {
  REQUIRED_NOTE,
  renderApprovalFileVerification,
  renderVerification,
  verificationJson,
} from "../audit/render.ts";
import { verifyApprovalFile, type KeySource } from "../audit/verify-approval-file.ts";
import { verifyFromGit } from "../audit/verify-git.ts";
import { replayHolds } from "../audit/replay-status.ts";
import { parsePublicKey } from "../crypto/rsa.ts";
import { parseApprovalFile, resolveApprovalPaths, tokenPathOf } from "../formats/approval-file.ts";
import { EVIDENCE_FILE_NAME } from "../gate/evidence.ts";
import { formatIssue } from "../gate/issues.ts";
import { MAX_OFFICERS, parsePolicy } from "../gate/policy.ts";
import { parseCommandArgs } from "./args.ts";
import { readInputFile } from "./input-file.ts";
import { isRefusal, refuse, type Refusal } from "./refusal.ts";
import type { CliIo } from "./io.ts";

const HELP = `Usage: quorum-gate verify [--repo DIR] [--rev REV] [--commit C] [PATH] [--json]
       quorum-gate verify --approval-file FILE (--key OFFICER=PEM ... | --policy FILE)
                          [--required N] [--json]

Checks an approved operation offline. In a git repository (the first form) it finds the commit
that landed the evidence of PATH on the first-parent history of REV (or takes --commit), reads the
evidence folder and the request from that commit and the policy from its first parent, runs the
gate's engine on them again and checks that the request, token.bin, the .sig files, approval.txt
and the binding digest are the ones evidence.json records. A signature counts only when the
policy pins its officer's key (key_fingerprint). Nothing is read from the working tree. On a
real cluster it also verifies the execution windows recorded on the landing commit under
refs/quorum-gate/windows/ (fetch them first: docs/audit.md).

  PATH                   a request file (hsm-requests/app7.yml), an evidence folder or a file in
                         one, or .github/quorum-gate.yml (the newest policy change); relative to
                         the repository's top. Without PATH, --commit verifies all it lands.
  --repo DIR             the repository (default: the current directory)
  --rev REV              whose first-parent history to search (default: HEAD)
  --commit C             the commit that landed the evidence (a merge or squash commit)

With --approval-file it checks a CMU approval file as approveToken would: the token file and the
signature files it names (paths relative to the approval file, as CMU resolves them), each
signature against its officer's key, each officer once, at least N officers.

  --approval-file FILE   the approval file (e.g. an evidence folder's approval.txt)
  --key OFFICER=PEM      an officer's public key file (repeatable); these keys are trusted as given
  --policy FILE          instead of --key: the keys in the evidence.json beside the approval file,
                         where this policy pins them (key_fingerprint)
  --required N           how many officers must approve (default: the M recorded in the
                         evidence.json beside the approval file)

  --json                 print one JSON document instead of text
  -h, --help             show this help

M (how many officers must approve) is cluster state: git holds only the value the gate recorded
in evidence.json, and verify uses that. Exit status: 0 the quorum holds; 1 it does not, or the
evidence is inconsistent; 2 bad arguments, not a git repository, or a missing file.
`;

const OPTIONS = {
  repo: { type: "string" },
  rev: { type: "string" },
  commit: { type: "string" },
  json: { type: "boolean" },
  "approval-file": { type: "string" },
  key: { type: "string", multiple: true },
  policy: { type: "string" },
  required: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Approval files, token files, keys, policies and evidence.json are all small. */
const MAX_FILE_BYTES = 1024 * 1024;

export async function runVerify(argv: string[], io: CliIo): Promise<number> {
  const outcome = await verify(argv, io);
  if (isRefusal(outcome)) {
    io.stderr.write(`quorum-gate verify: ${outcome.message}\n`);
    return outcome.refused;
  }
  return outcome;
}

async function verify(argv: string[], io: CliIo): Promise<number | Refusal> {
  const parsed = parseCommandArgs(argv, OPTIONS, 1, "verify takes no secrets");
  if (!parsed.ok) return refuse(2, `${parsed.message}\nRun 'quorum-gate verify --help' for the options.`);
  const v = parsed.values;
  if (v.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  const json = v.json === true;
  if (v["approval-file"] !== undefined) {
    const extra = [
      v.repo === undefined ? null : "--repo",
      v.rev === undefined ? null : "--rev",
      v.commit === undefined ? null : "--commit",
      parsed.positionals.length > 0 ? "a PATH" : null,
    ].filter((x) => x !== null);
    if (extra.length > 0) return refuse(2, `--approval-file checks plain files; it takes no ${extra.join(", ")}`);
    return verifyApprovalFileMode(
      v["approval-file"],
      { keys: v.key ?? [], policy: v.policy, required: v.required },
      json,
      io,
    );
  }
  const cmuOnly = [
    v.key === undefined ? null : "--key",
    v.policy === undefined ? null : "--policy",
    v.required === undefined ? null : "--required",
  ].filter((x) => x !== null);
  if (cmuOnly.length > 0)
    return refuse(
      2,
      `${cmuOnly.join(", ")} go with --approval-file; in a repository the keys and M come from the evidence and the policy`,
    );
  const path = parsed.positionals[0];
  if (path === undefined && v.commit === undefined)
    return refuse(
      2,
      "give a request file or evidence folder, or --commit C\nRun 'quorum-gate verify --help' for the options.",
    );
  const target = path === undefined ? null : targetOf(path);
  if (target !== null && "error" in target) return refuse(2, target.error);

  const opened = await openRepository(v.repo ?? ".");
  if (!opened.ok) return refuse(2, opened.message);
  let result;
  try {
    result = await verifyFromGit(opened.repo, { target, rev: v.rev ?? "HEAD", commit: v.commit ?? null });
  } catch (err) {
    if (err instanceof GitError) return refuse(2, `git: ${err.message}`);
    throw err;
  }
  if (!result.ok) return refuse(result.exitCode, result.message);
  const { results, windows } = result;
  const holds = results.every((r) => r.holds && replayHolds(windows.get(r) ?? null));
  if (json)
    io.stdout.write(
      `${JSON.stringify({ holds, operations: results.map((r) => verificationJson(r, windows.get(r))) }, null, 2)}\n`,
    );
  else io.stdout.write(results.map((r) => renderVerification(r, windows.get(r))).join("\n"));
  return holds ? 0 : 1;
}

interface CmuOptions {
  readonly keys: readonly string[];
  readonly policy: string | undefined;
  readonly required: string | undefined;
}

function verifyApprovalFileMode(approvalPath: string, options: CmuOptions, json: boolean, io: CliIo): number | Refusal {
  if (options.keys.length > 0 && options.policy !== undefined)
    return refuse(
      2,
      "give the keys one way: --key OFFICER=PEM, or --policy with the evidence.json beside the approval file",
    );
  if (options.keys.length === 0 && options.policy === undefined)
    return refuse(
      2,
      "no keys: give --key OFFICER=PEM for each officer, or --policy FILE to use the pinned keys of the evidence.json beside the approval file",
    );
  let required: number | null = null;
  if (options.required !== undefined) {
    if (!/^[1-9][0-9]?$/.test(options.required) || Number(options.required) > MAX_OFFICERS)
      return refuse(2, `--required must be a whole number from 1 to ${MAX_OFFICERS}`);
    required = Number(options.required);
  }

  const text = readFile(approvalPath, "approval file");
  if (isRefusal(text)) return text;
  const parsedFile = parseApprovalFile(text.toString("utf8"));
  if (!parsedFile.ok) return refuse(1, `${approvalPath} is not a valid CMU approval file: ${parsedFile.error}`);
  const dir = dirname(resolve(approvalPath));
  const file = resolveApprovalPaths(parsedFile.value, dir);
  const token = readFile(tokenPathOf(file), "token file");
  if (isRefusal(token)) return token;
  const signatures: Buffer[] = [];
  for (const a of file.approvals) {
    const sig = readFile(a.approvalFile, `signature file of ${a.approverName}`);
    if (isRefusal(sig)) return sig;
    signatures.push(sig);
  }

  // An evidence.json beside it: the folder is a gate evidence folder (copied out of git, say).
  let beside: { evidence: EvidenceRecord; approvalText: string; files: Map<string, Uint8Array> } | null = null;
  const evidencePath = resolve(dir, EVIDENCE_FILE_NAME);
  if (existsSync(evidencePath)) {
    const bytes = readFile(evidencePath, EVIDENCE_FILE_NAME);
    if (isRefusal(bytes)) return bytes;
    const doc = parseEvidenceDocument(bytes);
    if (!doc.ok) return refuse(1, `${evidencePath}: ${doc.message}`);
    const files = new Map<string, Uint8Array>();
    for (const name of readdirSync(dir)) {
      const full = resolve(dir, name);
      if (!statSync(full).isFile()) continue;
      const content = name.endsWith(".sig") ? readFile(full, "signature file") : Buffer.alloc(0);
      if (isRefusal(content)) return content;
      files.set(name, content);
    }
    beside = { evidence: doc.evidence, approvalText: text.toString("utf8"), files };
  }

  let keys: KeySource;
  if (options.policy !== undefined) {
    if (beside === null)
      return refuse(
        2,
        `--policy uses the keys of the ${EVIDENCE_FILE_NAME} beside the approval file, and there is none in ${dir}`,
      );
    const policyBytes = readFile(options.policy, "policy file");
    if (isRefusal(policyBytes)) return policyBytes;
    const policy = parsePolicy(policyBytes);
    if (!policy.ok)
      return refuse(
        2,
        `${options.policy} is not a valid policy: ${policy.issues.slice(0, 3).map(formatIssue).join("; ")}`,
      );
    keys = { kind: "pinned", policy: policy.policy, evidence: beside.evidence };
  } else {
    const given = new Map<string, string>();
    for (const spec of options.keys) {
      const eq = spec.indexOf("=");
      const officer = spec.slice(0, eq).trim().toLowerCase();
      if (eq <= 0 || officer === "" || eq === spec.length - 1)
        return refuse(2, `--key ${spec}: write it as OFFICER=PEM-FILE`);
      if (given.has(officer)) return refuse(2, `--key gives officer ${officer} twice`);
      const pem = readFile(spec.slice(eq + 1), `public key of ${officer}`);
      if (isRefusal(pem)) return pem;
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem.toString("latin1")))
        return refuse(
          2,
          `${spec.slice(eq + 1)} is a private key: verify needs only the public key (openssl rsa -in KEY -pubout)`,
        );
      const key = parsePublicKey(pem.toString("utf8"));
      if (!key.ok) return refuse(2, `${spec.slice(eq + 1)} is not an RSA-2048 public key (${key.reason})`);
      given.set(officer, key.pem);
    }
    keys = { kind: "given", keys: given };
  }
  const requiredSource = required !== null ? "as given with --required" : REQUIRED_NOTE;
  const n = required ?? beside?.evidence.required ?? null;
  if (n === null)
    return refuse(2, `give --required N: there is no ${EVIDENCE_FILE_NAME} beside the approval file to take M from`);

  const result = verifyApprovalFile({ approvers: file.approvals, token, signatures, keys, required: n, beside });
  // Paths as the approval file writes them, not as they were resolved on this machine.
  const shown = {
    ...result,
    approvers: result.approvers.map((a, i) => ({
      ...a,
      approvalFile: parsedFile.value.approvals[i]?.approvalFile ?? a.approvalFile,
    })),
  };
  if (json)
    io.stdout.write(
      `${JSON.stringify({ holds: shown.holds, approvalFile: approvalPath, required: shown.required, requiredSource, counted: shown.counted, checks: shown.checks, approvals: shown.approvers }, null, 2)}\n`,
    );
  else io.stdout.write(renderApprovalFileVerification(approvalPath, shown, requiredSource));
  return shown.holds ? 0 : 1;
}

function readFile(path: string, what: string): Buffer | Refusal {
  return readInputFile(path, what, { maxBytes: MAX_FILE_BYTES, unreadableExit: 2 });
}
