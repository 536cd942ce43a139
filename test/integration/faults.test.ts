// Fault injection: for each fault, every promise settles within a bound, every job that was only queued
// (never started on the faulted worker) still completes exactly once with its own result, and the
// workgroup keeps serving afterwards.
import { afterEach, describe, expect, it } from 'vitest';
import { lib } from './helpers.js';
import { allSettledWithin, counters, faults, launchedFaults, launchedOn, spyPlatform, until } from './fault-helpers.js';

type Wg = InstanceType<typeof lib.IsolateWorkgroup>;
let wg: Wg | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

const SETTLE_MS = 15_000;

interface Batch {
  readonly runs: Int32Array;
  readonly jobs: Promise<unknown>[];
}

function queueBatch(w: Wg, n: number, spinMs = 0): Batch {
  const runs = counters(n);
  const jobs = Array.from({ length: n }, (_, i) => w.dispatch(new faults.Counted(runs, i, i, spinMs)));
  for (const j of jobs) j.catch(() => {});
  return { runs, jobs };
}

/**
 * A worker publishes its results once per loop turn and at least every 16 jobs (its shared running words),
 * so a worker killed mid-stream takes with it at most the 16 jobs it held: running, or finished with the
 * result not yet published. Those reject (at most once); every other job completes.
 */
const HELD_MAX = 16;

/**
 * Settles the batch and the fault within the bound. Queued jobs: each fulfilled one has its own result and
 * ran once; a rejected one was held by the faulted worker (it ran at most once) — at most `maxHeld` of them.
 */
async function expectBatchSurvives(b: Batch, fault: Promise<unknown>, maxHeld: number): Promise<{ rejected: Error[]; fault: PromiseSettledResult<unknown> }> {
  const [faultOutcome, ...outcomes] = await allSettledWithin([fault, ...b.jobs], SETTLE_MS, 'fault + queued jobs');
  const rejected: Error[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'fulfilled') {
      expect(o.value).toBe(i * 2 + 1);
      expect(b.runs[i]).toBe(1);
    } else {
      rejected.push(o.reason as Error);
      expect(b.runs[i]).toBeLessThanOrEqual(1);
    }
  });
  expect(rejected.length).toBeLessThanOrEqual(maxHeld);
  return { rejected, fault: faultOutcome! };
}

async function expectKeepsServing(w: Wg, expectedLive: number): Promise<void> {
  await until(() => w.liveIsolateCount === expectedLive, 10_000, `${expectedLive} live workers`);
  const after = queueBatch(w, 50);
  const outcomes = await allSettledWithin(after.jobs, SETTLE_MS, 'jobs after the fault');
  outcomes.forEach((o, i) => expect(o).toEqual({ status: 'fulfilled', value: i * 2 + 1 }));
  expect([...after.runs].every((n) => n === 1)).toBe(true);
  expect(w.pendingCount).toBe(0);
}

describe('fault injection', () => {
  it('process.exit() in a job', async () => {
    wg = await launchedFaults(2);
    const fault = wg.dispatch(new faults.ExitJob(3), 1);
    const batch = queueBatch(wg, 300, 0.2);
    const r = await expectBatchSurvives(batch, fault, 0);
    expect(r.fault.status).toBe('rejected');
    expect((r.fault as PromiseRejectedResult).reason).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    await expectKeepsServing(wg, 2);
  });

  it('a throw in a timer', async () => {
    wg = await launchedFaults(2);
    const unknown: unknown[] = [];
    wg.setErrorHandler(lib.IsolateErrorType.unknown, (e) => unknown.push(e));
    const fault = wg.dispatch(new faults.ThrowInTimer(), 1);
    const batch = queueBatch(wg, 300, 0.2);
    const r = await expectBatchSurvives(batch, fault, 0);
    expect(r.fault).toEqual({ status: 'fulfilled', value: 'scheduled' });
    await until(() => unknown.length === 1, 5000, 'the unknown handler');
    await expectKeepsServing(wg, 2);
    expect(wg.isolatesCount).toBe(2); // nothing died
  });

  it('out of memory (workerOptions.resourceLimits)', async () => {
    wg = await launchedFaults(2, { workerOptions: { resourceLimits: { maxOldGenerationSizeMb: 48 } } });
    const fault = wg.dispatch(new faults.Oom(), 1);
    const batch = queueBatch(wg, 300, 0.2);
    const r = await expectBatchSurvives(batch, fault, 0);
    expect((r.fault as PromiseRejectedResult).reason).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    await expectKeepsServing(wg, 2);
  });

  it('terminate() from outside, mid-job', async () => {
    const spy = spyPlatform();
    wg = await launchedOn(spy.platform, 2);
    const fault = wg.dispatch(new faults.Busy(10_000), 1);
    fault.catch(() => {});
    await until(() => wg!.healthStatus.get(1)?.busy === true, 5000, 'the job starting');
    const batch = queueBatch(wg, 300, 0.2);
    await until(() => batch.runs.some((n) => n > 0), 5000, 'queued jobs running');
    await spy.handles.get(1)!.terminate();
    const r = await expectBatchSurvives(batch, fault, 0);
    expect((r.fault as PromiseRejectedResult).reason).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    await expectKeepsServing(wg, 2);
  });

  it('kill() of a worker during its setup (launch), with jobs queued before the workers were ready', async () => {
    wg = new lib.IsolateWorkgroup(3, { modules: [new URL('../fixtures/faults.mjs', import.meta.url)] });
    const launching = wg.launch();
    launching.catch(() => {});
    const batch = queueBatch(wg, 300, 0.2);
    await until(() => wg!.isolatesCount === 3, 10_000, 'the workers being spawned');
    const kill = wg.kill(2);
    const r = await expectBatchSurvives(batch, Promise.all([launching, kill]), HELD_MAX);
    expect(r.fault.status).toBe('fulfilled'); // launch() resolves: a killed worker is no setup failure
    for (const e of r.rejected) expect(e.message).toBe('Isolate #2 was killed - job cancelled'); // only if it was already serving
    await expectKeepsServing(wg, 2);
    expect(wg.isolatesCount).toBe(3);
  });

  it('kill() of a worker during a member setup()', async () => {
    wg = await launchedFaults(2);
    const starting = wg.addInstance(new faults.Accumulator(60_000), { isolate: 1 });
    starting.catch(() => {});
    const batch = queueBatch(wg, 300, 0.2);
    await until(() => wg!.healthStatus.get(1)?.busy === true, 5000, 'the member setup starting');
    const r = await expectBatchSurvives(batch, wg.kill(1).then(() => starting), HELD_MAX);
    expect((r.fault as PromiseRejectedResult).reason.message).toBe('Isolate #1 was killed - instance creation cancelled');
    for (const e of r.rejected) expect(e.message).toBe('Isolate #1 was killed - job cancelled');
    await expectKeepsServing(wg, 1);
  });

  it('kill() while 1,000 jobs are queued', async () => {
    wg = await launchedFaults(3);
    const batch = queueBatch(wg, 1000, 0.2);
    await until(() => batch.runs.reduce((a, n) => a + n, 0) >= 50, 10_000, 'the first 50 jobs');
    const r = await expectBatchSurvives(batch, wg.kill(1), HELD_MAX);
    expect(r.fault.status).toBe('fulfilled');
    for (const e of r.rejected) expect(e.message).toBe('Isolate #1 was killed - job cancelled');
    await expectKeepsServing(wg, 2);
  });
});
