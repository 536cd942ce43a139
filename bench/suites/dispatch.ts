/**
 * Tiny-job throughput: 100,000 jobs (x -> x + 1) dispatched all at once, and the same jobs with at most
 * 64 in flight. jobs/s from the median of the timed runs; every result is checked in every run.
 */
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { checkEach, runWindowed, sample } from '../lib/measure.js';
import { OURS, openPool, type BenchPool, type LibName } from '../lib/pools.js';
import type { Row, SuiteOutput } from '../lib/report.js';

async function throughput(pool: BenchPool, count: number, window: number, iterations: number): Promise<number> {
  const job = (i: number): Promise<number> => pool.inc(i);
  // The check run: every library must get every answer right before it is timed.
  checkEach(`${pool.name} check run`, await runWindowed(count, window, job), (i) => i + 1);
  const s = await sample(`${pool.name} ${count} jobs, window ${window}`, async () => {
    checkEach(pool.name, await runWindowed(count, window, job), (i) => i + 1);
  }, iterations, 1);
  return (count / s.p50) * 1000;
}

export async function dispatchSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const count = pick(ctx, 100_000, 2_000);
  const iterations = pick(ctx, 5, 1);
  const rows: Row[] = [];
  const variants: { label: string; lib: LibName; config?: Record<string, unknown> }[] = ctx.libs.map((lib) => ({ label: lib, lib }));
  if (ctx.libs.includes(OURS)) variants.splice(1, 0, { label: `${OURS}, captureMainStack off`, lib: OURS, config: { captureMainStack: false } });
  for (const v of variants) {
    ctx.log(`dispatch: ${v.label}`);
    let pool: BenchPool | undefined;
    try {
      pool = await openPool(v.lib, ctx.workers, { config: v.config });
      const allAtOnce = await throughput(pool, count, count, iterations);
      const windowed = await throughput(pool, count, 64, iterations);
      rows.push({ lib: v.label, values: { allAtOnce, windowed }, checked: true });
    } catch (e) {
      rows.push({ lib: v.label, values: {}, checked: false, error: errorMessage(e) });
    } finally {
      await pool?.close().catch(() => {});
    }
  }
  return {
    suite: 'dispatch',
    title: `Tiny-job throughput: ${count.toLocaleString('en-US')} jobs (x → x + 1), ${ctx.workers} workers`,
    metrics: [
      { key: 'allAtOnce', label: 'all at once (jobs/s)', better: 'higher', ratios: true, digits: 0 },
      { key: 'windowed', label: '64 in flight (jobs/s)', better: 'higher', ratios: true, digits: 0 },
    ],
    rows,
    notes: [
      `Median of ${iterations} timed run(s) after a checked warm-up run; each run checks all ${count.toLocaleString('en-US')} results.`,
      'The `captureMainStack: false` row turns off the per-dispatch capture of the caller\'s stack (errors then carry the worker-side stack only); every other row uses its library\'s defaults.',
    ],
  };
}
