// A new pool region's job queue is used as allocated: its cells are never written before the first job
// (zero-filled memory reads as "free for the first lap"), and the queue still fills to capacity, refuses,
// and drains in order over many laps.
import { describe, expect, it } from 'vitest';
import { CELL_BYTES, createPoolRegion, readPoolLayout } from '../../src/ring/layout.js';
import { JobQueueConsumer, JobQueueProducer, KIND_INLINE } from '../../src/ring/job-queue.js';

describe('a fresh pool region', () => {
  it('leaves every job-queue cell untouched (all zero) until jobs flow', () => {
    const pool = createPoolRegion(4, 1024);
    const { queueOffset, queueCapacity } = readPoolLayout(pool);
    const cells = new Int32Array(pool, queueOffset, (queueCapacity * CELL_BYTES) / 4);
    expect(cells.every((w) => w === 0)).toBe(true);
  });

  it('runs its queue from position 0 as allocated: full, empty, FIFO over 4 laps', () => {
    const capacity = 8;
    const pool = createPoolRegion(4, capacity);
    const p = new JobQueueProducer(pool);
    const c = new JobQueueConsumer(pool, 0);
    expect(c.tryClaim()).toBe(0);
    let next = 1;
    for (let lap = 0; lap < 4; lap++) {
      const first = next;
      for (let i = 0; i < capacity; i++) {
        expect(p.reserve()).toBeGreaterThanOrEqual(0);
        expect(p.commit(next++, 0, KIND_INLINE, 0, 0, 0)).toBe(next - 2);
      }
      expect(p.reserve()).toBe(-1); // full
      const got: number[] = [];
      while (c.tryClaim() === 1) {
        got.push(c.jobId);
        c.release();
      }
      expect(got).toEqual(Array.from({ length: capacity }, (_, i) => first + i));
    }
  });
});
