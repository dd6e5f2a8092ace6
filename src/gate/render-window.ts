// The execution-window section of the sticky comment (docs/real-cluster.md,
// "The window on merge"): while a window is open, the HSM's token to countersign, its deadline
// and the approvers it waits for; afterwards what became of it. The last line records the window's clock,
// so a `/quorum retry` posted while a window is open is told from one that asks for a new window.
import { escapeText, fencedBlock, inlineCode } from "./markdown.ts";
import { replayedAtMarker } from "./render-replay.ts";

export type WindowView =
  | {
      readonly state: "open";
      readonly tokenFile: Uint8Array;
      readonly openedAt: number;
      readonly deadline: number;
      /** Logins of the approvers still to countersign, for the mentions. */
      readonly waitingFor: readonly string[];
      readonly counted: number;
      readonly required: number;
    }
  | { readonly state: "applied"; readonly at: number; readonly message: string; readonly record?: RecordNote }
  | { readonly state: "already_applied"; readonly at: number; readonly message: string; readonly record?: RecordNote }
  | {
      readonly state: "lapsed";
      readonly at: number;
      readonly counted: number;
      readonly required: number;
      readonly why: string;
      readonly record?: RecordNote;
    }
  | {
      readonly state: "failed";
      readonly at: number;
      readonly code: string;
      readonly message: string;
      readonly record?: RecordNote;
    };

/** Where the window's record went in git (src/gate/window-record.ts), or why it did not. */
export type RecordNote =
  | { readonly ok: true; readonly ref: string; readonly commit: string }
  | { readonly ok: false; readonly reason: string };

function recordLines(note: RecordNote | undefined): string[] {
  if (note === undefined) return [];
  if (!note.ok)
    return [
      "",
      `The window's record could not be written to git (${inlineCode(note.reason)}); this comment and the check run hold it.`,
    ];
  return [
    "",
    `Recorded in git as ${inlineCode(note.ref)} (commit ${inlineCode(note.commit.slice(0, 12))}): fetch it with ${inlineCode(`git fetch origin '+refs/quorum-gate/windows/*:refs/quorum-gate/windows/*'`)}, and \`quorum-gate audit\` verifies it.`,
  ];
}

const WINDOW_MARKER = /^<!-- quorum-gate:window (\d{1,12}) (\d{1,12}) -->$/;

const utc = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

export function renderWindowSection(view: WindowView): string {
  switch (view.state) {
    case "open": {
      const mentions = view.waitingFor.map((l) => `@${l}`).join(" ");
      return [
        "",
        `### Execution window: open until ${utc(view.deadline)}`,
        "",
        `${mentions === "" ? "Approvers" : mentions}: the request is approved and merged. The HSM has issued its own quorum token in the gate's session; it lives until ${inlineCode(utc(view.deadline))}. ${view.counted} of ${view.required} countersignatures count so far.`,
        "",
        "Save the token file below as `token.json`, sign its `approval_data` with the key you approved with, and post the signature:",
        "",
        fencedBlock(Buffer.from(view.tokenFile).toString("utf8").trimEnd(), "json"),
        "",
        fencedBlock(
          [
            "jq -r .approval_data token.json | base64 -d > token-data.bin",
            "openssl dgst -sha256 -sign officer.key -out sig.bin token-data.bin",
            'echo "/quorum countersign $(base64 -w0 sig.bin)"',
          ].join("\n"),
          "sh",
        ),
        "",
        "Or `quorum-gate approve <owner/repo#N> --key officer.key --watch`. Only officers whose approval of this request counts can countersign; see docs/real-cluster.md.",
        "",
        replayedAtMarker(view.openedAt),
        `<!-- quorum-gate:window ${view.openedAt} ${view.deadline} -->`,
      ].join("\n");
    }
    case "applied":
    case "already_applied":
      return [
        "",
        view.state === "applied"
          ? "### Execution: applied on the cluster"
          : "### Execution: the cluster already shows the change",
        "",
        escapeText(view.message.slice(0, 300)),
        ...recordLines(view.record),
        "",
        replayedAtMarker(view.at),
      ].join("\n");
    case "lapsed":
      return [
        "",
        `### Execution window: lapsed at ${utc(view.at)}`,
        "",
        `${escapeText(view.why)} ${view.counted} of ${view.required} countersignatures had counted. Nothing ran, and the HSM's token is gone with the session. An officer posts \`/quorum retry\` to open a new window; everyone countersigns its new token.`,
        ...recordLines(view.record),
        "",
        replayedAtMarker(view.at),
      ].join("\n");
    case "failed":
      return [
        "",
        `### Execution: refused (${inlineCode(view.code)})`,
        "",
        `${escapeText(view.message.slice(0, 300))}`,
        "",
        'See docs/real-cluster.md ("Failure modes") before posting `/quorum retry`.',
        ...recordLines(view.record),
        "",
        replayedAtMarker(view.at),
      ].join("\n");
  }
}

/** The open window a sticky comment records (its last line), or null. */
export function readOpenWindow(stickyBody: string): { readonly openedAt: number; readonly deadline: number } | null {
  const lines = stickyBody.trimEnd().split("\n");
  const m = WINDOW_MARKER.exec(lines[lines.length - 1] ?? "");
  return m === null ? null : { openedAt: Number(m[1]), deadline: Number(m[2]) };
}
