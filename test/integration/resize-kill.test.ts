import { afterEach, describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';
import { counters, faults, launchedFaults, recordErrors, until } from './fault-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

const messageOf = (e: unknown): string => (e as Error).message;

describe('kill', () => {
  it('rejects the job running on the worker with `Isolate #i was killed - job cancelled`', async () => {
    wg = await launchedFaults(2);
    const running = wg.dispatch(new faults.Wait(10_000), 1);
    running.catch(() => {});
    await until(() => wg!.healthStatus.get(1)?.busy === true, 5000, 'the job starting');
    await wg.kill(1);
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(lib.WorkgroupException);
    expect(messageOf(err)).toBe('Isolate #1 was killed - job cancelled');
  });

  it('rejects pending invokes with `- request cancelled` and members in setup with `- instance creation cancelled`', async () => {
    wg = await launchedFaults(2);
    const ready = await wg.addInstance(new faults.Accumulator(), { isolate: 1 });
    const stalled = ready.invoke(new faults.Stall(10_000));
    stalled.catch(() => {});
    const starting = wg.addInstance(new faults.Accumulator(10_000), { isolate: 1 });
    starting.catch(() => {});
    await until(() => wg!.healthStatus.get(1)?.busy === true, 5000, 'the invoke starting');
    await wg.kill(1);
    expect(messageOf(await stalled.catch((e: unknown) => e))).toBe('Isolate #1 was killed - request cancelled');
    expect(messageOf(await starting.catch((e: unknown) => e))).toBe('Isolate #1 was killed - instance creation cancelled');
    expect(wg.pendingCount).toBe(0);
  });

  it('removes its members: memberCount drops and their proxies reject with WorkgroupMemberNotFoundException', async () => {
    wg = await launchedFaults(2);
    const on0 = await wg.addInstance(new faults.Accumulator(), { isolate: 0 });
    const on1 = await wg.addInstance(new faults.Accumulator(), { isolate: 1 });
    expect(wg.memberCount).toBe(2);
    await wg.kill(1);
    expect(wg.memberCount).toBe(1);
    await expect(on1.invoke(new faults.Total())).rejects.toBeInstanceOf(lib.WorkgroupMemberNotFoundException);
    await expect(on0.invoke(new faults.Total())).resolves.toBe(0);
  });

  it('leaves queued jobs queued for the other workers: each runs exactly once', async () => {
    wg = await launchedFaults(2);
    const runs = counters(200);
    const jobs = Array.from({ length: 200 }, (_, i) => wg!.dispatch(new faults.Counted(runs, i, i, 1)));
    for (const j of jobs) j.catch(() => {});
    await until(() => runs.some((n) => n > 0), 5000, 'the first job running');
    await wg.kill(0);
    const outcomes = await within(Promise.allSettled(jobs), 20_000, 'the 200 jobs');
    const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ i, e: o.reason as Error }] : []));
    // Only what worker 0 held is cancelled: the job it ran, and finished jobs whose results it had not
    // published yet (it publishes every loop turn and at least every 16 jobs).
    expect(rejected.length).toBeLessThanOrEqual(16);
    for (const r of rejected) expect(r.e.message).toBe('Isolate #0 was killed - job cancelled');
    outcomes.forEach((o, i) => {
      if (o.status === 'fulfilled') {
        expect(o.value).toBe(i * 2 + 1);
        expect(runs[i]).toBe(1);
      } else expect(runs[i]).toBeLessThanOrEqual(1);
    });
  });

  it('keeps every other index on its own worker thread, and isolatesCount never shrinks', async () => {
    wg = await launchedFaults(4);
    const before = await Promise.all([0, 1, 2, 3].map((i) => wg!.dispatch(new faults.Identity(), i)));
    await wg.kill(2);
    expect(wg.isolatesCount).toBe(4);
    expect(wg.liveIsolateCount).toBe(3);
    const after = await Promise.all([0, 1, 3].map((i) => wg!.dispatch(new faults.Identity(), i)));
    expect(after).toEqual([before[0], before[1], before[3]]);
  });

  it('throws WorkgroupException naming the valid range for invalid and dead indices', async () => {
    wg = await launchedFaults(4);
    await wg.kill(1);
    for (const bad of [7, -1, 1.5]) {
      const err = await wg.kill(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(lib.WorkgroupException);
      expect(messageOf(err)).toMatch(new RegExp(`^Invalid isolate index ${bad}\\. Valid indices are 0\\.\\.\\.3`));
    }
    const dead = await wg.kill(1).catch((e: unknown) => e);
    expect(dead).toBeInstanceOf(lib.WorkgroupException);
    expect(messageOf(dead)).toMatch(/^Isolate at index 1 does not exist or has already been removed/);
    expect(messageOf(dead)).toContain('live indices: 0, 2, 3');
    await expect(wg.dispatch(new faults.Identity(), 1)).rejects.toThrow('Isolate at index 1 does not exist or has already been removed');
    await expect(wg.addInstance(new faults.Accumulator(), { isolate: 1 })).rejects.toThrow('Isolate at index 1 does not exist');
  });

  it('answers probe(i) false for the killed index, drops it from healthStatus and fires no error handler', async () => {
    wg = await launchedFaults(3);
    const seen = recordErrors(wg);
    await wg.kill(1);
    await expect(wg.probe(1)).resolves.toBe(false);
    expect(wg.isIsolateHealthy(1)).toBe(false);
    expect([...wg.healthStatus.keys()]).toEqual([0, 2]);
    expect(wg.isolatesCount).toBe(3); // a kill is no crash: nothing replaces it
    expect(seen).toEqual([]);
  });

  it('kills every worker and then serves again after addIsolate (queued jobs wait for it)', async () => {
    wg = await launchedFaults(2);
    await wg.kill(0);
    await wg.kill(1);
    expect(wg.liveIsolateCount).toBe(0);
    const runs = counters(1);
    const queued = wg.dispatch(new faults.Counted(runs, 0, 20));
    queued.catch(() => {});
    await expect(wg.addIsolate()).resolves.toBe(2);
    await expect(within(queued, 10_000, 'the queued job')).resolves.toBe(41);
  });

  it('is refused before launch() and after shutdown()', async () => {
    wg = new lib.IsolateWorkgroup(1, { modules: [new URL('../fixtures/faults.mjs', import.meta.url)] });
    await expect(wg.kill(0)).rejects.toBeInstanceOf(lib.WorkgroupNotReadyException);
    await wg.launch();
    await wg.shutdown();
    const err = await wg.kill(0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(lib.WorkgroupInactiveException);
    expect(messageOf(err)).toBe('Cannot kill isolate - workgroup has been shut down');
  });
});
