import { afterEach, describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';
import { counters, faults, launchedFaults, launchedOn, recordErrors, spyPlatform, until } from './fault-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

type Dead = InstanceType<typeof lib.WorkgroupMemberDeadException>;

/** The crash must reject its job with WorkgroupMemberDeadException naming the worker, fire `communication` once, and be replaced. */
async function expectCrashHandled(wgx: InstanceType<typeof lib.IsolateWorkgroup>, job: Promise<unknown>, index: number, seen: ReturnType<typeof recordErrors>): Promise<Dead> {
  const err = (await within(job.catch((e: unknown) => e), 20_000, 'the crashed job')) as Dead;
  expect(err).toBeInstanceOf(lib.WorkgroupMemberDeadException);
  expect(err.isolateIndex).toBe(index);
  expect(err.message).toContain(`Isolate #${index}`);
  expect(err.message).toContain('job cancelled');
  const comms = seen.filter((s) => s.type === 'communication');
  expect(comms).toHaveLength(1);
  expect(comms[0]!.isolateIndex).toBe(index);
  expect(comms[0]!.error).toBeInstanceOf(lib.WorkgroupMemberDeadException);
  // respawn (default on): a replacement at a new index.
  await until(() => wgx.liveIsolateCount === 2, 10_000, 'the replacement');
  expect(wgx.isolatesCount).toBe(3);
  await expect(wgx.dispatch(new faults.Identity(), 2)).resolves.toMatchObject({ index: 2 });
  await expect(wgx.dispatch(new faults.Identity(), index)).rejects.toThrow(`Isolate at index ${index} does not exist or has already been removed`);
  return err;
}

describe('a worker that dies is noticed at once, its work rejected and the worker replaced', () => {
  it('process.exit() inside a job', async () => {
    wg = await launchedFaults(2);
    const seen = recordErrors(wg);
    const err = await expectCrashHandled(wg, wg.dispatch(new faults.ExitJob(3), 1), 1, seen);
    expect(err.message).toContain('exited with code 3');
  });

  it('a fatal error (an uncaught throw the worker cannot survive)', async () => {
    wg = await launchedFaults(2);
    const seen = recordErrors(wg);
    const err = await expectCrashHandled(wg, wg.dispatch(new faults.FatalError(), 1), 1, seen);
    expect(err.message).toContain('fatal in the worker');
    expect((err.cause as Error).name).toBe('RangeError');
  });

  it('out of memory under workerOptions.resourceLimits', async () => {
    wg = await launchedFaults(2, { workerOptions: { resourceLimits: { maxOldGenerationSizeMb: 48 } } });
    const seen = recordErrors(wg);
    const err = await expectCrashHandled(wg, wg.dispatch(new faults.Oom(), 0), 0, seen);
    expect(err.message).toMatch(/memory/i);
  });

  it('terminate() from outside, mid-job', async () => {
    const spy = spyPlatform();
    wg = await launchedOn(spy.platform, 2);
    const seen = recordErrors(wg);
    const job = wg.dispatch(new faults.Busy(10_000), 1);
    job.catch(() => {});
    await until(() => wg!.healthStatus.get(1)?.busy === true, 5000, 'the job starting');
    await spy.handles.get(1)!.terminate();
    await expectCrashHandled(wg, job, 1, seen);
  });
});

describe('crash recovery', () => {
  it('delivers what the worker published before it died (progress), then rejects the job', async () => {
    wg = await launchedFaults(1);
    const progress: unknown[] = [];
    const err = await wg.dispatch(new faults.ReportThenExit(20), { onProgress: (v) => progress.push(v) }).catch((e: unknown) => e);
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(err).toBeInstanceOf(lib.WorkgroupMemberDeadException);
  });

  it('rejects pending invokes and later invokes of its members with WorkgroupMemberDeadException', async () => {
    wg = await launchedFaults(2);
    const proxy = await wg.addInstance(new faults.Accumulator(), { isolate: 1 });
    const stalled = proxy.invoke(new faults.Stall(10_000));
    stalled.catch(() => {});
    await until(() => wg!.healthStatus.get(1)?.busy === true, 5000, 'the invoke starting');
    const job = wg.dispatch(new faults.ExitJob(5), 1);
    job.catch(() => {});
    const pending = (await within(stalled.catch((e: unknown) => e), 10_000, 'the pending invoke')) as Dead;
    expect(pending).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    expect(pending.message).toContain('request cancelled');
    await expect(job).rejects.toBeInstanceOf(lib.WorkgroupMemberDeadException);
    await expect(proxy.invoke(new faults.Total())).rejects.toBeInstanceOf(lib.WorkgroupMemberDeadException);
    expect(wg.memberCount).toBe(0);
  });

  it('gives a queue job the worker claimed but never started back to the queue: it runs once elsewhere', async () => {
    // Worker 1 is a scripted fake that claims one queued job and exits holding the claimed cell.
    const spy = spyPlatform((i) => (i === 1 ? new URL('../fixtures/claim-and-die.mjs', import.meta.url) : undefined));
    wg = await launchedOn(spy.platform, 2, { respawn: false });
    const seen = recordErrors(wg);
    const busy = wg.dispatch(new faults.Busy(1500), 0); // keeps the real worker from claiming first
    await until(() => wg!.healthStatus.get(0)?.busy === true, 5000, 'worker 0 busy');
    const runs = counters(1);
    const job = wg.dispatch(new faults.Counted(runs, 0, 21));
    job.catch(() => {});
    await until(() => seen.some((s) => s.type === 'communication' && s.isolateIndex === 1), 5000, 'the fake worker dying');
    expect(runs[0]).toBe(0); // claimed, never started
    await expect(within(job, 10_000, 'the repaired job')).resolves.toBe(43);
    expect(runs[0]).toBe(1);
    await busy;
  });

  it('settles destroyInstance when the worker dies before its member finished dispose()', async () => {
    wg = await launchedFaults(2);
    const proxy = await wg.addInstance(new faults.SlowDispose(60_000), { isolate: 1 });
    const destroyed = wg.destroyInstance(proxy);
    destroyed.catch(() => {});
    await new Promise((r) => setTimeout(r, 50)); // dispose() is running (async) in worker 1
    await expect(wg.dispatch(new faults.ExitJob(6), 1)).rejects.toBeInstanceOf(lib.WorkgroupMemberDeadException);
    await expect(within(destroyed, 5000, 'destroyInstance')).resolves.toBeUndefined();
    expect(wg.memberCount).toBe(0);
  });

  it('does not replace a crashed worker with respawn: false', async () => {
    wg = await launchedFaults(2, { respawn: false });
    await expect(wg.dispatch(new faults.ExitJob(1), 1)).rejects.toBeInstanceOf(lib.WorkgroupMemberDeadException);
    await new Promise((r) => setTimeout(r, 300));
    expect(wg.isolatesCount).toBe(2);
    expect(wg.liveIsolateCount).toBe(1);
    await expect(wg.dispatch(new faults.Identity())).resolves.toMatchObject({ index: 0 });
  });

  it('survives a throw in a timer: the unknown handler hears it and the worker keeps serving', async () => {
    wg = await launchedFaults(1);
    const seen = recordErrors(wg);
    await expect(wg.dispatch(new faults.ThrowInTimer())).resolves.toBe('scheduled');
    await until(() => seen.some((s) => s.type === 'unknown'), 5000, 'the unknown handler');
    expect((seen[0]!.error as Error).message).toBe('thrown in a timer');
    await expect(wg.dispatch(new faults.Identity(), 0)).resolves.toMatchObject({ index: 0 });
    expect(wg.isolatesCount).toBe(1);
  });
});
