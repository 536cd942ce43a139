import { afterEach, describe, expect, it } from 'vitest';
import { lib, workUrl } from './helpers.js';
import { faults, faultsUrl, recordErrors, until } from './fault-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

const exitAfterSetup = new URL('../fixtures/exit-after-setup.mjs', import.meta.url);

describe('respawn of a worker that keeps dying at start-up', () => {
  it('backs off, then stops after 3 early deaths in a row and says so once', async () => {
    wg = new lib.IsolateWorkgroup(1, { modules: [faultsUrl, exitAfterSetup] });
    const seen = recordErrors(wg);
    await wg.launch();
    const gaveUp = (): boolean => seen.some((s) => s.type === 'communication' && /stops replacing crashed workers/.test((s.error as Error).message));
    await until(gaveUp, 10_000, 'the respawn guard giving up');
    const countAtGiveUp = wg.isolatesCount;
    // The original worker and two replacements, each dead within its start-up window.
    expect(countAtGiveUp).toBe(3);
    await until(() => wg!.liveIsolateCount === 0, 5000, 'the last worker dying');
    await new Promise((r) => setTimeout(r, 1000)); // a loop would have started several more by now
    expect(wg.isolatesCount).toBe(countAtGiveUp);
    expect(wg.liveIsolateCount).toBe(0);
    const notices = seen.filter((s) => s.type === 'communication' && /stops replacing/.test((s.error as Error).message));
    expect(notices).toHaveLength(1);
    expect((notices[0]!.error as Error).message).toContain('until addIsolate() is called');
    // Every death before that was reported as a crash of its own index.
    expect(seen.filter((s) => s.type === 'communication').map((s) => s.isolateIndex)).toEqual([0, 1, 2, 2]);
  });

  it('keeps replacing workers that crash in jobs (a crashing job is not a start-up death)', async () => {
    wg = new lib.IsolateWorkgroup(1, { modules: [faultsUrl, workUrl] });
    await wg.launch();
    for (let round = 0; round < 5; round++) {
      await expect(wg.dispatch(new faults.ExitJob(2))).rejects.toBeInstanceOf(lib.WorkgroupMemberDeadException);
      await until(() => wg!.liveIsolateCount === 1, 10_000, `replacement ${round + 1}`);
    }
    expect(wg.isolatesCount).toBe(6);
    await expect(wg.dispatch(new faults.Identity())).resolves.toMatchObject({ index: 5 });
  });
});
