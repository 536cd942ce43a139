// SPMC job queue across real threads: the main thread produces N job ids into a small queue (so it is
// full most of the time and wraps thousands of times, across the 2^31 wrap of its positions) while 3
// consumer workers take them. Main also cancels random queued jobs as it goes: cancel and claim race on
// one word, so each cancelled job must be run zero times and every other job exactly once (per-id
// counters in a shared Int32Array), and each consumer must see its ids in increasing order (FIFO).
//
// Counts: 200,000 jobs at the default scale (STRESS_SCALE=1); STRESS_SCALE multiplies.
import { afterEach, describe, expect, it } from 'vitest';
import { JobQueueProducer, KIND_INLINE, POS_MASK } from '../../src/ring/job-queue.js';
import { mainRng, queuePoolAt, spawn, stressScale, stressSeed, terminateAll } from './ring-stress-env.js';

const CONSUMER = new URL('../fixtures/ring-queue-consumer.mjs', import.meta.url);
const JOBS = Math.round(200_000 * stressScale());
const CONSUMERS = 3;
const DOORBELL = 0;
const DONE = 32;
const START = 64;

interface ConsumerReport {
  slot: number;
  ran: number;
  skipped: number;
  backwards: number;
  parks: number;
}

afterEach(terminateAll);

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SPMC job queue across threads', () => {
  it(`delivers every job exactly once to ${CONSUMERS} consumers, FIFO per consumer, with racing cancels (${JOBS} jobs)`, async () => {
    const seed = stressSeed('job-queue-exactly-once');
    const rand = mainRng(seed);
    const capacity = [4, 16, 64][rand() % 3]!;
    const pool = queuePoolAt(CONSUMERS, capacity, POS_MASK - 1000 - (rand() % 1000));
    const ctrl = new Int32Array(new SharedArrayBuffer(128 * 4));
    const counts = new Int32Array(new SharedArrayBuffer((JOBS + 1) * 4));
    const workers = Array.from({ length: CONSUMERS }, (_, slot) =>
      spawn<ConsumerReport>(CONSUMER, { pool, slot, ctrl: ctrl.buffer, counts: counts.buffer }, 60_000 * Math.max(1, stressScale())),
    );
    const p = new JobQueueProducer(pool);
    const cancelled = new Uint8Array(JOBS + 1);
    const recent: { id: number; pos: number }[] = [];
    let cancelAttempts = 0;
    let cancelWins = 0;
    let fullYields = 0;
    const t0 = performance.now();
    Atomics.store(ctrl, START, 1);
    Atomics.notify(ctrl, START);

    let next = 1;
    while (next <= JOBS) {
      let batch = 0;
      while (next <= JOBS && batch < 64 && p.reserve() >= 0) {
        const pos = p.commit(next, 0, KIND_INLINE, 0, 0, 0);
        recent.push({ id: next, pos });
        if (recent.length > 16) recent.shift();
        next++;
        batch++;
        if (rand() % 32 === 0) {
          // Cancel a recent job: it may still be queued (cancel wins) or taken already (claim wins).
          const victim = recent[rand() % recent.length]!;
          if (cancelled[victim.id] === 0) {
            cancelAttempts++;
            if (p.tryCancel(victim.id, victim.pos)) {
              cancelled[victim.id] = 1;
              cancelWins++;
            }
          }
        }
      }
      p.mirror();
      if (batch > 0) {
        Atomics.add(ctrl, DOORBELL, 1);
        Atomics.notify(ctrl, DOORBELL);
      }
      if (batch < 64) {
        fullYields++;
        await yieldToEventLoop(); // full: let the consumers drain (the main thread never blocks)
      }
    }
    Atomics.store(ctrl, DONE, 1);
    Atomics.add(ctrl, DOORBELL, 1);
    Atomics.notify(ctrl, DOORBELL);
    const reports = await Promise.all(workers.map((w) => w.result));
    const seconds = (performance.now() - t0) / 1000;

    let wrong = 0;
    let firstWrong = '';
    for (let id = 1; id <= JOBS; id++) {
      const want = cancelled[id] === 1 ? 0 : 1;
      if (counts[id] !== want) {
        wrong++;
        if (firstWrong === '') firstWrong = `job ${id}: ran ${counts[id]}×, expected ${want}× (cancelled: ${cancelled[id] === 1})`;
      }
    }
    const ran = reports.reduce((s, r) => s + r.ran, 0);
    const skipped = reports.reduce((s, r) => s + r.skipped, 0);
    console.log(
      `[job-queue] capacity ${capacity}: ${JOBS} jobs in ${seconds.toFixed(2)} s (${Math.round(JOBS / seconds / 1000)}k jobs/s), ` +
        `~${Math.round(JOBS / capacity)} laps; per consumer ${reports.map((r) => r.ran).join('/')} (parks ${reports.map((r) => r.parks).join('/')}); ` +
        `cancels ${cancelWins} won of ${cancelAttempts} tried; main yielded ${fullYields}× on a full queue`,
    );
    expect(firstWrong).toBe('');
    expect(wrong).toBe(0);
    expect(ran).toBe(JOBS - cancelWins);
    expect(skipped).toBe(cancelWins);
    for (const r of reports) expect(r.backwards, `consumer ${r.slot} saw ids out of order`).toBe(0);
    expect(p.size).toBe(0);
    expect(cancelAttempts).toBeGreaterThan(0);
  }, 120_000 * Math.max(1, stressScale()));
});
