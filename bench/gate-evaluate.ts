// Re-evaluating a busy pull request through evaluateQuorum: 1,000 comments and 20 officers, then
// the same mix at 10,000 comments, to see how the cost grows (linear expected). The mix, per
// 1,000 comments (seeded shuffle, so every run judges the same thread):
//
//   850 plain discussion: one-liners, paragraphs, fenced logs and quotes that mention /quorum
//    40 valid approvals by officers (each officer approves twice, the second is a duplicate)
//    20 withdrawals and 10 retry/renew requests by officers
//    10 stale approvals (the officer's key, over an older token)
//    10 bad signatures by officers (256 random bytes)
//     5 approvals that carry another officer's signature
//    25 by accounts the policy does not map: 5 copied officer signatures, 5 random ones, 15
//       withdraw/retry/renew
//    10 edited approvals, 10 malformed commands, 10 comments by bots
//
// Besides the time per evaluation, the run counts the RSA public-key operations one evaluation
// makes (crypto.verify and publicDecrypt, counted through the builtin's live bindings, outside
// the timed loops) and prices them with the raw cost of each, measured in the same run: the
// "RSA floor" that no implementation of these rules avoids. A last row times the adversarial
// case of 1,000 approvals with forged signatures from accounts the policy does not map.
import * as nodeCrypto from "node:crypto";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { randomBytes } from "node:crypto";
import { signMessage } from "../src/crypto/rsa.ts";
import type { ApprovalCandidate } from "../src/gate/candidate.ts";
import { evaluateQuorum, type Decision } from "../src/gate/evaluate.ts";
import { prng } from "../test/helpers/prng.ts";
import { comment, gateFixture, type GateFixture } from "./gate-fixture.ts";
import { timeIt } from "./lib.ts";

const SEED = 4;
const ROUNDS = 5;
const SLICES = 4;

const PLAIN: readonly ((r: () => number) => string)[] = [
  () => "LGTM, thanks.",
  () => "Could you say which service this account is for? The reason only says payments.",
  (r) =>
    `Ran the checks locally.\n\n\`\`\`\n${Array.from({ length: 20 + Math.floor(r() * 60) }, (_, i) => `2026-11-22T10:${String(i % 60).padStart(2, "0")}:00Z node-${i % 3} ok quorum token verified`).join("\n")}\n\`\`\`\n`,
  () => "> /quorum approve\n> please everyone sign the new token\n\nI will sign after the change window opens.",
  () =>
    "Reminder: sign with `openssl dgst -sha256 -sign key.pem token.bin | base64`, then post\n\n```\n/quorum approve <signature>\n```\n",
  (r) =>
    `${"Some background on the change. ".repeat(5 + Math.floor(r() * 30))}\n\n- first point\n- second point\n<!-- /quorum approve hidden -->\n`,
  () => "Bumping this: two more officers needed.",
];

interface Thread {
  readonly candidates: readonly ApprovalCandidate[];
}

/**
 * 256 random bytes below every RSA-2048 modulus (top bit clear): a forged signature that costs a
 * full public-key operation to refuse, as an attacker would choose (one above the modulus is
 * refused before any arithmetic).
 */
function forgedSignature(): Buffer {
  const bytes = randomBytes(256);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes;
}

/** The mix above at `perThousand * 1000 / 1000` scale: `scale` = comments / 1000. */
function buildThread(fx: GateFixture, scale: number, seed: number): Thread {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const officers = fx.officers;
  const valid = officers.map((o) => `/quorum approve ${signMessage(fx.token, o.key.privateKey).toString("base64")}\n`);
  const stale = officers.map(
    (o) => `/quorum approve ${signMessage(fx.oldToken, o.key.privateKey).toString("base64")}\n`,
  );
  const random = () => `/quorum approve ${forgedSignature().toString("base64")}\n`;
  const outsiders = Array.from({ length: 10 }, (_, i) => `contributor-${i}`);
  const bodies: { author: string; body: string; extra?: Partial<ApprovalCandidate> }[] = [];
  const times = (n: number, f: (i: number) => void) => {
    for (let i = 0; i < n * scale; i += 1) f(i);
  };
  times(850, () =>
    bodies.push({ author: r() < 0.3 ? pick(officers).login : pick([...outsiders, "requester"]), body: pick(PLAIN)(r) }),
  );
  times(40, (i) => bodies.push({ author: officers[i % officers.length]!.login, body: valid[i % officers.length]! }));
  times(20, () => bodies.push({ author: pick(officers).login, body: "/quorum withdraw\n" }));
  times(10, (i) =>
    bodies.push({ author: pick(officers).login, body: i % 2 === 0 ? "/quorum retry\n" : "/quorum renew\n" }),
  );
  times(10, () => {
    const i = Math.floor(r() * officers.length);
    bodies.push({ author: officers[i]!.login, body: stale[i]! });
  });
  times(10, () => bodies.push({ author: pick(officers).login, body: random() }));
  times(5, () => {
    const i = Math.floor(r() * officers.length);
    bodies.push({ author: officers[i]!.login, body: valid[(i + 1) % officers.length]! });
  });
  times(5, () => bodies.push({ author: pick(outsiders), body: pick(valid) }));
  times(5, () => bodies.push({ author: pick(outsiders), body: random() }));
  times(15, () =>
    bodies.push({ author: pick(outsiders), body: pick(["/quorum withdraw\n", "/quorum retry\n", "/quorum renew\n"]) }),
  );
  times(10, () => bodies.push({ author: pick(officers).login, body: pick(valid), extra: { edited: true } }));
  times(10, () =>
    bodies.push({
      author: pick(officers).login,
      body: pick([
        "/quorum sign-off\n",
        "/quorum approve not*base64\n",
        "/quorum approve QUJD\n",
        "/quorum withdraw now\n",
        "/quorum retry\n/quorum renew\n",
      ]),
    }),
  );
  times(10, () =>
    bodies.push({ author: "ci-runner[bot]", body: pick(["Build passed.", pick(valid)]), extra: { authorIsBot: true } }),
  );
  // Seeded Fisher-Yates, then posting order = thread order.
  for (let i = bodies.length - 1; i > 0; i -= 1) {
    const j = Math.floor(r() * (i + 1));
    [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
  }
  return { candidates: bodies.map((b, i) => comment(i + 1, b.author, b.body, b.extra ?? {})) };
}

/** RSA public-key operations `fn` makes, counted by wrapping the builtin's exports for one call. */
function countRsa(fn: () => unknown): { verify: number; decrypt: number } {
  const cjs = createRequire(import.meta.url)("node:crypto") as typeof nodeCrypto;
  const counts = { verify: 0, decrypt: 0 };
  const { verify, publicDecrypt } = cjs;
  const mutable = cjs as { verify: typeof verify; publicDecrypt: typeof publicDecrypt };
  mutable.verify = ((...args: Parameters<typeof verify>) => {
    counts.verify += 1;
    return verify(...args);
  }) as typeof verify;
  mutable.publicDecrypt = ((...args: Parameters<typeof publicDecrypt>) => {
    counts.decrypt += 1;
    return publicDecrypt(...args);
  }) as typeof publicDecrypt;
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    mutable.verify = verify;
    mutable.publicDecrypt = publicDecrypt;
    syncBuiltinESMExports();
  }
  if (nodeCrypto.verify !== verify) throw new Error("gate-evaluate: crypto.verify was not restored");
  return counts;
}

function summary(d: Decision): string {
  const by = new Map<string, number>();
  for (const v of d.verdicts) by.set(v.reason, (by.get(v.reason) ?? 0) + 1);
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
}

export async function run(): Promise<string[]> {
  const fx = gateFixture();
  const small = buildThread(fx, 1, SEED);
  const large = buildThread(fx, 10, SEED);
  const spam = {
    candidates: Array.from({ length: 1000 }, (_, i) =>
      comment(i + 1, `drive-by-${i % 50}`, `/quorum approve ${forgedSignature().toString("base64")}\n`),
    ),
  };
  const inputs = {
    small: fx.input(small.candidates),
    large: fx.input(large.candidates),
    spam: fx.input(spam.candidates),
  };

  const first = evaluateQuorum(inputs.small);
  const firstLarge = evaluateQuorum(inputs.large);
  if (first.state !== "approved" || firstLarge.state !== "approved") {
    throw new Error(`gate-evaluate: unexpected decision (${first.state}, ${first.approvers.length} approvers)`);
  }
  const rsa = {
    small: countRsa(() => evaluateQuorum(inputs.small)),
    large: countRsa(() => evaluateQuorum(inputs.large)),
    spam: countRsa(() => evaluateQuorum(inputs.spam)),
  };

  // Raw prices of the two RSA operations, for the floor: the 20 officers' keys in turn, valid and
  // random signatures alike (a failing verify costs the same public-key operation).
  const keys = fx.officers.map((o) => o.key.publicKey);
  const sigs = fx.officers.map((o, i) => (i % 2 === 0 ? signMessage(fx.token, o.key.privateKey) : forgedSignature()));
  const valid = fx.officers.map((o) => signMessage(fx.token, o.key.privateKey));
  const verifyAll = () => {
    for (let i = 0; i < keys.length; i += 1) nodeCrypto.verify("sha256", fx.token, keys[i]!, sigs[i]!);
  };
  const decryptAll = () => {
    for (let i = 0; i < keys.length; i += 1)
      nodeCrypto.publicDecrypt({ key: keys[i]!, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, valid[i]!);
  };

  // Each round alternates short slices of every case (a burst of outside load hits them alike):
  // [name, work, calls per slice, units of the figure per call].
  const cases: [keyof typeof ms, () => unknown, number, number][] = [
    ["verify", verifyAll, 10, keys.length],
    ["small", () => evaluateQuorum(inputs.small), 8, 1],
    ["decrypt", decryptAll, 10, keys.length],
    ["large", () => evaluateQuorum(inputs.large), 1, 1],
    ["spam", () => evaluateQuorum(inputs.spam), 1, 1],
  ];
  const ms = {
    small: [] as number[],
    large: [] as number[],
    spam: [] as number[],
    verify: [] as number[],
    decrypt: [] as number[],
  };
  await timeIt(() => evaluateQuorum(inputs.small), { rounds: 1, minMs: 300 });
  for (let round = 0; round < ROUNDS; round += 1) {
    const spent = new Map(cases.map(([name]) => [name, { ms: 0, units: 0 }]));
    for (let slice = 0; slice < SLICES; slice += 1) {
      for (const [name, work, calls, units] of cases) {
        const acc = spent.get(name)!;
        const t = performance.now();
        for (let i = 0; i < calls; i += 1) work();
        acc.ms += performance.now() - t;
        acc.units += calls * units;
      }
    }
    for (const [name, acc] of spent) ms[name].push(acc.ms / acc.units);
  }
  const m = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const verifyMs = m(ms.verify);
  const decryptMs = m(ms.decrypt);
  const row = (label: string, comments: number, times: readonly number[], ops: { verify: number; decrypt: number }) => {
    const t = m(times);
    const floor = ops.verify * verifyMs + ops.decrypt * decryptMs;
    // The floor's share per round (against that round's own RSA prices), then the median.
    const share = m(times.map((x, i) => (ops.verify * ms.verify[i]! + ops.decrypt * ms.decrypt[i]!) / x));
    return `| ${label} | ${t.toFixed(1)} ms | ${((t * 1000) / comments).toFixed(1)} µs | ${ops.verify} + ${ops.decrypt} | ${floor.toFixed(1)} ms | ${(share * 100).toFixed(0)}% |`;
  };
  const growth = m(ms.large) / m(ms.small);
  const perRound = ms.large.map((l, i) => l / ms.small[i]!);
  return [
    "### Re-evaluating a busy pull request (evaluateQuorum, 20 officers)",
    "",
    `${ROUNDS} rounds, each alternating ${SLICES} short slices of every case; medians. Raw prices in the same run: crypto.verify ${(verifyMs * 1000).toFixed(1)} µs, publicDecrypt ${(decryptMs * 1000).toFixed(1)} µs.`,
    "",
    "| thread | per evaluation | per comment | RSA ops (verify + decrypt) | RSA floor | floor / time |",
    "|---|---|---|---|---|---|",
    row("1,000 comments (mix)", 1000, ms.small, rsa.small),
    row("10,000 comments (same mix)", 10000, ms.large, rsa.large),
    row("1,000 forged-signature approvals from unmapped accounts", 1000, ms.spam, rsa.spam),
    "",
    `Growth from 1,000 to 10,000 comments: **${growth.toFixed(1)}x** the time for 10x the comments (per round ${Math.min(...perRound).toFixed(1)}x–${Math.max(...perRound).toFixed(1)}x); RSA operations grew ${((rsa.large.verify + rsa.large.decrypt) / (rsa.small.verify + rsa.small.decrypt)).toFixed(1)}x.`,
    "",
    `Verdicts at 1,000 comments: ${summary(first)}; state ${first.state}, ${first.approvers.length} approvers.`,
    "",
  ];
}
