// parallelFor processes every index exactly once: a counting kernel over odd lengths, lengths below the
// worker count, length 0, fixed and guided chunks, and with main taking part.
import { afterEach, describe, expect, it } from 'vitest';
import { lib } from './helpers.js';
import { kernels, launchedKernels, notOnce } from './kernels-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

describe('parallelFor: every index exactly once', () => {
  it.each([1, 2, 3, 7, 1001, 65_537, 1_000_003])('length %i, guided chunks, 2 workers', async (n) => {
    wg = await launchedKernels(2);
    const counts = wg.allocate(Int32Array, n);
    await expect(wg.parallelFor(n, new kernels.Count(counts))).resolves.toBeUndefined();
    expect(notOnce(counts)).toEqual([]);
    expect(wg.pendingCount).toBe(0);
  });

  it.each([
    [1, 1],
    [10, 3],
    [999, 7],
    [999, 1000],
    [12_345, 64],
  ])('length %i, fixed chunk %i, 3 workers', async (n, chunk) => {
    wg = await launchedKernels(3);
    const counts = wg.allocate(Int32Array, n);
    await wg.parallelFor(n, new kernels.Count(counts), { chunk });
    expect(notOnce(counts)).toEqual([]);
  });

  it('random lengths, chunkings and worker counts (seeded): every index once, the reduction exact', async () => {
    const seed = Number(process.env.KERNEL_SEED ?? (Date.now() % 2 ** 31));
    console.log(`kernels exactly-once random test: seed=${seed} (rerun with KERNEL_SEED=${seed})`);
    let s = seed;
    const rnd = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % n;
    };
    for (const workers of [1, 3]) {
      wg = await launchedKernels(workers);
      for (let c = 0; c < 15; c++) {
        const n = 1 + rnd(rnd(2) === 0 ? 50 : 200_000);
        const options = [{}, { chunk: 1 + rnd(n) }, { minChunk: 1 + rnd(Math.max(1, n >> 3)) }, { mainThread: true }][rnd(4)]!;
        const counts = wg.allocate(Int32Array, n).fill(0); // a reused block is not zeroed
        await wg.parallelFor(n, new kernels.Count(counts), options);
        expect(notOnce(counts), `n=${n} ${JSON.stringify(options)}`).toEqual([]);
        for (let i = 0; i < n; i++) counts[i] = i % 1000;
        const expected = counts.reduce((a, v) => a + v, 0);
        await expect(wg.parallelReduce(n, new kernels.SumInts(counts), options), `n=${n} ${JSON.stringify(options)}`).resolves.toBe(expected);
        wg.release(counts);
      }
      expect(wg.pendingCount).toBe(0);
      await wg.shutdown();
      wg = undefined;
    }
  });

  it('a length smaller than the worker count (4 workers, 2 indices)', async () => {
    wg = await launchedKernels(4);
    const counts = wg.allocate(Int32Array, 2);
    await wg.parallelFor(2, new kernels.Count(counts));
    expect([...counts]).toEqual([1, 1]);
    expect(wg.pendingCount).toBe(0);
  });

  it('length 0 runs nothing and resolves, also for a reduction with identity()', async () => {
    wg = await launchedKernels(2);
    const counts = wg.allocate(Int32Array, 1);
    await expect(wg.parallelFor(0, new kernels.Count(counts))).resolves.toBeUndefined();
    expect(counts[0]).toBe(0);
    await expect(wg.parallelReduce(0, new kernels.SumInts(counts))).resolves.toBe(0);
    await expect(wg.parallelReduce(0, new kernels.Ranges())).rejects.toThrow(RangeError);
  });

  it('main taking part (mainThread: true) still runs every index once', async () => {
    wg = await launchedKernels(2);
    const n = 100_001;
    const counts = wg.allocate(Int32Array, n);
    await wg.parallelFor(n, new kernels.Count(counts), { mainThread: true, chunk: 100 });
    expect(notOnce(counts)).toEqual([]);
  });

  it('with mainThread: true, main and the workers share the chunks', async () => {
    wg = await launchedKernels(2);
    const n = 2000;
    const who = wg.allocate(Int32Array, n);
    await wg.parallelFor(n, new kernels.Who(who, 20), { mainThread: true, chunk: 10 });
    const threads = new Set(who);
    expect(threads.has(0)).toBe(false); // every index ran
    expect(threads.has(1)).toBe(true); // main
    expect([...threads].some((t) => t >= 2)).toBe(true); // a worker
  });

  it('concurrent calls on one workgroup each run their own indices once, beside ordinary jobs', async () => {
    wg = await launchedKernels(2);
    const sizes = [1, 999, 50_000, 123_457];
    const arrays = sizes.map((n) => wg!.allocate(Int32Array, n));
    const busy = wg.dispatch(new kernels.BusyJob(30));
    await Promise.all(arrays.map((counts, k) => wg!.parallelFor(counts.length, new kernels.Count(counts), k % 2 ? { chunk: 7 } : {})));
    for (const counts of arrays) expect(notOnce(counts)).toEqual([]);
    await expect(busy).resolves.toBe(30);
    expect(wg.pendingCount).toBe(0);
  });

  it('a plain SharedArrayBuffer works as well as an arena array, and many calls in a row', async () => {
    wg = await launchedKernels(2);
    const counts = new Int32Array(new SharedArrayBuffer(4 * 5000));
    for (let r = 0; r < 50; r++) await wg.parallelFor(5000, new kernels.Count(counts), { minChunk: 7 });
    expect(counts.every((c) => c === 50)).toBe(true);
  });

  it('a worker busy with a long job does not hold the call up: the free worker runs every chunk', async () => {
    wg = await launchedKernels(2);
    const busy = wg.dispatch(new kernels.BusyJob(3000), 1);
    await new Promise((r) => setTimeout(r, 50)); // worker 1 is in the job
    const n = 10_000;
    const counts = wg.allocate(Int32Array, n);
    const started = performance.now();
    await wg.parallelFor(n, new kernels.Count(counts));
    expect(performance.now() - started).toBeLessThan(1500);
    expect(notOnce(counts)).toEqual([]);
    await busy;
    expect(wg.pendingCount).toBe(0);
  });

  it('refuses bad arguments with TypeError / RangeError naming them', async () => {
    wg = await launchedKernels(1);
    const k = new kernels.Count(wg.allocate(Int32Array, 1));
    await expect(wg.parallelFor(-1, k)).rejects.toThrow(RangeError);
    await expect(wg.parallelFor(1.5, k)).rejects.toThrow('expected `length` of parallelFor() to be an integer in 0..2147483647, got 1.5');
    await expect(wg.parallelFor(1, { run() {} } as never)).rejects.toThrow(TypeError);
    await expect(wg.parallelFor(1, k, { chunk: 0 })).rejects.toThrow('expected `chunk` of parallelFor() to be an integer in 1..2147483647, got 0');
    await expect(wg.parallelFor(1, k, { chunk: 2, minChunk: 2 })).rejects.toThrow(TypeError);
    await expect(wg.parallelFor(1, k, { chunks: 2 } as never)).rejects.toThrow('did you mean `chunk`?');
    await expect(wg.parallelReduce(1, k as never)).rejects.toThrow('combine(a, b)');
  });

  it('rejects before launch() and after shutdown()', async () => {
    const idle = new lib.IsolateWorkgroup(1, { modules: [] });
    await expect(idle.parallelFor(1, new kernels.Empty())).rejects.toThrow(lib.WorkgroupNotReadyException);
    wg = await launchedKernels(1);
    await wg.shutdown();
    await expect(wg.parallelFor(1, new kernels.Empty())).rejects.toThrow(lib.WorkgroupInactiveException);
    wg = undefined;
  });
});
