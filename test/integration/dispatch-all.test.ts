// The batch path: dispatchAll (results in order, the first failure rejects and cancels the rest) and
// dispatchAllSettled (every outcome), with progress, cancellation and crashes per batch.
import { afterEach, describe, expect, it } from 'vitest';
import type * as Lib from '../../src/index.js';
import { lib, within } from './helpers.js';

const workUrl = new URL('../fixtures/work.mjs', import.meta.url);
const faultsUrl = new URL('../fixtures/faults.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const w = (await import(workUrl.href)) as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const f = (await import(faultsUrl.href)) as any;

const open: Lib.IsolateWorkgroup[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((wg) => within(wg.shutdown(), 8000, 'shutdown() after the test')));
});
async function launched(n: number, config: Lib.WorkgroupConfig = {}): Promise<Lib.IsolateWorkgroup> {
  const wg = new lib.IsolateWorkgroup(n, { modules: [workUrl, faultsUrl], health: { enabled: false }, ...config });
  open.push(wg);
  await wg.launch();
  return wg;
}
const counters = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

describe('dispatchAll', () => {
  it('resolves with every result in the order of the jobs, whatever order they finish in', async () => {
    const wg = await launched(2);
    const jobs = Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? new w.Sleep(20 - (i % 20)) : new w.Add(i, 1)));
    const results = await within(wg.dispatchAll(jobs), 10_000, 'the batch');
    expect(results).toEqual(jobs.map((_, i) => (i % 10 === 0 ? 20 - (i % 20) : i + 1)));
    expect(wg.pendingCount).toBe(0);
  });

  it('a batch far larger than the shared queue goes through its backlog, in order', async () => {
    const wg = await launched(2, { queueCapacity: 16 });
    const jobs = Array.from({ length: 5000 }, (_, i) => new w.Add(i, i));
    const results = await within(wg.dispatchAll(jobs), 20_000, 'the batch');
    expect(results).toEqual(jobs.map((_, i) => 2 * i));
  });

  it('an empty batch resolves with []', async () => {
    const wg = await launched(1);
    expect(await wg.dispatchAll([])).toEqual([]);
  });

  it('the first failure rejects the batch with that job’s error, and the batch’s jobs not started never run', async () => {
    const wg = await launched(1, { concurrency: 1 });
    const runs = counters(300);
    const jobs = [new f.Counted(runs, 0, 0, 50), new w.Throw('custom', 'bad email'), ...Array.from({ length: 298 }, (_, i) => new f.Counted(runs, i + 2, i, 5))];
    const err = await within(wg.dispatchAll(jobs).catch((e: unknown) => e), 10_000, 'the failing batch');
    expect(err).toBeInstanceOf(w.ValidationError);
    expect((err as Error).message).toBe('bad email');
    await within(
      (async () => {
        while (wg.pendingCount > 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      'the rest of the batch settling',
    );
    const ran = Array.from(runs).filter((n) => n > 0).length;
    expect(ran).toBeLessThan(100); // the rest was taken back from the queue
    expect(Math.max(...Array.from(runs))).toBeLessThanOrEqual(1); // nothing ran twice
    // The workgroup goes on: another batch works.
    expect(await wg.dispatchAll([new w.Add(1, 2)])).toEqual([3]);
  });

  it('onProgress hears each job’s reports with its index, every report before the batch resolves', async () => {
    const wg = await launched(2);
    const seen = new Map<number, unknown[]>();
    const results = await wg.dispatchAll([new w.Progress(3), new w.Progress(5)], {
      onProgress: (v, i) => seen.set(i, [...(seen.get(i) ?? []), v]),
    });
    expect(results).toEqual(['finished', 'finished']);
    expect(seen.get(0)).toEqual([1, 2, 3]);
    expect(seen.get(1)).toEqual([1, 2, 3, 4, 5]);
  });

  it('its signal cancels the whole batch: rejected at once, queued jobs removed, running ones see their signal', async () => {
    const wg = await launched(1, { concurrency: 1 });
    const runs = counters(100);
    const ac = new AbortController();
    const batch = wg.dispatchAll(Array.from({ length: 100 }, (_, i) => new f.Counted(runs, i, i, 30)), { signal: ac.signal }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 60));
    ac.abort();
    expect((await batch)).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    await within(
      (async () => {
        while (wg.pendingCount > 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      'the batch settling',
    );
    expect(Array.from(runs).filter((n) => n > 0).length).toBeLessThan(20);
  });

  it('a timeout rejects the batch with WorkgroupTimeoutException', async () => {
    const wg = await launched(1);
    const err = await wg.dispatchAll([new w.Sleep(2000), new w.Sleep(2000)], { timeout: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(lib.WorkgroupTimeoutException);
    expect((err as InstanceType<typeof lib.WorkgroupTimeoutException>).operation).toBe('dispatchAll');
  });

  it('refuses what is not an array of jobs, naming the index, and sends nothing', async () => {
    const wg = await launched(1);
    await expect(wg.dispatchAll({} as never)).rejects.toThrow(/expects an array of jobs/);
    await expect(wg.dispatchAll([new w.Add(1, 1), { a: 1 }] as never)).rejects.toThrow(/at index 1/);
    await expect(wg.dispatchAll([new w.Add(1, 1), new w.ReturnNothing(), () => 1] as never)).rejects.toThrow(/index 2/);
    expect(wg.pendingCount).toBe(0);
  });
});

describe('dispatchAllSettled', () => {
  it('waits for every job and resolves with every outcome, in order', async () => {
    const wg = await launched(2);
    const out = await wg.dispatchAllSettled([new w.Add(1, 2), new w.Throw('type', 'nope'), new w.Sleep(5)]);
    expect(out[0]).toEqual({ status: 'fulfilled', value: 3 });
    expect(out[1]!.status).toBe('rejected');
    expect((out[1] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    expect(out[2]).toEqual({ status: 'fulfilled', value: 5 });
  });

  it('a batch during kill() and addIsolate(): every job settles once, the killed worker’s running jobs rejected, the rest fulfilled', async () => {
    const wg = await launched(2, { concurrency: 1 });
    const runs = counters(60);
    const settled = wg.dispatchAllSettled(Array.from({ length: 60 }, (_, i) => new f.Counted(runs, i, i, 20)));
    await new Promise((r) => setTimeout(r, 80));
    await wg.kill(0);
    await wg.addIsolate();
    const out = await within(settled, 20_000, 'the batch');
    expect(out).toHaveLength(60);
    for (let i = 0; i < 60; i++) {
      const o = out[i]!;
      if (o.status === 'fulfilled') expect(o.value).toBe(i * 2 + 1);
      else expect(o.reason).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    }
    expect(out.filter((o) => o.status === 'rejected').length).toBeLessThanOrEqual(1); // at most the one running on worker 0
    expect(Math.max(...Array.from(runs))).toBe(1); // no job ran twice (a rejected one ran at most once)
    expect(wg.pendingCount).toBe(0);
  });
});

describe('batch chunks (chunkSize)', () => {
  it('refuses a chunkSize that is not an integer >= 1, saying so, and sends nothing', async () => {
    const wg = await launched(1);
    for (const bad of [0, -1, 1.5, Number.NaN, '4', null]) {
      await expect(wg.dispatchAll([new w.Add(1, 1)], { chunkSize: bad as never })).rejects.toThrow(/chunkSize.*integer >= 1/);
    }
    expect(wg.pendingCount).toBe(0);
  });

  it('maxQueue counts a batch by its chunks: a batch that does not fit is refused whole, saying so', async () => {
    const wg = await launched(1, { maxQueue: 4 });
    const jobs = Array.from({ length: 100 }, (_, i) => new w.Add(i, 1));
    const err = await wg.dispatchAll(jobs, { chunkSize: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(lib.WorkgroupQueueFullException);
    expect((err as Error).message).toMatch(/100 jobs in 10 chunks does not fit the job queue \(maxQueue 4/);
    expect(wg.pendingCount).toBe(0);
    expect(await wg.dispatchAll(jobs, { chunkSize: 50 })).toEqual(jobs.map((_, i) => i + 1));
  });

  it('any chunk size gives the same results in order, and every job runs exactly once', async () => {
    const wg = await launched(2);
    const runs = counters(101);
    for (const chunkSize of [1, 2, 7, 64, 101, 1000]) {
      runs.fill(0);
      const jobs = Array.from({ length: 101 }, (_, i) => new f.Counted(runs, i, i));
      expect(await wg.dispatchAll(jobs, { chunkSize })).toEqual(jobs.map((_, i) => 2 * i + 1));
      expect(Array.from(runs)).toEqual(new Array(101).fill(1));
    }
  });

  it('jobs returning promises inside a chunk are awaited one after the other, results in order', async () => {
    const wg = await launched(1);
    const jobs = [new w.Sleep(15), new w.Add(1, 1), new w.Sleep(5), new w.Add(2, 2)];
    expect(await wg.dispatchAll(jobs, { chunkSize: 4 })).toEqual([15, 2, 5, 4]);
    const out = await wg.dispatchAllSettled([new w.Sleep(5), new w.Throw('type', 'async neighbour'), new w.Sleep(1)], { chunkSize: 3 });
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('progress carries each job’s index in the batch across chunks', async () => {
    const wg = await launched(2);
    const seen: Array<[unknown, number]> = [];
    const jobs = Array.from({ length: 7 }, (_, i) => new w.Progress(i + 1));
    await wg.dispatchAll(jobs, { chunkSize: 3, onProgress: (v, i) => seen.push([v, i]) });
    for (let i = 0; i < 7; i++) {
      expect(seen.filter(([, j]) => j === i).map(([v]) => v)).toEqual(Array.from({ length: i + 1 }, (_, k) => k + 1));
    }
  });

  it('in dispatchAll, a job that throws ends its chunk: the jobs after it in the chunk never start', async () => {
    const wg = await launched(1, { concurrency: 1 });
    const runs = counters(10);
    const jobs = [new f.Counted(runs, 0, 0), new w.Throw('custom', 'stop here'), ...Array.from({ length: 8 }, (_, i) => new f.Counted(runs, i + 2, i))];
    const err = await wg.dispatchAll(jobs, { chunkSize: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(w.ValidationError);
    expect(Array.from(runs)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(wg.pendingCount).toBe(0);
  });

  it('in dispatchAllSettled, failures inside a chunk keep their class, get both stacks and reach the job error handler', async () => {
    const wg = await launched(1);
    const handled: unknown[] = [];
    wg.setErrorHandler('job', (e) => handled.push(e));
    const out = await wg.dispatchAllSettled([new w.Add(1, 1), new w.Throw('custom', 'bad'), new w.Throw('string', ''), new w.Add(2, 2)], { chunkSize: 4 });
    expect(out[0]).toEqual({ status: 'fulfilled', value: 2 });
    expect(out[3]).toEqual({ status: 'fulfilled', value: 4 });
    const custom = (out[1] as PromiseRejectedResult).reason as Error;
    expect(custom).toBeInstanceOf(w.ValidationError);
    expect(custom.stack).toContain('=== Stack trace in worker');
    expect((out[2] as PromiseRejectedResult).reason).toBeInstanceOf(lib.WorkgroupIsolateError);
    expect(handled).toEqual([custom, (out[2] as PromiseRejectedResult).reason]);
  });

  it('a worker killed mid-chunk fails that chunk’s jobs with it; the other chunks finish, nothing stays pending', async () => {
    const wg = await launched(2, { concurrency: 1 });
    const runs = counters(40);
    // Chunks of 10 jobs of 30 ms: longer than kill()'s grace for a running job to finish (200 ms).
    const settled = wg.dispatchAllSettled(Array.from({ length: 40 }, (_, i) => new f.Counted(runs, i, i, 30)), { chunkSize: 10 });
    await new Promise((r) => setTimeout(r, 50));
    await wg.kill(0);
    const out = await within(settled, 20_000, 'the batch');
    const rejected = out.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
    expect(rejected.length).toBeGreaterThan(0); // worker 0 was in the middle of a chunk
    expect(rejected.length).toBeLessThanOrEqual(10); // one chunk: the one it was running
    // The rejected jobs are one chunk's consecutive jobs, from a chunk boundary.
    expect(rejected[0]! % 10).toBe(0);
    expect(rejected).toEqual(Array.from({ length: rejected.length }, (_, k) => rejected[0]! + k));
    for (const i of rejected) expect((out[i] as PromiseRejectedResult).reason).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    for (let i = 0; i < 40; i++) if (!rejected.includes(i)) expect(out[i]).toEqual({ status: 'fulfilled', value: 2 * i + 1 });
    expect(Math.max(...Array.from(runs))).toBe(1);
    expect(wg.pendingCount).toBe(0);
  });

  // Found in review: each of the following failed before its fix.
  it('a chunk that needs a class main has not imported yet waits for it; the chunks sent before it run once', async () => {
    const { Square } = await import(new URL('../fixtures/static-module.mjs', import.meta.url).href);
    const wg = await launched(2);
    const runs = counters(300);
    const pad = 'x'.repeat(20_000); // big jobs: one a chunk, so many chunks are sent before the last one
    const jobs = [...Array.from({ length: 300 }, (_, i) => new f.Counted(runs, i, i, 0, pad)), new Square(3)];
    const out = await within(wg.dispatchAll(jobs), 20_000, 'the batch');
    expect(out[300]).toBe(9);
    expect(Math.max(...Array.from(runs))).toBe(1);
    expect(Math.min(...Array.from(runs))).toBe(1);
  });

  it('a job that cannot be sent fails the batch with the reason, like one that throws; the rest is cancelled', async () => {
    const wg = await launched(2);
    const runs = counters(300);
    const jobs = [...Array.from({ length: 300 }, (_, i) => new f.Counted(runs, i, i, 5)), new w.Echo({ fn: () => 1 })];
    await expect(wg.dispatchAll(jobs, { chunkSize: 10 })).rejects.toThrow(/is a function/);
    await within(
      (async () => {
        while (wg.pendingCount > 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      'the rest of the batch settling',
    );
    expect(Math.max(...Array.from(runs))).toBeLessThanOrEqual(1);
    expect(Array.from(runs).filter((n) => n > 0).length).toBeLessThan(300); // cancelled, not all run
  });

  it('in dispatchAllSettled, a result that cannot be sent fails its own job only', async () => {
    const wg = await launched(1);
    const out = await wg.dispatchAllSettled([new w.Add(1, 1), new w.ReturnUnsendable(), new w.Add(2, 2)], { chunkSize: 3 });
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(out[0]).toEqual({ status: 'fulfilled', value: 2 });
    expect(((out[1] as PromiseRejectedResult).reason as Error).message).toMatch(/the job ran, but its result could not be sent/);
  });

  it('a report made after its job ended goes nowhere (not to the next job of the chunk)', async () => {
    const wg = await launched(1);
    const seen: Array<[unknown, number]> = [];
    await wg.dispatchAll([new f.LateReport(10), new w.Sleep(60)], { chunkSize: 2, onProgress: (v, i) => seen.push([v, i]) });
    expect(seen).toEqual([]);
  });

  it('the last report of every job of a chunk arrives, even when reports are coalesced', async () => {
    const wg = await launched(1, { resultRingBytes: 1024 });
    const last = new Map<number, unknown>();
    const batch = wg.dispatchAll([0, 1, 2].map(() => new f.Burst(400, 'p'.repeat(40))), {
      chunkSize: 3,
      onProgress: (v, i) => last.set(i, (v as { i: number }).i),
    });
    const end = Date.now() + 300;
    while (Date.now() < end); // main busy: the ring fills, reports are coalesced
    expect(await within(batch, 10_000, 'the batch')).toEqual([400, 400, 400]);
    expect([last.get(0), last.get(1), last.get(2)]).toEqual([400, 400, 400]);
  });

  it('big jobs are not packed into chunks the shared arena cannot hold (default chunk size)', async () => {
    const wg = await launched(1, { arenaMaxBytes: 1 << 20, arenaInitialBytes: 1 << 20, queueCapacity: 16 });
    const jobs = Array.from({ length: 1000 }, (_, i) => new w.Echo(String(i).padEnd(16_000, 'x')));
    const out = await within(wg.dispatchAll(jobs), 20_000, 'the batch');
    expect(out.length).toBe(1000);
    expect((out[999] as string).startsWith('999x')).toBe(true);
  });
});

