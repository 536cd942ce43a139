// Regression tests for defects only reachable in a narrow window inside a worker: a scripted fake worker
// (a test fixture started by a test platform in place of the real entry) puts shared memory in exactly
// the state a real worker leaves when it dies or stalls at that point, and the test observes what the
// main thread makes of it. Every wait is bounded: a hang fails with a message naming what did not settle.
import { afterEach, describe, expect, it } from 'vitest';
import type * as Lib from '../../src/index.js';
import type { Platform } from '../../src/shared/platform.js';
import { lib, within } from './helpers.js';
import { allSettledWithin, spyPlatform, until } from './fault-helpers.js';
import type { IsolateWorkgroup as BaseWorkgroup } from '../../src/api/workgroup.js';

const base = (await import(new URL('../../dist/api/workgroup.js', import.meta.url).href)) as { IsolateWorkgroup: typeof BaseWorkgroup };
const layout = (await import(new URL('../../dist/ring/layout.js', import.meta.url).href)) as typeof import('../../src/ring/layout.js');
const defectsUrl = new URL('../fixtures/defects.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const d = (await import(defectsUrl.href)) as any;
const claimAndDie = new URL('../fixtures/claim-and-die.mjs', import.meta.url);
const staleIntent = new URL('../fixtures/stale-intent.mjs', import.meta.url);
const spinLeaveAndDie = new URL('../fixtures/spin-leave-and-die.mjs', import.meta.url);

const open: Lib.IsolateWorkgroup[] = [];
afterEach(async () => {
  const all = open.splice(0);
  await Promise.allSettled(all.map((wg) => within(wg.shutdown(), 8000, 'shutdown() after the test').catch(() => undefined)));
});

/** A workgroup on `platform`, launched; the pool region the workers got is captured for inspection. */
async function launchedWith(fakes: (index: number) => URL | undefined, n: number, config: Lib.WorkgroupConfig) {
  const spy = spyPlatform(fakes);
  let pool: SharedArrayBuffer | undefined;
  const platform: Platform = {
    ...spy.platform,
    spawn(options, events) {
      pool = options.init.pool;
      return spy.platform.spawn(options, events);
    },
  };
  const wg = new base.IsolateWorkgroup(n, { modules: [defectsUrl], health: { enabled: false }, ...config }, platform) as unknown as Lib.IsolateWorkgroup;
  open.push(wg);
  await within(wg.launch(), 15_000, 'launch()');
  return { wg, pool: () => new Int32Array(pool!) };
}

describe('defect 10: a stale claim intent of a live worker does not hide a dead worker’s claimed cell', () => {
  it('defect 10: the job a dead worker claimed runs elsewhere once the intent is gone, and the queue keeps working', async () => {
    // Worker 0 claims the first job and exits without starting it; worker 1 holds a claim intent naming
    // that same position (as a consumer whose CAS lost) until 1.5 s after the claim, then clears it.
    // Repair must keep trying until it can tell the cell is the dead worker's.
    const { wg } = await launchedWith((i) => (i === 0 ? claimAndDie : i === 1 ? staleIntent : undefined), 2, { queueCapacity: 4, respawn: false });
    const counters = new Int32Array(new SharedArrayBuffer(4 * 64));
    const first = wg.dispatch(new d.Mark(counters, 0));
    await until(() => wg.liveIsolateCount === 1, 5000, 'worker 0 exiting after its claim');
    const real = await within(wg.addIsolate(), 15_000, 'addIsolate()'); // a real worker to run the work
    expect(await within(first, 8000, 'the job the dead worker claimed')).toBe(0);
    expect(Atomics.load(counters, 0)).toBe(1);
    // More than a lap of the 4-cell queue: the stuck cell would stop every further dispatch.
    const more = Array.from({ length: 12 }, (_, i) => wg.dispatch(new d.Mark(counters, i + 1)));
    const out = await allSettledWithin(more, 8000, 'twelve jobs after the repair');
    expect(out.map((r) => r.status)).toEqual(Array(12).fill('fulfilled'));
    expect(Array.from(counters.slice(0, 13))).toEqual(Array(13).fill(1));
    expect(real).toBe(2);
  });
});

describe('defect 11: a worker that dies while leaving the spin phase gives its spinning place back', () => {
  it('defect 11: the spinning places are all free again after a worker died between storing RUNNING and leaving the gate', async () => {
    // Observes the pool's spinning places (a bit per worker slot in shared memory): with one place, a
    // leaked place means no worker ever spins again. Real workers are configured not to spin, so only the fake takes it.
    const { wg, pool } = await launchedWith((i) => (i === 0 ? spinLeaveAndDie : undefined), 1, {
      maxSpinningWorkers: 1,
      spinIterations: 0,
      respawn: false,
    });
    await until(() => wg.liveIsolateCount === 0, 5000, 'the fake worker exiting');
    await new Promise((r) => setTimeout(r, 100)); // its exit handled
    const mask = Array.from({ length: layout.MASK_WORDS }, (_, w) => Atomics.load(pool(), layout.POOL_SPINNER_MASK_I32 + w));
    expect(mask, 'spinning places still taken').toEqual(Array(layout.MASK_WORDS).fill(0));
  });
});
