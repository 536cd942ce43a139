// Regression tests for what a concurrency review of the rebuilt main-thread core found (each failed on the
// first version of the rebuild): work lost when shared memory is full, a drain waiting for a worker that
// will never come, member calls that cost their worker, arena blocks of a dead worker's unread lane
// records, and a member's dispose() that needs notifyHost() during shutdown. Every wait is bounded.
import { afterEach, describe, expect, it } from 'vitest';
import type * as Lib from '../../src/index.js';
import { lib, within } from './helpers.js';

const workUrl = new URL('../fixtures/work.mjs', import.meta.url);
const faultsUrl = new URL('../fixtures/faults.mjs', import.meta.url);
const defectsUrl = new URL('../fixtures/defects.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const w = (await import(workUrl.href)) as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const f = (await import(faultsUrl.href)) as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const d = (await import(defectsUrl.href)) as any;

const open: Lib.IsolateWorkgroup[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((wg) => within(wg.shutdown(), 8000, 'shutdown() after the test')));
});
function make(n: number, config: Lib.WorkgroupConfig): Lib.IsolateWorkgroup {
  const wg = new lib.IsolateWorkgroup(n, { health: { enabled: false }, ...config });
  open.push(wg);
  return wg;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settled = <T>(p: Promise<T>) => p.then(() => 'resolved', (e: Error) => e.name);

describe('review of the rebuilt core', () => {
  it('a pinned job whose record cannot be placed in a full arena is rejected, never silently dropped', async () => {
    const wg = make(1, { modules: [workUrl], arenaMaxBytes: 1 << 20, directRingBytes: 1024 });
    await wg.launch();
    const busy = settled(wg.dispatch(new w.Stubborn(800), { isolate: 0 }));
    const fill = Array.from({ length: 3 }, () => settled(wg.dispatch(new w.Echo(new Uint8Array(300 * 1024)), { isolate: 0 })));
    // Too big for the 1 KiB ring, and the arena is full: it must settle (rejected), not wait forever.
    const victim = await within(settled(wg.dispatch(new w.Echo('x'.repeat(20 * 1024)), { isolate: 0 })), 6000, 'the pinned job that found no room');
    expect(victim).toBe('ArenaExhaustedError'); // (a RangeError: raise `arenaMaxBytes`)
    await within(Promise.all([busy, ...fill]), 6000, 'the jobs before it');
    expect(wg.pendingCount).toBe(0);
  });

  it('shutdown({ drain: true }) ends when the only worker fails its setup while a job waits', async () => {
    const wg = make(1, { modules: [new URL('../fixtures/bad-setup.mjs', import.meta.url)] });
    const launching = settled(wg.launch());
    const { Noop } = (await import(new URL('../fixtures/bad-setup.mjs', import.meta.url).href)) as { Noop: new () => Lib.WorkgroupJob<number> };
    const job = settled(wg.dispatch(new Noop()));
    await sleep(5);
    await within(wg.shutdown({ drain: true }), 8000, 'shutdown({ drain: true }) with no worker left to drain to');
    expect(await job).toBe('WorkgroupJobAbortedException');
    await launching;
  });

  it('a timed-out member call never costs its worker: the other members on it keep working', async () => {
    const wg = make(1, { modules: [faultsUrl], cancelGraceMs: 300 });
    await wg.launch();
    const other = await wg.addInstance(new f.Accumulator(), { isolate: 0 });
    const slow = await wg.addInstance(new f.Accumulator(), { isolate: 0 });
    expect(await settled(slow.invoke(new f.Stall(2000), { timeout: 100 }))).toBe('WorkgroupTimeoutException');
    await sleep(900); // three graces
    expect(await within(other.invoke(new f.Total()), 5000, 'the other member')).toBe(0);
    expect(wg.isolatesCount).toBe(1); // never replaced
  });

  it('a killed worker’s unread lane records that went through shared memory give their blocks back', async () => {
    const wg = make(2, { modules: [workUrl], directRingBytes: 1024 });
    await wg.launch();
    const busy = settled(wg.dispatch(new w.Stubborn(800), { isolate: 0 }));
    await sleep(100);
    const queued = Array.from({ length: 5 }, () => settled(wg.dispatch(new w.Echo('y'.repeat(4000)), { isolate: 0 })));
    await sleep(50); // the results loop flushes the lane backlog as spill records into the arena
    await wg.kill(0);
    await within(Promise.all([busy, ...queued]), 5000, 'the killed worker’s work');
    expect(wg.stats().sharedMemory.liveBlocks).toBe(0);
  });

  it('shutdown answers a member whose dispose() awaits notifyHost(), instead of waiting out the grace', async () => {
    const wg = make(1, { modules: [defectsUrl] });
    await wg.launch();
    const heard: unknown[] = [];
    await wg.addInstance(new d.NotifyInDispose(), { onNotify: (c: { what: string }) => heard.push(c.what) });
    const t0 = performance.now();
    await within(wg.shutdown(), 8000, 'shutdown()');
    expect(heard).toEqual(['dispose']);
    expect(performance.now() - t0, 'shutdown waited for the 2 s stop grace').toBeLessThan(1900);
  });
});
