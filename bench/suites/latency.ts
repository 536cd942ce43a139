/**
 * One job at a time: the round trip of a tiny job (dispatch -> result), p50 and p99 — of the first 3,000
 * calls after the pool is ready (JIT warm-up included: the code of both threads is still interpreted),
 * and then in steady state.
 */
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { sample } from '../lib/measure.js';
import { OURS, openPool, type BenchPool } from '../lib/pools.js';
import { bestPeer, type Metric, type Row, type SuiteOutput, type Target } from '../lib/report.js';

/** p50/p99 in µs of `iterations` sequential tiny jobs, each result checked. */
export async function roundTrip(pool: BenchPool, iterations: number, warmup: number): Promise<{ p50: number; p99: number }> {
  let i = 0;
  const s = await sample(`${pool.name} round trip`, async () => {
    const x = i++;
    const r = await pool.inc(x);
    if (r !== x + 1) throw new Error(`${pool.name}: job ${x} answered ${String(r)}, expected ${x + 1}`);
  }, iterations, warmup);
  return { p50: s.p50 * 1000, p99: s.p99 * 1000 };
}

export async function latencySuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const iterations = pick(ctx, 5_000, 50);
  const warmup = pick(ctx, 500, 10);
  const firstCalls = pick(ctx, 3_000, 30);
  const rows: Row[] = [];
  for (const lib of ctx.libs) {
    ctx.log(`latency: ${lib}`);
    let pool: BenchPool | undefined;
    try {
      pool = await openPool(lib, ctx.workers);
      const first = await roundTrip(pool, firstCalls, 0); // right after launch: nothing warmed up yet
      const r = await roundTrip(pool, iterations, warmup);
      rows.push({ lib, values: { ...r, firstP50: first.p50, firstP99: first.p99 }, checked: true });
    } catch (e) {
      rows.push({ lib, values: {}, checked: false, error: errorMessage(e) });
    } finally {
      await pool?.close().catch(() => {});
    }
  }
  const metrics: Metric[] = [
    { key: 'p50', label: 'p50 (µs)', better: 'lower', ratios: true },
    { key: 'p99', label: 'p99 (µs)', better: 'lower', ratios: true },
    { key: 'firstP50', label: `first ${firstCalls.toLocaleString('en-US')} p50 (µs)`, better: 'lower', ratios: true },
    { key: 'firstP99', label: `first ${firstCalls.toLocaleString('en-US')} p99 (µs)`, better: 'lower', ratios: true },
  ];
  const ours = rows.find((r) => r.lib === OURS && r.error === undefined)?.values['p50'];
  const oursP99 = rows.find((r) => r.lib === OURS && r.error === undefined)?.values['p99'];
  const best = bestPeer(metrics[0]!, rows);
  const targets: Target[] = [
    {
      issue: 11,
      text: 'one-at-a-time round trip p50 ≤ 2 µs, p99 ≤ 50 µs (quiet machine)',
      value: ours === undefined || oursP99 === undefined ? 'no result' : `p50 ${ours.toFixed(2)} µs, p99 ${oursP99.toFixed(0)} µs`,
      met: ours === undefined || oursP99 === undefined ? null : ours <= 2 && oursP99 <= 50,
    },
    { issue: 3, text: 'one-at-a-time round trip p50 ≤ 10 µs', value: ours === undefined ? 'no result' : `${ours.toFixed(1)} µs`, met: ours === undefined ? null : ours <= 10 },
    {
      issue: 3,
      text: 'one-at-a-time round trip p50 ≤ 1/5 of the fastest peer',
      value: ours !== undefined && best ? `${ours.toFixed(1)} µs vs ${best.lib} ${best.value.toFixed(1)} µs = ${(ours / best.value).toFixed(2)}×` : 'no result',
      met: ours !== undefined && best ? ours <= best.value / 5 : null,
    },
  ];
  return {
    suite: 'latency',
    title: `One job at a time: round trip of a tiny job, ${ctx.workers} workers`,
    metrics,
    rows,
    targets,
    notes: [
      `"first ${firstCalls.toLocaleString('en-US')}": the first sequential round trips after the pool is ready, none untimed (JIT warm-up of main and workers included).`,
      `p50/p99: then ${iterations.toLocaleString('en-US')} sequential round trips after ${warmup} untimed ones; each answer checked.`,
    ],
  };
}
