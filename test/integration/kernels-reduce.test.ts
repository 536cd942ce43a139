// parallelReduce: the partials of the chunks combined in chunk order — integers equal to the single-thread
// sum, floats identical from run to run (and to a sequential sum over the same chunks) for a fixed chunking.
import { afterEach, describe, expect, it } from 'vitest';
import { lib } from './helpers.js';
import { kernels, launchedKernels } from './kernels-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

const seed = Number(process.env.KERNEL_SEED ?? (Date.now() % 2 ** 31));
console.log(`kernels-reduce test: seed=${seed} (rerun with KERNEL_SEED=${seed})`);
/** mulberry32: a small seeded generator. */
function random(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parallelReduce', () => {
  it.each([1, 3, 1000, 999_999])('an integer sum over %i elements equals the single-thread sum exactly', async (n) => {
    wg = await launchedKernels(2);
    const data = wg.allocate(Int32Array, n);
    const rnd = random(seed + n);
    let expected = 0;
    for (let i = 0; i < n; i++) {
      data[i] = Math.floor(rnd() * 2_000_001) - 1_000_000;
      expected += data[i]!;
    }
    await expect(wg.parallelReduce(n, new kernels.SumInts(data))).resolves.toBe(expected);
    await expect(wg.parallelReduce(n, new kernels.SumInts(data), { chunk: 17 })).resolves.toBe(expected);
    expect(wg.pendingCount).toBe(0);
  });

  it('a float sum is the same in every run for a fixed chunk size, and equals the chunk-ordered sequential sum', async () => {
    wg = await launchedKernels(2);
    const n = 300_001;
    const chunk = 4096;
    const data = wg.allocate(Float64Array, n);
    const rnd = random(seed);
    for (let i = 0; i < n; i++) data[i] = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 12);
    // What a reduction in chunk order gives: per-chunk sums, then added left to right.
    let expected = 0;
    for (let s = 0; s < n; s += chunk) {
      let part = 0;
      for (let i = s; i < Math.min(n, s + chunk); i++) part += data[i]!;
      expected = s === 0 ? part : expected + part;
    }
    const results = new Set<number>();
    for (let r = 0; r < 8; r++) results.add((await wg.parallelReduce(n, new kernels.SumFloats(data), { chunk })) as number);
    expect([...results]).toEqual([expected]);
    // With main taking part, too: the order is the chunks', not the threads'.
    await expect(wg.parallelReduce(n, new kernels.SumFloats(data), { chunk, mainThread: true })).resolves.toBe(expected);
  });

  it('a guided chunking is reproducible for the same worker count', async () => {
    wg = await launchedKernels(2);
    const n = 100_000;
    const data = wg.allocate(Float64Array, n);
    const rnd = random(seed + 1);
    for (let i = 0; i < n; i++) data[i] = rnd() * 1e6;
    const first = await wg.parallelReduce(n, new kernels.SumFloats(data));
    for (let r = 0; r < 5; r++) await expect(wg.parallelReduce(n, new kernels.SumFloats(data))).resolves.toBe(first);
  });

  it('combines object partials in chunk order: the ranges tile 0..n', async () => {
    wg = await launchedKernels(3);
    const n = 10_007;
    const ranges = (await wg.parallelReduce(n, new kernels.Ranges())) as [number, number][];
    expect(ranges[0]![0]).toBe(0);
    expect(ranges.at(-1)![1]).toBe(n);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1]);
    // guided: large first, never growing
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![1] - ranges[i]![0]).toBeLessThanOrEqual(ranges[i - 1]![1] - ranges[i - 1]![0]);
    const fixed = (await wg.parallelReduce(n, new kernels.Ranges(), { chunk: 1000 })) as [number, number][];
    expect(fixed).toHaveLength(11);
    expect(fixed[10]).toEqual([10_000, 10_007]);
  });
});
