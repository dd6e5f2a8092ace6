// The events that wake the gate, in one list for the App (which subscribes to them), the Action
// (which plans a run from them) and app.yml (whose default_events a test holds to this list), and
// the one rule that drops the events the gate's own writes cause (docs/github-app.md, "Events").
import { parseApprovalComment } from "../gate/index.ts";
import type { Trigger } from "./deps.ts";

interface GateEvent {
  /** What the use case is told woke it. */
  readonly trigger: Trigger["kind"];
  /** The actions that can change a verdict; the others (`labeled`, `assigned`...) cannot. */
  readonly actions: readonly string[];
}

export const GATE_EVENTS = {
  pull_request: { trigger: "pull_request", actions: ["opened", "synchronize", "reopened", "edited", "closed"] },
  pull_request_review: { trigger: "review", actions: ["submitted", "edited", "dismissed"] },
  pull_request_review_comment: { trigger: "comment", actions: ["created", "edited", "deleted"] },
  issue_comment: { trigger: "comment", actions: ["created", "edited", "deleted"] },
  // The Re-run button of the App's `quorum` check: a fresh evaluation on demand, for what time
  // alone changes (a cooling-off that has ended, a cluster that is back). The App only; a
  // workflow's check is re-run with its job (docs/github-app.md, "Events").
  check_run: { trigger: "pull_request", actions: ["rerequested"] },
} as const satisfies Readonly<Record<string, GateEvent>>;

export type GateEventName = keyof typeof GATE_EVENTS;

export function isGateEvent(name: string): name is GateEventName {
  return Object.hasOwn(GATE_EVENTS, name);
}

/** `event.action` for each pair, as Probot's `app.on` takes them. */
export function gateEventKeys<N extends GateEventName>(
  name: N,
): `${N}.${(typeof GATE_EVENTS)[N]["actions"][number]}`[] {
  return GATE_EVENTS[name].actions.map((a) => `${name}.${a}` as `${N}.${(typeof GATE_EVENTS)[N]["actions"][number]}`);
}

/** Whether `action` of event `name` can change a verdict. */
export function changesVerdict(name: GateEventName, action: string): boolean {
  return (GATE_EVENTS[name].actions as readonly string[]).includes(action);
}

/**
 * An event the gate's own writes caused, to drop: its sticky comment comes back as comment (and,
 * for the Action, review) events sent by its own login, and evaluating them would rewrite the
 * comment and loop. Pull request events are kept, whoever sent them: the evidence commit moves the
 * head, and the new head needs its `quorum` check run (that evaluation finds the evidence present,
 * commits nothing, and settles).
 */
export function isOwnEvent(
  trigger: Trigger["kind"],
  senderLogin: string | null | undefined,
  ownLogin: string,
): boolean {
  return trigger !== "pull_request" && senderLogin?.toLowerCase() === ownLogin.toLowerCase();
}

/**
 * Why a delivery cannot change any outcome, judged from its payload alone, or null when it may.
 * The engine ignores a comment or review whose body holds no `/quorum` command line
 * (`judgeCandidate` returns null for it), so a new one, an edit that neither adds nor removes a
 * command, and the deletion or dismissal of one change nothing: such a delivery costs no GitHub
 * call and no cluster call (docs/github-app.md, "What a delivery costs"). It uses the engine's own
 * parser, so the two can never disagree. Pull request events always may change the outcome, and
 * so does any payload this function cannot read.
 */
export function inertDelivery(name: GateEventName, payload: unknown): "no_command" | null {
  if (name === "pull_request" || name === "check_run") return null;
  const p = record(payload);
  const holder = record(p?.[name === "pull_request_review" ? "review" : "comment"]);
  if (holder === undefined) return null;
  const bodies = [holder["body"]];
  const changes = record(record(p?.["changes"])?.["body"]);
  if (changes !== undefined) bodies.push(changes["from"]);
  for (const body of bodies) {
    // A review without a body comes as null; anything else unexpected is left to the full path.
    if (body === null) continue;
    if (typeof body !== "string") return null;
    const parsed = parseApprovalComment(body);
    if (parsed.ok || parsed.reason !== "not_a_command") return null;
  }
  return "no_command";
}

function record(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
