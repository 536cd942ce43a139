// A consumer terminated mid-claim: a stall fixture claims a job and stops before releasing it (blocked
// on a word nobody writes), wedging the queue once the producer wraps around to its cell. Main sees the
// stall, terminate()s the worker, calls repairStuck with the live workers' claim intents, and re-enqueues
// the job it reports. Several rounds run while two normal consumers keep working, across the 2^31 wrap
// of the queue positions; in the end every job ran exactly once and nothing was lost.
//
// Counts: 100,000 jobs and 4 stall rounds at the default scale (STRESS_SCALE=1); STRESS_SCALE multiplies.
// When the real jobs have run out before a staller claimed one, main issues filler jobs (ids > N), which
// are held to the same exactly-once rule.
import { afterEach, describe, expect, it } from 'vitest';
import { JobQueueProducer, KIND_INLINE, POS_MASK } from '../../src/ring/job-queue.js';
import {
  claimIntentOf,
  clearClaimIntent,
  mainRng,
  queuePoolAt,
  spawn,
  stressScale,
  stressSeed,
  terminateAll,
  type Spawned,
} from './ring-stress-env.js';

const CONSUMER = new URL('../fixtures/ring-queue-consumer.mjs', import.meta.url);
const STALL = new URL('../fixtures/ring-queue-stall.mjs', import.meta.url);
const JOBS = Math.round(100_000 * stressScale());
const ROUNDS = Math.max(1, Math.round(4 * stressScale()));
const LIVE_SLOTS = [0, 1];
const STALL_SLOT = 2;
const DOORBELL = 0;
const DONE = 32;
const START = 64;

afterEach(terminateAll);

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SPMC job queue: a consumer terminated mid-claim', () => {
  it(`is repaired from the claim intents and its job re-enqueued; every job runs exactly once (${JOBS} jobs, ${ROUNDS} rounds)`, async () => {
    const seed = stressSeed('job-queue-crash-repair');
    const rand = mainRng(seed);
    const capacity = [4, 8, 32][rand() % 3]!;
    const pool = queuePoolAt(3, capacity, POS_MASK - (rand() % (JOBS / 2)));
    const mask = capacity - 1;
    const ctrl = new Int32Array(new SharedArrayBuffer(128 * 4));
    // Ids above JOBS are fillers, issued only when a staller is waiting for a job after the real ones ran out.
    const MAX_IDS = JOBS + 200_000;
    const counts = new Int32Array(new SharedArrayBuffer((MAX_IDS + 1) * 4));
    const deadline = 60_000 * Math.max(1, stressScale());
    const consumers = LIVE_SLOTS.map((slot) => spawn<{ ran: number }>(CONSUMER, { pool, slot, ctrl: ctrl.buffer, counts: counts.buffer }, deadline));
    const p = new JobQueueProducer(pool);
    const idAtCell = new Int32Array(capacity); // job id last enqueued in each cell (a stuck cell is never reused)
    const reEnqueue: number[] = [];
    const repairs: { pos: number; word: number; id: number; stalledId: number; intent: number; tries: number; wedged: boolean; heldMs: number }[] = [];

    let next = 1; // next job id to issue
    // Stall rounds start at seeded points of the run.
    const stallAt = Array.from({ length: ROUNDS }, () => 1 + (rand() % JOBS)).sort((a, b) => a - b);
    let staller: Spawned<{ jobId: number }> | undefined;
    let stalledId = 0;
    let stalledSince = 0;
    const startStaller = (): void => {
      const s = spawn<{ jobId: number }>(STALL, { pool, slot: STALL_SLOT, ctrl: ctrl.buffer }, deadline);
      staller = s;
      s.result.then(
        (m) => {
          stalledId = m.jobId;
          stalledSince = performance.now();
        },
        () => {}, // terminate() ends it; the repair below is what is checked
      );
    };
    const repairStaller = async (): Promise<void> => {
      // First let the hazard show: once the producer wraps around to the held cell, the queue is wedged
      // (nothing left to claim, yet no cell free to publish into), however long the others wait.
      const waitFrom = performance.now();
      while (!(p.size === 0 && p.reserve() < 0) && performance.now() - waitFrom < 5000) {
        if (p.reserve() >= 0) {
          const id = reEnqueue.length > 0 ? reEnqueue.shift()! : next++;
          idAtCell[p.commit(id, 0, KIND_INLINE, 0, 0, 0) & mask] = id;
          Atomics.add(ctrl, DOORBELL, 1);
          Atomics.notify(ctrl, DOORBELL);
        }
        await yieldToEventLoop();
      }
      const wedged = p.size === 0 && p.reserve() < 0;
      await staller!.worker.terminate(); // the worker is gone: whatever it held stays held
      staller = undefined;
      const intent = claimIntentOf(pool, STALL_SLOT);
      const found: { pos: number; word: number }[] = [];
      let tries = 0;
      // A live consumer whose CAS just lost may still show the lost position as its intent for a moment;
      // like a supervisor tick, try again shortly when nothing was found.
      while (found.length === 0 && tries < 100) {
        if (tries++ > 0) await yieldToEventLoop();
        // Live intents are read by repairStuck after it has read dequeuePos (the safe order: a claim made
        // in between shows in the intents instead of looking like a dead worker's cell).
        const live = (): Set<number> => new Set(LIVE_SLOTS.map((slot) => claimIntentOf(pool, slot)));
        const n = p.repairStuck(live, (pos, word) => found.push({ pos, word }));
        expect(n).toBe(found.length);
      }
      expect(found.length, 'exactly the dead worker’s cell is repaired').toBe(1);
      const { pos, word } = found[0]!;
      const id = idAtCell[pos & mask]!;
      repairs.push({ pos, word, id, stalledId, intent, tries, wedged, heldMs: performance.now() - stalledSince });
      clearClaimIntent(pool, STALL_SLOT); // the slot is free for the next worker
      reEnqueue.push(word !== 0 ? word : id); // word 0: the dead worker had taken the id; main knows it by position
      stalledId = 0;
    };

    const t0 = performance.now();
    Atomics.store(ctrl, START, 1);
    Atomics.notify(ctrl, START);
    let round = 0;
    for (;;) {
      if (staller === undefined && round < ROUNDS && next >= stallAt[round]!) {
        round++;
        startStaller();
      }
      if (staller !== undefined && stalledId !== 0) await repairStaller();
      if (next > JOBS && reEnqueue.length === 0 && staller === undefined && round === ROUNDS) break;
      const fillerWanted = staller !== undefined && next > JOBS && p.size === 0;
      let batch = 0;
      while (batch < 64 && p.reserve() >= 0) {
        let id: number;
        if (reEnqueue.length > 0) id = reEnqueue.shift()!;
        else if (next <= JOBS || (fillerWanted && batch === 0)) id = next++;
        else break;
        const pos = p.commit(id, 0, KIND_INLINE, 0, 0, 0);
        idAtCell[pos & mask] = id;
        batch++;
      }
      expect(next).toBeLessThanOrEqual(MAX_IDS + 1);
      if (batch > 0) {
        Atomics.add(ctrl, DOORBELL, 1);
        Atomics.notify(ctrl, DOORBELL);
      }
      if (batch < 64) await yieldToEventLoop();
    }
    Atomics.store(ctrl, DONE, 1);
    Atomics.add(ctrl, DOORBELL, 1);
    Atomics.notify(ctrl, DOORBELL);
    await Promise.all(consumers.map((c) => c.result));
    const seconds = (performance.now() - t0) / 1000;

    const issued = next - 1;
    let wrong = 0;
    let firstWrong = '';
    for (let id = 1; id <= MAX_IDS; id++) {
      const want = id <= issued ? 1 : 0;
      if (counts[id] !== want) {
        wrong++;
        if (firstWrong === '') firstWrong = `job ${id} ran ${counts[id]}×, expected ${want}×`;
      }
    }
    console.log(
      `[job-queue crash] capacity ${capacity}: ${JOBS} jobs + ${issued - JOBS} fillers, ${repairs.length} stalled consumers ` +
        `terminated and repaired, ${seconds.toFixed(2)} s; repairs ` +
        JSON.stringify(repairs.slice(0, 4).map((r) => ({ pos: r.pos, id: r.id, word: r.word, wedged: r.wedged, tries: r.tries, heldMs: Math.round(r.heldMs) }))) +
        (repairs.length > 4 ? ` and ${repairs.length - 4} more` : ''),
    );
    expect(firstWrong).toBe('');
    expect(wrong).toBe(0);
    expect(repairs.length).toBe(ROUNDS);
    for (const r of repairs) {
      expect(r.id).toBe(r.stalledId); // the repaired cell held exactly the job the dead worker claimed
      expect(r.pos).toBe(r.intent); // at the position its claim intent named
      expect(r.word).toBe(0); // and it had taken the id before it stopped
      expect(r.wedged, 'the held cell wedged the queue until the repair').toBe(true);
    }
    expect(p.size).toBe(0);
  }, 120_000 * Math.max(1, stressScale()));
});
