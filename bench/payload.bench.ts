/**
 * Payload benchmark: one 16 MiB Float64Array (2 Mi elements) summed per job, one job at a time, 2 workers
 * per pool, every path side by side in one run:
 *
 * - compute floor: the same sum in a worker thread of its own, timed inside that thread (no dispatch, no
 *   copy, no message), sampled three times through the run (start, middle, end; the best is kept, since a
 *   shared machine can only make it slower);
 * - isolate-workgroup: `arena` (an array from `wg.allocate`, by reference), `sab` (a Float64Array on the
 *   caller's own SharedArrayBuffer, by reference), `copy` (a non-shared array: one memcpy into shared
 *   memory on each side, out of band), `transfer` (`{ transfer: [buffer] }`: moved, no copy);
 * - piscina: `copy` (its default: structured clone), `transfer` (`Piscina.move`), `sab`;
 * - workerpool: `copy`, `sab`; raw postMessage: `copy`, `transfer`, `sab` (the hand-written baseline).
 *
 * Transfer rows detach their buffer, so each of their iterations gets a fresh copy of the data made
 * before the iteration starts (not timed). Every path's result is checked against the main-thread sum
 * before it is timed, and on every timed iteration. Also measured: what `this.report()` at 1,000 reports/s
 * costs a job that sums the array repeatedly (the job's own time with and without reporting).
 *
 * Targets (issue 5; reported, never asserted): arena within 1.3× of the compute floor; arena ≥ 5× faster
 * than piscina's copy path; progress at 1,000 reports/s costs the job < 5 %.
 *
 * Run: `node scripts/build.mjs && npx tsx bench/payload.bench.ts [--smoke]` — prints a Markdown table and
 * writes bench/results/payload.json. `npm run bench` runs it as its `payload` scope via `runPayloadSuite`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Bench } from 'tinybench';
import workerpool from 'workerpool';
import type * as Lib from '../src/index.js';

const here = (file: string): URL => new URL(`./payload/${file}`, import.meta.url);
const RESULTS = new URL('./results/payload.json', import.meta.url);

export type PayloadPath = 'floor' | 'arena' | 'sab' | 'copy' | 'transfer';

export interface PayloadOptions {
  /** Tiny counts (1 MiB, 3 iterations): proves every path runs and agrees; the times mean nothing. */
  readonly smoke: boolean;
  /** Workers per pool (default 2). */
  readonly workers?: number;
  /** Libraries to run (default all of: isolate-workgroup, piscina, workerpool, postMessage). */
  readonly libs?: readonly string[];
  readonly log?: (message: string) => void;
}

/** One measured figure, flat (for any consumer). */
export interface PayloadRecord {
  readonly name: string;
  readonly library: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
}

/** A row in bench/lib/report.ts's shape (what `npm run bench` prints): ms per job by path. */
export interface PayloadRow {
  readonly lib: string;
  readonly values: Partial<Record<PayloadPath, number>>;
  readonly checked: boolean;
  readonly error?: string;
}

export interface PayloadSuiteResult {
  readonly title: string;
  readonly metrics: ReadonlyArray<{ key: PayloadPath; label: string; better: 'lower'; ratios: boolean; digits: number }>;
  readonly rows: readonly PayloadRow[];
  readonly notes: readonly string[];
  readonly targets: ReadonlyArray<{ issue: number; text: string; value: string; met: boolean | null }>;
  /** The same figures, flat: `{ name, library, metric, value, unit }`. */
  readonly records: readonly PayloadRecord[];
  /** `minMs`: the fastest iteration of each path (by library): on a busy machine a steadier figure than the median. */
  readonly data: {
    readonly bytes: number;
    readonly iterations: number;
    readonly progress: ProgressCost | undefined;
    readonly minMs: Record<string, Partial<Record<PayloadPath, number>>>;
  };
}

export interface ProgressCost {
  readonly reportsPerSecond: number;
  readonly jobMsWithout: number;
  readonly jobMsWith: number;
  readonly reportsDelivered: number;
  readonly costPercent: number;
}

const ALL_LIBS = ['isolate-workgroup', 'piscina', 'workerpool', 'postMessage'] as const;
const FLOOR_LIB = 'one thread, compute only (floor)';
const PATH_LABELS: Record<PayloadPath, string> = {
  floor: 'compute only, ms',
  arena: 'arena (wg.allocate), ms',
  sab: 'own SharedArrayBuffer, ms',
  copy: 'copy, ms',
  transfer: 'transfer, ms',
};

interface Sizes {
  readonly elements: number;
  readonly iterations: number;
  readonly warmup: number;
  readonly progressRepeats: number;
  readonly progressRuns: number;
}

function sizes(smoke: boolean): Sizes {
  return smoke
    ? { elements: 128 * 1024, iterations: 3, warmup: 1, progressRepeats: 3, progressRuns: 1 }
    : { elements: 2 * 1024 * 1024, iterations: 30, warmup: 5, progressRepeats: 120, progressRuns: 5 };
}

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Seeded data, so every path sums the very same values in the same order (an exact result to check). */
function makeData(n: number): Float64Array<ArrayBuffer> {
  const a = new Float64Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = (s % 1_000_000) / 1024;
  }
  return a;
}

/**
 * Median milliseconds per call of `fn`, through tinybench (fixed iteration counts). `before` runs ahead of
 * every iteration, untimed (a fresh buffer for a transfer). `fn` must resolve with the sum; a wrong one
 * throws, and the row reports the error.
 */
async function sample(name: string, sz: Sizes, expected: number, fn: () => Promise<number>, before?: () => void): Promise<{ p50: number; min: number }> {
  before?.();
  const first = await fn();
  if (first !== expected) throw new Error(`${name}: wrong sum ${first}, expected ${expected}`);
  const bench = new Bench({ name, iterations: sz.iterations, time: 0, warmup: sz.warmup > 0, warmupIterations: sz.warmup, warmupTime: 0, throws: true });
  bench.add(
    name,
    async () => {
      const got = await fn();
      if (got !== expected) throw new Error(`${name}: wrong sum ${got}, expected ${expected}`);
    },
    before ? { beforeEach: before } : {},
  );
  const [task] = await bench.run();
  const r = task?.result;
  if (!r || (r.state !== 'completed' && r.state !== 'aborted-with-statistics')) {
    const error = r && 'error' in r ? r.error : undefined;
    throw error ?? new Error(`${name}: tinybench did not complete (${r?.state ?? 'no result'})`);
  }
  return { p50: r.latency.p50, min: r.latency.min };
}

/** The floor: `iterations` sums timed inside a dedicated worker thread; median and fastest ms. */
async function floorSample(data: Float64Array, sz: Sizes, expected: number): Promise<{ p50: number; min: number }> {
  const w = new Worker(here('floor.mjs'));
  try {
    const r = await new Promise<{ ms: number[]; sum: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.postMessage([data, sz.iterations, sz.warmup]);
    });
    if (r.sum !== expected) throw new Error(`compute floor: wrong sum ${r.sum}, expected ${expected}`);
    const ms = r.ms.slice().sort((a, b) => a - b);
    return { p50: ms[Math.floor(ms.length / 2)]!, min: ms[0]! };
  } finally {
    await w.terminate();
  }
}

type Runner = (p: PayloadPath) => { fn: () => Promise<number>; before?: () => void } | undefined;

interface Pool {
  readonly paths: readonly PayloadPath[];
  readonly run: Runner;
  close(): Promise<void>;
}

/** Fresh data for a transfer iteration (the previous one was detached). */
function freshCopies(data: Float64Array<ArrayBuffer>): { before: () => void; current: () => Float64Array<ArrayBuffer> } {
  let current = data.slice();
  return {
    before: () => {
      if (current.byteLength === 0) current = data.slice();
    },
    current: () => current,
  };
}

async function openWorkgroup(workers: number, data: Float64Array<ArrayBuffer>, sharedData: Float64Array): Promise<Pool & { progress(sz: Sizes): Promise<ProgressCost> }> {
  const lib = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof Lib;
  const work = (await import(here('workgroup.mjs').href)) as {
    Sum: new (data: unknown) => Lib.WorkgroupJob<number>;
    SumWithProgress: new (data: Float64Array, repeats: number, everyMs: number) => Lib.WorkgroupJob<{ ms: number; reports: number; s: number }>;
  };
  const wg = new lib.IsolateWorkgroup(workers, { modules: [here('workgroup.mjs')] });
  await wg.launch();
  const arena = wg.allocate(Float64Array, data.length);
  arena.set(data);
  const t = freshCopies(data);
  return {
    paths: ['arena', 'sab', 'copy', 'transfer'],
    run: (p) => {
      switch (p) {
        case 'arena':
          return { fn: () => wg.dispatch(new work.Sum(arena)) };
        case 'sab':
          return { fn: () => wg.dispatch(new work.Sum(sharedData)) };
        case 'copy':
          return { fn: () => wg.dispatch(new work.Sum(data)) };
        case 'transfer':
          return {
            fn: () => {
              const a = t.current();
              return wg.dispatch(new work.Sum(a), { transfer: [a.buffer] });
            },
            before: t.before,
          };
        default:
          return undefined;
      }
    },
    async progress(sz) {
      const everyMs = 1; // 1,000 reports per second
      const without: number[] = [];
      const withReports: number[] = [];
      let delivered = 0;
      for (let i = 0; i < sz.progressRuns + 1; i++) {
        const a = await wg.dispatch(new work.SumWithProgress(arena, sz.progressRepeats, 0));
        let got = 0;
        const b = await wg.dispatch(new work.SumWithProgress(arena, sz.progressRepeats, everyMs), { onProgress: () => got++ });
        if (a.s !== b.s) throw new Error('progress job: the two runs disagree');
        if (i === 0) continue; // warm-up
        without.push(a.ms);
        withReports.push(b.ms);
        delivered += got;
      }
      const med = (xs: number[]): number => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
      const jobMsWithout = med(without);
      const jobMsWith = med(withReports);
      return {
        reportsPerSecond: 1000 / everyMs,
        jobMsWithout,
        jobMsWith,
        reportsDelivered: Math.round(delivered / without.length),
        costPercent: ((jobMsWith - jobMsWithout) / jobMsWithout) * 100,
      };
    },
    async close() {
      wg.release(arena);
      await wg.shutdown();
    },
  };
}

async function openPiscina(workers: number, data: Float64Array<ArrayBuffer>, sharedData: Float64Array): Promise<Pool> {
  const pool = new Piscina({ filename: here('piscina.mjs').href, minThreads: workers, maxThreads: workers });
  const t = freshCopies(data);
  return {
    paths: ['sab', 'copy', 'transfer'],
    run: (p) => {
      if (p === 'copy') return { fn: () => pool.run(data) as Promise<number> };
      if (p === 'sab') return { fn: () => pool.run(sharedData) as Promise<number> };
      if (p === 'transfer') return { fn: () => pool.run(Piscina.move(t.current())) as Promise<number>, before: t.before };
      return undefined;
    },
    close: () => pool.destroy(),
  };
}

async function openWorkerpool(workers: number, data: Float64Array<ArrayBuffer>, sharedData: Float64Array): Promise<Pool> {
  const pool = workerpool.pool(fileURLToPath(here('workerpool.mjs')), { minWorkers: workers, maxWorkers: workers, workerType: 'thread' });
  const exec = (arg: Float64Array): Promise<number> => Promise.resolve(pool.exec('sum', [arg]) as PromiseLike<number>);
  return {
    paths: ['sab', 'copy'],
    run: (p) => (p === 'copy' ? { fn: () => exec(data) } : p === 'sab' ? { fn: () => exec(sharedData) } : undefined),
    close: async () => {
      await pool.terminate();
    },
  };
}

/** Two plain Workers; each job is one postMessage to the worker with the fewest jobs outstanding. */
async function openRaw(workers: number, data: Float64Array<ArrayBuffer>, sharedData: Float64Array): Promise<Pool> {
  type Thread = { w: Worker; pending: Map<number, (v: number) => void> };
  const threads: Thread[] = [];
  for (let i = 0; i < workers; i++) {
    const w = new Worker(here('raw.mjs'));
    const th: Thread = { w, pending: new Map() };
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    w.on('message', ([id, value]: [number, number]) => {
      const done = th.pending.get(id);
      th.pending.delete(id);
      done?.(value);
    });
    threads.push(th);
  }
  let nextId = 0;
  const send = (arg: Float64Array, transfer: ArrayBuffer[] = []): Promise<number> => {
    let th = threads[0]!;
    for (const x of threads) if (x.pending.size < th.pending.size) th = x;
    const id = nextId++;
    return new Promise<number>((resolve) => {
      th.pending.set(id, resolve);
      th.w.postMessage([id, arg], transfer);
    });
  };
  const t = freshCopies(data);
  return {
    paths: ['sab', 'copy', 'transfer'],
    run: (p) => {
      if (p === 'copy') return { fn: () => send(data) };
      if (p === 'sab') return { fn: () => send(sharedData) };
      if (p === 'transfer') return { fn: () => send(t.current(), [t.current().buffer]), before: t.before };
      return undefined;
    },
    close: async () => {
      await Promise.all(threads.map((th) => th.w.terminate()));
    },
  };
}

const OPENERS: Record<(typeof ALL_LIBS)[number], (w: number, d: Float64Array<ArrayBuffer>, s: Float64Array) => Promise<Pool>> = {
  'isolate-workgroup': openWorkgroup,
  piscina: openPiscina,
  workerpool: openWorkerpool,
  postMessage: openRaw,
};

/** Runs every path of every library; resolves with the rows, the flat records and the targets. */
export async function runPayloadSuite(options: PayloadOptions): Promise<PayloadSuiteResult> {
  const sz = sizes(options.smoke);
  const workers = options.workers ?? 2;
  const log = options.log ?? (() => {});
  const libs = ALL_LIBS.filter((l) => options.libs === undefined || options.libs.includes(l));
  const data = makeData(sz.elements);
  const expected = sumOf(data);
  const sharedData = new Float64Array(new SharedArrayBuffer(data.byteLength));
  sharedData.set(data);
  const bytes = data.byteLength;

  const rows: PayloadRow[] = [];
  const minMs: Record<string, Partial<Record<PayloadPath, number>>> = {};
  const floors = [await floorSample(data, sz, expected)];
  let progress: ProgressCost | undefined;
  for (const lib of libs) {
    if (lib === libs[Math.floor(libs.length / 2)]) floors.push(await floorSample(data, sz, expected));
    log(`payload: ${lib}`);
    const values: Partial<Record<PayloadPath, number>> = {};
    const mins: Partial<Record<PayloadPath, number>> = {};
    minMs[lib] = mins;
    let pool: Pool | undefined;
    try {
      pool = await OPENERS[lib](workers, data, sharedData);
      for (const p of pool.paths) {
        const r = pool.run(p)!;
        const m = await sample(`${lib} ${p}`, sz, expected, r.fn, r.before);
        values[p] = m.p50;
        mins[p] = m.min;
      }
      if (lib === 'isolate-workgroup') progress = await (pool as Awaited<ReturnType<typeof openWorkgroup>>).progress(sz);
      rows.push({ lib, values, checked: true });
    } catch (e) {
      rows.push({ lib, values, checked: false, error: e instanceof Error ? e.message : String(e) });
    } finally {
      await pool?.close();
    }
  }

  floors.push(await floorSample(data, sz, expected));
  const floor = Math.min(...floors.map((f) => f.p50));
  rows.unshift({ lib: FLOOR_LIB, values: { floor }, checked: true });
  minMs[FLOOR_LIB] = { floor: Math.min(...floors.map((f) => f.min)) };

  const records: PayloadRecord[] = [];
  for (const row of rows) {
    for (const [p, v] of Object.entries(row.values) as Array<[PayloadPath, number]>) {
      records.push({ name: `16 MiB Float64Array sum per job, ${p}, median`, library: row.lib, metric: p, value: v, unit: 'ms' });
      const min = minMs[row.lib]?.[p];
      if (min !== undefined) records.push({ name: `16 MiB Float64Array sum per job, ${p}, fastest`, library: row.lib, metric: `${p}-min`, value: min, unit: 'ms' });
    }
  }
  if (progress) {
    records.push({ name: 'progress at 1,000 reports/s, cost to the job', library: 'isolate-workgroup', metric: 'progress-cost', value: progress.costPercent, unit: '%' });
  }

  const ours = rows.find((r) => r.lib === 'isolate-workgroup')?.values;
  const piscinaCopy = rows.find((r) => r.lib === 'piscina')?.values.copy;
  const arenaVsFloor = ours?.arena === undefined ? undefined : ours.arena / floor;
  const vsPiscina = ours?.arena === undefined || piscinaCopy === undefined ? undefined : piscinaCopy / ours.arena;
  const rawCopy = rows.find((r) => r.lib === 'postMessage')?.values.copy;
  const targets = [
    { issue: 11, text: 'arena path ≤ 1.15× the compute floor', value: arenaVsFloor === undefined ? '—' : `${arenaVsFloor.toFixed(2)}× the floor`, met: arenaVsFloor === undefined ? null : arenaVsFloor <= 1.15 },
    {
      issue: 11,
      text: 'copy path (non-shared array) no slower than a structured clone through postMessage',
      value: ours?.copy === undefined || rawCopy === undefined ? '—' : `${ours.copy.toFixed(2)} ms vs ${rawCopy.toFixed(2)} ms`,
      met: ours?.copy === undefined || rawCopy === undefined ? null : ours.copy <= rawCopy,
    },
    { issue: 5, text: 'arena path within 1.3× of the compute floor', value: arenaVsFloor === undefined ? '—' : `${arenaVsFloor.toFixed(2)}× the floor`, met: arenaVsFloor === undefined ? null : arenaVsFloor <= 1.3 },
    { issue: 5, text: "arena path ≥ 5× faster than piscina's copy path", value: vsPiscina === undefined ? '—' : `${vsPiscina.toFixed(1)}× faster`, met: vsPiscina === undefined ? null : vsPiscina >= 5 },
    {
      issue: 5,
      text: 'progress at 1,000 reports/s costs the job < 5%',
      value: progress === undefined ? '—' : `${progress.costPercent.toFixed(2)}% (${progress.jobMsWith.toFixed(1)} vs ${progress.jobMsWithout.toFixed(1)} ms, ${progress.reportsDelivered} reports)`,
      met: progress === undefined ? null : progress.costPercent < 5,
    },
  ];
  const mib = (bytes / 1024 / 1024).toFixed(bytes >= 1 << 20 ? 0 : 2);
  return {
    title: `${mib} MiB Float64Array payload: sum per job, one job at a time, ${workers} workers`,
    metrics: (['floor', 'arena', 'sab', 'copy', 'transfer'] as const).map((key) => ({ key, label: PATH_LABELS[key], better: 'lower' as const, ratios: key !== 'floor', digits: 2 })),
    rows,
    notes: [
      'Median ms per job (dispatch → result), one job at a time; every result checked against the main-thread sum.',
      "arena: an array from wg.allocate(), by reference. own SharedArrayBuffer: by reference for every library. copy: each library's default for a non-shared array (isolate-workgroup: one memcpy into shared memory on each side; the others: structured clone). transfer: the buffer is moved (detached); each iteration gets a fresh copy made before it, untimed.",
      'isolate-workgroup places a job with `transfer` on one worker at dispatch (a buffer moves to one thread only).',
    ],
    targets,
    records,
    data: { bytes, iterations: sz.iterations, progress, minMs },
  };
}

function markdown(r: PayloadSuiteResult): string {
  const floor = r.rows.find((x) => x.lib === FLOOR_LIB)?.values.floor;
  const piscinaCopy = r.rows.find((x) => x.lib === 'piscina')?.values.copy;
  const minFloor = r.data.minMs[FLOOR_LIB]?.floor;
  const minPiscina = r.data.minMs['piscina']?.copy;
  const out = [
    `### ${r.title}`,
    '',
    '| library | path | ms / job (median) | × compute floor | × faster than piscina copy | fastest ms | × floor (fastest) | × piscina copy (fastest) |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    if (row.error !== undefined) out.push(`| ${row.lib} | — | error: ${row.error} | | | | | |`);
    for (const [p, v] of Object.entries(row.values) as Array<[PayloadPath, number]>) {
      const vsFloor = floor ? (v / floor).toFixed(2) : '—';
      const vsPiscina = piscinaCopy ? (piscinaCopy / v).toFixed(1) : '—';
      const min = r.data.minMs[row.lib]?.[p];
      const minVsFloor = min !== undefined && minFloor ? (min / minFloor).toFixed(2) : '—';
      const minVsPiscina = min !== undefined && minPiscina ? (minPiscina / min).toFixed(1) : '—';
      out.push(`| ${row.lib} | ${p === 'floor' ? 'compute only' : p} | ${v.toFixed(2)} | ${vsFloor} | ${vsPiscina} | ${min?.toFixed(2) ?? '—'} | ${minVsFloor} | ${minVsPiscina} |`);
    }
  }
  out.push('', '| target | measured | met |', '|---|---|---|');
  for (const t of r.targets) out.push(`| issue ${t.issue}: ${t.text} | ${t.value} | ${t.met === null ? '—' : t.met ? 'yes' : 'no'} |`);
  out.push('', ...r.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const smoke = process.argv.includes('--smoke');
  const started = performance.now();
  const result = await runPayloadSuite({ smoke, log: (m) => process.stderr.write(`${m}\n`) });
  console.log(markdown(result));
  const doc = {
    bench: 'payload',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    smoke,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    ...result,
  };
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(smoke ? new URL('./results/payload.smoke.json', import.meta.url) : RESULTS, `${JSON.stringify(doc, null, 2)}\n`);
  if (result.rows.some((r) => r.error !== undefined)) process.exitCode = 1;
}
