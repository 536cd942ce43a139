import { afterEach, describe, expect, it } from 'vitest';
import { launched, lib, work, within } from './helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

describe('progress', () => {
  it('delivers 50 reports in order, all before the result', async () => {
    wg = await launched(1);
    const events: unknown[] = [];
    const result = await wg.dispatch(new work.Progress(50), { onProgress: (v) => events.push(v) });
    events.push(result);
    expect(events).toEqual([...Array.from({ length: 50 }, (_, i) => i + 1), 'finished']);
  });

  it('keeps reports of concurrent async jobs apart', async () => {
    wg = await launched(2, { concurrency: 4 });
    const logs: unknown[][] = [[], [], [], []];
    await Promise.all(logs.map((log) => wg!.dispatch(new work.AsyncProgress(30), { onProgress: (v) => log.push(v) })));
    for (const log of logs) expect(log).toEqual(Array.from({ length: 30 }, (_, i) => ({ step: i + 1 })));
  });
});

describe('cancellation', () => {
  it('rejects at once with the signal already aborted, enqueuing nothing', async () => {
    wg = await launched(1);
    const c = new AbortController();
    c.abort();
    await expect(wg.dispatch(new work.Add(1, 1), { signal: c.signal })).rejects.toBeInstanceOf(lib.WorkgroupJobAbortedException);
    expect(wg.pendingCount).toBe(0);
  });

  it('removes an aborted queued job: it never runs and the others do', async () => {
    wg = await launched(1);
    const blocker = wg.dispatch(new work.Spin(100));
    const c = new AbortController();
    const victim = wg.dispatch(new work.Progress(1), { signal: c.signal, onProgress: () => ran.push('victim ran') });
    const ran: string[] = [];
    const after = wg.dispatch(new work.Add(1, 2));
    c.abort();
    await expect(victim).rejects.toBeInstanceOf(lib.WorkgroupJobAbortedException);
    await expect(blocker).resolves.toBe('done');
    await expect(after).resolves.toBe(3);
    expect(ran).toEqual([]);
  });

  it('a queued job that times out rejects with WorkgroupTimeoutException naming the operation and ms', async () => {
    wg = await launched(1);
    const blocker = wg.dispatch(new work.Spin(150));
    const err = (await wg.dispatch(new work.Add(1, 1), { timeout: 20 }).catch((e: unknown) => e)) as InstanceType<typeof lib.WorkgroupTimeoutException>;
    expect(err).toBeInstanceOf(lib.WorkgroupTimeoutException);
    expect(err.timeoutMs).toBe(20);
    expect(err.operation).toBe('dispatch');
    await blocker;
  });

  it('a running job sees its signal abort (read from shared memory) and the worker keeps serving', async () => {
    wg = await launched(1);
    const c = new AbortController();
    const p = wg.dispatch(new work.Spin(5000), { signal: c.signal });
    while (wg.stats().workers[0]!.runLatency.count === 0 && wg.stats().queued > 0) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 20));
    c.abort();
    await expect(p).rejects.toBeInstanceOf(lib.WorkgroupJobAbortedException);
    // The sync job polls this.signal.aborted and returns long before its 5 s (the only worker, so the
    // next job can only run once the aborted one has returned; no worker was replaced).
    await expect(within(wg.dispatch(new work.Add(2, 2)), 4000, 'the next job')).resolves.toBe(4);
    expect(wg.isolatesCount).toBe(1);
  });

  it('an async running job gets the abort event', async () => {
    wg = await launched(1);
    const c = new AbortController();
    const p = wg.dispatch(new work.WaitForAbort(), { signal: c.signal });
    await new Promise((r) => setTimeout(r, 30));
    c.abort();
    await expect(p).rejects.toBeInstanceOf(lib.WorkgroupJobAbortedException);
    await expect(wg.dispatch(new work.Add(2, 2))).resolves.toBe(4);
  });

  it('terminates and replaces a worker whose running job ignores the cancel past the grace period', async () => {
    wg = await launched(1, { cancelGraceMs: 50 });
    // (A timeout long enough for the worker to have started the job even on a loaded machine: a job
    // timed out before it started is simply taken back, and nothing needs replacing.)
    const p = wg.dispatch(new work.Stubborn(10_000), { timeout: 300 });
    await expect(p).rejects.toBeInstanceOf(lib.WorkgroupTimeoutException);
    // The replacement worker (a new index) serves the next job long before the stubborn one would end.
    await expect(within(wg.dispatch(new work.Add(5, 5)), 5000, 'a job after replacement')).resolves.toBe(10);
    expect(wg.isolatesCount).toBe(2);
    expect(wg.liveIsolateCount).toBe(1);
  });

  it('invoke honours timeout', async () => {
    wg = await launched(1);
    const m = await wg.addInstance(new work.Counter());
    const err = await m.invoke(new work.SlowIncrement(1), { timeout: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(lib.WorkgroupTimeoutException);
  });
});
