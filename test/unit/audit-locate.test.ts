// What `quorum-gate verify PATH` is asked about, and which folders hold an operation's evidence.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isEvidenceFolder, isGovernanceFolder } from "../../src/audit/history.ts";
import { targetOf } from "../../src/audit/locate.ts";

describe("verify's PATH", () => {
  it("a request file, an evidence folder or a file in one, or the policy", () => {
    const table: [string, unknown][] = [
      [
        "hsm-requests/app7.yml",
        { kind: "folder", folder: "hsm-requests/app7.evidence/", requestPath: "hsm-requests/app7.yml" },
      ],
      [
        "./hsm-requests/app7.yaml",
        { kind: "folder", folder: "hsm-requests/app7.evidence/", requestPath: "hsm-requests/app7.yaml" },
      ],
      ["hsm-requests/app7.evidence", { kind: "folder", folder: "hsm-requests/app7.evidence/", requestPath: null }],
      ["hsm-requests/app7.evidence/", { kind: "folder", folder: "hsm-requests/app7.evidence/", requestPath: null }],
      [
        "hsm-requests/app7.evidence/officer1.sig",
        { kind: "folder", folder: "hsm-requests/app7.evidence/", requestPath: null },
      ],
      [
        ".github/quorum-gate.evidence/pr-12",
        { kind: "folder", folder: ".github/quorum-gate.evidence/pr-12/", requestPath: null },
      ],
      [
        ".github/quorum-gate.evidence/pr-12/evidence.json",
        { kind: "folder", folder: ".github/quorum-gate.evidence/pr-12/", requestPath: null },
      ],
      [".github/quorum-gate.yml", { kind: "governance" }],
    ];
    for (const [path, expected] of table) assert.deepEqual(targetOf(path), expected, path);
  });

  it("refuses paths that are none of those, or leave the repository", () => {
    for (const path of [
      "README.md",
      "",
      "/etc/passwd",
      "../x.yml",
      "a/../b.yml",
      ".github/quorum-gate.evidence/",
      ".github/quorum-gate.evidence/pr-0/",
      "hsm-requests/",
    ]) {
      assert.ok("error" in targetOf(path), path);
    }
  });

  it("knows evidence folders: <request>.evidence/ and .github/quorum-gate.evidence/pr-<n>/", () => {
    assert.ok(isEvidenceFolder("hsm-requests/app7.evidence/"));
    assert.ok(isEvidenceFolder("app7.evidence/"));
    assert.ok(isEvidenceFolder(".github/quorum-gate.evidence/pr-7/"));
    assert.ok(isGovernanceFolder(".github/quorum-gate.evidence/pr-7/"));
    assert.ok(!isGovernanceFolder("hsm-requests/app7.evidence/"));
    for (const folder of [
      ".evidence/",
      "x/.evidence/",
      ".github/quorum-gate.evidence/",
      ".github/quorum-gate.evidence/pr-7/x/",
      ".github/quorum-gate.evidence/other/",
      "hsm-requests/app7/",
    ]) {
      assert.ok(!isEvidenceFolder(folder), folder);
    }
  });
});
