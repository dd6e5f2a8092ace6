// `npm run bench`: runs every benchmark and prints Markdown for docs/performance.md.
// `npm run bench -- verify` runs only the benchmarks whose name contains "verify".
import { cpus } from "node:os";

const BENCHES: Record<string, () => Promise<{ run: () => Promise<string[]> }>> = {
  "verify-scaling": () => import("./verify-scaling.ts"),
  "quorum-flow": () => import("./quorum-flow.ts"),
  load: () => import("./load.ts"),
  "gate-verify": () => import("./gate-verify.ts"),
  "gate-evaluate": () => import("./gate-evaluate.ts"),
  "app-deliveries": () => import("./app-deliveries.ts"),
  audit: () => import("./audit.ts"),
  action: () => import("./action.ts"),
};

const filter = process.argv[2];
const lines: string[] = [
  `Measured ${new Date().toISOString().slice(0, 10)} on Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}.`,
  "",
];
for (const [name, load] of Object.entries(BENCHES)) {
  if (filter !== undefined && !name.includes(filter)) continue;
  process.stderr.write(`bench: ${name}...\n`);
  lines.push(...(await (await load()).run()));
}
process.stdout.write(`${lines.join("\n")}\n`);
