/**
 * Start-up and shutdown, each library in fresh processes (suites/startup.child.mjs, run by plain node):
 * the first pool of a process (which pays for importing the library), later pools in the same process,
 * a bigger pool, and the first result of a job submitted before the pool is ready. "Ready" is measured
 * the same way for every library: until `workers` barrier jobs, which wait for each other, have all
 * answered — proof that the threads are up and taking work at once. The baseline is a hand-written pair
 * of worker_threads answering one postMessage each (bench/workers/raw.mjs).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { median } from '../lib/measure.js';
import { OURS, PEERS, RAW, type LibName } from '../lib/pools.js';
import { bestPeer, type Metric, type Row, type SuiteOutput, type Target } from '../lib/report.js';

const CHILD = fileURLToPath(new URL('./startup.child.mjs', import.meta.url));

interface ChildResult {
  first: number;
  later: number[];
  shutdown: number[];
  big: number;
  firstResult: number;
}

function runChild(lib: LibName, workers: number, later: number, big: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, lib, String(workers), String(later), String(big)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as ChildResult);
      else reject(new Error(`startup child for ${lib} exited with ${signal ?? code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}×` : '—');

export async function startupSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const processes = pick(ctx, 5, 1);
  const later = pick(ctx, 3, 1);
  const big = ctx.smoke ? ctx.workers : 8;
  const runs = new Map<LibName, ChildResult[]>(ctx.libs.map((l) => [l, []]));
  const failed = new Map<LibName, string>();
  // Interleave the libraries process by process, so a noisy moment on the machine does not land on one library only.
  for (let p = 0; p < processes; p++) {
    for (const lib of ctx.libs) {
      if (failed.has(lib)) continue;
      ctx.log(`startup: ${lib} (process ${p + 1}/${processes})`);
      try {
        runs.get(lib)!.push(await runChild(lib, ctx.workers, later, big));
      } catch (e) {
        failed.set(lib, errorMessage(e));
      }
    }
  }
  const rows: Row[] = ctx.libs.map((lib): Row => {
    const f = failed.get(lib);
    if (f !== undefined) return { lib, values: {}, checked: false, error: f };
    const rs = runs.get(lib)!;
    return {
      lib,
      values: {
        first: median(rs.map((r) => r.first)),
        later: median(rs.map((r) => median(r.later))),
        big: median(rs.map((r) => r.big)),
        firstResult: median(rs.map((r) => r.firstResult)),
        shutdown: median(rs.map((r) => median(r.shutdown))),
      },
      checked: true,
    };
  });
  const metrics: Metric[] = [
    { key: 'first', label: `ready, first pool of a process (ms)`, better: 'lower', ratios: true },
    { key: 'later', label: `ready, later pools (ms)`, better: 'lower', ratios: true },
    { key: 'big', label: `ready, ${big} workers (ms)`, better: 'lower', ratios: true },
    { key: 'firstResult', label: 'first result, job sent before ready (ms)', better: 'lower', ratios: true },
    { key: 'shutdown', label: 'shutdown (ms)', better: 'lower', ratios: true },
  ];
  const ok = (lib: LibName): Row | undefined => rows.find((r) => r.lib === lib && r.error === undefined);
  const ours = ok(OURS);
  const raw = ok(RAW);
  const peers = rows.filter((r) => PEERS.includes(r.lib as LibName));
  const v = (row: Row | undefined, key: string): number | undefined => row?.values[key];
  const targets: Target[] = [];
  for (const key of ['first', 'later'] as const) {
    const what = key === 'first' ? 'first pool of a process' : 'later pools';
    const best = bestPeer(metrics.find((m) => m.key === key)!, peers);
    targets.push({
      issue: 16,
      text: `ready with ${ctx.workers} workers (${what}) ≤ 1.2× the hand-written worker_threads pair`,
      value: `${v(ours, key)?.toFixed(1) ?? '—'} ms vs ${v(raw, key)?.toFixed(1) ?? '—'} ms = ${ratio(v(ours, key), v(raw, key))}`,
      met: v(ours, key) !== undefined && v(raw, key) !== undefined ? v(ours, key)! <= 1.2 * v(raw, key)! : null,
    });
    targets.push({
      issue: 16,
      text: `ready with ${ctx.workers} workers (${what}) ≤ 0.6× the fastest peer`,
      value: best ? `${v(ours, key)?.toFixed(1) ?? '—'} ms vs ${best.lib} ${best.value.toFixed(1)} ms = ${ratio(v(ours, key), best.value)}` : 'no result',
      met: v(ours, key) !== undefined && best ? v(ours, key)! <= 0.6 * best.value : null,
    });
  }
  targets.push({
    issue: 16,
    text: `a pool of ${big} workers ready ≤ 1.5× the hand-written pair of ${ctx.workers} (later pools)`,
    value: `${v(ours, 'big')?.toFixed(1) ?? '—'} ms vs ${v(raw, 'later')?.toFixed(1) ?? '—'} ms = ${ratio(v(ours, 'big'), v(raw, 'later'))} (the hand-written ${big}: ${ratio(v(raw, 'big'), v(raw, 'later'))})`,
    met: v(ours, 'big') !== undefined && v(raw, 'later') !== undefined ? v(ours, 'big')! <= 1.5 * v(raw, 'later')! : null,
  });
  const bestShutdown = bestPeer(metrics.find((m) => m.key === 'shutdown')!, peers);
  targets.push({
    issue: 16,
    text: 'shutdown() no slower than the fastest peer\'s destroy',
    value: bestShutdown ? `${v(ours, 'shutdown')?.toFixed(1) ?? '—'} ms vs ${bestShutdown.lib} ${bestShutdown.value.toFixed(1)} ms = ${ratio(v(ours, 'shutdown'), bestShutdown.value)}` : 'no result',
    met: v(ours, 'shutdown') !== undefined && bestShutdown ? v(ours, 'shutdown')! <= bestShutdown.value : null,
  });
  return {
    suite: 'startup',
    title: `Start-up (${ctx.workers} workers running a job; first pool of a process and later ones; ${big} workers) and shutdown`,
    metrics,
    rows,
    notes: [
      `Median of ${processes} fresh process(es) per library, interleaved; in each, one first pool, ${later} later pool(s) (their median), one pool of ${big} and one first-result pool, each shut down before the next.`,
      '"ready" runs one barrier job per worker; the jobs wait for each other, so it proves every worker is up and takes work. The first pool of a process includes importing the library. "first result": a tiny job submitted right after the constructor (isolate-workgroup: right after launch(), not awaited).',
      'postMessage is the hand-written pair: plain worker_threads, one message each way, no library.',
    ],
    targets,
  };
}
