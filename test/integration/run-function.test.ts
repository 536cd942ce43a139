// wg.run(fn, ...args): an exported function of a work module run as a job, with the rules of jobs:
// results, errors with their class, progress, cancellation, timeouts, zero copy, pinned workers.
import { afterEach, describe, expect, it } from 'vitest';
import { lib } from './helpers.js';

const fnUrl = new URL('../fixtures/functions.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const fns = (await import(fnUrl.href)) as any;

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

async function launchedFns(n: number): Promise<InstanceType<typeof lib.IsolateWorkgroup>> {
  const w = new lib.IsolateWorkgroup(n, { modules: [fnUrl] });
  await w.launch();
  return w;
}

describe('run(fn, ...args)', () => {
  it('runs exported functions (declarations, arrow functions, async) with their arguments', async () => {
    wg = await launchedFns(2);
    await expect(wg.run(fns.add, 1, 2)).resolves.toBe(3);
    await expect(wg.run(fns.multiply, 6, 7)).resolves.toBe(42);
    await expect(wg.run(fns.delayedConcat, 'a', 'b', 5)).resolves.toBe('ab');
    await expect(wg.run(fns.isJob)).resolves.toBe(true);
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => wg!.run(fns.add, i, 1)));
    expect(many).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('rejects with the error class the function threw, its fields and both stacks', async () => {
    wg = await launchedFns(1);
    const e = await wg.run(fns.sqrt, -4).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(fns.NegativeError);
    expect((e as { value: number }).value).toBe(-4);
    expect((e as Error).stack).toMatch(/Stack trace in worker[\s\S]*functions\.mjs[\s\S]*Stack trace in main[\s\S]*run-function\.test\.ts/);
    await expect(wg.run(fns.sqrt, 16)).resolves.toBe(4);
  });

  it('delivers progress in order before the result, honours signal and timeout, runs on a given worker', async () => {
    wg = await launchedFns(2);
    const seen: unknown[] = [];
    await expect(wg.runWith(fns.countTo, [5], { onProgress: (v) => seen.push(v) })).resolves.toBe(5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const ac = new AbortController();
    const aborted = wg.runWith(fns.untilAborted, [], { signal: ac.signal }).catch((x: unknown) => x);
    setTimeout(() => ac.abort(), 20);
    expect(await aborted).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    const timedOut = await wg.runWith(fns.untilAborted, [], { timeout: 30 }).catch((x: unknown) => x);
    expect(timedOut).toBeInstanceOf(lib.WorkgroupTimeoutException);
    const shared = new Int32Array(new SharedArrayBuffer(16));
    await expect(wg.runWith(fns.fill, [shared, 7], 1)).resolves.toBe(1);
    expect([...shared]).toEqual([7, 7, 7, 7]); // the worker wrote the caller's memory: zero copy
    const arena = wg.allocate(Float64Array, 3);
    await wg.runWith(fns.fill, [arena, 2.5], { isolate: 0 });
    expect([...arena]).toEqual([2.5, 2.5, 2.5]);
    wg.release(arena);
  });

  it('refuses, before sending anything, what is not an exported function of a work module, and bad options', async () => {
    wg = await launchedFns(1);
    await expect(wg.run(fns.notExportedRef.notExported)).rejects.toThrow(
      'run(): notExported is not known to the workgroup: export it from a work module and list that module in `modules`',
    );
    await expect(wg.run(() => 1)).rejects.toBeInstanceOf(lib.WorkgroupException);
    await expect(wg.run(42 as unknown as () => number)).rejects.toThrow('expected the first argument of run() to be a function exported from a work module, got 42');
    await expect(wg.runWith(fns.add, 1 as never)).rejects.toThrow('expected the arguments of runWith() to be an array, got 1');
    await expect(wg.runWith(fns.add, [1, 2], { tiemout: 1 } as never)).rejects.toThrow('unknown option `tiemout` of runWith(): did you mean `timeout`?');
    await expect(wg.runWith(fns.add, [1, 2], -1)).rejects.toThrow('Invalid isolate index -1.');
    await expect(wg.runWith(fns.add, [1, 2], 'x' as never)).rejects.toThrow('Invalid isolate index: expected a worker index (an integer), got the string "x"');
    await expect(wg.runWith(fns.add, [1, 2], true as never)).rejects.toThrow('expected the third argument of runWith() to be a worker index or an options object, got true');
    await expect(wg.run(fns.add, 1, (() => 2) as never)).rejects.toThrow('is a function');
    expect(wg.pendingCount).toBe(0);
    await expect(wg.run(fns.add, 1, 1)).resolves.toBe(2);
  });

  it('is refused before launch() and after shutdown() like dispatch', async () => {
    const w = new lib.IsolateWorkgroup(1, { modules: [fnUrl] });
    await expect(w.run(fns.add, 1, 2)).rejects.toBeInstanceOf(lib.WorkgroupNotReadyException);
    const launching = w.launch();
    const early = w.run(fns.add, 1, 2); // while main still imports the modules: waits, then runs
    await launching;
    await expect(early).resolves.toBe(3);
    await w.shutdown();
    await expect(w.run(fns.add, 1, 2)).rejects.toBeInstanceOf(lib.WorkgroupInactiveException);
  });
});
