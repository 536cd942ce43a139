// Non-shared ArrayBuffers and typed arrays: copied (at most one memcpy per side, big ones out of band
// through shared memory), or moved with `transfer` (the sender's buffer is detached, no copy); payloads
// larger than a ring go through shared memory in both directions.
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

async function start(n = 1, config: Record<string, unknown> = {}): Promise<InstanceType<typeof lib.IsolateWorkgroup>> {
  wg = await launched(n, { modules: [zcUrl], ...config });
  return wg;
}

/** Seeded values (xorshift32), so a failure can be replayed. */
function seeded(n: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s % 10_000) / 7;
  }
  return out;
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

describe('copies', () => {
  it('a non-shared 32 KB Float64Array round trip: the worker sums the same values, the caller keeps its own copy', async () => {
    const g = await start(1);
    const seed = (Math.random() * 2 ** 32) >>> 0;
    console.log(`[non-shared 32 KB round trip] seed ${seed}`);
    const data = seeded(4096, seed);
    const original = data.slice();
    const r = (await g.dispatch(new zc.SumEcho(data))) as { sum: number; echo: Float64Array };
    expect(r.sum).toBe(sum(original));
    expect(r.echo).toBeInstanceOf(Float64Array);
    expect(r.echo.buffer).toBeInstanceOf(ArrayBuffer);
    expect(r.echo.buffer).not.toBe(data.buffer);
    expect(r.echo[0]).toBe(original[0]! + 1); // the worker changed its copy...
    expect(Array.from(r.echo.subarray(1))).toEqual(Array.from(original.subarray(1)));
    expect(data).toEqual(original); // ...and not the caller's
  });

  it('a 4 MiB non-shared buffer goes out of band both ways and leaves no shared memory in use', async () => {
    const g = await start(2);
    const seed = (Math.random() * 2 ** 32) >>> 0;
    console.log(`[non-shared 4 MiB round trip] seed ${seed}`);
    const base = g.stats().sharedMemory;
    const data = seeded(512 * 1024, seed);
    const results = await Promise.all([
      g.dispatch(new zc.SumEcho(data)),
      g.dispatch(new zc.SumEcho(data), 1),
      g.dispatch(new zc.Echo(data.buffer)),
    ]);
    for (const r of results.slice(0, 2) as Array<{ sum: number; echo: Float64Array }>) {
      expect(r.sum).toBe(sum(data));
      expect(r.echo.length).toBe(data.length);
      expect(r.echo[1]).toBe(data[1]);
      expect(r.echo[data.length - 1]).toBe(data[data.length - 1]);
    }
    const third = results[2] as ArrayBuffer;
    expect(third).toBeInstanceOf(ArrayBuffer);
    expect(new Float64Array(third)).toEqual(data);
    expect(g.stats().sharedMemory).toMatchObject({ liveBytes: base.liveBytes, liveBlocks: base.liveBlocks });
  });

  it('a queued job with a big buffer that is cancelled gives its shared-memory copy back', async () => {
    const g = await start(1);
    const gate = g.allocate(Float64Array, 4); // the blocker waits on a flag in here
    const base = g.stats().sharedMemory;
    const blocker = g.dispatch(new zc.SumScaleAfterFlag(gate, 1));
    blocker.catch(() => {});
    const c = new AbortController();
    const victim = g.dispatch(new zc.SumScale(new Float64Array(100_000).fill(1)), { signal: c.signal });
    victim.catch(() => {});
    expect(g.stats().sharedMemory.liveBytes).toBe(base.liveBytes + 800_000); // the out-of-band copy, in flight
    c.abort();
    await expect(victim).rejects.toBeInstanceOf(lib.WorkgroupJobAbortedException);
    expect(g.stats().sharedMemory.liveBytes).toBe(base.liveBytes);
    Atomics.store(new Int32Array(gate.buffer, gate.byteOffset, 1), 0, 1);
    Atomics.notify(new Int32Array(gate.buffer, gate.byteOffset, 1), 0);
    await expect(blocker).resolves.toMatchObject({ shared: true });
    g.release(gate);
  });

  it('a job its worker never read (the worker was killed) gives its shared-memory copy back', async () => {
    const g = await start(2);
    const gate = g.allocate(Float64Array, 4);
    const base = g.stats().sharedMemory;
    const blocker = g.dispatch(new zc.SumScaleAfterFlag(gate, 1), 0);
    blocker.catch(() => {});
    const stuck = g.dispatch(new zc.SumScale(new Float64Array(100_000).fill(1)), 0); // waits in worker 0's lane
    stuck.catch(() => {});
    expect(g.stats().sharedMemory.liveBytes).toBe(base.liveBytes + 800_000);
    await g.kill(0);
    await expect(stuck).rejects.toThrow('Isolate #0 was killed - job cancelled');
    await expect(blocker).rejects.toThrow('Isolate #0 was killed - job cancelled');
    expect(g.stats().sharedMemory.liveBytes).toBe(base.liveBytes);
    await expect(g.dispatch(new zc.SumScale(new Float64Array(100_000).fill(1)))).resolves.toMatchObject({ sum: 100_000 });
    g.release(gate);
  });

  it('a typed array over part of a big buffer sends only its window', async () => {
    const g = await start(1);
    const whole = new Float64Array(256 * 1024).fill(1);
    const part = whole.subarray(1000, 1000 + 100_000);
    const r = (await g.dispatch(new zc.SumScale(part))) as { sum: number; byteLength: number };
    expect(r).toMatchObject({ sum: 100_000, byteLength: 800_000 });
  });
});

describe('transfer', () => {
  it('moves the buffer: detached for the caller, the worker gets the bytes (no copy)', async () => {
    const g = await start(2);
    const data = new Float64Array(200_000).fill(0.5);
    const small = new Float64Array(8).fill(2); // below the out-of-band threshold: moved all the same
    const [big, little] = await Promise.all([
      g.dispatch(new zc.SumScale(data), { transfer: [data.buffer] }),
      g.dispatch(new zc.SumScale(small), { transfer: [small.buffer] }),
    ]);
    expect(big).toMatchObject({ sum: 100_000, shared: false });
    expect(little).toMatchObject({ sum: 16, shared: false });
    expect(data.buffer.byteLength).toBe(0);
    expect(data.length).toBe(0);
    expect(small.byteLength).toBe(0);
    expect(g.stats().sharedMemory.liveBlocks).toBe(0);
  });

  it('detaches a listed buffer the job does not contain, as postMessage does', async () => {
    const g = await start(1);
    const unused = new ArrayBuffer(64);
    await expect(g.dispatch(new zc.SumScale(new Float64Array(4).fill(1)), { transfer: [unused] })).resolves.toMatchObject({ sum: 4 });
    expect(unused.byteLength).toBe(0);
  });

  it('refuses a bad transfer list with a TypeError and detaches nothing', async () => {
    const g = await start(1);
    const a = new Float64Array(16);
    await expect(g.dispatch(new zc.SumScale(a), { transfer: [new SharedArrayBuffer(8) as unknown as ArrayBuffer] })).rejects.toThrow(/SharedArrayBuffer/);
    await expect(g.dispatch(new zc.SumScale(a), { transfer: [a as unknown as ArrayBuffer] })).rejects.toThrow(/list its \.buffer/);
    await expect(g.dispatch(new zc.SumScale(a), { transfer: [a.buffer, a.buffer] })).rejects.toThrow(/twice/);
    await expect(g.dispatch(new zc.SumScale(a), { transfer: [a.buffer] })).resolves.toMatchObject({ sum: 0 });
    await expect(g.dispatch(new zc.SumScale(a), { transfer: [a.buffer] })).rejects.toThrow(/detached/);
    expect(g.pendingCount).toBe(0);
  });

  it('a job moves a buffer back to main with this.transfer(): detached in the worker, received intact', async () => {
    const g = await start(1);
    const got: Float64Array[] = [];
    const r = await g.dispatch(new zc.TransferBack(100_000), { onProgress: (v) => got.push(v as Float64Array) });
    expect(r).toEqual({ detachedHere: true });
    expect(got).toHaveLength(1);
    expect(got[0]!.length).toBe(100_000);
    expect(got[0]![99_999]).toBe(99_999);
    expect(got[0]!.buffer).toBeInstanceOf(ArrayBuffer);
  });
});

describe('members', () => {
  it('big non-shared buffers in the member, in commands and in results go out of band; this.transfer() moves a result', async () => {
    const g = await start(1);
    const base = g.stats().sharedMemory;
    const initial = new Float64Array(100_000).fill(2);
    const store = await g.addInstance(new zc.BlobStore(initial));
    await expect(store.invoke({ kind: 'sum', data: new Float64Array(100_000).fill(3) })).resolves.toBe(300_000);
    const got = (await store.invoke({ kind: 'get' })) as Float64Array;
    expect(got).toEqual(initial);
    const moved = (await store.invoke({ kind: 'move', n: 50_000 })) as Float64Array;
    expect(moved.length).toBe(50_000);
    expect(moved[49_999]).toBe(1);
    await expect(store.invoke({ kind: 'moved?' })).resolves.toBe(true);
    expect(g.stats().sharedMemory).toMatchObject({ liveBytes: base.liveBytes, liveBlocks: base.liveBlocks });
    await g.destroyInstance(store);
  });
});

describe('payloads larger than a ring', () => {
  const ring = 16 * 1024;

  it('a frame 4× the ring size goes through shared memory both ways: shared queue and a pinned job', async () => {
    const g = await start(2, { directRingBytes: ring, resultRingBytes: ring });
    const base = g.stats().sharedMemory;
    // Not binary (so not out of band): a long string and many numbers, > 4 × 16 KiB encoded.
    const value = { text: 'payload-'.repeat(8 * 1024), numbers: Array.from({ length: 10_000 }, (_, i) => i * 1.5) };
    const [queued, pinned] = await Promise.all([g.dispatch(new zc.Echo(value)), g.dispatch(new zc.Echo(value), { isolate: 1 })]);
    expect(queued).toEqual(value);
    expect(pinned).toEqual(value);
    expect(g.stats().sharedMemory).toMatchObject({ liveBytes: base.liveBytes, liveBlocks: base.liveBlocks });
  });

  it('a binary payload 4× the ring size goes out of band both ways', async () => {
    const g = await start(1, { directRingBytes: ring, resultRingBytes: ring });
    const data = new Float64Array((4 * ring) / 8).map((_, i) => i);
    const echoed = (await g.dispatch(new zc.Echo(data), 0)) as Float64Array;
    expect(echoed).toEqual(data);
  });
});
