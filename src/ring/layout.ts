/**
 * Layout of the shared regions. Every shared word has a named constant here, a writer and a reader.
 * All offsets are in bytes unless the name ends in `_I32` (an index into an Int32Array over the region).
 * Hot words written by different threads sit on their own 128-byte line (false sharing between cores costs more than the padding).
 *
 * ## Pool region (one per workgroup)
 *
 * | offset (bytes)            | width      | field                 | writer                 | reader        | Atomics op            |
 * |---------------------------|------------|-----------------------|------------------------|---------------|-----------------------|
 * | 0                         | i32        | magic                 | main (init)            | workers       | plain (before spawn)  |
 * | 4                         | i32        | layout version        | main (init)            | workers       | plain (before spawn)  |
 * | 8                         | i32        | maxSlots              | main (init)            | all           | plain (before spawn)  |
 * | 12                        | i32        | queue capacity        | main (init)            | all           | plain (before spawn)  |
 * | 16                        | i32        | flags (SHUTDOWN bit)  | main                   | workers       | store / load          |
 * | 128  (LINE)               | i32        | dequeuePos            | workers                | workers, main | compareExchange/load  |
 * | 256  (2 LINES)            | i32        | enqueuePos mirror     | main                   | stats only    | store / load          |
 * | 264                       | i32        | max spinning workers  | main (init)            | workers       | plain (before spawn)  |
 * | 288                       | i32 × 8    | spinnerMask[0..7]     | workers (own bit; main clears a dead one's) | workers | or / and / load |
 * | 384  (3 LINES)            | i32 × 8    | idleMask[0..7]        | workers set, main clr  | main          | or / and / load       |
 * | 512  (4 LINES)            | i32        | resultsSeq            | workers                | main          | add / load / waitAsync|
 * | 516                       | i32        | mainParked            | main set, workers clr  | workers       | store / compareExchange|
 * | 640  (5 LINES)            | i32 × 8    | dirtyMask[0..7]       | workers set, main clr  | main          | or / exchange         |
 * | 768  (6 LINES)            | i32        | classCount            | main                   | all           | store / load          |
 * | 772                       | i32        | classBytesUsed        | main                   | main          | plain                 |
 * | CONTROL_BASE              | SLOT_BYTES × maxSlots | worker control blocks (below)           |               |                       |
 * | classTableOffset          | CLASS_TABLE_BYTES     | class table: entries `u16 len, bytes` (UTF-8 `url#export`), 4-aligned |
 * | queueOffset               | CELL_BYTES × capacity | job queue cells (see job-queue.ts)        |               |                       |
 *
 * ## Worker control block (SLOT_BYTES = 512 per slot; `_I32` indices relative to the block)
 *
 * | i32 index | field            | writer          | reader  | Atomics op                       |
 * |-----------|------------------|-----------------|---------|----------------------------------|
 * | 0         | doorbell         | main (+ worker) | worker  | add / wait / notify              |
 * | 1         | command          | main            | worker  | store / load (STOP etc.)         |
 * | 2         | probeSeq         | main            | worker  | add / load                       |
 * | 3         | fence            | main + worker   | both    | compareExchange / store / load (see fence.ts) |
 * | 4..19     | cancel[16]       | main            | worker  | store / load (job id to cancel in running slot r) |
 * | 20..27    | skip[8]          | main            | worker  | store / compareExchange (lane work to skip: a cancelled id not started yet) |
 * | 32 (line) | state            | worker (main writes DEAD) | main | store / load           |
 * | 33        | heartbeat        | worker          | main    | add / load                       |
 * | 34        | probeAck         | worker          | main    | store / load                     |
 * | 35        | claimIntent      | worker          | main    | store / load (−1 = none)         |
 * | 36        | parked           | worker set, main clr | main | store / compareExchange       |
 * | 37        | runningCount     | worker          | main    | store / load                     |
 * | 40..55    | running[16]      | worker          | main    | store / load (job id, 0 = free)  |
 * | 64 (line) | jobsDone         | worker          | main    | add / load                       |
 * | 65        | jobsFailed       | worker          | main    | add / load                       |
 * | 66        | busyMicros (lo)  | worker          | main    | add / load                       |
 * | 67        | busyMicros (hi, ×2^30) | worker    | main    | add / load                       |
 * | 68..91    | waitHistogram[24] (log2 µs buckets) | worker | main | add / load               |
 * | 96..119   | runHistogram[24]  (log2 µs buckets) | worker | main | add / load               |
 */

export const MAGIC = 0x49574731; // "IWG1"
export const LAYOUT_VERSION = 1;
export const LINE = 128;

export const POOL_MAGIC_I32 = 0;
export const POOL_VERSION_I32 = 1;
export const POOL_MAX_SLOTS_I32 = 2;
export const POOL_QUEUE_CAPACITY_I32 = 3;
export const POOL_FLAGS_I32 = 4;
export const POOL_DEQUEUE_POS_I32 = LINE / 4;
export const POOL_ENQUEUE_MIRROR_I32 = (2 * LINE) / 4;
/** How many workers may spin at once, and which spin now (one bit per slot; see SpinGate in wait.ts). */
export const POOL_MAX_SPINNERS_I32 = POOL_ENQUEUE_MIRROR_I32 + 2;
export const POOL_SPINNER_MASK_I32 = POOL_ENQUEUE_MIRROR_I32 + 8;
export const POOL_IDLE_MASK_I32 = (3 * LINE) / 4;
export const POOL_RESULTS_SEQ_I32 = (4 * LINE) / 4;
export const POOL_MAIN_PARKED_I32 = POOL_RESULTS_SEQ_I32 + 1;
export const POOL_DIRTY_MASK_I32 = (5 * LINE) / 4;
export const POOL_CLASS_COUNT_I32 = (6 * LINE) / 4;
export const POOL_CLASS_BYTES_I32 = POOL_CLASS_COUNT_I32 + 1;
export const MASK_WORDS = 8;
/** Slots (concurrently live workers) are limited by the 8-word idle and dirty masks. */
export const MAX_SLOTS_LIMIT = MASK_WORDS * 32;

export const FLAG_SHUTDOWN = 1;

export const CONTROL_BASE = 7 * LINE;
export const SLOT_BYTES = 4 * LINE;
export const SLOT_I32 = SLOT_BYTES / 4;

export const CB_DOORBELL = 0;
export const CB_COMMAND = 1;
export const CB_PROBE_SEQ = 2;
/** The stop fence (ring/fence.ts): whether this worker may still claim jobs and publish results. */
export const CB_FENCE = 3;
export const CB_CANCEL = 4;
export const CB_SKIP = 20;
export const SKIP_WORDS = 8;
export const CB_STATE = 32;
export const CB_HEARTBEAT = 33;
export const CB_PROBE_ACK = 34;
export const CB_CLAIM_INTENT = 35;
export const CB_PARKED = 36;
export const CB_RUNNING_COUNT = 37;
export const CB_RUNNING = 40;
export const MAX_CONCURRENCY = 16;
export const CB_JOBS_DONE = 64;
export const CB_JOBS_FAILED = 65;
export const CB_BUSY_LO = 66;
export const CB_BUSY_HI = 67;
export const CB_WAIT_HIST = 68;
export const CB_RUN_HIST = 96;
export const HIST_BUCKETS = 24;

/** Worker states (CB_STATE). */
export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
export const STATE_SPINNING = 2;
export const STATE_PARKED = 3;
export const STATE_STOPPING = 4;
export const STATE_DEAD = 5;

/** Commands (CB_COMMAND): main asks, the worker acts at its next loop turn. */
export const CMD_NONE = 0;
export const CMD_STOP = 1;
export const CMD_CONTROL = 2; // a control message is waiting on the port

export const CLASS_TABLE_BYTES = 64 * 1024;
export const CELL_BYTES = LINE;

export interface PoolLayout {
  readonly maxSlots: number;
  readonly queueCapacity: number;
  readonly classTableOffset: number;
  readonly queueOffset: number;
  readonly totalBytes: number;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export function poolLayout(maxSlots: number, queueCapacity: number): PoolLayout {
  if (!Number.isInteger(maxSlots) || maxSlots < 1 || maxSlots > MAX_SLOTS_LIMIT) {
    throw new RangeError(`expected \`maxSlots\` to be an integer in 1..${MAX_SLOTS_LIMIT}, got ${maxSlots}`);
  }
  if (!isPowerOfTwo(queueCapacity) || queueCapacity < 2 || queueCapacity > 1 << 20) {
    throw new RangeError(`expected \`queueCapacity\` to be a power of two in 2..2^20, got ${queueCapacity}`);
  }
  const classTableOffset = CONTROL_BASE + maxSlots * SLOT_BYTES;
  const queueOffset = classTableOffset + CLASS_TABLE_BYTES;
  return { maxSlots, queueCapacity, classTableOffset, queueOffset, totalBytes: queueOffset + queueCapacity * CELL_BYTES };
}

/** Creates and initialises a pool region. Main thread, once, before any worker sees it. */
export function createPoolRegion(maxSlots: number, queueCapacity: number): SharedArrayBuffer {
  const layout = poolLayout(maxSlots, queueCapacity);
  const sab = new SharedArrayBuffer(layout.totalBytes);
  const i32 = new Int32Array(sab);
  i32[POOL_MAGIC_I32] = MAGIC;
  i32[POOL_VERSION_I32] = LAYOUT_VERSION;
  i32[POOL_MAX_SLOTS_I32] = maxSlots;
  i32[POOL_QUEUE_CAPACITY_I32] = queueCapacity;
  for (let slot = 0; slot < maxSlots; slot++) {
    const base = (CONTROL_BASE + slot * SLOT_BYTES) / 4;
    i32[base + CB_CLAIM_INTENT] = -1;
    i32[base + CB_STATE] = STATE_DEAD;
  }
  // The job queue's cells need no initialising: zero-filled, each reads as free for the first lap (job-queue.ts).
  return sab;
}

/** Reads a pool region's layout back, checking magic and version (a worker built from another version fails fast). */
export function readPoolLayout(sab: SharedArrayBuffer): PoolLayout {
  const i32 = new Int32Array(sab);
  if (i32[POOL_MAGIC_I32] !== MAGIC || i32[POOL_VERSION_I32] !== LAYOUT_VERSION) {
    throw new Error(
      `isolate-workgroup: shared pool region has magic ${i32[POOL_MAGIC_I32]} version ${i32[POOL_VERSION_I32]}, ` +
        `expected ${MAGIC} version ${LAYOUT_VERSION}: the worker entry and the main thread come from different builds`,
    );
  }
  return poolLayout(i32[POOL_MAX_SLOTS_I32]!, i32[POOL_QUEUE_CAPACITY_I32]!);
}

export function controlBase(slot: number): number {
  return (CONTROL_BASE + slot * SLOT_BYTES) / 4;
}

/**
 * ## Lane region (one per worker slot, shared by main and that worker only)
 *
 * | offset            | width | field                      | writer | reader | Atomics op  |
 * |-------------------|-------|----------------------------|--------|--------|-------------|
 * | 0                 | i32   | magic                      | main   | worker | plain       |
 * | 4                 | i32   | direct ring capacity       | main   | worker | plain       |
 * | 8                 | i32   | result ring capacity       | main   | worker | plain       |
 * | 128               | line  | direct ring header (SPSC)  | see spsc.ts                          |
 * | 128 + RING_HEADER | line  | result ring header (SPSC)  | see spsc.ts                          |
 * | LANE_DATA         | cap   | direct ring bytes          | main   | worker | plain, published by head |
 * | … + cap           | cap   | result ring bytes          | worker | main   | plain, published by head |
 */
export const RING_HEADER_BYTES = 3 * LINE;
export const LANE_DIRECT_HEADER = LINE;
export const LANE_RESULT_HEADER = LINE + RING_HEADER_BYTES;
export const LANE_DATA = LINE + 2 * RING_HEADER_BYTES;

export interface LaneLayout {
  readonly directCapacity: number;
  readonly resultCapacity: number;
  readonly directData: number;
  readonly resultData: number;
  readonly totalBytes: number;
}

export function laneLayout(directCapacity: number, resultCapacity: number): LaneLayout {
  for (const [name, v] of [['directRingBytes', directCapacity], ['resultRingBytes', resultCapacity]] as const) {
    if (!isPowerOfTwo(v) || v < 1024 || v > 1 << 30) {
      throw new RangeError(`expected \`${name}\` to be a power of two in 1024..2^30, got ${v}`);
    }
  }
  return {
    directCapacity,
    resultCapacity,
    directData: LANE_DATA,
    resultData: LANE_DATA + directCapacity,
    totalBytes: LANE_DATA + directCapacity + resultCapacity,
  };
}

export function createLaneRegion(directCapacity: number, resultCapacity: number): SharedArrayBuffer {
  const layout = laneLayout(directCapacity, resultCapacity);
  const sab = new SharedArrayBuffer(layout.totalBytes);
  const i32 = new Int32Array(sab);
  i32[0] = MAGIC;
  i32[1] = directCapacity;
  i32[2] = resultCapacity;
  return sab;
}

export function readLaneLayout(sab: SharedArrayBuffer): LaneLayout {
  const i32 = new Int32Array(sab);
  if (i32[0] !== MAGIC) throw new Error('isolate-workgroup: lane region has a bad magic word');
  return laneLayout(i32[1]!, i32[2]!);
}
