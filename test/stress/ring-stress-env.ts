// Shared by the ring stress tests: the seed (printed; STRESS_SEED replays a run), the scale (STRESS_SCALE
// multiplies every count; default 1 is the short CI run), and a worker helper whose every promise
// settles: with the worker's first message, or rejected on error, on exit, or after a deadline.
import { Worker } from 'node:worker_threads';
import { CELL_SEQ, POS_MASK, encodeSeq } from '../../src/ring/job-queue.js';
import {
  CB_CLAIM_INTENT,
  CELL_BYTES,
  POOL_DEQUEUE_POS_I32,
  POOL_ENQUEUE_MIRROR_I32,
  controlBase,
  createPoolRegion,
  readPoolLayout,
} from '../../src/ring/layout.js';

export function stressSeed(testName: string): number {
  const fromEnv = process.env['STRESS_SEED'];
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : (Math.random() * 0xffffffff) >>> 0;
  console.log(`[${testName}] seed ${seed} (replay with STRESS_SEED=${seed}), scale ${stressScale()}`);
  return seed;
}

export function stressScale(): number {
  const v = Number(process.env['STRESS_SCALE'] ?? '1');
  return Number.isFinite(v) && v > 0 ? v : 1;
}

/** A seeded generator for the main-thread side (xorshift32). */
export function mainRng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export interface Spawned<T> {
  readonly worker: Worker;
  /** The worker's first message; rejects if the worker errors or exits first, or after `deadlineMs`. */
  readonly result: Promise<T>;
}

/** Every worker started here, so a failing test can terminate what it left behind. */
export const started = new Set<Worker>();

export function spawn<T>(fixture: URL, workerData: unknown, deadlineMs: number): Spawned<T> {
  const worker = new Worker(fixture, { workerData });
  started.add(worker);
  const result = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${fixture.pathname}: no result within ${deadlineMs} ms`)), deadlineMs);
    worker.once('message', (m: T) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${fixture.pathname}: exited with code ${code} before reporting`));
    });
  });
  worker.once('exit', () => started.delete(worker));
  return { worker, result };
}

export async function terminateAll(): Promise<void> {
  await Promise.all([...started].map((w) => w.terminate()));
  started.clear();
}

/**
 * A pool region whose job queue starts at 31-bit position `start`, as if `start` jobs had already passed
 * (every cell holds the sequence number the producer expects), so a run crosses the position wrap.
 */
export function queuePoolAt(maxSlots: number, capacity: number, start: number): SharedArrayBuffer {
  const pool = createPoolRegion(maxSlots, capacity);
  const { queueOffset } = readPoolLayout(pool);
  const i32 = new Int32Array(pool);
  for (let i = 0; i < capacity; i++) {
    const p = (start + i) & POS_MASK;
    i32[queueOffset / 4 + (p & (capacity - 1)) * (CELL_BYTES / 4) + CELL_SEQ] = encodeSeq(p, p & (capacity - 1));
  }
  i32[POOL_DEQUEUE_POS_I32] = start & POS_MASK;
  i32[POOL_ENQUEUE_MIRROR_I32] = start & POS_MASK;
  return pool;
}

export function claimIntentOf(pool: SharedArrayBuffer, slot: number): number {
  return Atomics.load(new Int32Array(pool), controlBase(slot) + CB_CLAIM_INTENT);
}

export function clearClaimIntent(pool: SharedArrayBuffer, slot: number): void {
  Atomics.store(new Int32Array(pool), controlBase(slot) + CB_CLAIM_INTENT, -1);
}
