// Progress read from shared memory (monotone, ending at 1), cancellation by signal and timeout (workers
// stop claiming chunks), and an error in one chunk (rejects with its class and both stacks, stops the rest).
import { afterEach, describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';
import { kernels, launchedKernels, until } from './kernels-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

const sum = (a: Int32Array): number => a.reduce((s, v) => s + v, 0);

describe('kernels: progress', () => {
  it('reports an increasing fraction of the indices done, ending with 1 before the call resolves', async () => {
    wg = await launchedKernels(2);
    const n = 4000;
    const counts = wg.allocate(Int32Array, n);
    const seen: number[] = [];
    let resolved = false;
    const call = wg.parallelFor(n, new kernels.SlowCount(counts, 50), { chunk: 20, onProgress: (f) => seen.push(resolved ? -1 : f) });
    await call;
    resolved = true;
    expect(seen.length).toBeGreaterThan(2); // ~100 ms of work, polled every ~16 ms
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(1);
  });

  it('reports 1 for a reduction and for length 0', async () => {
    wg = await launchedKernels(2);
    const seen: number[] = [];
    await wg.parallelReduce(10, new kernels.Ranges(), { onProgress: (f) => seen.push(f) });
    await wg.parallelFor(0, new kernels.Empty(), { onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect(seen.filter((f) => f === 1)).toHaveLength(2);
  });
});

describe('kernels: cancellation', () => {
  it('an abort signal rejects the call at once; workers claim no more chunks; nothing stays pending', async () => {
    wg = await launchedKernels(2);
    const n = 100_000;
    const counts = wg.allocate(Int32Array, n);
    const ac = new AbortController();
    const call = wg.parallelFor(n, new kernels.SlowCount(counts, 20), { chunk: 100, signal: ac.signal });
    await until(() => sum(counts) > 0, 5000, 'the first indices');
    ac.abort();
    const err = await within(call.catch((e: unknown) => e), 2000, 'the aborted call');
    expect(err).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    const atReject = sum(counts);
    await until(() => wg!.pendingCount === 0, 5000, 'the participants');
    // A chunk running when the stop flag rose finishes (2 ms here); no worker claims another one.
    await new Promise((r) => setTimeout(r, 100));
    const done = sum(counts);
    expect(done - atReject).toBeLessThanOrEqual(2 * 100);
    expect(done).toBeLessThan(n);
    await new Promise((r) => setTimeout(r, 50));
    expect(sum(counts)).toBe(done);
    // the workgroup stays usable
    const again = wg.allocate(Int32Array, 10);
    await wg.parallelFor(10, new kernels.Count(again));
    expect([...again]).toEqual(Array(10).fill(1));
  });

  it('a signal aborted before the call rejects without running anything', async () => {
    wg = await launchedKernels(2);
    const counts = wg.allocate(Int32Array, 10);
    await expect(wg.parallelFor(10, new kernels.Count(counts), { signal: AbortSignal.abort() })).rejects.toThrow(lib.WorkgroupJobAbortedException);
    expect(sum(counts)).toBe(0);
    expect(wg.pendingCount).toBe(0);
  });

  it('a timeout rejects with WorkgroupTimeoutException and stops the workers', async () => {
    wg = await launchedKernels(2);
    const n = 100_000;
    const counts = wg.allocate(Int32Array, n);
    const started = performance.now();
    const err = (await wg.parallelReduce(n, new kernels.SlowCountSum(counts, 20), { chunk: 100, timeout: 100 }).catch((e: unknown) => e)) as InstanceType<typeof lib.WorkgroupTimeoutException>;
    expect(err).toBeInstanceOf(lib.WorkgroupTimeoutException);
    expect(err.timeoutMs).toBe(100);
    expect(err.operation).toBe('parallelReduce');
    expect(performance.now() - started).toBeLessThan(1000);
    await until(() => wg!.pendingCount === 0, 5000, 'the participants');
    expect(sum(counts)).toBeLessThan(n);
  });
});

describe('kernels: an error in one chunk', () => {
  it('rejects with the thrown class, its fields and both stacks; the other workers stop claiming', async () => {
    wg = await launchedKernels(2);
    const n = 200_000;
    const counts = wg.allocate(Int32Array, n);
    // 2,000 chunks of 200 µs: the whole range takes ~0.4 s on 2 workers, so a worker descheduled for a
    // while after claiming the bad chunk cannot make the others look as if they never stopped.
    const err = (await wg.parallelFor(n, new kernels.ThrowAt(counts, 1000, 200), { chunk: 100 }).catch((e: unknown) => e)) as Error & { index: number };
    expect(err).toBeInstanceOf(kernels.KernelFailure);
    expect(err.message).toBe('index 1000 is bad');
    expect(err.index).toBe(1000);
    expect(err.stack).toContain('=== Stack trace in worker');
    expect(err.stack).toContain('ThrowAt.run');
    expect(err.stack).toContain('=== Stack trace in main');
    expect(err.stack).toContain('kernels-progress-cancel.test.ts');
    await until(() => wg!.pendingCount === 0, 5000, 'the participants');
    expect(sum(counts)).toBeLessThan(n / 2); // stopped long before the end
    expect(counts[1000]).toBe(0);
  });

  it('an error thrown on main (mainThread: true) rejects the same way', async () => {
    wg = await launchedKernels(1);
    const n = 10_000;
    const counts = wg.allocate(Int32Array, n);
    await expect(wg.parallelFor(n, new kernels.ThrowAt(counts, 5), { chunk: 10_000, mainThread: true })).rejects.toThrow(kernels.KernelFailure);
    await until(() => wg!.pendingCount === 0, 5000, 'the participants');
  });
});

describe('kernels: the workgroup around the call', () => {
  it('shutdown() during a call rejects it with WorkgroupJobAbortedException, and nothing is left unhandled', async () => {
    wg = await launchedKernels(2);
    const counts = wg.allocate(Int32Array, 100_000);
    const call = wg.parallelFor(100_000, new kernels.SlowCount(counts, 20), { chunk: 100 });
    const outcome = call.catch((e: unknown) => e); // observed now: the call rejects while shutdown() runs
    await until(() => sum(counts) > 0, 5000, 'the first indices');
    await wg.shutdown();
    expect(await within(outcome, 5000, 'the call')).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    wg = undefined;
  });

  it('an async run() is refused with a TypeError saying run() must be synchronous', async () => {
    wg = await launchedKernels(2);
    await expect(wg.parallelReduce(10, new kernels.AsyncRun())).rejects.toThrow(/AsyncRun\.run\(\) returned a promise: a kernel's run\(start, end\) must be synchronous/);
    await expect(wg.parallelFor(10, new kernels.AsyncRun())).rejects.toThrow(TypeError);
    await until(() => wg!.pendingCount === 0, 5000, 'the participants');
  });

  it('a kernel class the workers cannot find rejects with a WorkgroupException naming it', async () => {
    wg = await launchedKernels(2);
    class NotExported extends lib.WorkgroupKernel {
      run(): void {}
    }
    await expect(wg.parallelFor(10, new NotExported())).rejects.toThrow(/^parallelFor\(\): the kernel is an instance of class NotExported, which the workgroup cannot find/);
    expect(wg.pendingCount).toBe(0);
  });
});
