// CallbackWorkgroup: one job on a private worker, its reports streamed to a callback in order before the
// result; the promise always settles, and when it does, the worker is gone.
import { describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';

const cbUrl = new URL('../fixtures/callback-work.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const cb = (await import(cbUrl.href)) as any;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CallbackWorkgroup', () => {
  it('synchronous true runs executeSync(), false runs executeAsync(), each with its reports in order first', async () => {
    for (const synchronous of [true, false]) {
      const seen: string[] = [];
      const result = await new lib.CallbackWorkgroup(new cb.Counting(synchronous, 's', 12)).run((v) => seen.push(v as string));
      expect(result).toBe(`${synchronous ? 'executeSync' : 'executeAsync'}:s`);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `s:${i + 1}`));
    }
  });

  it('calls the callback for every one of 100,000 reports, in order, even with a slow callback (no coalescing)', async () => {
    let n = 0;
    let inOrder = true;
    const result = await within(
      new lib.CallbackWorkgroup(new cb.Counting(true, 'x', 100_000)).run((v) => {
        n++;
        if (v !== `x:${n}`) inOrder = false;
        if (n % 5000 === 0) for (const end = Date.now() + 2; Date.now() < end; ); // a slow callback now and then
      }),
      60_000,
      '100,000 reports',
    );
    expect(result).toBe('executeSync:x');
    expect(n).toBe(100_000);
    expect(inOrder).toBe(true);
  });

  it('three concurrent runs do not mix their reports', async () => {
    const tags = ['a', 'b', 'c'];
    const seen: Record<string, string[]> = { a: [], b: [], c: [] };
    const results = await within(
      Promise.all(tags.map((t, i) => new lib.CallbackWorkgroup(new cb.Counting(i !== 1, t, 40)).run((v) => seen[t]!.push(v as string)))),
      20_000,
      'three runs',
    );
    expect(results).toEqual(['executeSync:a', 'executeAsync:b', 'executeSync:c']);
    for (const t of tags) expect(seen[t]).toEqual(Array.from({ length: 40 }, (_, i) => `${t}:${i + 1}`));
  });

  it('a timeout rejects with WorkgroupTimeoutException and stops the worker (a job that ignores its signal)', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const onError: unknown[] = [];
    const err = await within(
      // (The timeout covers the worker's start too: long enough that the job surely started on a loaded machine.)
      new lib.CallbackWorkgroup(new cb.Forever(counter)).run(null, { timeout: 2500, onError: (e) => onError.push(e) }).catch((e: unknown) => e),
      15_000,
      'the timed-out run',
    );
    expect(err).toBeInstanceOf(lib.WorkgroupTimeoutException);
    expect((err as InstanceType<typeof lib.WorkgroupTimeoutException>).timeoutMs).toBe(2500);
    expect((err as InstanceType<typeof lib.WorkgroupTimeoutException>).operation).toBe('CallbackWorkgroup.run');
    expect(onError).toEqual([err]);
    expect(Atomics.load(counter, 0)).toBeGreaterThan(0); // it did run
    // The promise settled after the worker exited: the counter no longer moves.
    const at = Atomics.load(counter, 0);
    await sleep(100);
    expect(Atomics.load(counter, 0)).toBe(at);
  });

  it('keeps the error class of a throwing job (sync and async), calls onError, and still settles', async () => {
    for (const synchronous of [true, false]) {
      const calls: Array<[unknown, string | undefined]> = [];
      const err = await new lib.CallbackWorkgroup(new cb.OverQuota(synchronous)).run(null, { onError: (e, stack) => calls.push([e, stack]) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cb.QuotaError);
      expect((err as Error).message).toBe(synchronous ? 'over quota' : 'over quota (async)');
      expect((err as { quota: number }).quota).toBe(synchronous ? 3 : 4);
      expect((err as Error).stack).toContain('Stack trace in main');
      expect(calls).toHaveLength(1);
      expect(calls[0]![0]).toBe(err);
      expect(calls[0]![1]).toBe((err as Error).stack);
    }
  });

  it('an onError that throws does not change the rejection', async () => {
    const err = await new lib.CallbackWorkgroup(new cb.OverQuota(true))
      .run(null, {
        onError: () => {
          throw new Error('handler bug');
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cb.QuotaError);
  });

  it('a callback that throws ends the run: rejected with that error, the worker stopped', async () => {
    const boom = new Error('callback failed');
    const err = await within(
      new lib.CallbackWorkgroup(new cb.Counting(true, 'x', 100_000))
        .run(() => {
          throw boom;
        })
        .catch((e: unknown) => e),
      10_000,
      'the run',
    );
    expect(err).toBe(boom);
  });

  it('an aborted signal rejects with WorkgroupJobAbortedException', async () => {
    const c = new AbortController();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const run = new lib.CallbackWorkgroup(new cb.Forever(counter)).run(null, { signal: c.signal });
    run.catch(() => {});
    await sleep(50);
    c.abort();
    await expect(within(run, 10_000, 'the aborted run')).rejects.toBeInstanceOf(lib.WorkgroupJobAbortedException);
  });
});
