/**
 * Idle CPU: after a burst of work and a pause longer than any spin budget, the CPU the whole process
 * (main thread and every worker thread) uses over 2 s of doing nothing, as % of one core.
 * `process.cpuUsage()` counts every thread of the process. A row without any pool gives the floor.
 */
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { checkEach, runWindowed, sleep } from '../lib/measure.js';
import { OURS, openPool, type BenchPool } from '../lib/pools.js';
import type { Row, SuiteOutput, Target } from '../lib/report.js';

async function idleCpu(ms: number): Promise<number> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await sleep(ms);
  const c = process.cpuUsage(c0);
  const elapsed = performance.now() - t0;
  return ((c.user + c.system) / 1000 / elapsed) * 100;
}

export async function idleSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const window = pick(ctx, 2_000, 200);
  const settle = pick(ctx, 500, 100);
  const burst = pick(ctx, 20_000, 500);
  const rows: Row[] = [];
  ctx.log('idle: no pool (floor)');
  rows.push({ lib: 'no pool (process floor)', values: { cpu: await idleCpu(window) }, checked: true });
  for (const lib of ctx.libs) {
    ctx.log(`idle: ${lib}`);
    let pool: BenchPool | undefined;
    try {
      pool = await openPool(lib, ctx.workers);
      const p = pool;
      checkEach(lib, await runWindowed(burst, 256, (i) => p.inc(i)), (i) => i + 1);
      await sleep(settle);
      rows.push({ lib, values: { cpu: await idleCpu(window) }, checked: true });
    } catch (e) {
      rows.push({ lib, values: {}, checked: false, error: errorMessage(e) });
    } finally {
      await pool?.close().catch(() => {});
    }
  }
  const ours = rows.find((r) => r.lib === OURS && r.error === undefined);
  const targets: Target[] = [
    {
      issue: 3,
      text: 'idle CPU after the spin budget < 1% of a core',
      value: ours ? `${ours.values['cpu']!.toFixed(2)} % of a core` : 'no result',
      met: ours ? ours.values['cpu']! < 1 : null,
    },
  ];
  return {
    suite: 'idle',
    title: `Idle CPU after the spin budget (${window / 1000} s idle, whole process, % of one core)`,
    metrics: [{ key: 'cpu', label: 'idle CPU (% of a core)', better: 'lower', ratios: true, digits: 2 }],
    rows,
    notes: [
      `Each pool first runs ${burst.toLocaleString('en-US')} tiny jobs, then waits ${settle} ms (longer than any spin budget), then \`process.cpuUsage()\` is read over ${window / 1000} s.`,
      'isolate-workgroup runs its default health monitor during the idle window (a probe through shared memory every few seconds).',
    ],
    targets,
  };
}
