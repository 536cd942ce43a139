// The SPMC job queue (single thread): capacity 2..1024 fills to exactly its capacity, an empty queue
// claims nothing, jobs come out in FIFO order across many laps and across the 2^31 wrap of the (31-bit) positions, the
// descriptor round-trips, and random interleavings of enqueue / claim / release / cancel / crash-repair
// by several consumers agree with a model (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CELL_INLINE_MAX, JobQueueConsumer, JobQueueProducer, KIND_ARENA, KIND_INLINE, POS_MASK } from '../../src/ring/job-queue.js';
import { claimIntent, fcSeed, makeQueuePool, setClaimIntent } from './ring-harness.js';

const QUEUE_CAPACITIES = [2, 4, 8, 16, 64, 1024] as const;
const STARTS = [0, 2 ** 31 - 3, 2 ** 31 - 1] as const;

function enqueue(p: JobQueueProducer, id: number): number {
  if (p.reserve() < 0) return -1;
  return p.commit(id, 0, KIND_INLINE, 0, 0, 0);
}

describe('SPMC job queue: full, empty, FIFO', () => {
  for (const capacity of QUEUE_CAPACITIES) {
    for (const start of STARTS) {
      it(`capacity ${capacity}, start ${start}: fills to capacity, refuses, drains in order`, () => {
        const pool = makeQueuePool(capacity, start);
        const p = new JobQueueProducer(pool);
        const c = new JobQueueConsumer(pool, 0);
        expect(c.tryClaim()).toBe(0);
        expect(c.hasWork()).toBe(false);
        let id = 1;
        for (let lap = 0; lap < 5; lap++) {
          const first = id;
          for (let i = 0; i < capacity; i++) expect(enqueue(p, id++)).toBe((start + (id - 2)) & POS_MASK);
          expect(p.reserve()).toBe(-1);
          expect(p.size).toBe(capacity);
          expect(c.hasWork()).toBe(true);
          // Claimed but not released: the cell still blocks the producer's next lap.
          expect(c.tryClaim()).toBe(1);
          expect(c.jobId).toBe(first);
          expect(claimIntent(pool, 0)).toBe((start + first - 1) & POS_MASK);
          expect(p.reserve()).toBe(-1);
          c.release();
          expect(claimIntent(pool, 0)).toBe(-1);
          expect(enqueue(p, id++)).toBeGreaterThanOrEqual(0);
          expect(p.reserve()).toBe(-1);
          // Drain: strictly FIFO.
          for (let want = first + 1; want < id; want++) {
            expect(c.tryClaim()).toBe(1);
            expect(c.jobId).toBe(want);
            c.release();
          }
          expect(c.tryClaim()).toBe(0);
          expect(claimIntent(pool, 0)).toBe(-1);
          expect(p.size).toBe(0);
        }
      });
    }
  }

  it('round-trips the descriptor and the inline payload', () => {
    const pool = makeQueuePool(4, 2 ** 31 - 2);
    const p = new JobQueueProducer(pool);
    const c = new JobQueueConsumer(pool, 3);
    for (let i = 0; i < 12; i++) {
      const off = p.reserve();
      expect(off).toBeGreaterThan(0);
      for (let b = 0; b < CELL_INLINE_MAX; b++) p.u8[off + b] = (i * 31 + b) & 0xff;
      const kind = i % 2 === 0 ? KIND_INLINE : KIND_ARENA;
      const pos = p.commit(1000 + i, CELL_INLINE_MAX - i, kind, 4096 * i, 7 + i, 1.5e12 + i / 8);
      expect(pos).toBe((2 ** 31 - 2 + i) & POS_MASK);
      expect(c.tryClaim()).toBe(1);
      expect([c.jobId, c.length, c.kind, c.arenaOffset, c.arenaGen, c.enqueueTime]).toEqual([
        1000 + i,
        CELL_INLINE_MAX - i,
        kind,
        4096 * i,
        7 + i,
        1.5e12 + i / 8,
      ]);
      expect(c.payloadOffset).toBe(off);
      for (let b = 0; b < CELL_INLINE_MAX; b++) expect(c.u8[c.payloadOffset + b]).toBe((i * 31 + b) & 0xff);
      c.release();
    }
  });

  it('a second consumer sees the first one’s claims and continues in order', () => {
    const pool = makeQueuePool(8);
    const p = new JobQueueProducer(pool);
    const a = new JobQueueConsumer(pool, 0);
    const b = new JobQueueConsumer(pool, 1);
    for (let id = 1; id <= 6; id++) enqueue(p, id);
    const got: string[] = [];
    for (const who of [a, b, b, a, b, a]) {
      expect(who.tryClaim()).toBe(1);
      got.push(`${who === a ? 'a' : 'b'}${who.jobId}`);
      who.release();
    }
    expect(got).toEqual(['a1', 'b2', 'b3', 'a4', 'b5', 'a6']);
    expect(a.tryClaim() + b.tryClaim()).toBe(0);
  });

  it('commit without reserve throws', () => {
    const p = new JobQueueProducer(makeQueuePool(2));
    expect(() => p.commit(1, 0, 0, 0, 0, 0)).toThrow();
  });
});

type QOp =
  | { k: 'enqueue' }
  | { k: 'claim'; c: number }
  | { k: 'release'; c: number }
  | { k: 'cancel'; pick: number }
  | { k: 'crash'; c: number };

describe('SPMC job queue matches a model', () => {
  it('agrees with the model under random enqueue / claim / release / cancel / crash+repair (fast-check)', () => {
    const CONSUMERS = 3;
    const opArb: fc.Arbitrary<QOp> = fc.oneof(
      { weight: 5, arbitrary: fc.constant({ k: 'enqueue' as const }) },
      { weight: 5, arbitrary: fc.record({ k: fc.constant('claim' as const), c: fc.nat({ max: CONSUMERS - 1 }) }) },
      { weight: 4, arbitrary: fc.record({ k: fc.constant('release' as const), c: fc.nat({ max: CONSUMERS - 1 }) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('crash' as const), c: fc.nat({ max: CONSUMERS - 1 }) }) },
    );
    const scenario = fc.tuple(
      fc.constantFrom(2, 4, 8, 16),
      fc.oneof(fc.constant(0), fc.constantFrom(2 ** 31 - 5, 2 ** 31 - 1, 2 ** 31 - 17), fc.integer({ min: 0, max: POS_MASK })),
      fc.array(opArb, { maxLength: 300, size: 'max' }),
    );
    fc.assert(
      fc.property(scenario, ([capacity, start, ops]) => {
        const pool = makeQueuePool(capacity, start);
        const p = new JobQueueProducer(pool);
        const consumers = Array.from({ length: CONSUMERS }, (_, slot) => new JobQueueConsumer(pool, slot));
        // Model.
        let nextPos = start;
        let deqPos = start;
        let nextId = 1;
        const unreleased = new Set<number>(); // positions published or claimed, not yet released
        const idAt = new Map<number, number>(); // position -> job id word (0 once taken or cancelled)
        const jobs: { id: number; pos: number }[] = [];
        const holding: (number | undefined)[] = Array.from({ length: CONSUMERS }, () => undefined);

        for (const op of ops) {
          switch (op.k) {
            case 'enqueue': {
              const full = unreleased.has((nextPos - capacity) & POS_MASK);
              if (full) {
                expect(p.reserve()).toBe(-1);
                break;
              }
              const id = nextId++;
              expect(p.reserve()).toBeGreaterThan(0);
              expect(p.commit(id, 0, KIND_INLINE, 0, 0, 0)).toBe(nextPos);
              unreleased.add(nextPos);
              idAt.set(nextPos, id);
              jobs.push({ id, pos: nextPos });
              nextPos = (nextPos + 1) & POS_MASK;
              break;
            }
            case 'claim': {
              if (holding[op.c] !== undefined) break; // one claim at a time per consumer
              const c = consumers[op.c]!;
              if (deqPos === nextPos) {
                expect(c.tryClaim()).toBe(0);
                expect(claimIntent(pool, op.c)).toBe(-1);
                break;
              }
              expect(c.tryClaim()).toBe(1);
              expect(c.jobId).toBe(idAt.get(deqPos));
              expect(claimIntent(pool, op.c)).toBe(deqPos);
              idAt.set(deqPos, 0);
              holding[op.c] = deqPos;
              deqPos = (deqPos + 1) & POS_MASK;
              break;
            }
            case 'release': {
              const pos = holding[op.c];
              if (pos === undefined) break;
              consumers[op.c]!.release();
              expect(claimIntent(pool, op.c)).toBe(-1);
              unreleased.delete(pos);
              idAt.delete(pos);
              holding[op.c] = undefined;
              break;
            }
            case 'cancel': {
              const job = jobs[op.pick % Math.max(1, jobs.length)];
              if (job === undefined) break;
              const expected = idAt.get(job.pos) === job.id;
              expect(p.tryCancel(job.id, job.pos)).toBe(expected);
              if (expected) idAt.set(job.pos, 0);
              break;
            }
            case 'crash': {
              // Consumer c dies (whatever it held stays held); main repairs with the others' live intents.
              const live = new Set<number>();
              for (let s = 0; s < CONSUMERS; s++) if (s !== op.c) live.add(claimIntent(pool, s));
              const reported: [number, number][] = [];
              const n = p.repairStuck(live, (pos, word) => reported.push([pos, word]));
              const held = holding[op.c];
              expect(reported).toEqual(held === undefined ? [] : [[held, 0]]);
              expect(n).toBe(reported.length);
              if (held !== undefined) {
                unreleased.delete(held);
                idAt.delete(held);
              }
              // A new worker takes the slot: main resets its claim intent first.
              setClaimIntent(pool, op.c, -1);
              consumers[op.c] = new JobQueueConsumer(pool, op.c);
              holding[op.c] = undefined;
              break;
            }
          }
          expect(p.size).toBe((nextPos - deqPos) & POS_MASK);
        }
      }),
      { seed: fcSeed('job-queue-model'), numRuns: 300 },
    );
  });
});
