/**
 * Timing helpers. Sampling goes through tinybench (fixed iteration counts, no time budget, so a run's
 * length is predictable on a shared machine); the statistics are tinybench's.
 */
import { Bench } from 'tinybench';

export interface Sampled {
  /** Milliseconds per iteration. */
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly samples: number;
}

/**
 * Runs `fn` `warmup` times untimed, then `iterations` times timed, one after another; returns the
 * per-iteration latency statistics. Throws what `fn` throws (a failed check stops the row).
 */
export async function sample(name: string, fn: () => Promise<unknown>, iterations: number, warmup: number): Promise<Sampled> {
  const bench = new Bench({
    name,
    iterations,
    time: 0,
    warmup: warmup > 0,
    warmupIterations: warmup,
    warmupTime: 0,
    throws: true,
  });
  bench.add(name, fn, { async: true });
  const [task] = await bench.run();
  const r = task?.result;
  if (!r || (r.state !== 'completed' && r.state !== 'aborted-with-statistics')) {
    const error = r && 'error' in r ? r.error : undefined;
    throw error ?? new Error(`${name}: tinybench did not complete (${r?.state ?? 'no result'})`);
  }
  const l = r.latency;
  return { p50: l.p50, p99: l.p99, mean: l.mean, min: l.min, samples: l.samplesCount };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `count` jobs with at most `window` in flight (window >= count: all at once); returns every result in order. */
export async function runWindowed<T>(count: number, window: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  if (window >= count) {
    const all = new Array<Promise<T>>(count);
    for (let i = 0; i < count; i++) all[i] = job(i);
    const settled = await Promise.all(all);
    for (let i = 0; i < count; i++) out[i] = settled[i]!;
    return out;
  }
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return out;
}

/** Throws unless every `results[i]` equals `expected(i)`; names the first wrong one. */
export function checkEach<T>(what: string, results: readonly T[], expected: (i: number) => T): void {
  for (let i = 0; i < results.length; i++) {
    if (results[i] !== expected(i)) {
      throw new Error(`${what}: result ${i} was ${String(results[i])}, expected ${String(expected(i))} — not timing a wrong run`);
    }
  }
}
