/**
 * Autoscaling under a bursty load: burst, idle gap, burst. Rows: a fixed pool of 1 worker, a fixed pool
 * of N workers, and `autoscale: { minWorkers: 1, maxWorkers: N }`. Shows that the policy grows to N
 * while a burst is queued, gives the workers back during the gap (down to 1), and grows again — paying
 * the start of a worker per burst, and using fewer worker-seconds than the fixed pool of N.
 */
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { checkEach, runWindowed, sleep } from '../lib/measure.js';
import type { Row, SuiteOutput, Target } from '../lib/report.js';

interface Work {
  Spin: new (us: number, id: number) => object;
}

export async function autoscaleSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const max = Math.max(2, ctx.workers);
  const jobs = pick(ctx, 400, 20);
  const spinUs = pick(ctx, 2_000, 1_000);
  const idleTimeoutMs = pick(ctx, 300, 50);
  const gapMs = pick(ctx, 1_200, 300);
  const lib = await import(new URL('../../dist/index.js', import.meta.url).href);
  const moduleUrl = new URL('../workers/workgroup.mjs', import.meta.url);
  const work = (await import(moduleUrl.href)) as Work;
  const configs: Array<[string, number, object]> = [
    ['fixed 1 worker', 1, {}],
    [`fixed ${max} workers`, max, {}],
    [`autoscale 1..${max}`, 1, { autoscale: { minWorkers: 1, maxWorkers: max, idleTimeoutMs, intervalMs: 10 } }],
  ];
  const rows: Row[] = [];
  for (const [name, count, config] of configs) {
    ctx.log(`autoscale: ${name}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let wg: any;
    let timer: ReturnType<typeof setInterval> | undefined;
    try {
      wg = new lib.IsolateWorkgroup(count, { modules: [moduleUrl], ...config });
      await wg.launch();
      let peak = 0;
      let workerMs = 0;
      let last = performance.now();
      const sampleLive = (): void => {
        const now = performance.now();
        workerMs += wg.liveIsolateCount * (now - last);
        last = now;
        peak = Math.max(peak, wg.liveIsolateCount);
      };
      timer = setInterval(sampleLive, 5);
      const burst = async (): Promise<number> => {
        const t0 = performance.now();
        checkEach(name, await runWindowed(jobs, jobs, (i) => wg.dispatch(new work.Spin(spinUs, i))), (i) => i);
        return performance.now() - t0;
      };
      const started = performance.now();
      const first = await burst();
      await sleep(gapMs);
      sampleLive();
      const afterGap = wg.liveIsolateCount;
      const second = await burst();
      sampleLive();
      const total = performance.now() - started;
      rows.push({ lib: name, values: { first, second, peak, afterGap, workerSeconds: workerMs / 1000, total }, checked: true });
    } catch (e) {
      rows.push({ lib: name, values: {}, checked: false, error: errorMessage(e) });
    } finally {
      if (timer) clearInterval(timer);
      await wg?.shutdown().catch(() => {});
    }
  }
  const auto = rows[2];
  const fixedMax = rows[1];
  const targets: Target[] = [
    {
      issue: 12,
      text: `autoscale follows the load: grows to ${max} in a burst, back to 1 in the gap`,
      value: auto?.error === undefined && auto ? `peak ${auto.values['peak']}, ${auto.values['afterGap']} after the gap` : 'no result',
      met: auto?.error === undefined && auto ? auto.values['peak'] === max && auto.values['afterGap'] === 1 : null,
    },
    {
      issue: 12,
      text: `autoscale uses fewer worker-seconds than a fixed pool of ${max}`,
      value:
        auto && fixedMax && auto.error === undefined && fixedMax.error === undefined
          ? `${auto.values['workerSeconds']!.toFixed(2)} vs ${fixedMax.values['workerSeconds']!.toFixed(2)}`
          : 'no result',
      met: auto && fixedMax && auto.error === undefined && fixedMax.error === undefined ? auto.values['workerSeconds']! < fixedMax.values['workerSeconds']! : null,
    },
  ];
  return {
    suite: 'autoscale',
    title: `Autoscaling under a bursty load: ${jobs} jobs of ${spinUs / 1000} ms, a ${gapMs} ms gap, ${jobs} jobs again`,
    metrics: [
      { key: 'first', label: 'burst 1 (ms)', better: 'lower', ratios: false },
      { key: 'second', label: 'burst 2 (ms)', better: 'lower', ratios: false },
      { key: 'peak', label: 'peak workers', better: 'higher', ratios: false, digits: 0 },
      { key: 'afterGap', label: 'workers after the gap', better: 'lower', ratios: false, digits: 0 },
      { key: 'workerSeconds', label: 'worker-seconds', better: 'lower', ratios: false, digits: 2 },
    ],
    rows,
    notes: [
      `autoscale: minWorkers 1, maxWorkers ${max}, idleTimeoutMs ${idleTimeoutMs}, sampled every 10 ms; a new worker starts when more jobs are queued than workers.`,
      'worker-seconds: live workers integrated over the run (sampled every 5 ms), a measure of the threads held.',
      'Every job result is checked. The machine is shared and noisy: compare rows of the same run only.',
    ],
    targets,
  };
}
