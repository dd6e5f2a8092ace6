// Benchmark helpers. Figures are reported as ratios against a baseline measured in the same run,
// because absolute times on shared machines swing by tens of percent.

export interface Sample {
  readonly label: string;
  readonly units: number; // work units per call, for per-unit figures
  readonly msPerCall: number;
}

/** Median of `rounds` runs, each repeating `fn` until `minMs` has passed. */
export async function timeIt(fn: () => unknown, options: { rounds?: number; minMs?: number } = {}): Promise<number> {
  const rounds = options.rounds ?? 5;
  const minMs = options.minMs ?? 200;
  const results: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      await fn();
      calls += 1;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    results.push(elapsed / calls);
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)] ?? Number.NaN;
}

/** Cost growth against the smallest size: 1.0 means perfectly linear. */
export function linearity(samples: readonly Sample[]): string[] {
  const base = samples[0];
  if (base === undefined) return [];
  return samples.map((s) => {
    const growth = s.msPerCall / base.msPerCall;
    const work = s.units / base.units;
    return `| ${s.label} | ${s.msPerCall.toFixed(3)} | ${work}x | ${growth.toFixed(1)}x | ${(growth / work).toFixed(2)} |`;
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
