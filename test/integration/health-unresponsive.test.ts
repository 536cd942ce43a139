// A worker can hang without running a job: a job returns, then a timer it left behind spins forever
// (HangInTimer). Its loop never turns again, it echoes no probe, and no running word says "busy".
import { afterEach, describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';
import { counters, faults, launchedFaults, recordErrors, until } from './fault-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

async function hang(w: InstanceType<typeof lib.IsolateWorkgroup>, index: number): Promise<void> {
  await expect(w.dispatch(new faults.HangInTimer(), index)).resolves.toBe('hanging soon');
  await new Promise((r) => setTimeout(r, 100)); // its timer fires and blocks the thread
}

describe('an unresponsive worker', () => {
  it('fails probes one by one, is confirmed dead at maxConsecutiveFailures, gets no new work and is replaced', async () => {
    wg = await launchedFaults(2, { health: { enabled: true, pingTimeoutMs: 150, stalenessThresholdMs: 600_000, maxConsecutiveFailures: 3 } });
    const seen = recordErrors(wg);
    let atConfirmation: { info: unknown; healthy: boolean } | undefined;
    wg.setErrorHandler(lib.IsolateErrorType.communication, (error, info) => {
      seen.push({ type: info.type, error, isolateIndex: info.isolateIndex });
      atConfirmation ??= { info: wg!.healthStatus.get(1), healthy: wg!.isIsolateHealthy(1) };
    });
    await hang(wg, 1);
    await expect(wg.probe(1)).resolves.toBe(false);
    expect(wg.healthStatus.get(1)).toMatchObject({ consecutiveFailures: 1, confirmedDead: false, busy: false });
    await expect(wg.probe(1)).resolves.toBe(false);
    expect(wg.healthStatus.get(1)?.consecutiveFailures).toBe(2);
    expect(seen).toEqual([]);
    await expect(wg.probe(1)).resolves.toBe(false);
    // Confirmed dead: reported once through `communication`, seen as such while it is being replaced.
    const comms = seen.filter((s) => s.type === 'communication');
    expect(comms).toHaveLength(1);
    expect(comms[0]!.isolateIndex).toBe(1);
    expect((comms[0]!.error as Error).message).toContain('did not answer 3 health probes in a row');
    expect(atConfirmation?.info).toMatchObject({ isolateIndex: 1, consecutiveFailures: 3, confirmedDead: true, isHealthy: false });
    expect(atConfirmation?.healthy).toBe(false);
    // No new work: pinned dispatch rejects clearly, placement skips it.
    const pinned = (await wg.dispatch(new faults.Identity(), 1).catch((e: unknown) => e)) as Error;
    expect(pinned).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    expect(pinned.message).toContain('health probes');
    await expect(wg.probe(1)).resolves.toBe(false);
    // Replaced at a new index.
    await until(() => wg!.liveIsolateCount === 2, 10_000, 'the replacement');
    expect(wg.isolatesCount).toBe(3);
    expect([...wg.healthStatus.keys()]).toEqual([0, 2]);
    const proxy = await wg.addInstance(new faults.Accumulator());
    expect(proxy.isolateIndex).not.toBe(1);
    await expect(wg.dispatch(new faults.Identity(), 2)).resolves.toMatchObject({ index: 2 });
  });

  it('is found by the background check, and the work waiting in its lane is rejected, never lost', async () => {
    wg = await launchedFaults(2, { health: { enabled: true, pingTimeoutMs: 200, stalenessThresholdMs: 300, maxConsecutiveFailures: 2 } });
    const seen = recordErrors(wg);
    await hang(wg, 0);
    const runs = counters(1);
    const stuck = wg.dispatch(new faults.Counted(runs, 0, 1), 0); // waits in the hung worker's lane
    stuck.catch(() => {});
    const err = (await within(stuck.catch((e: unknown) => e), 15_000, 'the pinned job')) as Error;
    expect(err).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    expect(err.message).toContain('failed 2 health probes in a row');
    expect(runs[0]).toBe(0);
    expect(seen.filter((s) => s.type === 'communication').map((s) => s.isolateIndex)).toEqual([0]);
    await until(() => wg!.liveIsolateCount === 2, 10_000, 'the replacement');
    await expect(wg.dispatch(new faults.Counted(counters(1), 0, 4))).resolves.toBe(9);
  });

  it('with checkBeforeDispatching, a stale worker is probed before it gets a pinned job, an invoke or a member', async () => {
    wg = await launchedFaults(2, { health: { enabled: true, pingTimeoutMs: 200, stalenessThresholdMs: 100, maxConsecutiveFailures: 5, checkBeforeDispatching: true } });
    await wg.addInstance(new faults.Accumulator(), { isolate: 0 });
    await wg.addInstance(new faults.Accumulator(), { isolate: 0 });
    const onHung = await wg.addInstance(new faults.Accumulator(), { isolate: 1 });
    await hang(wg, 1);
    await new Promise((r) => setTimeout(r, 250)); // stale now
    const runs = counters(2);
    const pinned = (await wg.dispatch(new faults.Counted(runs, 0, 1), 1).catch((e: unknown) => e)) as Error;
    expect(pinned).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    const invoked = (await onHung.invoke(new faults.Add(runs, 1, 1)).catch((e: unknown) => e)) as Error;
    expect(invoked).toBeInstanceOf(lib.WorkgroupMemberDeadException);
    expect([runs[0], runs[1]]).toEqual([0, 0]); // refused before they were sent
    // Placement would pick worker 1 (fewest members); its failed probe moves the member to worker 0.
    const placed = await wg.addInstance(new faults.Accumulator());
    expect(placed.isolateIndex).toBe(0);
    // A stale but healthy worker answers its probe and gets the job.
    await new Promise((r) => setTimeout(r, 250));
    await expect(wg.dispatch(new faults.Counted(runs, 0, 5), 0)).resolves.toBe(11);
  });

  it("with checkBeforeDispatching, a call's timeout fires while its worker's probe is still waiting", async () => {
    // The probe would wait 3 s (pingTimeoutMs); the calls' 150 ms timeouts must not wait for it.
    wg = await launchedFaults(2, { health: { enabled: true, pingTimeoutMs: 3000, stalenessThresholdMs: 100, maxConsecutiveFailures: 5, checkBeforeDispatching: true } });
    const onHung = await wg.addInstance(new faults.Accumulator(), { isolate: 1 });
    await hang(wg, 1);
    await new Promise((r) => setTimeout(r, 250)); // stale now
    const runs = counters(2);
    const t0 = Date.now();
    const pinned = await wg.dispatch(new faults.Counted(runs, 0, 1), { isolate: 1, timeout: 150 }).catch((e: unknown) => e);
    const invoked = await onHung.invoke(new faults.Add(runs, 1, 1), { timeout: 150 }).catch((e: unknown) => e);
    expect(pinned).toBeInstanceOf(lib.WorkgroupTimeoutException);
    expect(invoked).toBeInstanceOf(lib.WorkgroupTimeoutException);
    expect(Date.now() - t0).toBeLessThan(2500); // both well before one probe timeout, let alone two
    expect([runs[0], runs[1]]).toEqual([0, 0]);
  });
});
