import { describe, expect, it } from 'vitest';
import { Arena, createArenaBuffer, readArenaLayout, type ArenaHandle } from '../../src/memory/arena.js';
import { ArenaExhaustedError } from '../../src/memory/errors.js';

const SEG = 4096;

function small(maxSegments: number, growable = true): Arena {
  // Metadata of a 2-owner arena is one 4 KiB page, so maxBytes = 4096 + n·4096 gives exactly n segments.
  const sab = createArenaBuffer({ segmentBytes: SEG, maxOwners: 2, maxBytes: SEG + maxSegments * SEG, initialBytes: 0, growable });
  return new Arena(sab, 0);
}

function fillUntilExhausted(arena: Arena, size: number): { handles: ArenaHandle[]; error: unknown } {
  const handles: ArenaHandle[] = [];
  for (;;) {
    try {
      handles.push(arena.alloc(size));
    } catch (error) {
      return { handles, error };
    }
  }
}

describe('arena exhaustion', () => {
  it('throws a clear RangeError, changes nothing, and works again after frees', () => {
    const arena = small(8);
    expect(arena.layout.maxSegments).toBe(8);
    const { handles, error } = fillUntilExhausted(arena, 1000); // 1 KiB class: 4 per segment
    expect(handles).toHaveLength(32);
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toBeInstanceOf(ArenaExhaustedError);
    expect((error as ArenaExhaustedError).code).toBe('ERR_ARENA_EXHAUSTED');
    expect((error as Error).message).toMatch(/^shared arena exhausted: requested 1000 bytes, maxBytes 36864; raise `arenaMaxBytes`/);
    const before = arena.stats();
    expect(() => arena.alloc(1000)).toThrow(ArenaExhaustedError);
    expect(() => arena.alloc(3 * SEG)).toThrow(ArenaExhaustedError);
    expect(arena.stats()).toEqual(before); // no partial state
    arena.free(handles.pop() as ArenaHandle);
    expect(() => arena.alloc(1000)).not.toThrow();
    for (const h of handles.splice(0, 8)) arena.free(h);
    expect(() => arena.alloc(1000)).not.toThrow();
  });

  it('gives segments of one size class to another once they are free', () => {
    const arena = small(4);
    const { handles } = fillUntilExhausted(arena, 100); // 128-byte class fills all 4 segments
    expect(() => arena.alloc(SEG)).toThrow(ArenaExhaustedError);
    for (const h of handles) arena.free(h);
    const large = arena.alloc(3 * SEG + 100); // needs all 4 segments, incl. the cached one
    expect(arena.viewOf(large).byteLength).toBe(3 * SEG + 100);
    arena.free(large);
    expect(arena.stats()).toMatchObject({ liveBytes: 0, segmentsInUse: 0 });
  });

  it('recycles what other owners freed before reporting exhaustion', () => {
    const sab = createArenaBuffer({ segmentBytes: SEG, maxOwners: 2, maxBytes: SEG + 2 * SEG, initialBytes: 0 });
    const main = new Arena(sab, 0);
    const worker = new Arena(sab, 1);
    const { handles } = fillUntilExhausted(main, 2000);
    for (const h of handles) worker.free(h); // remote frees, parked on main's stack
    expect(main.stats().liveBlocks).toBe(0);
    expect(() => main.alloc(SEG + 10)).not.toThrow(); // drained, trimmed, then claimed
  });

  it('rejects requests larger than the whole arena at once', () => {
    const arena = small(4);
    expect(() => arena.alloc(2 ** 32)).toThrow(/requested 4294967296 bytes, maxBytes 20480/);
    expect(() => arena.allocArray(Float64Array, 2 ** 30)).toThrow(ArenaExhaustedError);
    expect(arena.stats().segmentsInUse).toBe(0);
  });
});

describe('arena growth', () => {
  it('grows the shared buffer as allocations pass the initial size, keeping older arrays valid', () => {
    const sab = createArenaBuffer({ segmentBytes: 64 * 1024, maxBytes: 64 * 2 ** 20, initialBytes: 0 });
    const arena = new Arena(sab, 0);
    const layout = readArenaLayout(sab);
    expect(sab.growable).toBe(true);
    expect(sab.byteLength).toBe(layout.dataStart);
    expect(arena.stats().committedBytes).toBe(layout.dataStart);
    const first = arena.allocArray(Float64Array, 1000).fill(42);
    const grown1 = sab.byteLength;
    expect(grown1).toBeGreaterThan(layout.dataStart);
    const arrays = [first];
    for (let i = 0; i < 200; i++) arrays.push(arena.allocArray(Float64Array, 5000).fill(i));
    expect(sab.byteLength).toBeGreaterThan(grown1);
    expect(arena.stats().committedBytes).toBe(sab.byteLength);
    expect(sab.byteLength).toBeLessThanOrEqual(layout.totalBytes);
    expect(first.every((x) => x === 42)).toBe(true);
    arrays.slice(1).forEach((a, i) => expect(a[4999]).toBe(i));
    for (const a of arrays) arena.release(a);
    expect(arena.stats().liveBytes).toBe(0);
  });

  it('falls back to a fixed buffer of the full size', () => {
    const sab = createArenaBuffer({ segmentBytes: 64 * 1024, maxBytes: 8 * 2 ** 20, growable: false });
    expect(sab.growable).toBe(false);
    const layout = readArenaLayout(sab);
    expect(layout.growable).toBe(false);
    expect(sab.byteLength).toBe(layout.totalBytes);
    const arena = new Arena(sab, 0);
    expect(arena.stats().committedBytes).toBe(layout.totalBytes);
    const a = arena.allocArray(Uint32Array, 100_000).fill(7);
    expect(a[99_999]).toBe(7);
    arena.release(a);
  });
});

describe('createArenaBuffer options', () => {
  it('validates options with the message template', () => {
    expect(() => createArenaBuffer({ segmentBytes: 5000 })).toThrow(/^expected `segmentBytes` to be a power of two, got 5000$/);
    expect(() => createArenaBuffer({ segmentBytes: 1024 })).toThrow(RangeError);
    expect(() => createArenaBuffer({ maxBytes: 2 ** 33 })).toThrow(/expected `maxBytes` to be an integer in \[1, 4294967296\]/);
    expect(() => createArenaBuffer({ maxBytes: 40_000, segmentBytes: 2 ** 20 })).toThrow(
      /expected `maxBytes` to be at least \d+ \(metadata plus one 1048576-byte segment\)/,
    );
    expect(() => createArenaBuffer({ maxBytes: 10_000 })).toThrow(/at least 40960 \(metadata plus one 4096-byte segment\)/);
    expect(() => createArenaBuffer({ maxOwners: 0 })).toThrow(RangeError);
    expect(() => createArenaBuffer({ initialBytes: -1 })).toThrow(RangeError);
    expect(() => createArenaBuffer({ maxBytes: '1' as unknown as number })).toThrow(TypeError);
  });

  it('picks smaller segments for small arenas', () => {
    expect(readArenaLayout(createArenaBuffer({ maxBytes: 2 ** 30 })).segmentBytes).toBe(2 ** 20);
    const small = readArenaLayout(createArenaBuffer({ maxBytes: 2 ** 20, maxOwners: 9 }));
    expect(small.segmentBytes).toBe(32 * 1024);
    expect(small.maxSegments).toBeGreaterThanOrEqual(30);
  });

  it('refuses buffers it did not make', () => {
    expect(() => new Arena(new SharedArrayBuffer(4096), 0)).toThrow(/bad magic/);
    expect(() => new Arena(new ArrayBuffer(4096) as unknown as SharedArrayBuffer, 0)).toThrow(TypeError);
  });
});
