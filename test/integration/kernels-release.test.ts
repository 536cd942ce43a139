// Found in review: a timed-out (or cancelled) call settled at once and freed its shared block while the
// workers still ran its participants, which then wrote into the next call's block (or any array that
// reused the memory). The block is now freed only once every participant has left.
import { afterEach, describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';
import { kernels, launchedKernels, notOnce, until } from './kernels-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('kernels: a cancelled call frees its shared words only after its participants left', () => {
  it('a call after a timed-out call runs each of its own indices exactly once', async () => {
    wg = await launchedKernels(2, { cancelGraceMs: 5000 });
    const n = 4;
    const slow = wg.allocate(Int32Array, n);
    // 300 ms per index, one index per chunk: both workers are inside a chunk when the timeout fires.
    const err = await wg.parallelFor(n, new kernels.SlowCount(slow, 300_000), { chunk: 1, timeout: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(lib.WorkgroupTimeoutException);
    await sleep(20); // the call's block has been released by now; the workers are still in their chunks
    const counts = wg.allocate(Int32Array, n);
    const second = await within(wg.parallelFor(n, new kernels.Count(counts), { chunk: 1 }).then(() => 'resolved', (e: unknown) => e), 10_000, 'the second call');
    await until(() => wg!.pendingCount === 0, 5000, 'the late participants');
    expect(second).toBe('resolved');
    expect(notOnce(counts)).toEqual([]);
    expect([...slow].every((c) => c <= 1)).toBe(true); // the first kernel never runs after its call ended
  });

  it('memory allocated after a timed-out call is not written by its late participants', async () => {
    wg = await launchedKernels(2, { cancelGraceMs: 5000 });
    const n = 4;
    const slow = wg.allocate(Int32Array, n);
    const err = await wg.parallelFor(n, new kernels.SlowCount(slow, 300_000), { chunk: 1, timeout: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(lib.WorkgroupTimeoutException);
    await sleep(20);
    // The same size as the call's block (2 workers: 32·(1 + 4 + 4·3) words + 4 chunk states).
    const blocks = Array.from({ length: 4 }, () => wg!.allocate(Int32Array, 32 * 17 + 4).fill(-1));
    await sleep(700); // the chunks running at the timeout end at ~300 ms (pendingCount is 0 long before)
    const changed: string[] = [];
    blocks.forEach((mine, b) => {
      for (let i = 0; i < mine.length; i++) if (mine[i] !== -1) changed.push(`block ${b} [${i}] = ${mine[i]}`);
    });
    expect(changed).toEqual([]);
  });
});

describe('kernels: re-runs when no worker is live for a moment', () => {
  it('kill() of the only worker with respawn on: no replacement comes, so the call rejects (never pending)', async () => {
    wg = await launchedKernels(1, { respawn: true });
    const counts = wg.allocate(Int32Array, 40);
    const call = wg.parallelFor(40, new kernels.SlowCount(counts, 20_000), { chunk: 1 }).then(() => 'resolved', (e: unknown) => e);
    await sleep(100);
    await wg.kill(0);
    const out = await within(call, 10_000, 'the call');
    expect(out).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    expect(wg.liveIsolateCount).toBe(0);
  });

  it('one worker with respawn: a crash mid-kernel is re-run on the replacement', async () => {
    wg = await launchedKernels(1, { respawn: true });
    wg.setErrorHandler(lib.IsolateErrorType.communication, () => {});
    const n = 10_000;
    const counts = wg.allocate(Int32Array, n);
    const flags = wg.allocate(Int32Array, 2);
    const out = await within(
      wg.parallelFor(n, new kernels.DieAt(counts, flags, 5000, 'exit'), { chunk: 100 }).then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      15_000,
      'the call',
    );
    expect(out).toBe('resolved');
    expect(notOnce(counts)).toEqual([]);
  });
});

describe('kernels: main taking part does not wait for participants queued behind other work', () => {
  it('with the only worker busy in a long job, main runs every chunk and the call resolves without waiting for it', async () => {
    wg = await launchedKernels(1);
    const busy = wg.dispatch(new kernels.BusyJob(2000));
    await sleep(50);
    const counts = wg.allocate(Int32Array, 1000);
    const t0 = performance.now();
    await within(wg.parallelFor(1000, new kernels.Count(counts), { mainThread: true }), 10_000, 'the call');
    expect(notOnce(counts)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(1000); // the busy job runs ~2 s
    await busy;
    expect(wg.pendingCount).toBe(0);
  });

  it('a reduction on main with the worker busy: the same, with the combined result', async () => {
    wg = await launchedKernels(1);
    const busy = wg.dispatch(new kernels.BusyJob(2000));
    await sleep(50);
    const data = wg.allocate(Int32Array, 5000).fill(2);
    const t0 = performance.now();
    expect(await within(wg.parallelReduce(5000, new kernels.SumInts(data), { mainThread: true }), 10_000, 'the call')).toBe(10_000);
    expect(performance.now() - t0).toBeLessThan(1000);
    await busy;
  });
});

describe('kernels: a plan too big for the shared memory', () => {
  it('a fixed chunk far too small for the length is refused with the numbers and what to do', async () => {
    wg = await launchedKernels(1, { arenaMaxBytes: 64 << 20 });
    const counts = wg.allocate(Int32Array, 16);
    const err = (await wg.parallelFor(100_000_000, new kernels.Count(counts), { chunk: 1 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(lib.WorkgroupException);
    expect(err.message).toMatch(/100,000,000 chunks need .* bytes of shared memory .* use a bigger `chunk` \(1 now\)/);
    expect([...counts].every((c) => c === 0)).toBe(true); // nothing ran
    expect(await wg.parallelFor(16, new kernels.Count(counts))).toBeUndefined(); // the workgroup goes on
  });
});

