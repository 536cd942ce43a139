// The default worker count and the opt-in autoscaling policy: growth under queue pressure, idle workers
// retired after idleTimeoutMs, never below minWorkers or above maxWorkers, stable indices, no job lost,
// members never moved and their workers never retired.
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { lib, work, workUrl } from './helpers.js';
import { runNode } from './run-node.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

/** Polls `cond` every 10 ms until it holds, or fails after `ms` saying what it waited for. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('default worker count', () => {
  it('new IsolateWorkgroup(config) starts one worker per available core', async () => {
    wg = new lib.IsolateWorkgroup({ modules: [workUrl] });
    await wg.launch();
    expect(wg.liveIsolateCount).toBe(availableParallelism());
    expect(wg.isolatesCount).toBe(availableParallelism());
    await expect(wg.dispatch(new work.Add(2, 3))).resolves.toBe(5);
  });

  it('new IsolateWorkgroup() and (undefined, config) are valid; two configs are refused', () => {
    expect(() => new lib.IsolateWorkgroup()).not.toThrow();
    expect(() => new lib.IsolateWorkgroup(undefined, { maxQueue: 5 })).not.toThrow();
    expect(() => new lib.IsolateWorkgroup({} as never, {} as never)).toThrow('got two configs');
  });
});

describe('autoscale option', () => {
  it('is validated like the rest of the config', () => {
    expect(() => new lib.IsolateWorkgroup(1, { autoscale: { idleTimeout: 5 } as never })).toThrow(
      'unknown option `idleTimeout` of the `autoscale` config: did you mean `idleTimeoutMs`?',
    );
    expect(() => new lib.IsolateWorkgroup(1, { autoscale: { minWorkers: 3, maxWorkers: 2 } })).toThrow(
      'expected `autoscale.maxWorkers` to be an integer in 3..256, got 2',
    );
    expect(() => new lib.IsolateWorkgroup(4, { autoscale: { minWorkers: 1, maxWorkers: 2 } })).toThrow('expected the worker count 4 to be at most `autoscale.maxWorkers` 2');
    expect(() => new lib.IsolateWorkgroup(1, { autoscale: 'yes' as never })).toThrow('expected `autoscale` to be true or an object');
    expect(() => new lib.IsolateWorkgroup(1, { autoscale: true })).not.toThrow();
  });

  it('grows under a burst up to maxWorkers, loses nothing, then retires idle workers down to minWorkers', async () => {
    wg = new lib.IsolateWorkgroup({ modules: [workUrl], autoscale: { minWorkers: 1, maxWorkers: 3, idleTimeoutMs: 200, intervalMs: 10 } });
    await wg.launch();
    expect(wg.liveIsolateCount).toBe(1);
    let peak = 1;
    const watch = setInterval(() => (peak = Math.max(peak, wg!.liveIsolateCount)), 5);
    try {
      // 60 jobs of 40 ms: 2.4 s of work for one worker, the queue stays long enough to grow.
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => wg!.dispatch(new work.Sleep(40)).then(() => i)));
      expect(results).toEqual(Array.from({ length: 60 }, (_, i) => i));
    } finally {
      clearInterval(watch);
    }
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
    await until(() => wg!.liveIsolateCount === 1, 15_000, 'shrink back to minWorkers');
    const grown = wg.isolatesCount;
    expect(grown).toBe(peak); // one index per worker ever started, none reused
    // A second burst grows again with new indices.
    await Promise.all(Array.from({ length: 60 }, () => wg!.dispatch(new work.Sleep(40))));
    expect(wg.isolatesCount).toBeGreaterThan(grown);
    expect(wg.stats().workers.every((w) => w.jobsFailed === 0)).toBe(true);
  }, 60_000);

  it('never retires a worker that holds a member, and the member keeps working', async () => {
    wg = new lib.IsolateWorkgroup({ modules: [workUrl], autoscale: { minWorkers: 1, maxWorkers: 2, idleTimeoutMs: 100, intervalMs: 10 } });
    await wg.launch();
    await Promise.all(Array.from({ length: 40 }, () => wg!.dispatch(new work.Sleep(30))));
    await until(() => wg!.liveIsolateCount === 1, 15_000, 'shrink to one worker');
    const survivor = wg.stats().workers[0]!.isolateIndex;
    // Grow again, then put a member on the newest worker.
    const burst = Promise.all(Array.from({ length: 40 }, () => wg!.dispatch(new work.Sleep(30))));
    await until(() => wg!.liveIsolateCount === 2, 15_000, 'grow to two workers');
    const newest = wg.isolatesCount - 1;
    const proxy = await wg.addInstance(new work.Counter(), { isolate: newest });
    await burst;
    // Idle long past idleTimeoutMs: the member's worker stays; only the other may go (not below minWorkers).
    await new Promise((r) => setTimeout(r, 600));
    // The idle worker without a member was retired (2 > minWorkers 1); the member's worker was not.
    expect(wg.stats().workers.map((w) => w.isolateIndex)).toEqual([newest]);
    expect(newest).toBeGreaterThan(survivor);
    expect(proxy.isolateIndex).toBe(newest);
    await expect(proxy.invoke(new work.Increment(5))).resolves.toBe(5);
  }, 60_000);

  it('loses no job while workers are retired as fast as the policy can (idleTimeoutMs 0, seeded bursts)', async () => {
    wg = new lib.IsolateWorkgroup({ modules: [workUrl], autoscale: { minWorkers: 0, maxWorkers: 2, idleTimeoutMs: 0, intervalMs: 1 } });
    await wg.launch();
    let seed = 12;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    let n = 0;
    for (let round = 0; round < 30; round++) {
      const size = 1 + Math.floor(rand() * 12);
      const base = n;
      const got = await Promise.all(Array.from({ length: size }, (_, i) => wg!.dispatch(new work.Add(base + i, 1))));
      expect(got).toEqual(Array.from({ length: size }, (_, i) => base + i + 1));
      n += size;
      // Mostly short gaps (jobs race a retirement); every 10th round waits until every worker is gone.
      if (round % 10 === 9) await until(() => wg!.liveIsolateCount === 0, 15_000, 'retire every worker');
      else await new Promise((r) => setTimeout(r, Math.floor(rand() * 15)));
    }
    expect(wg.isolatesCount).toBeGreaterThanOrEqual(3); // workers came and went, and every job answered
    expect(wg.stats().workers.every((w) => w.jobsFailed === 0)).toBe(true);
  }, 60_000);

  it('with minWorkers 0 it scales to zero when idle and back up when work arrives', async () => {
    wg = new lib.IsolateWorkgroup({ modules: [workUrl], autoscale: { minWorkers: 0, maxWorkers: 1, idleTimeoutMs: 50, intervalMs: 10 } });
    expect(wg.isolatesCount).toBe(0);
    await wg.launch();
    expect(wg.liveIsolateCount).toBe(0);
    await expect(wg.dispatch(new work.Add(1, 2))).resolves.toBe(3); // a worker is started for it
    expect(wg.isolatesCount).toBe(1);
    await until(() => wg!.liveIsolateCount === 0, 15_000, 'retire the only worker');
    await expect(wg.dispatch(new work.Add(2, 2))).resolves.toBe(4);
    expect(wg.isolatesCount).toBe(2); // a new worker, a new index
  }, 60_000);

  it('a worker that cannot start is reported to the initialization handler and retried with a growing delay', async () => {
    const badUrl = new URL('../fixtures/bad-setup.mjs', import.meta.url);
    const { Noop } = await import(badUrl.href);
    wg = new lib.IsolateWorkgroup({ modules: [badUrl], autoscale: { minWorkers: 0, maxWorkers: 2, intervalMs: 5 } });
    const failures: string[] = [];
    wg.setErrorHandler(lib.IsolateErrorType.initialization, (e) => void failures.push((e as Error).message));
    await wg.launch(); // no worker yet: nothing to fail
    const job = wg.dispatch(new Noop()).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 1500));
    // Every tick (5 ms) would be ~300 starts; backing off from 200 ms leaves a handful.
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.length).toBeLessThanOrEqual(6);
    expect(failures[0]).toContain('setup exploded');
    expect(wg.isolatesCount).toBe(0); // each failed start was rolled back: no index consumed
    await wg.shutdown();
    expect(await job).toBeInstanceOf(lib.WorkgroupJobAbortedException);
  }, 30_000);

  it('without autoscale the size never changes by itself', async () => {
    wg = new lib.IsolateWorkgroup(2, { modules: [workUrl] });
    await wg.launch();
    await Promise.all(Array.from({ length: 30 }, () => wg!.dispatch(new work.Sleep(10))));
    await new Promise((r) => setTimeout(r, 300));
    expect(wg.liveIsolateCount).toBe(2);
    expect(wg.isolatesCount).toBe(2);
  });
});

describe('autoscale and process lifetime (plain node, child process)', () => {
  it('a script with an autoscaling workgroup exits 0 by itself, with and without shutdown()', async () => {
    for (const args of [[], ['no-shutdown']]) {
      const r = await runNode(['test/fixtures/autoscale-exit.mjs', ...args], 30_000);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^results 40 workers ever [12]\nend of script\n$/);
      expect(r.code).toBe(0);
    }
  }, 70_000);
});
