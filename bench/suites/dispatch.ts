/**
 * Tiny-job throughput: 100,000 jobs (x -> x + 1) dispatched all at once, 50,000 with at most 64 and with
 * at most 1,024 in flight, and (isolate-workgroup) 1,000,000 in one `dispatchAll`. jobs/s from the median
 * of the timed runs; every result is checked in every run.
 */
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { checkEach, runWindowed, sample } from '../lib/measure.js';
import { OURS, openPool, type BenchPool, type LibName } from '../lib/pools.js';
import { bestPeer, type Metric, type Row, type SuiteOutput, type Target } from '../lib/report.js';

async function throughput(pool: BenchPool, count: number, window: number, iterations: number): Promise<number> {
  const job = (i: number): Promise<number> => pool.inc(i);
  // The check run, which is also the warm-up: every library must get every answer right before it is timed.
  checkEach(`${pool.name} check run`, await runWindowed(count, window, job), (i) => i + 1);
  const s = await sample(`${pool.name} ${count} jobs, window ${window}`, async () => {
    checkEach(pool.name, await runWindowed(count, window, job), (i) => i + 1);
  }, iterations, 0);
  return (count / s.p50) * 1000;
}

/** Tiny jobs as one `dispatchAll` batch (isolate-workgroup only): every result checked. */
async function batchThroughput(pool: BenchPool, count: number, iterations: number): Promise<number> {
  const xs = Array.from({ length: count }, (_, i) => i);
  checkEach(`${pool.name} batch check run`, await pool.incAll!(xs), (i) => i + 1);
  const s = await sample(`${pool.name} ${count} jobs in one batch`, async () => {
    checkEach(pool.name, await pool.incAll!(xs), (i) => i + 1);
  }, iterations, 0);
  return (count / s.p50) * 1000;
}

export async function dispatchSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  // Counts sized so the whole `npm run bench` stays under 10 minutes on 2 cores with the slowest peers.
  const count = pick(ctx, 100_000, 2_000);
  const windowedCount = pick(ctx, 50_000, 1_000);
  const iterations = pick(ctx, 2, 1);
  const batchCount = pick(ctx, 1_000_000, 2_000);
  const windowedIterations = pick(ctx, 2, 1);
  const rows: Row[] = [];
  const variants: { label: string; lib: LibName; config?: Record<string, unknown> }[] = ctx.libs.map((lib) => ({ label: lib, lib }));
  if (ctx.libs.includes(OURS)) variants.splice(1, 0, { label: `${OURS}, captureMainStack off`, lib: OURS, config: { captureMainStack: false } });
  for (const v of variants) {
    ctx.log(`dispatch: ${v.label}`);
    let pool: BenchPool | undefined;
    try {
      pool = await openPool(v.lib, ctx.workers, { config: v.config });
      const allAtOnce = await throughput(pool, count, count, iterations);
      const windowed = await throughput(pool, windowedCount, 64, windowedIterations);
      const windowedWide = await throughput(pool, windowedCount, 1024, windowedIterations);
      const values: Record<string, number> = { allAtOnce, windowed, windowedWide };
      if (pool.incAll && v.config === undefined) values['batch'] = await batchThroughput(pool, batchCount, iterations);
      rows.push({ lib: v.label, values, checked: true });
    } catch (e) {
      rows.push({ lib: v.label, values: {}, checked: false, error: errorMessage(e) });
    } finally {
      await pool?.close().catch(() => {});
    }
  }
  const metrics: Metric[] = [
    { key: 'allAtOnce', label: `${count.toLocaleString('en-US')} at once (jobs/s)`, better: 'higher', ratios: true, digits: 0 },
    { key: 'windowed', label: `${windowedCount.toLocaleString('en-US')}, 64 in flight (jobs/s)`, better: 'higher', ratios: true, digits: 0 },
    { key: 'windowedWide', label: `${windowedCount.toLocaleString('en-US')}, 1,024 in flight (jobs/s)`, better: 'higher', ratios: true, digits: 0 },
    { key: 'batch', label: `${batchCount.toLocaleString('en-US')} in one dispatchAll (jobs/s)`, better: 'higher', ratios: false, digits: 0 },
  ];
  const ours = rows.find((r) => r.lib === OURS && r.error === undefined)?.values['allAtOnce'];
  const best = bestPeer(metrics[0]!, rows);
  const targets: Target[] = [
    {
      issue: 3,
      text: '100,000 tiny jobs dispatched at once at ≥ 10× the fastest peer',
      value: ours !== undefined && best ? `${Math.round(ours).toLocaleString('en-US')} jobs/s vs ${best.lib} ${Math.round(best.value).toLocaleString('en-US')} = ${(ours / best.value).toFixed(2)}×` : 'no result',
      met: ours !== undefined && best ? ours >= 10 * best.value : null,
    },
  ];
  const oursRow = rows.find((r) => r.lib === OURS && r.error === undefined)?.values;
  const raw = rows.find((r) => r.lib === 'postMessage' && r.error === undefined)?.values['allAtOnce'];
  const fmt = (v: number): string => `${Math.round(v).toLocaleString('en-US')} jobs/s`;
  const batch = oursRow?.['batch'];
  const wide = oursRow?.['windowedWide'];
  targets.push(
    {
      issue: 11,
      text: `${count.toLocaleString('en-US')} tiny jobs at once, default config: ≥ 1,000,000 jobs/s, ≥ 20× the fastest peer, ≥ 5× the raw postMessage pool`,
      value: ours !== undefined && best && raw !== undefined ? `${fmt(ours)} = ${(ours / best.value).toFixed(2)}× ${best.lib}, ${(ours / raw).toFixed(2)}× postMessage` : 'no result',
      met: ours !== undefined && best && raw !== undefined ? ours >= 1_000_000 && ours >= 20 * best.value && ours >= 5 * raw : null,
    },
    { issue: 11, text: 'with 1,024 in flight: ≥ 1,500,000 jobs/s', value: wide !== undefined ? fmt(wide) : 'no result', met: wide !== undefined ? wide >= 1_500_000 : null },
    { issue: 11, text: `a batch path: ≥ 3,000,000 jobs/s for ${batchCount.toLocaleString('en-US')} tiny jobs`, value: batch !== undefined ? fmt(batch) : 'no result', met: batch !== undefined ? batch >= 3_000_000 : null },
  );
  return {
    suite: 'dispatch',
    title: `Tiny-job throughput (x → x + 1), ${ctx.workers} workers`,
    metrics,
    rows,
    notes: [
      `Median of ${iterations} timed run(s) (windowed: ${windowedIterations}) after a checked warm-up run; every run checks every result.`,
      'The `captureMainStack off` row turns off the per-dispatch capture of the caller\'s stack (errors then carry the worker-side stack only); every other row uses its library\'s defaults.',
    ],
    targets,
  };
}
