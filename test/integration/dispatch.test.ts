import { afterEach, describe, expect, it } from 'vitest';
import { launched, lib, work } from './helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

describe('dispatch', () => {
  it('runs one job on a worker and resolves with its result', async () => {
    wg = await launched(2);
    await expect(wg.dispatch(new work.Add(1, 2))).resolves.toBe(3);
  });

  it('runs 1,000 concurrent jobs, each resolved with its own result', async () => {
    wg = await launched(2);
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => wg!.dispatch(new work.Add(i, 1000))));
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1000));
  });

  it('runs async jobs and matches 200 mixed succeeding and throwing jobs to their own outcome', async () => {
    wg = await launched(2, { concurrency: 4 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? wg!.dispatch(new work.AsyncThrow('plain', `no ${i}`)) : wg!.dispatch(new work.AsyncAdd(i, 1)))),
    );
    outcomes.forEach((o, i) => {
      if (i % 3 === 0) {
        expect(o.status).toBe('rejected');
        expect((o as PromiseRejectedResult).reason.message).toBe(`no ${i}`);
      } else {
        expect(o).toEqual({ status: 'fulfilled', value: i + 1 });
      }
    });
  });

  it('resolves null, undefined and void results as they are', async () => {
    wg = await launched(1);
    await expect(wg.dispatch(new work.Echo(null))).resolves.toBeNull();
    await expect(wg.dispatch(new work.Echo(undefined))).resolves.toBeUndefined();
    await expect(wg.dispatch(new work.ReturnNothing())).resolves.toBeUndefined();
  });

  it('runs a job on an explicit worker index (number or options form)', async () => {
    wg = await launched(3);
    await expect(wg.dispatch(new work.WhereAmI(), 2)).resolves.toBe(2);
    await expect(wg.dispatch(new work.WhereAmI(), { isolate: 1 })).resolves.toBe(1);
    await expect(wg.dispatch(new work.WhereAmI(), -1)).resolves.toBeGreaterThanOrEqual(0);
  });

  it('rejects an invalid index with the valid range, and stays usable', async () => {
    wg = await launched(2);
    await expect(wg.dispatch(new work.Add(1, 1), 7)).rejects.toThrow('Invalid isolate index 7. Valid indices are 0...1');
    await expect(wg.dispatch(new work.Add(1, 1))).resolves.toBe(2);
  });

  it('finds a class through `static module = import.meta.url` without the modules option', async () => {
    const { Square } = await import(new URL('../fixtures/static-module.mjs', import.meta.url).href);
    wg = new lib.IsolateWorkgroup(1);
    await wg.launch();
    await expect(wg.dispatch(new Square(7))).resolves.toBe(49);
  });

  it('refuses a job whose class the workgroup cannot find, naming the class and the fix', async () => {
    const { makeHidden } = await import(new URL('../fixtures/not-exported.mjs', import.meta.url).href);
    wg = await launched(1);
    const p = wg.dispatch(makeHidden());
    await expect(p).rejects.toBeInstanceOf(lib.WorkgroupException);
    await expect(p).rejects.toThrow(/Hidden.*modules.*static module = import\.meta\.url/s);
    expect(wg.pendingCount).toBe(0);
    await expect(wg.dispatch(new work.Add(2, 2))).resolves.toBe(4);
  });

  it('refuses an unsendable field with its path, enqueues nothing and stays usable', async () => {
    wg = await launched(1);
    const job = new work.Echo({ options: { onDone: () => 1 } });
    await expect(wg.dispatch(job)).rejects.toThrow('job.value.options.onDone is a function');
    expect(wg.pendingCount).toBe(0);
    await expect(wg.dispatch(new work.Echo([1, 'two', { three: 3n }]))).resolves.toEqual([1, 'two', { three: 3n }]);
  });

  it('refuses the workgroup itself as a job field', async () => {
    wg = await launched(1);
    await expect(wg.dispatch(new work.Echo(wg))).rejects.toThrow(/IsolateWorkgroup/);
  });

  it('queues jobs dispatched after launch() was called but before the workers are ready', async () => {
    wg = new lib.IsolateWorkgroup(2, { modules: [new URL('../fixtures/work.mjs', import.meta.url)] });
    const launching = wg.launch();
    const early = wg.dispatch(new work.Add(20, 22));
    await launching;
    await expect(early).resolves.toBe(42);
  });

  it('rejects over maxQueue with WorkgroupQueueFullException and keeps the queued jobs', async () => {
    wg = await launched(1, { maxQueue: 3 });
    const running = wg.dispatch(new work.Spin(200));
    while (wg.stats().queued > 0) await new Promise((r) => setTimeout(r, 1)); // the worker took it
    const queued = [1, 2, 3].map((i) => wg!.dispatch(new work.Add(i, 0)));
    const over = wg.dispatch(new work.Add(9, 0));
    await expect(over).rejects.toBeInstanceOf(lib.WorkgroupQueueFullException);
    await expect(over).rejects.toThrow('maxQueue 3');
    await expect(Promise.all(queued)).resolves.toEqual([1, 2, 3]);
    await expect(running).resolves.toBe('done');
  });

  it('reports the dispatched job in pendingCount until it settles', async () => {
    wg = await launched(1);
    const p = wg.dispatch(new work.Sleep(30));
    expect(wg.pendingCount).toBe(1);
    await p;
    expect(wg.pendingCount).toBe(0);
  });
});

describe('batched publication', () => {
  it('rings a sleeping worker once for many dispatches in one tick, not once per job', async () => {
    wg = await launched(2, { spinIterations: 0 });
    await wg.dispatch(new work.Add(0, 0));
    await new Promise((r) => setTimeout(r, 50)); // both workers asleep now (no spinning)
    const rings = () => wg!.stats().workers.reduce((n, w) => n + w.doorbellRings, 0);
    const before = rings();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => wg!.dispatch(new work.Add(i, 1))));
    expect(results[199]).toBe(200);
    // At most one ring per worker for the batch, plus one per refill pass of the results loop — far below 200.
    expect(rings() - before).toBeLessThanOrEqual(8);
  });
});
