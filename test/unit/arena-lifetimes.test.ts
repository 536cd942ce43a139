import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Arena, createArenaBuffer, type ArenaHandle, type ArenaLeak } from '../../src/memory/arena.js';
import {
  ArenaDoubleFreeError,
  ArenaInvalidHandleError,
  ArenaOwnerError,
  ArenaUseAfterReleaseError,
} from '../../src/memory/errors.js';

function buffer(): SharedArrayBuffer {
  return createArenaBuffer({ segmentBytes: 64 * 1024, maxBytes: 16 * 2 ** 20, initialBytes: 0 });
}

describe('arena lifetimes', () => {
  it('catches use after release with a clear message', () => {
    const arena = new Arena(buffer(), 0);
    const h = arena.alloc(64);
    arena.free(h);
    expect(() => arena.viewOf(h)).toThrow(ArenaUseAfterReleaseError);
    expect(() => arena.viewOf(h)).toThrow(/^use after release: this shared array was released \(offset \d+, generation \d+; the block is free/);
    const big = arena.alloc(100_000);
    arena.free(big);
    expect(() => arena.viewOf(big)).toThrow(/use after release: .*no longer a live block/);
  });

  it('rejects a stale handle after the memory was reused, and leaves the new block alone', () => {
    const arena = new Arena(buffer(), 0);
    const old = arena.alloc(200);
    arena.free(old);
    const fresh = arena.alloc(200);
    expect(fresh.offset).toBe(old.offset);
    expect(() => arena.viewOf(old)).toThrow(/use after release: .*reused: it is now generation/);
    expect(() => arena.free(old)).toThrow(ArenaDoubleFreeError);
    expect(arena.viewOf(fresh).byteLength).toBe(200); // still live
    arena.free(fresh);
  });

  it('reports double free and double release', () => {
    const arena = new Arena(buffer(), 0);
    const h = arena.alloc(10);
    arena.free(h);
    expect(() => arena.free(h)).toThrow(/^double free: this shared block was already freed/);
    const a = arena.allocArray(Float64Array, 3);
    arena.release(a);
    expect(() => arena.release(a)).toThrow(ArenaDoubleFreeError);
    expect(() => arena.release(a)).toThrow(/^double release: this shared array was already released/);
    expect(arena.stats()).toMatchObject({ liveBytes: 0, liveBlocks: 0 });
  });

  it('refuses things that never were arena allocations', () => {
    const arena = new Arena(buffer(), 0);
    const a = arena.allocArray(Uint8Array, 64);
    expect(() => arena.free({ offset: 3, generation: 0 })).toThrow(ArenaInvalidHandleError);
    expect(() => arena.free({ offset: 2 ** 40, generation: 0 })).toThrow(ArenaInvalidHandleError);
    expect(() => arena.free(null as unknown as ArenaHandle)).toThrow(/expected `handle` to be an arena handle/);
    expect(() => arena.release(a.subarray(16))).toThrow(ArenaInvalidHandleError);
    expect(() => arena.release(new Uint8Array(8))).toThrow(/expected a typed array allocated from this arena/);
    expect(() => arena.release({} as Uint8Array)).toThrow(TypeError);
    expect(arena.stats().liveBlocks).toBe(1);
  });

  it('validates arguments with one message template', () => {
    const arena = new Arena(buffer(), 0);
    expect(() => arena.alloc(-1)).toThrow(RangeError);
    expect(() => arena.alloc(1.5)).toThrow(/^expected `byteLength` to be an integer >= 0, got 1.5$/);
    expect(() => arena.alloc('8' as unknown as number)).toThrow(TypeError);
    expect(() => arena.alloc(8, 3)).toThrow(/^expected `align` to be a power of two in \[1, 64\], got 3$/);
    expect(() => arena.alloc(8, 128)).toThrow(RangeError);
    expect(() => arena.allocArray(Array as unknown as Float64ArrayConstructor, 1)).toThrow(/expected `ctor` to be a typed-array constructor/);
    expect(() => arena.allocArray(Float64Array, -2)).toThrow(RangeError);
    const h = arena.alloc(8);
    expect(() => arena.viewOf(h, 9)).toThrow(/expected `length` to be at most the block's 8 bytes/);
    expect(arena.viewOf(h, 4).byteLength).toBe(4);
  });

  it('owns slots exclusively until they are reclaimed', () => {
    const sab = buffer();
    const main = new Arena(sab, 0);
    new Arena(sab, 1);
    expect(() => new Arena(sab, 1)).toThrow(ArenaOwnerError);
    expect(() => new Arena(sab, 256)).toThrow(/expected `owner` to be an owner slot in \[0, 255\], got 256/);
    expect(() => main.reclaimOwner(0)).toThrow(ArenaOwnerError);
    main.reclaimOwner(1);
    expect(main.ownerStats(1).state).toBe('reclaimed');
    expect(() => new Arena(sab, 1)).not.toThrow();
    expect(main.ownerStats(1).state).toBe('attached');
  });

  it('routes a free by another owner through the remote-free stack back to the owner', () => {
    const sab = buffer();
    const main = new Arena(sab, 0);
    const worker = new Arena(sab, 1);
    const h = worker.alloc(500);
    expect(main.ownerStats(1)).toMatchObject({ liveBlocks: 1, liveBytes: 500 });
    main.free(h); // remote: the block is worker's
    expect(main.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 }); // counters drop at once
    expect(() => main.free(h)).toThrow(ArenaDoubleFreeError);
    expect(() => worker.free(h)).toThrow(ArenaDoubleFreeError);
    const again = worker.alloc(500); // drains its stack first, reuses the block
    expect(again).toEqual({ offset: h.offset, generation: h.generation + 1 });
    worker.free(again);
  });

  it('releases a view that arrived by reference from another owner', () => {
    const sab = buffer();
    const main = new Arena(sab, 0);
    const worker = new Arena(sab, 1);
    const result = worker.allocArray(Float64Array, 8).fill(2);
    const received = new Float64Array(sab, result.byteOffset, 8); // what the codec hands to main
    expect(main.handleOf(received)).toEqual(worker.handleOf(result));
    main.release(received);
    expect(() => main.release(received)).toThrow(/double release/);
    expect(() => worker.release(result)).toThrow(/double release/);
    expect(main.stats().liveBlocks).toBe(0);
  });

  it('reports arrays collected while still live, and never frees them', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const leaks: ArenaLeak[] = [];
    const arena = new Arena(buffer(), 0, { onLeak: (l) => leaks.push(l), captureStacks: true });
    let handle: ArenaHandle | undefined;
    (() => {
      const lost = arena.allocArray(Float32Array, 100);
      handle = arena.handleOf(lost);
      const released = arena.allocArray(Float32Array, 100);
      arena.release(released);
    })();
    for (let i = 0; i < 20 && leaks.length === 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(leaks).toHaveLength(1);
    expect(leaks[0]).toMatchObject({ offset: handle?.offset, byteLength: 400, type: 'Float32Array', owner: 0 });
    expect(leaks[0]?.stack).toContain('allocated here');
    expect(arena.stats().liveBlocks).toBe(1); // reported, not freed
    arena.free(handle as ArenaHandle);
  });
});
