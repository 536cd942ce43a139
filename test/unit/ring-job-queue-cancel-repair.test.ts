// Cancel and crash repair in the SPMC job queue (single thread, every interleaving spelled out):
// - tryCancel vs claim: one word decides, so exactly one of them wins, in either order;
// - repairStuck: a claimed-but-unreleased cell whose position no live worker intends is reported and
//   released (and the producer can use it again); one with a live intent is left alone; published,
//   released and never-used cells are never reported; the reported job-id word tells whether the dead
//   worker had already taken the job (0) or died between its CAS and the take (the id).
import { describe, expect, it } from 'vitest';
import { JobQueueConsumer, JobQueueProducer, KIND_INLINE, POS_MASK } from '../../src/ring/job-queue.js';
import { CELL_BYTES, POOL_DEQUEUE_POS_I32, readPoolLayout } from '../../src/ring/layout.js';
import { claimIntent, makeQueuePool } from './ring-harness.js';

function enqueue(p: JobQueueProducer, id: number): number {
  expect(p.reserve()).toBeGreaterThan(0);
  return p.commit(id, 0, KIND_INLINE, 0, 0, 0);
}

function repair(p: JobQueueProducer, live: Iterable<number>): [number, number][] {
  const out: [number, number][] = [];
  const n = p.repairStuck(new Set(live), (pos, word) => out.push([pos, word]));
  expect(n).toBe(out.length);
  return out;
}

describe('SPMC job queue: tryCancel vs claim', () => {
  it('cancel first: the cancel wins, the claimer gets job id 0 and skips', () => {
    const pool = makeQueuePool(4);
    const p = new JobQueueProducer(pool);
    const c = new JobQueueConsumer(pool, 0);
    const pos = enqueue(p, 41);
    enqueue(p, 42);
    expect(p.tryCancel(41, pos)).toBe(true);
    expect(p.tryCancel(41, pos)).toBe(false); // only once
    expect(c.tryClaim()).toBe(1);
    expect(c.jobId).toBe(0);
    c.release();
    expect(c.tryClaim()).toBe(1);
    expect(c.jobId).toBe(42);
    c.release();
  });

  it('claim first: the claimer gets the job, the cancel fails', () => {
    const pool = makeQueuePool(4);
    const p = new JobQueueProducer(pool);
    const c = new JobQueueConsumer(pool, 0);
    const pos = enqueue(p, 7);
    expect(c.tryClaim()).toBe(1);
    expect(c.jobId).toBe(7);
    expect(p.tryCancel(7, pos)).toBe(false); // taken, not yet released
    c.release();
    expect(p.tryCancel(7, pos)).toBe(false); // released
  });

  it('a cancel aimed at an old lap never hits the job now in that cell', () => {
    const pool = makeQueuePool(2);
    const p = new JobQueueProducer(pool);
    const c = new JobQueueConsumer(pool, 0);
    const old = enqueue(p, 1);
    c.tryClaim();
    c.release();
    enqueue(p, 2);
    const same = enqueue(p, 3); // same cell as `old`, next lap
    expect(same & 1).toBe(old & 1);
    expect(p.tryCancel(1, old)).toBe(false);
    c.tryClaim();
    c.release();
    expect(c.tryClaim()).toBe(1);
    expect(c.jobId).toBe(3);
  });
});

describe('SPMC job queue: repairStuck', () => {
  for (const start of [0, 2 ** 31 - 2]) {
    it(`reports and releases a claimed cell whose owner has no live intent (start ${start})`, () => {
      const pool = makeQueuePool(4, start);
      const p = new JobQueueProducer(pool);
      const dead = new JobQueueConsumer(pool, 0);
      const live = new JobQueueConsumer(pool, 1);
      const posA = enqueue(p, 100);
      enqueue(p, 101);
      enqueue(p, 102);
      enqueue(p, 103);
      expect(dead.tryClaim()).toBe(1); // claims 100 and "dies" without releasing
      expect(claimIntent(pool, 0)).toBe(posA);
      expect(live.tryClaim()).toBe(1); // 101, released normally
      live.release();
      // The dead worker's cell is the producer's next one (posA + 4): the queue is wedged.
      expect(p.reserve()).toBe(-1);
      // Repair with the live worker's intent (−1: idle).
      expect(repair(p, [claimIntent(pool, 1)])).toEqual([[posA, 0]]); // 0: the dead worker had taken the id
      expect(repair(p, [claimIntent(pool, 1)])).toEqual([]); // idempotent
      expect(enqueue(p, 104)).toBe((posA + 4) & POS_MASK); // the repaired cell, one lap later
      expect(enqueue(p, 105)).toBe((posA + 5) & POS_MASK);
      // The live worker drains the rest in order; the dead worker's job 100 is main's to re-enqueue.
      for (const want of [102, 103, 104, 105]) {
        expect(live.tryClaim()).toBe(1);
        expect(live.jobId).toBe(want);
        live.release();
      }
      expect(live.tryClaim()).toBe(0);
    });
  }

  it('finds a stuck cell after the queue has gone round its cells several times (a young queue scans only the positions it used)', () => {
    const pool = makeQueuePool(4);
    const p = new JobQueueProducer(pool);
    const dead = new JobQueueConsumer(pool, 0);
    const live = new JobQueueConsumer(pool, 1);
    for (let id = 1; id <= 9; id++) {
      enqueue(p, id);
      expect(live.tryClaim()).toBe(1);
      live.release();
    }
    const stuck = enqueue(p, 10);
    expect(stuck).toBe(9);
    expect(dead.tryClaim()).toBe(1); // claims position 9 and "dies"
    expect(repair(p, [claimIntent(pool, 1)])).toEqual([[9, 0]]);
    expect(repair(p, [claimIntent(pool, 1)])).toEqual([]);
  });

  it('leaves alone a claimed cell whose position a live worker intends', () => {
    const pool = makeQueuePool(4);
    const p = new JobQueueProducer(pool);
    const busy = new JobQueueConsumer(pool, 2);
    const pos = enqueue(p, 9);
    expect(busy.tryClaim()).toBe(1);
    expect(repair(p, [claimIntent(pool, 2), -1])).toEqual([]);
    busy.release(); // the live worker releases normally: no double release
    expect(repair(p, [])).toEqual([]);
    expect(pos).toBe(0);
  });

  it('never reports published-but-unclaimed, released or never-used cells', () => {
    const pool = makeQueuePool(8, 2 ** 31 - 3);
    const p = new JobQueueProducer(pool);
    const c = new JobQueueConsumer(pool, 0);
    expect(repair(p, [])).toEqual([]); // fresh queue
    for (let id = 1; id <= 6; id++) enqueue(p, id);
    for (let i = 0; i < 3; i++) {
      c.tryClaim();
      c.release();
    }
    expect(repair(p, [])).toEqual([]); // 3 released, 3 published
  });

  it('reads live intents after dequeuePos when given a function, so a claim made in between is not repaired', () => {
    const pool = makeQueuePool(4);
    const p = new JobQueueProducer(pool);
    const live = new JobQueueConsumer(pool, 0);
    enqueue(p, 1);
    // Unsafe order: intents read first (idle: −1), then the live worker claims, then the repair scans.
    const early = new Set([claimIntent(pool, 0)]);
    expect(live.tryClaim()).toBe(1);
    expect(repair(p, early)).toEqual([[0, 0]]); // the live worker's cell is taken from under it
    // Safe order: the same interleaving with the intents read by repairStuck itself, after dequeuePos.
    const pool2 = makeQueuePool(4);
    const p2 = new JobQueueProducer(pool2);
    const live2 = new JobQueueConsumer(pool2, 0);
    enqueue(p2, 1);
    expect(live2.tryClaim()).toBe(1);
    const found: number[] = [];
    expect(p2.repairStuck(() => new Set([claimIntent(pool2, 0)]), (pos) => found.push(pos))).toBe(0);
    expect(found).toEqual([]);
    live2.release();
  });

  it('reports the job id when the worker died between its CAS and taking the id', () => {
    const pool = makeQueuePool(4);
    const p = new JobQueueProducer(pool);
    const i32 = new Int32Array(pool);
    const pos = enqueue(p, 77);
    // The dead worker's steps, cut short: intent, CAS of dequeuePos, then death before the exchange.
    Atomics.store(i32, POOL_DEQUEUE_POS_I32, (pos + 1) & POS_MASK);
    expect(repair(p, [])).toEqual([[pos, 77]]); // never taken: safe to run it elsewhere
    const cell = readPoolLayout(pool).queueOffset / 4 + (pos & 3) * (CELL_BYTES / 4);
    expect(i32[cell + 1]).toBe(0); // the id word is cleared with the release
  });

  it('repairs a worker that died holding the last position before the 2^31 wrap, while idle workers advertise −1', () => {
    // Regression: with Int32 positions the last position of a lap of 2^32 read as −1, the "no intent"
    // value, so idle live workers' −1 made the dead worker's claim look live and it was never repaired.
    const pool = makeQueuePool(4, 2 ** 31 - 2);
    const p = new JobQueueProducer(pool);
    const first = new JobQueueConsumer(pool, 0);
    const dead = new JobQueueConsumer(pool, 1);
    enqueue(p, 1);
    const last = enqueue(p, 2);
    expect(last).toBe(POS_MASK);
    first.tryClaim();
    first.release();
    expect(dead.tryClaim()).toBe(1);
    expect(claimIntent(pool, 1)).toBe(POS_MASK);
    expect(repair(p, [claimIntent(pool, 0), -1, -1])).toEqual([[POS_MASK, 0]]);
    // The queue keeps flowing past the wrap.
    for (let id = 3; id <= 10; id++) {
      enqueue(p, id);
      expect(first.tryClaim()).toBe(1);
      expect(first.jobId).toBe(id);
      first.release();
    }
  });
});
