// Typed arrays on shared memory cross to the worker by reference: the same bytes on both sides, no copy.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { launched, lib } from './helpers.js';

const zcUrl = new URL('../fixtures/zero-copy-work.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const zc = (await import(zcUrl.href)) as any;

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

async function start(n = 1): Promise<InstanceType<typeof lib.IsolateWorkgroup>> {
  wg = await launched(n, { modules: [zcUrl] });
  return wg;
}

describe('arrays from wg.allocate()', () => {
  it('a 64 MiB Float64Array is summed and scaled in place by a worker: the same buffer, a write after dispatch is seen', async () => {
    const g = await start(1);
    const n = (64 * 1024 * 1024) / 8;
    const arr = g.allocate(Float64Array, n);
    const sab = arr.buffer;
    expect(sab).toBeInstanceOf(SharedArrayBuffer);
    // Element 0 holds the flag (as an Int32 over the same bytes); the data starts at element 1.
    const flag = new Int32Array(arr.buffer, arr.byteOffset, 2);
    flag[0] = 0;
    flag[1] = 0;
    let expected = 0;
    for (let i = 1; i < n; i++) {
      arr[i] = i % 1000;
      expected += i % 1000;
    }
    const before = g.stats().sharedMemory.liveBytes;
    const job = g.dispatch(new zc.SumScaleAfterFlag(arr, 2));
    job.catch(() => {});
    // Written after dispatch: a copy made at dispatch could not contain it.
    arr[n - 1] = 500_000;
    expected += 500_000 - ((n - 1) % 1000);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const result = (await job) as { sum: number; shared: boolean; length: number };
    expect(result).toEqual({ sum: expected, shared: true, length: n });
    // The worker's writes are in main's array: the very same buffer object, nothing was copied back.
    expect(arr.buffer).toBe(sab);
    expect(arr[1]).toBe(2);
    expect(arr[999]).toBe(1998);
    expect(arr[n - 1]).toBe(1_000_000);
    // Nothing else was allocated for the job (no copy of 64 MiB anywhere in shared memory).
    expect(g.stats().sharedMemory.liveBytes).toBe(before);
    g.release(arr);
    expect(g.stats().sharedMemory.liveBytes).toBe(before - n * 8);
  });

  it('a result array allocated in the worker (this.allocate) is read in main with no copy, then released', async () => {
    const g = await start(1);
    const base = g.stats().sharedMemory;
    const squares = (await g.dispatch(new zc.Squares(10_000))) as Float64Array;
    expect(squares.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(squares.length).toBe(10_000);
    expect(squares[99]).toBe(99 * 99);
    expect(g.stats().sharedMemory.liveBytes).toBe(base.liveBytes + 80_000);
    // Main writes, a second job reads the same bytes.
    squares[0] = 7;
    await expect(g.dispatch(new zc.SumScale(squares.subarray(0, 2)))).resolves.toMatchObject({ sum: 8, shared: true });
    g.release(squares);
    expect(g.stats().sharedMemory).toMatchObject({ liveBytes: base.liveBytes, liveBlocks: base.liveBlocks });
    expect(() => g.release(squares)).toThrow(/double release/);
  });

  it('sending an array after release rejects with a clear error naming the path, and nothing runs', async () => {
    const g = await start(1);
    const arr = g.allocate(Float64Array, 64);
    g.release(arr);
    const err = (await g.dispatch(new zc.SumScale(arr)).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(lib.WorkgroupException);
    expect(err.message).toMatch(/^job\.data is a Float64Array whose shared memory was already released/);
    expect(g.pendingCount).toBe(0);
    // Also when the memory was reused for a new array meanwhile (the generation differs).
    const reused = g.allocate(Float64Array, 64);
    await expect(g.dispatch(new zc.SumScale(arr))).rejects.toThrow(/already released/);
    await expect(g.dispatch(new zc.SumScale(reused))).resolves.toMatchObject({ sum: 0 });
    g.release(reused);
  });

  it('a worker returning an array it released gets the job rejected with the same clear error', async () => {
    const g = await start(1);
    const err = (await g.dispatch(new zc.ReturnReleased()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(lib.WorkgroupException);
    expect(err.message).toContain('result.out is a Float64Array whose shared memory was already released');
  });

  it('`using` releases an array at the end of its scope (and tolerates an explicit release)', async () => {
    const g = await start(1);
    const base = g.stats().sharedMemory.liveBytes;
    {
      using data = g.allocate(Float64Array, 1000);
      data.fill(3);
      await expect(g.dispatch(new zc.SumScale(data))).resolves.toMatchObject({ sum: 3000, shared: true });
      expect(g.stats().sharedMemory.liveBytes).toBe(base + 8000);
    }
    expect(g.stats().sharedMemory.liveBytes).toBe(base);
    {
      using data = g.allocate(Int32Array, 10);
      g.release(data);
    }
    // In a job: a scratch array disposed before the job returns.
    await expect(g.dispatch(new zc.ScratchWithUsing(100))).resolves.toBe(4950);
    expect(g.stats().sharedMemory.liveBytes).toBe(base);
  });

  it('allocate() of more than the shared memory can hold throws a RangeError naming `arenaMaxBytes`', async () => {
    const g = await launched(1, { modules: [zcUrl], arenaMaxBytes: 8 << 20 });
    wg = g;
    expect(() => g.allocate(Float64Array, 4 << 20)).toThrow(RangeError);
    expect(() => g.allocate(Float64Array, 4 << 20)).toThrow(/arenaMaxBytes/);
    await expect(g.dispatch(new zc.SumScale(new Float64Array(8)))).resolves.toMatchObject({ sum: 0 });
  });
});

describe('shared-memory errors are exported by name and keep their class across threads', () => {
  it('allocate() beyond arenaMaxBytes: ArenaExhaustedError, a RangeError with a code, in main and from a job', async () => {
    const g = await launched(1, { modules: [zcUrl], arenaMaxBytes: 8 << 20 });
    wg = g;
    const inMain = (() => {
      try {
        g.allocate(Float64Array, 4 << 20);
      } catch (e) {
        return e;
      }
      return undefined;
    })() as InstanceType<typeof lib.ArenaExhaustedError>;
    expect(inMain).toBeInstanceOf(lib.ArenaExhaustedError);
    expect(inMain).toBeInstanceOf(RangeError);
    expect(inMain.code).toBe('ERR_ARENA_EXHAUSTED');
    const fromJob = (await g.dispatch(new zc.Squares(4 << 20)).catch((e: unknown) => e)) as InstanceType<typeof lib.ArenaExhaustedError>;
    expect(fromJob).toBeInstanceOf(lib.ArenaExhaustedError);
    expect(fromJob).toBeInstanceOf(RangeError);
    expect(fromJob.code).toBe('ERR_ARENA_EXHAUSTED');
    expect(fromJob.message).toMatch(/arenaMaxBytes/);
    expect(fromJob.requestedBytes).toBeGreaterThanOrEqual(32 << 20);
  });

  it('a second release: ArenaDoubleFreeError, in main and inside a job', async () => {
    const g = await start(1);
    const a = g.allocate(Float64Array, 8);
    g.release(a);
    expect(() => g.release(a)).toThrow(lib.ArenaDoubleFreeError);
    const fromJob = (await g.dispatch(new zc.ReleaseTwice()).catch((e: unknown) => e)) as InstanceType<typeof lib.ArenaDoubleFreeError>;
    expect(fromJob).toBeInstanceOf(lib.ArenaDoubleFreeError);
    expect(fromJob.code).toBe('ERR_ARENA_DOUBLE_FREE');
  });

  it('release() of an array that is not on the shared memory: ArenaInvalidHandleError (a TypeError)', async () => {
    const g = await start(1);
    let caught: unknown;
    try {
      g.release(new Float64Array(4));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(lib.ArenaInvalidHandleError);
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as InstanceType<typeof lib.ArenaInvalidHandleError>).code).toBe('ERR_ARENA_INVALID_HANDLE');
    expect(new lib.ArenaUseAfterReleaseError(0, 1, 'test').code).toBe('ERR_ARENA_USE_AFTER_RELEASE');
  });
});

describe('leak reporting', () => {
  it('an array from allocate() garbage-collected without release is reported to logger.warn (and stays counted)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const warnings: string[] = [];
    const g = await launched(1, { modules: [zcUrl], logger: { warn: (m: string) => warnings.push(m) } });
    wg = g;
    (() => {
      const lost = g.allocate(Float32Array, 256);
      lost.fill(1);
      using kept = g.allocate(Float32Array, 256); // released: never reported
      kept.fill(2);
    })();
    for (let i = 0; i < 50 && warnings.length === 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/a shared Float32Array of 1024 bytes \(from allocate\(\)\) was garbage-collected without release\(\)/);
    expect(g.stats().sharedMemory).toMatchObject({ liveBlocks: 1, liveBytes: 1024 });
  });
});

describe("a user's own SharedArrayBuffer", () => {
  it('passes by reference: the worker writes the caller\'s bytes, the same buffer object comes back', async () => {
    const g = await start(2);
    const sab = new SharedArrayBuffer(4 * 1024);
    const view = new Int32Array(sab);
    view.fill(1);
    const seen = await g.dispatch(new zc.AddToShared(view, 2));
    expect(seen).toBe(sab); // the worker's answer names the same buffer: main maps it back to the object
    expect(view[0]).toBe(3);
    expect(view[1023]).toBe(3);
    // Introduced once, then referenced: many jobs on both workers see every write.
    await Promise.all(Array.from({ length: 20 }, () => g.dispatch(new zc.AddToShared(view, 1))));
    expect(view.every((v) => v === 23)).toBe(true);
    await expect(g.dispatch(new zc.AddToShared(view, 0), 1)).resolves.toBe(sab);
  });
});
