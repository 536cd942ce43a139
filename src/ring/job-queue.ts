/**
 * The shared job queue: bounded, single producer (the main thread), many consumers (workers).
 *
 * Algorithm: Dmitry Vyukov's bounded MPMC queue specialised to one producer (docs/architecture.md, "Shared regions").
 * Each cell carries a sequence number `seq`; for position `p` the cell `p & mask` is free for the
 * producer when `seq == p`, holds a published job when `seq == p + 1`, and is released for the next lap
 * when `seq == p + capacity`. Enqueue needs no CAS (one producer); a consumer claims position `p` with
 * one CAS on `dequeuePos`. Lock-free for consumers (a CAS can fail only because another consumer won),
 * wait-free for the producer. Nothing allocates.
 *
 * Crash recovery: before its CAS a consumer publishes `claimIntent = p` in its control block and clears
 * it only after releasing the cell, so a cell that stays at `seq == p + 1` after `dequeuePos` moved past
 * `p` while no live worker has intent `p` belongs to a dead worker; main repairs it (`repairStuck`).
 *
 * Positions and sequence numbers are free-running **31-bit** counters (`& POS_MASK`, wrapping at 2^31;
 * differences are sign-extended from 31 bits). With full Int32 counters position 2^32 − 1 would read as
 * −1, the "no intent" value of `claimIntent`: a worker that died holding that position would look idle
 * and live idle workers would hide it, so its cell was never repaired and the queue wedged one lap later.
 *
 * The seq word of the cell at index `i` holds `(seq − i) & POS_MASK`, not `seq`: zero-filled memory then
 * reads as `seq == i`, every cell free for the first lap, and a new pool region needs no pass over its
 * cells (that pass touched every cell's page — 512 KiB at the default capacity, measured 7–18 ms per
 * launch on a loaded machine). `loadSeq`/`storeSeq` below are the only readers and writers of the word.
 *
 * Cell layout (CELL_BYTES = 128, one per line, so neighbouring cells never share a line):
 *
 * | offset | width | field              | writer                          | reader   | Atomics op              |
 * |--------|-------|--------------------|---------------------------------|----------|-------------------------|
 * | 0      | i32   | seq − index        | main (publish), consumer (release) | both  | store / load            |
 * | 4      | i32   | jobId              | main; taken by consumer / cancelled by main | both | exchange / compareExchange |
 * | 8      | i32   | payload length     | main                            | consumer | plain (published by seq)|
 * | 12     | i32   | kind (0 inline, 1 arena) | main                      | consumer | plain                   |
 * | 16     | i32   | arena offset       | main                            | consumer | plain                   |
 * | 20     | i32   | arena generation   | main                            | consumer | plain                   |
 * | 24     | f64   | enqueue time (epoch ms) | main                       | consumer | plain                   |
 * | 32     | 96    | inline payload     | main                            | consumer | plain                   |
 */
import {
  CB_CLAIM_INTENT,
  CELL_BYTES,
  POOL_DEQUEUE_POS_I32,
  POOL_ENQUEUE_MIRROR_I32,
  controlBase,
  readPoolLayout,
} from './layout.js';

export const CELL_SEQ = 0;
export const CELL_JOB_ID = 1;
export const CELL_LENGTH = 2;
export const CELL_KIND = 3;
export const CELL_ARENA_OFFSET = 4;
export const CELL_ARENA_GEN = 5;
export const CELL_TIME_BYTES = 24;
export const CELL_PAYLOAD_BYTES = 32;
export const CELL_INLINE_MAX = CELL_BYTES - CELL_PAYLOAD_BYTES;
export const KIND_INLINE = 0;
export const KIND_ARENA = 1;

const CELL_I32 = CELL_BYTES / 4;
/** Positions wrap at 2^31, so no position is ever −1 (see the contract above). */
export const POS_MASK = 0x7fffffff;

/** The word stored for sequence number `seq` in the cell at `index` (see the contract above). */
export function encodeSeq(seq: number, index: number): number {
  return (seq - index) & POS_MASK;
}

/** Sequence number of the cell at word offset `cell`, whose index is `index`. */
function loadSeq(i32: Int32Array, cell: number, index: number): number {
  return (Atomics.load(i32, cell + CELL_SEQ) + index) & POS_MASK;
}

/** Stores sequence number `seq` into the cell at word offset `cell`, whose index is `index`: one `Atomics.store`. */
function storeSeq(i32: Int32Array, cell: number, index: number, seq: number): void {
  Atomics.store(i32, cell + CELL_SEQ, encodeSeq(seq, index));
}

export class JobQueueProducer {
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
  readonly capacity: number;
  readonly #i32: Int32Array;
  readonly #cells: number; // i32 index of cell 0
  readonly #mask: number;
  #pos: number; // main-local enqueue cursor
  #pendingCell = -1;
  /**
   * Whether positions below `#pos` may have been used in an earlier lap of the 31-bit position space (the
   * cursor wrapped, or this producer took over a queue already in use). Until then no position at or above
   * `#pos` was ever published, so crash repair scans only the positions below it: a young queue's cells
   * that were never written stay untouched (reading them would fault in up to 512 KiB of fresh pages).
   */
  #wrapped: boolean;

  constructor(pool: SharedArrayBuffer) {
    const layout = readPoolLayout(pool);
    this.u8 = new Uint8Array(pool);
    this.f64 = new Float64Array(pool);
    this.#i32 = new Int32Array(pool);
    this.capacity = layout.queueCapacity;
    this.#mask = this.capacity - 1;
    this.#cells = layout.queueOffset / 4;
    this.#pos = Atomics.load(this.#i32, POOL_ENQUEUE_MIRROR_I32);
    this.#wrapped = this.#pos !== 0;
  }

  /** Position the next enqueue will use. */
  get position(): number {
    return this.#pos;
  }

  /** Jobs published and not yet claimed, as seen now (can be late in the "more" direction). */
  get size(): number {
    return (this.#pos - Atomics.load(this.#i32, POOL_DEQUEUE_POS_I32)) & POS_MASK;
  }

  /**
   * Reserves the next cell. Returns the byte offset of its inline payload area (CELL_INLINE_MAX bytes),
   * or −1 when the queue is full (the caller keeps the job in its own pending list).
   */
  reserve(): number {
    const index = this.#pos & this.#mask;
    const cell = this.#cells + index * CELL_I32;
    if (loadSeq(this.#i32, cell, index) !== this.#pos) return -1; // previous lap not released yet
    this.#pendingCell = cell;
    return cell * 4 + CELL_PAYLOAD_BYTES;
  }

  /**
   * Publishes the reserved cell: writes the descriptor with plain stores, then one `Atomics.store(seq)`
   * releases the whole cell to the consumer that will `Atomics.load` it. Returns the position used.
   */
  commit(jobId: number, length: number, kind: number, arenaOffset: number, arenaGen: number, enqueueTime: number): number {
    const cell = this.#pendingCell;
    if (cell < 0) throw new Error('JobQueueProducer.commit without reserve');
    const i32 = this.#i32;
    i32[cell + CELL_LENGTH] = length;
    i32[cell + CELL_KIND] = kind;
    i32[cell + CELL_ARENA_OFFSET] = arenaOffset;
    i32[cell + CELL_ARENA_GEN] = arenaGen;
    this.f64[(cell * 4 + CELL_TIME_BYTES) / 8] = enqueueTime;
    Atomics.store(i32, cell + CELL_JOB_ID, jobId);
    const pos = this.#pos;
    storeSeq(i32, cell, pos & this.#mask, (pos + 1) & POS_MASK); // publish
    this.#pos = (pos + 1) & POS_MASK;
    if (this.#pos === 0) this.#wrapped = true;
    this.#pendingCell = -1;
    return pos;
  }

  /** Makes the enqueue cursor visible for stats (one store per batch, not per job). */
  mirror(): void {
    Atomics.store(this.#i32, POOL_ENQUEUE_MIRROR_I32, this.#pos);
  }

  /**
   * Withdraws a job that is still queued. Returns true when it was removed (no worker will run it), false
   * when a worker already took it. One CAS decides: the consumer takes the job with an exchange on the
   * same word.
   */
  tryCancel(jobId: number, pos: number): boolean {
    const cell = this.#cells + (pos & this.#mask) * CELL_I32;
    return Atomics.compareExchange(this.#i32, cell + CELL_JOB_ID, jobId, 0) === jobId;
  }

  /**
   * Claimed cells the last `repairStuck` left alone because a live worker's claim intent named them. Either
   * that worker is claiming it right now (it releases the cell within nanoseconds) or its intent is stale
   * (it lost the race for that position) and hides a dead worker's cell: repair again until this is 0.
   */
  deferred = 0;

  /**
   * Crash repair (main only, after a worker died). For every position between `dequeuePos − capacity` and
   * `dequeuePos` whose cell is still claimed (`seq == p + 1`) and whose position no live worker intends,
   * calls `onStuck(p, jobIdWord)` and releases the cell. `liveIntents` are the claimIntent words of the
   * living workers. Returns how many cells were repaired.
   *
   * Pass `liveIntents` as a function to read them after `dequeuePos` (the safe order): a live consumer that
   * claimed a position below the `dequeuePos` read here stored its intent before its CAS, so the intents
   * read afterwards show it until it released the cell (release moves `seq` before it clears the intent).
   * Intents read before `dequeuePos` can miss a claim made in between and repair a live consumer's cell.
   */
  repairStuck(liveIntents: ReadonlySet<number> | (() => ReadonlySet<number>), onStuck: (pos: number, jobIdWord: number) => void): number {
    const i32 = this.#i32;
    const deq = Atomics.load(i32, POOL_DEQUEUE_POS_I32);
    const live = typeof liveIntents === 'function' ? liveIntents() : liveIntents;
    let repaired = 0;
    let deferred = 0;
    // Only the last `capacity` positions can still be claimed; older cells already moved on (seq differs).
    // Before the first wrap, positions below 0 were never used: no cell to look at there.
    const span = this.#wrapped ? this.capacity : Math.min(this.capacity, deq);
    for (let k = 1; k <= span; k++) {
      const p = (deq - k) & POS_MASK;
      const index = p & this.#mask;
      const cell = this.#cells + index * CELL_I32;
      if (loadSeq(i32, cell, index) !== ((p + 1) & POS_MASK)) continue;
      if (live.has(p)) {
        deferred++; // a live worker claims it now, or its intent is stale: look again later
        continue;
      }
      onStuck(p, Atomics.load(i32, cell + CELL_JOB_ID));
      Atomics.store(i32, cell + CELL_JOB_ID, 0);
      storeSeq(i32, cell, index, (p + this.capacity) & POS_MASK);
      repaired++;
    }
    this.deferred = deferred;
    return repaired;
  }

  /** Reads a stuck cell's descriptor back (for re-enqueueing during repair). */
  cellPayloadOffset(pos: number): number {
    return (this.#cells + (pos & this.#mask) * CELL_I32) * 4 + CELL_PAYLOAD_BYTES;
  }
}

export class JobQueueConsumer {
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
  readonly capacity: number;
  readonly #i32: Int32Array;
  readonly #cells: number;
  readonly #mask: number;
  readonly #intent: number; // i32 index of this worker's claimIntent word
  #claimedCell = -1;
  #claimedPos = 0;
  /** Descriptor of the last claimed job (valid until `release()`). */
  jobId = 0;
  length = 0;
  kind = 0;
  arenaOffset = 0;
  arenaGen = 0;
  enqueueTime = 0;
  payloadOffset = 0;

  constructor(pool: SharedArrayBuffer, slot: number) {
    const layout = readPoolLayout(pool);
    this.u8 = new Uint8Array(pool);
    this.f64 = new Float64Array(pool);
    this.#i32 = new Int32Array(pool);
    this.capacity = layout.queueCapacity;
    this.#mask = this.capacity - 1;
    this.#cells = layout.queueOffset / 4;
    this.#intent = controlBase(slot) + CB_CLAIM_INTENT;
  }

  /** Cheap check without claiming: is a job published at the current dequeue position? Can be stale. */
  hasWork(): boolean {
    const pos = Atomics.load(this.#i32, POOL_DEQUEUE_POS_I32);
    const index = pos & this.#mask;
    return loadSeq(this.#i32, this.#cells + index * CELL_I32, index) === ((pos + 1) & POS_MASK);
  }

  /**
   * Claims the next job. Returns 1 with the descriptor in this object's fields (the job id may be 0 when
   * main cancelled it while queued: release and skip), or 0 when the queue is empty. After a successful
   * claim the caller records the job as running, then calls `release()`.
   */
  tryClaim(): number {
    const i32 = this.#i32;
    for (;;) {
      const pos = Atomics.load(i32, POOL_DEQUEUE_POS_I32);
      const index = pos & this.#mask;
      const cell = this.#cells + index * CELL_I32;
      const dif = ((loadSeq(i32, cell, index) - ((pos + 1) & POS_MASK)) << 1) >> 1; // 31-bit signed
      if (dif < 0) {
        Atomics.store(i32, this.#intent, -1);
        return 0; // empty
      }
      if (dif > 0) continue; // another consumer moved on; reload dequeuePos
      Atomics.store(i32, this.#intent, pos); // intent before the CAS (recovery reads it)
      if (Atomics.compareExchange(i32, POOL_DEQUEUE_POS_I32, pos, (pos + 1) & POS_MASK) !== pos) continue;
      this.#claimedCell = cell;
      this.#claimedPos = pos;
      this.jobId = Atomics.exchange(i32, cell + CELL_JOB_ID, 0); // take it (0: cancelled while queued)
      this.length = i32[cell + CELL_LENGTH]!;
      this.kind = i32[cell + CELL_KIND]!;
      this.arenaOffset = i32[cell + CELL_ARENA_OFFSET]!;
      this.arenaGen = i32[cell + CELL_ARENA_GEN]!;
      this.enqueueTime = this.f64[(cell * 4 + CELL_TIME_BYTES) / 8]!;
      this.payloadOffset = cell * 4 + CELL_PAYLOAD_BYTES;
      return 1;
    }
  }

  /** Releases the claimed cell for the producer's next lap, then clears the claim intent. */
  release(): void {
    const cell = this.#claimedCell;
    if (cell < 0) return;
    storeSeq(this.#i32, cell, this.#claimedPos & this.#mask, (this.#claimedPos + this.capacity) & POS_MASK);
    Atomics.store(this.#i32, this.#intent, -1);
    this.#claimedCell = -1;
  }
}
