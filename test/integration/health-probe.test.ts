import { afterEach, describe, expect, it } from 'vitest';
import { lib } from './helpers.js';
import { faults, launchedFaults, until } from './fault-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

describe('probe', () => {
  it('says alive for a worker busy in a 2 s synchronous job, within pingTimeoutMs and while the job still runs', async () => {
    wg = await launchedFaults(1, { health: { pingTimeoutMs: 300 } });
    let finished = false;
    const job = wg.dispatch(new faults.Busy(2000)).then((v) => ((finished = true), v));
    await until(() => wg!.healthStatus.get(0)?.busy === true, 5000, 'the job starting');
    // A 300 ms ping timeout is far shorter than the job: only an answer from shared memory can say true.
    await expect(wg.probe(0)).resolves.toBe(true);
    expect(finished).toBe(false);
    const info = wg.healthStatus.get(0)!;
    expect(info).toMatchObject({ isolateIndex: 0, consecutiveFailures: 0, confirmedDead: false, isHealthy: true, busy: true });
    await expect(job).resolves.toBe(0);
    expect(wg.healthStatus.get(0)?.busy).toBe(false);
  });

  it('says alive for a parked idle worker and records the answer in lastKnownGood', async () => {
    wg = await launchedFaults(2, { spinIterations: 0 });
    await new Promise((r) => setTimeout(r, 30));
    const before = wg.healthStatus.get(1)!.lastKnownGood.getTime();
    await new Promise((r) => setTimeout(r, 20));
    await expect(wg.probe(1)).resolves.toBe(true);
    const info = wg.healthStatus.get(1)!;
    expect(info.lastKnownGood).toBeInstanceOf(Date);
    expect(info.lastKnownGood.getTime()).toBeGreaterThan(before);
    expect(info.busy).toBe(false);
  });

  it('says alive for a worker inside a member setup() that spins synchronously', async () => {
    wg = await launchedFaults(1, { health: { pingTimeoutMs: 200 } });
    const member = wg.addInstance(new faults.SlowSyncSetup(1500));
    await until(() => wg!.healthStatus.get(0)?.busy === true, 5000, 'the member setup starting');
    await expect(wg.probe(0)).resolves.toBe(true);
    await expect(member.then((p) => p.invoke(new faults.Total()))).resolves.toBe('ready');
  });

  it('is false for out-of-range, non-integer and killed indices (never a throw)', async () => {
    wg = await launchedFaults(3);
    for (const bad of [-1, 3, 99, 1.5, Number.NaN]) await expect(wg.probe(bad)).resolves.toBe(false);
    await wg.kill(2);
    await expect(wg.probe(2)).resolves.toBe(false);
    await expect(wg.probe(0)).resolves.toBe(true);
    await wg.shutdown();
    await expect(wg.probe(0)).resolves.toBe(false);
  });

  it('lists one healthStatus entry per live worker with every field', async () => {
    wg = await launchedFaults(3);
    const status = wg.healthStatus;
    expect([...status.keys()]).toEqual([0, 1, 2]);
    for (const [i, info] of status) {
      expect(Object.keys(info).sort()).toEqual(['busy', 'confirmedDead', 'consecutiveFailures', 'isHealthy', 'isolateIndex', 'lastKnownGood']);
      expect(info.isolateIndex).toBe(i);
      expect(info.lastKnownGood).toBeInstanceOf(Date);
      expect(wg.isIsolateHealthy(i)).toBe(true);
    }
    expect(Object.isFrozen(status.get(0))).toBe(true);
  });
});
