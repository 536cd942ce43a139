import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lib } from './helpers.js';
import { faults, launchedFaults, recordErrors } from './fault-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  delete process.env['IWG_TEST_FAIL_SETUP'];
  await wg?.shutdown();
  wg = undefined;
});

describe('addIsolate', () => {
  it('returns isolatesCount as the new index, and the new worker serves at once', async () => {
    wg = await launchedFaults(2);
    const index = await wg.addIsolate();
    expect(index).toBe(2);
    expect(wg.isolatesCount).toBe(3);
    expect(wg.liveIsolateCount).toBe(3);
    await expect(wg.dispatch(new faults.Identity(), index)).resolves.toMatchObject({ index: 2 });
    expect(wg.healthStatus.has(2)).toBe(true);
  });

  it('gives concurrent calls distinct consecutive indices', async () => {
    wg = await launchedFaults(1);
    const indices = await Promise.all([wg.addIsolate(), wg.addIsolate(), wg.addIsolate({ label: 'extra' })]);
    expect([...indices].sort()).toEqual([1, 2, 3]);
    expect(wg.isolatesCount).toBe(4);
    expect(wg.liveIsolateCount).toBe(4);
    const where = await Promise.all(indices.map((i) => wg!.dispatch(new faults.Identity(), i)));
    expect(where.map((w) => (w as { index: number }).index)).toEqual(indices);
  });

  it('waits for launch() when called while the initial workers start', async () => {
    wg = new lib.IsolateWorkgroup(2, { modules: [new URL('../fixtures/faults.mjs', import.meta.url)] });
    const launching = wg.launch();
    const added = wg.addIsolate();
    await launching;
    await expect(added).resolves.toBe(2);
    expect(wg.isolatesCount).toBe(3);
  });

  it('never reuses an index: after kill(1) on 4 workers the next index is 4', async () => {
    wg = await launchedFaults(4);
    await wg.kill(1);
    await expect(wg.addIsolate()).resolves.toBe(4);
    expect(wg.isolatesCount).toBe(5);
    expect(wg.liveIsolateCount).toBe(4);
  });

  it('rolls back a worker whose setup fails: no thread, no state, no index consumed', async () => {
    wg = await launchedFaults(2);
    const seen = recordErrors(wg);
    process.env['IWG_TEST_FAIL_SETUP'] = '1'; // workers copy the environment when they start
    const err = (await wg.addIsolate().catch((e: unknown) => e)) as InstanceType<typeof lib.WorkgroupSetupException>;
    delete process.env['IWG_TEST_FAIL_SETUP'];
    expect(err).toBeInstanceOf(lib.WorkgroupSetupException);
    expect(err.message).toContain('setup refused');
    expect(wg.isolatesCount).toBe(2);
    expect(wg.liveIsolateCount).toBe(2);
    expect([...wg.healthStatus.keys()]).toEqual([0, 1]);
    expect(wg.stats().workers.map((w) => w.isolateIndex)).toEqual([0, 1]);
    await expect(wg.dispatch(new faults.Identity(), 2)).rejects.toThrow('Invalid isolate index 2. Valid indices are 0...1');
    expect(seen.filter((s) => s.type === 'communication')).toEqual([]); // a failed add is reported by its rejection
    // The index was not consumed: the next successful add gets it.
    await expect(wg.addIsolate()).resolves.toBe(2);
    await expect(wg.dispatch(new faults.Identity(), 2)).resolves.toMatchObject({ index: 2 });
  });

  it('rolls back exactly when a failing add runs alongside succeeding ones', async () => {
    wg = await launchedFaults(1);
    const flag = path.join(mkdtempSync(path.join(tmpdir(), 'iwg-')), 'fail-once');
    writeFileSync(flag, '');
    process.env['IWG_TEST_FAIL_ONCE_FILE'] = flag; // the first worker to start after this fails its setup
    try {
      const outcomes = await Promise.allSettled([wg.addIsolate(), wg.addIsolate(), wg.addIsolate()]);
      const failed = outcomes.filter((o) => o.status === 'rejected');
      const indices = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(failed).toHaveLength(1);
      expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(lib.WorkgroupSetupException);
      expect(indices.sort()).toEqual([1, 2]); // the failed one consumed no index
      expect(wg.isolatesCount).toBe(3);
      expect(wg.liveIsolateCount).toBe(3);
    } finally {
      delete process.env['IWG_TEST_FAIL_ONCE_FILE'];
    }
  });

  it('is placed first by addInstance (fewest members)', async () => {
    wg = await launchedFaults(2);
    await wg.addInstance(new faults.Accumulator(), { isolate: 0 });
    await wg.addInstance(new faults.Accumulator(), { isolate: 1 });
    const index = await wg.addIsolate();
    const proxy = await wg.addInstance(new faults.Accumulator());
    expect(proxy.isolateIndex).toBe(index);
  });

  it('uses labelBuilder for added workers, or the label given', async () => {
    wg = await launchedFaults(1, { labelBuilder: (i) => `pool-${i}` });
    await wg.addIsolate();
    await wg.addIsolate({ label: 'custom' });
    expect(wg.stats().workers.map((w) => w.label)).toEqual(['pool-0', 'pool-1', 'custom']);
  });

  it('rejects before launch() and after shutdown, and refuses a non-string label', async () => {
    wg = new lib.IsolateWorkgroup(1, { modules: [new URL('../fixtures/faults.mjs', import.meta.url)] });
    await expect(wg.addIsolate()).rejects.toBeInstanceOf(lib.WorkgroupNotReadyException);
    await wg.launch();
    await expect(wg.addIsolate({ label: 7 as unknown as string })).rejects.toThrow(TypeError);
    await wg.shutdown();
    await expect(wg.addIsolate()).rejects.toBeInstanceOf(lib.WorkgroupInactiveException);
    expect(wg.isolatesCount).toBe(1);
  });
});
