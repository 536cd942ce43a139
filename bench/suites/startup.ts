/**
 * Start-up and shutdown. "Ready" is measured the same way for every library: from the constructor
 * until two barrier jobs, which wait for each other, have both answered — proof that 2 workers are up
 * and running work at once. The library's own ready signal (launch() for isolate-workgroup, the
 * `ready` event for poolifier, the first message for raw postMessage; none for the others) is shown too.
 * Shutdown: destroy()/terminate()/shutdown() until it resolves.
 */
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { median, sleep } from '../lib/measure.js';
import { OURS, PEERS, openPool, type LibName } from '../lib/pools.js';
import { bestPeer, type Row, type SuiteOutput, type Target } from '../lib/report.js';

async function once(lib: LibName, workers: number): Promise<{ ready: number; own: number; shutdown: number }> {
  const t0 = performance.now();
  const pool = await openPool(lib, workers);
  const own = performance.now() - t0;
  try {
    const sab = new SharedArrayBuffer(4);
    const ids = await Promise.all(Array.from({ length: workers }, () => pool.barrier(sab, workers)));
    const ready = performance.now() - t0;
    if (new Set(ids).size !== workers) throw new Error(`${lib}: barrier jobs ran on ${new Set(ids).size} distinct threads, expected ${workers}`);
    const t1 = performance.now();
    await pool.close();
    return { ready, own, shutdown: performance.now() - t1 };
  } catch (e) {
    await pool.close().catch(() => {});
    throw e;
  }
}

export async function startupSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const reps = pick(ctx, 7, 1);
  const rows: Row[] = [];
  // One untimed start of every library first, so file-system and module caches are warm for all alike.
  for (const lib of ctx.libs) await once(lib, ctx.workers).catch(() => {});
  const runs = new Map<LibName, { ready: number[]; own: number[]; shutdown: number[] }>(ctx.libs.map((l) => [l, { ready: [], own: [], shutdown: [] }]));
  const failed = new Map<LibName, string>();
  // Interleave the libraries rep by rep, so a noisy moment on the machine does not land on one library only.
  for (let r = 0; r < reps; r++) {
    for (const lib of ctx.libs) {
      if (failed.has(lib)) continue;
      ctx.log(`startup: ${lib} (${r + 1}/${reps})`);
      try {
        const x = await once(lib, ctx.workers);
        const acc = runs.get(lib)!;
        acc.ready.push(x.ready);
        acc.own.push(x.own);
        acc.shutdown.push(x.shutdown);
      } catch (e) {
        failed.set(lib, errorMessage(e));
      }
      await sleep(20);
    }
  }
  for (const lib of ctx.libs) {
    const f = failed.get(lib);
    if (f !== undefined) {
      rows.push({ lib, values: {}, checked: false, error: f });
      continue;
    }
    const acc = runs.get(lib)!;
    const values: Record<string, number> = { ready: median(acc.ready), shutdown: median(acc.shutdown) };
    if (lib === OURS || lib === 'poolifier' || lib === 'postMessage') values['own'] = median(acc.own);
    rows.push({ lib, values, checked: true });
  }
  const metrics = [
    { key: 'ready', label: 'ready: 2 workers running (ms)', better: 'lower' as const, ratios: true },
    { key: 'own', label: 'own ready signal (ms)', better: 'lower' as const },
    { key: 'shutdown', label: 'shutdown (ms)', better: 'lower' as const, ratios: true },
  ];
  const ours = rows.find((r) => r.lib === OURS && r.error === undefined);
  const best = bestPeer(metrics[0]!, rows.filter((r) => PEERS.includes(r.lib as LibName)));
  const targets: Target[] = [
    {
      issue: 3,
      text: 'workgroup ready with 2 workers in ≤ 0.6× the fastest peer\'s time',
      value: ours && best ? `${ours.values['ready']!.toFixed(1)} ms vs ${best.lib} ${best.value.toFixed(1)} ms = ${(ours.values['ready']! / best.value).toFixed(2)}×` : 'no result',
      met: ours && best ? ours.values['ready']! <= 0.6 * best.value : null,
    },
  ];
  return {
    suite: 'startup',
    title: `Start-up (constructor → ${ctx.workers} workers running a job) and shutdown`,
    metrics,
    rows,
    notes: [
      `Median of ${reps} start/stop cycle(s) per library, interleaved, after one untimed cycle each.`,
      '"ready" runs one barrier job per worker; the jobs wait for each other, so it proves every worker is up and takes work. "own ready signal" is when the library itself says it is ready: `launch()` (isolate-workgroup), the `ready` event (poolifier), the workers\' first message (postMessage); piscina, tinypool and workerpool have none.',
    ],
    targets,
  };
}
