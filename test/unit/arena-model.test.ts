import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Arena, createArenaBuffer, type ArenaHandle } from '../../src/memory/arena.js';
import { ArenaExhaustedError, ArenaUseAfterReleaseError } from '../../src/memory/errors.js';

// Random alloc/free sequences by two owners (main and one "worker", same thread) against a model:
// a list of live blocks with their lengths and fill bytes. After every step: live ranges (header
// included) are pairwise disjoint, every block still holds its own bytes, the shared counters match
// the model, stale handles are refused, and a failed (exhausted) allocation changed nothing.

const seed = Number(process.env.ARENA_SEED ?? (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0);
console.log(`arena model test: seed=${seed} (rerun with ARENA_SEED=${seed})`);

const SEG = 4096;
const HEADER = 16;

type Op =
  | { kind: 'alloc'; by: 0 | 1; size: number; align: 16 | 64 }
  | { kind: 'free'; by: 0 | 1; pick: number }
  | { kind: 'collect'; by: 0 | 1 };

interface Live {
  handle: ArenaHandle;
  length: number;
  byte: number;
  align: number;
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('alloc' as const),
      by: fc.constantFrom(0 as const, 1 as const),
      size: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
        { weight: 3, arbitrary: fc.integer({ min: 300, max: 2100 }) },
        { weight: 1, arbitrary: fc.integer({ min: 2000, max: 5 * SEG }) },
      ),
      align: fc.constantFrom(16 as const, 64 as const),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), by: fc.constantFrom(0 as const, 1 as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('collect' as const), by: fc.constantFrom(0 as const, 1 as const) }) },
);

function checkInvariants(arenas: readonly Arena[], live: readonly Live[], stale: readonly ArenaHandle[], full: boolean): void {
  const main = arenas[0] as Arena;
  const ranges = live.map((b) => ({ start: b.handle.offset - HEADER, end: b.handle.offset + b.length })).sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1];
    const cur = ranges[i];
    if (prev && cur && cur.start < prev.end) throw new Error(`overlap: [${prev.start}, ${prev.end}) and [${cur.start}, ${cur.end})`);
  }
  for (const b of live) {
    const view = main.viewOf(b.handle);
    if (view.byteLength !== b.length) throw new Error(`length ${view.byteLength} != ${b.length}`);
    if (b.handle.offset % b.align !== 0) throw new Error(`offset ${b.handle.offset} not aligned to ${b.align}`);
    // Every byte now and then; otherwise the ends and the middle (where a neighbour would spill first).
    const probes = full ? view.keys() : [0, view.length >> 1, view.length - 1].filter((i) => i >= 0 && i < view.length);
    for (const i of probes) if (view[i] !== b.byte) throw new Error(`block at ${b.handle.offset} corrupted at byte ${i}`);
  }
  const stats = main.stats();
  const bytes = live.reduce((n, b) => n + b.length, 0);
  if (stats.liveBlocks !== live.length || stats.liveBytes !== bytes) {
    throw new Error(`stats ${stats.liveBlocks} blocks/${stats.liveBytes} bytes, model ${live.length}/${bytes}`);
  }
  if (stats.committedBytes > main.sab.byteLength) throw new Error('committed beyond the buffer');
  for (const h of full ? stale : stale.slice(-2)) {
    if (live.some((b) => b.handle.offset === h.offset && b.handle.generation === h.generation)) throw new Error('stale handle is live');
    expect(() => main.viewOf(h)).toThrow(ArenaUseAfterReleaseError);
  }
}

describe('arena model', () => {
  it('random alloc/free sequences keep live blocks disjoint, intact and counted', () => {
    let exhausted = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 300, size: 'max' }), fc.boolean(), fc.integer({ min: 4, max: 24 }), (ops, growable, segments) => {
        const sab = createArenaBuffer({ segmentBytes: SEG, maxOwners: 2, maxBytes: SEG + segments * SEG, initialBytes: 0, growable });
        const arenas = [new Arena(sab, 0), new Arena(sab, 1)] as const;
        const live: Live[] = [];
        const stale: ArenaHandle[] = [];
        let tag = 0;
        let step = 0;
        for (const op of ops) {
          const arena = arenas[op.by];
          if (op.kind === 'alloc') {
            const before = arena.stats();
            let handle: ArenaHandle;
            try {
              handle = arena.alloc(op.size, op.align);
            } catch (error) {
              expect(error).toBeInstanceOf(ArenaExhaustedError);
              exhausted++;
              // Nothing half-done: same live blocks, no segment kept (it may have trimmed its own caches).
              const after = arena.stats();
              expect([after.liveBlocks, after.liveBytes]).toEqual([before.liveBlocks, before.liveBytes]);
              expect(after.segmentsInUse).toBeLessThanOrEqual(before.segmentsInUse);
              continue;
            }
            const byte = (tag++ % 255) + 1;
            arena.viewOf(handle).fill(byte);
            live.push({ handle, length: op.size, byte, align: op.align });
          } else if (op.kind === 'free') {
            if (live.length === 0) continue;
            const [gone] = live.splice(op.pick % live.length, 1);
            if (gone === undefined) continue;
            arena.free(gone.handle);
            stale.push(gone.handle);
          } else {
            arena.collect();
          }
          checkInvariants(arenas, live, stale, ++step % 32 === 0);
        }
        checkInvariants(arenas, live, stale, true);
        for (const b of live) arenas[0].free(b.handle);
        arenas[0].trim();
        arenas[1].trim();
        const end = arenas[0].stats();
        expect(end).toMatchObject({ liveBytes: 0, liveBlocks: 0, segmentsInUse: 0 });
      }),
      { seed, numRuns: 100 },
    );
    expect(exhausted).toBeGreaterThan(0); // the sizes above do run the arena dry now and then
  });
});
