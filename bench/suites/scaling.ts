/**
 * Scaling (`--scope scaling`, not in the default run): throughput with 1 … N workers (N = cores), for
 * tiny jobs and for 100 µs jobs. Meant for a machine with more cores than this one.
 */
import os from 'node:os';
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { checkEach, runWindowed } from '../lib/measure.js';
import { openPool, type BenchPool } from '../lib/pools.js';
import type { Metric, Row, SuiteOutput } from '../lib/report.js';

async function rate(pool: BenchPool, count: number, job: (i: number) => Promise<number>, expected: (i: number) => number, reps: number): Promise<number> {
  checkEach(pool.name, await runWindowed(Math.min(count, 1000), count, job), expected);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const results = await runWindowed(count, count, job);
    best = Math.min(best, performance.now() - t0);
    checkEach(pool.name, results, expected);
  }
  return (count / best) * 1000;
}

export async function scalingSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const maxWorkers = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const counts = Array.from({ length: maxWorkers }, (_, i) => i + 1);
  const tiny = pick(ctx, 50_000, 500);
  const spins = pick(ctx, 4_000, 100);
  const reps = pick(ctx, 3, 1);
  const rows: Row[] = [];
  for (const lib of ctx.libs) {
    const values: Record<string, number> = {};
    let error: string | undefined;
    for (const n of counts) {
      ctx.log(`scaling: ${lib}, ${n} worker(s)`);
      let pool: BenchPool | undefined;
      try {
        pool = await openPool(lib, n);
        const p = pool;
        values[`tiny${n}`] = await rate(p, tiny, (i) => p.inc(i), (i) => i + 1, reps);
        values[`spin${n}`] = await rate(p, spins, (i) => p.spin(100, i), (i) => i, reps);
      } catch (e) {
        error = errorMessage(e);
      } finally {
        await pool?.close().catch(() => {});
      }
      if (error !== undefined) break;
    }
    rows.push(error === undefined ? { lib, values, checked: true } : { lib, values: {}, checked: false, error });
  }
  const metrics: Metric[] = [
    ...counts.map((n) => ({ key: `tiny${n}`, label: `tiny, ${n}w (jobs/s)`, better: 'higher' as const, digits: 0 })),
    ...counts.map((n) => ({ key: `spin${n}`, label: `100 µs, ${n}w (jobs/s)`, better: 'higher' as const, digits: 0 })),
  ];
  return {
    suite: 'scaling',
    title: `Scaling: 1 … ${maxWorkers} workers (this machine has ${maxWorkers} cores)`,
    metrics,
    rows,
    notes: [
      `${tiny.toLocaleString('en-US')} tiny jobs and ${spins.toLocaleString('en-US')} jobs of 100 µs per worker count, all at once, best of ${reps}, every result checked.`,
      'Run it on a machine with more cores (`npm run bench -- --scope scaling`): on 2 cores the main thread competes with the workers.',
    ],
  };
}
