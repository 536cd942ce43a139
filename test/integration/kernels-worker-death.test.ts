// A worker killed or crashed mid-kernel: the chunk it had claimed but not finished is run again by
// another worker, every index still ends processed once (the dying chunk counted nothing), a reduction
// still equals the single-thread result, and nothing stays pending.
import { afterEach, describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';
import { kernels, launchedKernels, notOnce, until } from './kernels-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

describe('kernels: a worker dies mid-kernel', () => {
  it('kill(i) while worker i runs a chunk: the chunk runs again elsewhere, every index once', async () => {
    wg = await launchedKernels(2);
    const n = 50_000;
    const counts = wg.allocate(Int32Array, n);
    const flags = wg.allocate(Int32Array, 2);
    const call = wg.parallelFor(n, new kernels.DieAt(counts, flags, 25_000, 'hang'), { chunk: 500 });
    await until(() => Atomics.load(flags, 1) !== 0, 10_000, 'the hanging chunk');
    const victim = Atomics.load(flags, 1) - 1;
    await wg.kill(victim);
    await within(call, 15_000, 'the call after the kill');
    expect(notOnce(counts)).toEqual([]);
    expect(wg.pendingCount).toBe(0);
    expect(wg.liveIsolateCount).toBe(1);
  });

  it('process.exit() in a chunk (a crash): the chunk runs again, every index once, a replacement starts', async () => {
    wg = await launchedKernels(2);
    const errors: unknown[] = [];
    wg.setErrorHandler(lib.IsolateErrorType.communication, (e) => void errors.push(e));
    const n = 50_001;
    const counts = wg.allocate(Int32Array, n);
    const flags = wg.allocate(Int32Array, 2);
    await within(wg.parallelFor(n, new kernels.DieAt(counts, flags, 30_000, 'exit'), { chunk: 1000 }), 15_000, 'the call after the crash');
    expect(Atomics.load(flags, 1)).toBeGreaterThan(0);
    expect(notOnce(counts)).toEqual([]);
    expect(wg.pendingCount).toBe(0);
    expect(errors).toHaveLength(1);
    await until(() => wg!.liveIsolateCount === 2, 10_000, 'the replacement');
  });

  it('a reduction whose worker crashed still equals the single-thread sum (the lost partials run again)', async () => {
    wg = await launchedKernels(2);
    const n = 200_000;
    const data = wg.allocate(Int32Array, n);
    for (let i = 0; i < n; i++) data[i] = (i * 7919) % 1000;
    const expected = data.reduce((s, v) => s + v, 0);
    const flags = wg.allocate(Int32Array, 2);
    const seen: number[] = [];
    let settled = false;
    let late = 0;
    const sum = await within(
      wg.parallelReduce(n, new kernels.DieAtSum(data, flags, 150_000, 'exit'), {
        chunk: 1000,
        onProgress: (f) => {
          if (settled) late++; // (an expect() here would be swallowed: a throwing onProgress does not fail the call)
          seen.push(f);
        },
      }).finally(() => (settled = true)),
      15_000,
      'the reduction',
    );
    expect(Atomics.load(flags, 1)).toBeGreaterThan(0);
    expect(sum).toBe(expected);
    // Progress increases, and 1 comes once, last (chunks run again after the death are not counted twice).
    expect(late).toBe(0);
    expect(seen.filter((f) => f === 1)).toEqual([1]);
    expect(seen.at(-1)).toBe(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    expect(wg.pendingCount).toBe(0);
  });

  it('a chunk that kills every worker that runs it rejects the call (bounded re-runs), nothing pending', async () => {
    wg = await launchedKernels(2, { respawn: true });
    wg.setErrorHandler(lib.IsolateErrorType.communication, () => {});
    const n = 1000;
    const flags = wg.allocate(Int32Array, 2);
    const err = await within(wg.parallelFor(n, new kernels.AlwaysExitAt(flags, 500), { chunk: 100 }).catch((e: unknown) => e), 30_000, 'the poisoned call');
    expect(err).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    expect(Atomics.load(flags, 0)).toBeGreaterThanOrEqual(2);
    await until(() => wg!.pendingCount === 0, 5000, 'the participants');
  });

  it('the last worker killed mid-kernel: the call rejects (no worker left to re-run it)', async () => {
    wg = await launchedKernels(1, { respawn: false });
    const n = 10_000;
    const counts = wg.allocate(Int32Array, n);
    const flags = wg.allocate(Int32Array, 2);
    const call = wg.parallelFor(n, new kernels.DieAt(counts, flags, 5000, 'hang'), { chunk: 100 });
    call.catch(() => {});
    await until(() => Atomics.load(flags, 1) !== 0, 10_000, 'the hanging chunk');
    await wg.kill(0);
    await expect(within(call, 10_000, 'the call')).rejects.toThrow(lib.WorkgroupJobAbortedException);
    expect(wg.pendingCount).toBe(0);
  });
});
