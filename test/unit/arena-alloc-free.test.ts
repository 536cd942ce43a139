import { describe, expect, it } from 'vitest';
import { Arena, createArenaBuffer, type ArenaHandle, type ArenaOptions } from '../../src/memory/arena.js';
import { classBytes } from '../../src/memory/layout.js';

const SEG = 64 * 1024;

function mainArena(opts: ArenaOptions = {}): Arena {
  return new Arena(createArenaBuffer({ segmentBytes: SEG, maxBytes: 32 * 2 ** 20, initialBytes: 0, ...opts }), 0);
}

function fill(arena: Arena, h: ArenaHandle, byte: number): void {
  arena.viewOf(h).fill(byte);
}

function holds(arena: Arena, h: ArenaHandle, byte: number): boolean {
  return arena.viewOf(h).every((b) => b === byte);
}

describe('arena alloc/free', () => {
  it('allocates, fills and frees blocks of every size class', () => {
    const arena = mainArena();
    const classes = arena.layout.smallClasses;
    expect(classes).toBe(10); // 64 B … 32 KiB for 64 KiB segments
    for (let cls = 0; cls < classes; cls++) {
      const biggest = classBytes(cls) - 16;
      const smallest = cls === 0 ? 0 : classBytes(cls - 1) - 15;
      for (const n of [smallest, biggest]) {
        const h = arena.alloc(n);
        expect(h.offset % 16).toBe(0);
        const v = arena.viewOf(h);
        expect(v.byteLength).toBe(n);
        v.fill(0xab);
        expect(arena.stats().liveBytes).toBe(n);
        arena.free(h);
        expect(arena.stats()).toMatchObject({ liveBytes: 0, liveBlocks: 0 });
      }
    }
  });

  it('reuses a freed block of the same class with a bumped generation', () => {
    const arena = mainArena();
    const a = arena.alloc(100);
    const b = arena.alloc(100);
    arena.free(a);
    const c = arena.alloc(110); // same 128-byte class as 100 (16-byte header included)
    expect(c.offset).toBe(a.offset);
    expect(c.generation).toBe(a.generation + 1);
    expect(b.offset).not.toBe(a.offset);
  });

  it('aligns payloads to 16 bytes by default and to 32/64 on request', () => {
    const arena = mainArena();
    for (const align of [1, 2, 4, 8, 16]) expect(arena.alloc(24, align).offset % 16).toBe(0);
    for (const align of [32, 64]) {
      for (const n of [0, 1, 63, 64, 1000, 40_000]) {
        const h = arena.alloc(n, align);
        expect(h.offset % align).toBe(0);
        expect(arena.viewOf(h).byteLength).toBe(n);
        arena.free(h);
      }
    }
  });

  it('hands out zeroed arrays, also when the block was used before (as new Float64Array(n) is)', () => {
    const arena = mainArena();
    for (let round = 0; round < 3; round++) {
      const a = arena.allocArray(Float64Array, 100);
      expect(a.every((x) => x === 0)).toBe(true);
      a.fill(7.5);
      arena.release(a); // the next round gets the same block back
    }
    const big = arena.allocArray(BigInt64Array, 8);
    expect(big.every((x) => x === 0n)).toBe(true);
  });

  it('hands out real typed arrays of every kind on the arena buffer', () => {
    const arena = mainArena();
    const ctors = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array] as const;
    for (const C of ctors) {
      const a = arena.allocArray(C, 33);
      expect(a).toBeInstanceOf(C);
      expect(a.buffer).toBe(arena.sab);
      expect(a.length).toBe(33);
      expect(a.byteOffset % C.BYTES_PER_ELEMENT).toBe(0);
      expect(arena.handleOf(a)?.offset).toBe(a.byteOffset);
      arena.release(a);
    }
    const f = arena.allocArray(Float64Array, 4);
    f.set([1.5, 2.5, 3.5, 4.5]);
    const again = arena.arrayOf(arena.handleOf(f) as ArenaHandle, Float64Array);
    expect(Array.from(again)).toEqual([1.5, 2.5, 3.5, 4.5]);
    expect(arena.stats().liveBlocks).toBe(1);
    arena.release(again); // any view from the arena releases the block once
    expect(arena.stats().liveBlocks).toBe(0);
  });

  it('handleOf answers only for exact block starts on this arena', () => {
    const arena = mainArena();
    const a = arena.allocArray(Float32Array, 16);
    expect(arena.handleOf(a.subarray(1))).toBeUndefined();
    expect(arena.handleOf(new Float32Array(16))).toBeUndefined();
    expect(arena.handleOf(new Float32Array(new SharedArrayBuffer(64)))).toBeUndefined();
    // A fresh view over the same bytes (what a receiving thread sees) is recognised and releasable.
    const foreign = new Uint8Array(arena.sab, a.byteOffset, 8);
    expect(arena.handleOf(foreign)).toEqual(arena.handleOf(a));
    arena.release(foreign);
    expect(arena.stats().liveBlocks).toBe(0);
  });

  it('allocates large blocks from whole segments and returns them to the pool on free', () => {
    const arena = mainArena();
    const before = arena.stats().segmentsInUse;
    const sizes = [SEG / 2, SEG, 3 * SEG + 5, 10 * SEG];
    const handles = sizes.map((n) => arena.alloc(n));
    handles.forEach((h, i) => fill(arena, h, i + 1));
    handles.forEach((h, i) => expect(holds(arena, h, i + 1)).toBe(true));
    expect(arena.stats().segmentsInUse).toBe(before + 1 + 2 + 4 + 11);
    for (const h of handles) arena.free(h);
    expect(arena.stats()).toMatchObject({ liveBytes: 0, liveBlocks: 0, segmentsInUse: before });
  });

  it('keeps every neighbour intact: canary patterns survive fills, frees and reuse', () => {
    const arena = mainArena();
    const sizes = [0, 1, 15, 16, 17, 47, 48, 49, 100, 500, 4000, 20_000, 40_000, 70_000];
    const live = new Map<ArenaHandle, number>();
    let tag = 1;
    for (let round = 0; round < 4; round++) {
      for (const n of sizes) {
        for (let k = 0; k < 3; k++) {
          const h = arena.alloc(n);
          const byte = tag++ & 0xff || 1;
          fill(arena, h, byte);
          live.set(h, byte);
        }
      }
      for (const [h, byte] of live) expect(holds(arena, h, byte)).toBe(true);
      let i = 0;
      for (const h of [...live.keys()]) if (i++ % 2 === round % 2) {
        arena.free(h);
        live.delete(h);
      }
      for (const [h, byte] of live) expect(holds(arena, h, byte)).toBe(true);
    }
    for (const h of live.keys()) arena.free(h);
    expect(arena.stats()).toMatchObject({ liveBytes: 0, liveBlocks: 0 });
  });

  it('reports zero live bytes and gives every segment back after freeing everything', () => {
    const arena = mainArena();
    const handles: ArenaHandle[] = [];
    for (let i = 0; i < 3000; i++) handles.push(arena.alloc((i * 7919) % 5000));
    expect(arena.stats().liveBlocks).toBe(3000);
    for (const h of handles.reverse()) arena.free(h);
    expect(arena.stats()).toMatchObject({ liveBytes: 0, liveBlocks: 0 });
    arena.trim();
    expect(arena.stats().segmentsInUse).toBe(0);
    expect(arena.stats().ownedSegments).toBe(0);
  });

  it('offers a using-friendly lease', () => {
    const arena = mainArena();
    const lease = arena.lease(Uint16Array, 10);
    lease.array.fill(7);
    expect(arena.stats().liveBlocks).toBe(1);
    lease.release();
    lease[Symbol.dispose](); // what the end of a `using` block calls: a no-op after release()
    expect(arena.stats().liveBlocks).toBe(0);
    const scoped = arena.lease(Float32Array, 4);
    scoped[Symbol.dispose]();
    expect(() => arena.viewOf(scoped.handle)).toThrow(/use after release/);
  });
});
