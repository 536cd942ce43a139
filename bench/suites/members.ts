/**
 * Member invoke round trip: one call at a time to stateful worker-side state, p50 and p99, next to a
 * tiny job's round trip on the same pool (issue 3: a member invoke within 1.2× of a dispatch).
 * What "a member" is for each library is in bench/lib/pools.ts: a real member (addInstance + invoke)
 * for isolate-workgroup, a task bumping module state for the peers, a message to worker 0 for raw.
 */
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { sample } from '../lib/measure.js';
import { OURS, openPool, type BenchPool } from '../lib/pools.js';
import type { Row, SuiteOutput, Target } from '../lib/report.js';
import { roundTrip } from './latency.js';

async function invokeRoundTrip(pool: BenchPool, iterations: number, warmup: number): Promise<{ p50: number; p99: number }> {
  // Each counter (one per thread for the peers, the one member for us) must go up by exactly one per call.
  const last = new Map<number, number>();
  const s = await sample(`${pool.name} invoke`, async () => {
    const [key, count] = await pool.increment();
    const before = last.get(key) ?? 0;
    if (count !== before + 1) throw new Error(`${pool.name}: counter ${key} went from ${before} to ${count}, expected ${before + 1}`);
    last.set(key, count);
  }, iterations, warmup);
  return { p50: s.p50 * 1000, p99: s.p99 * 1000 };
}

export async function membersSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const iterations = pick(ctx, 5_000, 50);
  const warmup = pick(ctx, 500, 10);
  const rows: Row[] = [];
  for (const lib of ctx.libs) {
    ctx.log(`members: ${lib}`);
    let pool: BenchPool | undefined;
    try {
      pool = await openPool(lib, ctx.workers);
      const job = await roundTrip(pool, iterations, warmup);
      const inv = await invokeRoundTrip(pool, iterations, warmup);
      rows.push({ lib, values: { p50: inv.p50, p99: inv.p99, jobP50: job.p50, overJob: inv.p50 / job.p50 }, checked: true });
    } catch (e) {
      rows.push({ lib, values: {}, checked: false, error: errorMessage(e) });
    } finally {
      await pool?.close().catch(() => {});
    }
  }
  const ours = rows.find((r) => r.lib === OURS && r.error === undefined);
  const targets: Target[] = [
    {
      issue: 11,
      text: 'member invoke round trip p50 ≤ 2 µs, p99 ≤ 50 µs (quiet machine)',
      value: ours ? `p50 ${ours.values['p50']!.toFixed(2)} µs, p99 ${ours.values['p99']!.toFixed(0)} µs` : 'no result',
      met: ours ? ours.values['p50']! <= 2 && ours.values['p99']! <= 50 : null,
    },
    {
      issue: 3,
      text: 'member invoke round trip within 1.2× of dispatch',
      value: ours ? `invoke p50 ${ours.values['p50']!.toFixed(1)} µs = ${ours.values['overJob']!.toFixed(2)}× the job round trip` : 'no result',
      met: ours ? ours.values['overJob']! <= 1.2 : null,
    },
  ];
  return {
    suite: 'members',
    title: `Member invoke round trip, one call at a time, ${ctx.workers} workers`,
    metrics: [
      { key: 'p50', label: 'invoke p50 (µs)', better: 'lower', ratios: true },
      { key: 'p99', label: 'invoke p99 (µs)', better: 'lower', ratios: true },
      { key: 'jobP50', label: 'job p50, same pool (µs)', better: 'lower' },
      { key: 'overJob', label: 'invoke ÷ job', better: 'lower', digits: 2 },
    ],
    rows,
    notes: [
      'isolate-workgroup: a real member — `addInstance(new Counter(), { isolate: 0 })`, then `proxy.invoke(new Increment())` on that one object.',
      'piscina, tinypool, workerpool, poolifier have no members: the call is a named task that bumps a counter in the worker\'s module state, on whichever worker the pool picks.',
      'postMessage: a message to worker 0, which keeps the counter.',
      `${iterations.toLocaleString('en-US')} sequential calls after ${warmup} untimed ones; every counter is checked to go up by exactly one per call.`,
    ],
    targets,
  };
}
