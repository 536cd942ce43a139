// What parallelises: the same work on one thread and on a workgroup, side by side, for three kinds of
// work — compute-bound (arithmetic on values in registers), memory-bound (a transform plus a sum over a big
// array: the cores share one memory bus) and small jobs of growing size (the fixed cost per job against
// the work in it). Prints the speed-up of each against one thread in the same run (the fastest of a few
// repetitions of each side, to filter out what else runs on the machine).
//
//   npm run build && node examples/what-parallelises.mjs           # quick (a few seconds)
//   npm run build && node examples/what-parallelises.mjs --full    # the sizes quoted in BEST_PRACTICES.md
//
// One file is the program and its work module (modules: [import.meta.url]); the main code runs only on
// the main thread. Timings depend on the machine and on what else runs on it: compare rows of one run.
import { availableParallelism, loadavg } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { IsolateWorkgroup } from 'isolate-workgroup';

/** Compute-bound: arithmetic only, nothing read from memory; every iteration costs the same. */
export function compute(from, to) {
  let s = 0;
  for (let i = from; i < to; i++) {
    const x = (i & 4095) * 0.001;
    s += Math.sqrt(x) * Math.sin(x);
  }
  return s;
}

/** Memory-bound: a transform plus a sum over a slice of a big shared array (streams it through the caches). */
export function transformSum(values, from, to) {
  let s = 0;
  for (let i = from; i < to; i++) {
    const x = values[i] * 1.0001 + 1;
    values[i] = x;
    s += x;
  }
  return s;
}

/** A job of about `us` microseconds of arithmetic (`iterations` calibrated on the main thread). */
export function sized(iterations) {
  return compute(0, iterations);
}

/** The fastest of `reps` runs (the least disturbed by whatever else runs on the machine), and its result. */
async function time(fn, reps, before = () => {}) {
  let best = { ms: Infinity, result: undefined };
  for (let r = 0; r < reps; r++) {
    before();
    const t0 = performance.now();
    const result = await fn();
    const ms = performance.now() - t0;
    if (ms < best.ms) best = { ms, result };
  }
  return best;
}

/** Splits [0, n) into `parts` ranges. */
function ranges(n, parts) {
  return Array.from({ length: parts }, (_, k) => [Math.floor((n * k) / parts), Math.floor((n * (k + 1)) / parts)]);
}

const close = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

async function main() {
  const full = process.argv.includes('--full');
  const reps = full ? 5 : 2;
  const workers = Math.min(4, availableParallelism());
  const wg = new IsolateWorkgroup(workers, { modules: [import.meta.url] });
  await wg.launch();
  const speedup = (one, many) => `${(one / many).toFixed(2)}×`;
  console.log(`${workers} workers, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}`);
  try {
    // 1. Compute-bound: 2 jobs per worker.
    const n = full ? 40_000_000 : 2_000_000;
    compute(0, 100_000); // warm the function on main too
    const one = await time(() => compute(0, n), reps);
    const many = await time(async () => (await Promise.all(ranges(n, workers * 2).map(([a, b]) => wg.run(compute, a, b)))).reduce((x, y) => x + y, 0), reps);
    if (!close(one.result, many.result)) throw new Error(`compute: ${one.result} != ${many.result}`);
    console.log(`compute-bound  ${n.toLocaleString('en-US')} iterations: one thread ${one.ms.toFixed(0)} ms, workgroup ${many.ms.toFixed(0)} ms: ${speedup(one.ms, many.ms)}`);

    // 2. Memory-bound: the same transform + sum on one thread, then on the workers (one slice each).
    const length = full ? 16_000_000 : 2_000_000;
    const values = wg.allocate(Float64Array, length).fill(1);
    const refill = () => values.fill(1);
    const oneM = await time(() => transformSum(values, 0, length), reps, refill);
    const manyM = await time(async () => (await Promise.all(ranges(length, workers).map(([a, b]) => wg.run(transformSum, values, a, b)))).reduce((x, y) => x + y, 0), reps, refill);
    if (!close(oneM.result, manyM.result)) throw new Error(`memory: ${oneM.result} != ${manyM.result}`);
    wg.release(values);
    console.log(`memory-bound   ${length.toLocaleString('en-US')} doubles: one thread ${oneM.ms.toFixed(0)} ms, workgroup ${manyM.ms.toFixed(0)} ms: ${speedup(oneM.ms, manyM.ms)}`);

    // 3. Job size: `count` jobs of a given size, all dispatched at once, against the same work inline.
    const calibration = await time(() => compute(0, 1_000_000), 3);
    const perUs = 1_000_000 / (calibration.ms * 1000); // iterations per µs on this machine
    const count = full ? 1_000 : 100;
    for (const us of [1, 10, 100, 1000]) {
      const iterations = Math.max(1, Math.round(us * perUs));
      const jobs = us >= 1000 && !full ? count / 4 : count;
      const inline = await time(() => {
        let s = 0;
        for (let j = 0; j < jobs; j++) s += sized(iterations);
        return s;
      }, reps);
      const pooled = await time(async () => (await Promise.all(Array.from({ length: jobs }, () => wg.run(sized, iterations)))).reduce((x, y) => x + y, 0), reps);
      if (!close(inline.result, pooled.result)) throw new Error(`jobs of ${us} µs: ${inline.result} != ${pooled.result}`);
      console.log(`jobs of ~${String(us).padStart(4)} µs  ×${jobs}: one thread ${inline.ms.toFixed(1)} ms, workgroup ${pooled.ms.toFixed(1)} ms: ${speedup(inline.ms, pooled.ms)}`);
    }
  } finally {
    await wg.shutdown();
  }
}

if (isMainThread) await main();
