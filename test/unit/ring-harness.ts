// Shared set-up for the single-threaded ring tests: an SPSC region with canaries around every part,
// seeded fast-check parameters, the record arithmetic of the documented format (spsc.ts header), and a
// pool region whose job queue starts at any position (to cross the Int32 overflow).
import { CELL_SEQ, POS_MASK, encodeSeq } from '../../src/ring/job-queue.js';
import {
  CB_CLAIM_INTENT,
  CELL_BYTES,
  LINE,
  POOL_DEQUEUE_POS_I32,
  POOL_ENQUEUE_MIRROR_I32,
  RING_HEADER_BYTES,
  controlBase,
  createPoolRegion,
  readPoolLayout,
} from '../../src/ring/layout.js';
import { RECORD_HEADER, SpscConsumer, SpscProducer } from '../../src/ring/spsc.js';

export const CANARY = 0xa5;
const CANARY_BYTES = LINE;
const HEAD_BYTE = 0;
const TAIL_BYTE = LINE;
const WAITING_BYTE = 2 * LINE;

/**
 * Region layout used by the unit tests:
 *
 * | offset                        | bytes             | content                                  |
 * |-------------------------------|-------------------|------------------------------------------|
 * | 0                             | RING_HEADER_BYTES | ring header (head @0, tail @128, waiting @256; the rest canary) |
 * | RING_HEADER_BYTES             | 128               | canary                                   |
 * | DATA = RING_HEADER_BYTES + 128| capacity          | ring bytes                               |
 * | DATA + capacity               | 128               | canary                                   |
 */
export const DATA = RING_HEADER_BYTES + CANARY_BYTES;

export interface TestRing {
  readonly sab: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly capacity: number;
  readonly producer: SpscProducer;
  readonly consumer: SpscConsumer;
}

/** A ring whose head and tail both start at `cursor` (an Int32 value, multiple of 8). */
export function makeRing(capacity: number, cursor = 0): TestRing {
  const sab = new SharedArrayBuffer(DATA + capacity + CANARY_BYTES);
  const u8 = new Uint8Array(sab);
  const i32 = new Int32Array(sab);
  u8.fill(CANARY);
  i32[HEAD_BYTE / 4] = cursor | 0;
  i32[TAIL_BYTE / 4] = cursor | 0;
  i32[WAITING_BYTE / 4] = 0;
  u8.fill(0, DATA, DATA + capacity);
  return {
    sab,
    u8,
    i32,
    capacity,
    producer: new SpscProducer(sab, 0, DATA, capacity),
    consumer: new SpscConsumer(sab, 0, DATA, capacity),
  };
}

/** Byte offsets outside the ring bytes that no ring operation may ever write. */
export function canaryViolations(ring: TestRing): number[] {
  const bad: number[] = [];
  const owned = new Set<number>();
  for (const base of [HEAD_BYTE, TAIL_BYTE, WAITING_BYTE]) for (let b = 0; b < 4; b++) owned.add(base + b);
  for (let i = 0; i < DATA; i++) if (!owned.has(i) && ring.u8[i] !== CANARY) bad.push(i);
  for (let i = DATA + ring.capacity; i < ring.u8.length; i++) if (ring.u8[i] !== CANARY) bad.push(i);
  return bad;
}

export function headWord(ring: TestRing): number {
  return Atomics.load(ring.i32, HEAD_BYTE / 4);
}

export function tailWord(ring: TestRing): number {
  return Atomics.load(ring.i32, TAIL_BYTE / 4);
}

export function setHeadWord(ring: TestRing, v: number): void {
  Atomics.store(ring.i32, HEAD_BYTE / 4, v | 0);
}

export function waitingWord(ring: TestRing): number {
  return Atomics.load(ring.i32, WAITING_BYTE / 4);
}

export function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Bytes a record with `payload` bytes occupies in the ring. */
export function recordSize(payload: number): number {
  return align8(RECORD_HEADER + payload);
}

/** Deterministic payload bytes: a function of (tag, index) only. */
export function patternByte(tag: number, index: number): number {
  let x = Math.imul(tag ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  x ^= x >>> 15;
  x = Math.imul(x, 0x2c1b3c6d);
  x ^= x >>> 12;
  return x & 0xff;
}

export function fillPattern(u8: Uint8Array, offset: number, length: number, tag: number): void {
  for (let i = 0; i < length; i++) u8[offset + i] = patternByte(tag, i);
}

export function matchesPattern(u8: Uint8Array, offset: number, length: number, tag: number): boolean {
  for (let i = 0; i < length; i++) if (u8[offset + i] !== patternByte(tag, i)) return false;
  return true;
}

/** Seed for fast-check: `FC_SEED` replays a run; otherwise a fresh one, printed so a failure can be replayed. */
export function fcSeed(testName: string): number {
  const fromEnv = process.env['FC_SEED'];
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  console.log(`[${testName}] fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  return seed;
}

/** Capacities 64 .. 4096 (every power of two). */
export const CAPACITIES = [64, 128, 256, 512, 1024, 2048, 4096] as const;

/** Initial cursors that make the Int32 counters overflow during a run: near 2^31 and near 2^32 (= 0). */
export function interestingCursors(capacity: number): number[] {
  return [0, (2 ** 31 - 8) | 0, (2 ** 31 - capacity) | 0, (2 ** 31 - capacity / 2 - 8) | 0, -8, -capacity, (-capacity / 2 - 24) | 0];
}

/**
 * A pool region whose job queue starts at position `start` (a 31-bit queue position, see POS_MASK), as if
 * `start` jobs had already passed through: every cell holds the sequence number the producer expects next.
 */
export function makeQueuePool(capacity: number, start = 0, maxSlots = 8): SharedArrayBuffer {
  const pool = createPoolRegion(maxSlots, capacity);
  const { queueOffset } = readPoolLayout(pool);
  const i32 = new Int32Array(pool);
  const cellI32 = CELL_BYTES / 4;
  for (let i = 0; i < capacity; i++) {
    const p = (start + i) & POS_MASK;
    i32[queueOffset / 4 + (p & (capacity - 1)) * cellI32 + CELL_SEQ] = encodeSeq(p, p & (capacity - 1));
  }
  i32[POOL_DEQUEUE_POS_I32] = start & POS_MASK;
  i32[POOL_ENQUEUE_MIRROR_I32] = start & POS_MASK;
  return pool;
}

/** The claim-intent word of a worker slot (what main reads from a live worker's control block). */
export function claimIntent(pool: SharedArrayBuffer, slot: number): number {
  return Atomics.load(new Int32Array(pool), controlBase(slot) + CB_CLAIM_INTENT);
}

export function setClaimIntent(pool: SharedArrayBuffer, slot: number, value: number): void {
  Atomics.store(new Int32Array(pool), controlBase(slot) + CB_CLAIM_INTENT, value);
}
