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
    await expect(wg.dispatch(new work.WhereAmI(), { isolate: undefined })).resolves.toBeGreaterThanOrEqual(0);
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

  it('refuses a plain object as a job or member, saying a class instance is needed', async () => {
    wg = await launched(1);
    const expected = /^dispatch\(\) expects an instance of a class that extends WorkgroupJob and is exported from a work module; got a plain object$/;
    await expect(wg.dispatch({ execute: () => 1 } as never)).rejects.toThrow(expected);
    await expect(wg.dispatch(Object.assign(Object.create(null), { execute: () => 1 }))).rejects.toThrow(expected);
    await expect(wg.addInstance({ handle: () => 1 } as never)).rejects.toThrow(
      /^addInstance\(\) expects an instance of a class that extends WorkgroupMember and is exported from a work module; got a plain object$/,
    );
    expect(wg.pendingCount).toBe(0);
    expect(wg.memberCount).toBe(0);
    await expect(wg.dispatch(new work.Add(1, 2))).resolves.toBe(3);
  });

  it('a job that ran but returned something unsendable: says so, with the path, and fires the job handler', async () => {
    wg = await launched(1);
    const types: string[] = [];
    wg.setErrorHandler(lib.IsolateErrorType.all, (_e, info) => types.push(info.type));
    const err = (await wg.dispatch(new work.ReturnUnsendable()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(lib.WorkgroupException);
    expect(err.message).toMatch(/^the job ran, but its result could not be sent: result\.f is a function/);
    expect(err.stack).toContain('Stack trace in main');
    expect(types).toEqual(['job']);
    await expect(wg.dispatch(new work.Add(1, 2))).resolves.toBe(3);
  });

  it('a worker index of the wrong type is named with its type and the valid range', async () => {
    wg = await launched(2);
    const message = 'Invalid isolate index: expected a worker index (an integer), got the string "1". Valid indices are 0...1';
    for (const attempt of [
      () => wg!.dispatch(new work.Add(1, 1), '1' as never),
      () => wg!.dispatch(new work.Add(1, 1), { isolate: '1' as never }),
      () => wg!.addInstance(new work.Counter(), { isolate: '1' as never }),
      () => wg!.kill('1' as never),
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(lib.WorkgroupException);
      expect((err as Error).message).toBe(message);
    }
    await expect(wg.kill(1n as never)).rejects.toThrow('got bigint 1. Valid indices are 0...1');
    expect(wg.liveIsolateCount).toBe(2);
    expect(wg.memberCount).toBe(0);
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

describe('stats()', () => {
  it('counts jobs done and failed per worker and their wait/run latency, from shared memory', async () => {
    wg = await launched(2);
    await Promise.all(Array.from({ length: 40 }, (_, i) => wg!.dispatch(new work.Add(i, 1))));
    await Promise.allSettled(Array.from({ length: 5 }, () => wg!.dispatch(new work.Throw('plain', 'x'))));
    const s = wg.stats();
    expect(s.workers.map((w) => w.isolateIndex).sort()).toEqual([0, 1]);
    expect(s.workers.reduce((n, w) => n + w.jobsDone, 0)).toBe(40);
    expect(s.workers.reduce((n, w) => n + w.jobsFailed, 0)).toBe(5);
    expect(s.workers.reduce((n, w) => n + w.runLatency.count, 0)).toBe(45);
    expect(s.workers.reduce((n, w) => n + w.waitLatency.count, 0)).toBe(45);
    for (const w of s.workers) {
      if (w.runLatency.count === 0) continue;
      expect(w.runLatency.p50Micros).toBeGreaterThan(0);
      expect(w.runLatency.p99Micros).toBeGreaterThanOrEqual(w.runLatency.p50Micros);
    }
    expect(s.queued).toBe(0);
    expect(s.pending).toBe(0);
  });

  it('keeps serving with maxSpinningWorkers 0 (no worker spins: all park and are woken)', async () => {
    wg = await launched(2, { maxSpinningWorkers: 0 });
    for (let i = 0; i < 20; i++) await expect(wg.dispatch(new work.Add(i, 1))).resolves.toBe(i + 1);
  });
});
