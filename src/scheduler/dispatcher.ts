/**
 * The dispatcher: the only producer of the shared job queue. Encodes jobs straight into the next cell (or
 * the arena when they do not fit), keeps the jobs that find the queue full in a backlog (their bytes in one
 * growable slab, no allocation per job), refills the queue as workers free cells, and — once per tick, for
 * the whole batch — wakes at most as many parked workers as jobs were published.
 *
 * Work that cannot be placed (the arena is full when a big backlog job is moved into the queue) is
 * rejected through `onUnplaceable`, never thrown out of the results loop.
 */
import { encodeValue } from '../codec/codec.js';
import type { Arena } from '../memory/arena.js';
import { CELL_INLINE_MAX, JobQueueProducer, KIND_ARENA, KIND_INLINE } from '../ring/job-queue.js';
import { MASK_WORDS, POOL_IDLE_MASK_I32, STATE_SPINNING } from '../ring/layout.js';
import type { MainCodec } from './main-codec.js';
import type { Pending, PendingTable } from './pending.js';
import { now } from './types.js';
import type { WorkerSet } from './worker-set.js';

export class Dispatcher {
  readonly queue: JobQueueProducer;
  readonly #i32: Int32Array;
  readonly #codec: MainCodec;
  readonly #arena: Arena;
  readonly #pending: PendingTable;
  readonly #workers: WorkerSet;
  /** Job id of each queue cell (by position & mask), for repair after a worker died. */
  readonly #ids: Int32Array;
  /** Jobs waiting for room in the shared queue, FIFO from `#head`. */
  #backlog: Pending[] = [];
  #head = 0;
  #slab = new Uint8Array(64 * 1024);
  #slabUsed = 0;
  #kickScheduled = false;
  /** Jobs published since the last wake-up pass. */
  publishedSinceKick = 0;
  /** Runs once per tick after dispatches (the facade starts the results loop there). */
  afterKick: () => void = () => undefined;
  /** A job that cannot be placed in the queue (shared memory full): the owner rejects it. */
  onUnplaceable: (p: Pending, error: unknown) => void = () => undefined;

  constructor(pool: SharedArrayBuffer, codec: MainCodec, arena: Arena, pending: PendingTable, workers: WorkerSet) {
    this.queue = new JobQueueProducer(pool);
    this.#i32 = new Int32Array(pool);
    this.#codec = codec;
    this.#arena = arena;
    this.#pending = pending;
    this.#workers = workers;
    this.#ids = new Int32Array(this.queue.capacity);
  }

  /** Jobs queued and not yet taken by a worker (shared queue + backlog). */
  get queuedCount(): number {
    return this.queue.size + (this.#backlog.length - this.#head);
  }

  get hasBacklog(): boolean {
    return this.#head < this.#backlog.length;
  }

  /** Encodes a job into the next shared-queue cell (or the backlog when the queue is full). Throws encode errors. */
  enqueue(p: Pending, job: unknown): void {
    const q = this.queue;
    const codec = this.#codec;
    const w = codec.writer;
    const off = this.#head === this.#backlog.length ? q.reserve() : -1;
    if (off >= 0) {
      w.begin(q.u8, off, off + CELL_INLINE_MAX);
      encodeValue(w, job, codec.encodeHooks, 'job');
      if (!w.spilled) {
        p.queuePos = q.commit(p.id, w.length, KIND_INLINE, 0, 0, now());
      } else {
        const bytes = w.bytes();
        const handle = this.#arena.alloc(bytes.length);
        this.#arena.viewOf(handle, bytes.length).set(bytes);
        p.arena = handle;
        p.queuePos = q.commit(p.id, bytes.length, KIND_ARENA, handle.offset, handle.generation, now());
      }
      p.status = 'queued';
      this.#ids[p.queuePos & (q.capacity - 1)] = p.id;
      this.publishedSinceKick++;
      return;
    }
    // Queue full: encode into the backlog slab (no allocation per job); refill copies it into a cell.
    w.begin(this.#slab, this.#slabUsed, this.#slab.length);
    encodeValue(w, job, codec.encodeHooks, 'job');
    const len = w.length;
    if (w.spilled) {
      const body = w.bytes();
      this.#growSlab(len);
      this.#slab.set(body, this.#slabUsed);
    }
    p.status = 'backlog';
    p.backlogOff = this.#slabUsed;
    p.backlogLen = len;
    this.#slabUsed += len;
    this.#backlog.push(p);
  }

  #growSlab(extra: number): void {
    if (this.#slabUsed + extra <= this.#slab.length) return;
    let size = this.#slab.length * 2;
    while (size < this.#slabUsed + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#slab.subarray(0, this.#slabUsed));
    this.#slab = next;
  }

  /** Moves backlog jobs into the shared queue while it has room. */
  refill(): void {
    const q = this.queue;
    const u8 = q.u8;
    const slab = this.#slab;
    const stamp = now(); // one timestamp per batch
    const mask = q.capacity - 1;
    while (this.#head < this.#backlog.length) {
      const p = this.#backlog[this.#head]!;
      if (p.status !== 'backlog' || this.#pending.get(p.id) !== p) {
        this.#head++;
        continue;
      }
      const len = p.bytes ? p.bytes.length : p.backlogLen;
      let handle;
      if (len > CELL_INLINE_MAX) {
        try {
          handle = this.#arena.alloc(len);
        } catch (error) {
          this.#head++;
          this.#dropBacklogBytes(p);
          this.onUnplaceable(p, error);
          continue;
        }
      }
      const off = q.reserve();
      if (off < 0) {
        if (handle) this.#arena.free(handle);
        break;
      }
      if (handle === undefined) {
        if (p.bytes) u8.set(p.bytes, off);
        else {
          // A byte loop beats TypedArray_set for the few dozen bytes of a typical job.
          const from = p.backlogOff;
          for (let i = 0; i < len; i++) u8[off + i] = slab[from + i]!;
        }
        p.queuePos = q.commit(p.id, len, KIND_INLINE, 0, 0, stamp);
      } else {
        const bytes = p.bytes ?? slab.subarray(p.backlogOff, p.backlogOff + len);
        this.#arena.viewOf(handle, len).set(bytes);
        p.arena = handle;
        p.queuePos = q.commit(p.id, len, KIND_ARENA, handle.offset, handle.generation, stamp);
      }
      this.#ids[p.queuePos & mask] = p.id;
      p.status = 'queued';
      this.#dropBacklogBytes(p);
      this.#head++;
      this.publishedSinceKick++;
    }
    if (this.#head === this.#backlog.length) {
      this.#backlog.length = 0;
      this.#head = 0;
      this.#slabUsed = 0;
    } else if (this.#head > 65536 && this.#head * 2 > this.#backlog.length) {
      this.#backlog.splice(0, this.#head); // amortised: only when the consumed half dominates
      this.#head = 0;
    }
  }

  #dropBacklogBytes(p: Pending): void {
    p.bytes = undefined;
    p.backlogOff = -1;
  }

  /**
   * Takes a job back that no worker took yet: from the backlog, or from its queue cell (compare-exchange
   * against a worker's claim). True when it was taken back (it will never run).
   */
  takeBack(p: Pending): boolean {
    if (p.status === 'backlog') {
      this.#dropBacklogBytes(p); // refill skips it (its status changes when it settles)
      return true;
    }
    return p.status === 'queued' && p.queuePos >= 0 && this.queue.tryCancel(p.id, p.queuePos);
  }

  /** Puts jobs a dead worker claimed but never started back at the front of the queue, in order. */
  requeue(jobs: Pending[]): void {
    if (jobs.length === 0) return;
    for (const p of jobs) {
      p.status = 'backlog';
      p.queuePos = -1;
    }
    this.#backlog.splice(this.#head, 0, ...jobs);
    this.refill();
    this.scheduleKick();
  }

  /** Job id of the cell at `pos` (as committed). */
  idAt(pos: number): number {
    return this.#ids[pos & (this.queue.capacity - 1)]!;
  }

  /** Payload length of the cell at `pos`. */
  cellLength(pos: number): number {
    const i32off = (this.queue.cellPayloadOffset(pos) - 32) / 4;
    return this.#i32[i32off + 2]!;
  }

  /** Wakes workers for the jobs published this tick, once (a microtask collects the whole batch). */
  scheduleKick(): void {
    if (this.#kickScheduled) return;
    this.#kickScheduled = true;
    queueMicrotask(this.#kickTask);
  }

  readonly #kickTask = (): void => {
    this.#kickScheduled = false;
    this.kick();
    this.afterKick();
  };

  /** Wakes as many parked workers as jobs were published since the last pass. */
  kick(): void {
    let n = this.publishedSinceKick;
    this.publishedSinceKick = 0;
    if (n === 0) return;
    this.queue.mirror();
    const i32 = this.#i32;
    // Spinning workers take new jobs within microseconds: wake parked ones only for the rest (a notify
    // to a sleeping thread costs main 10-20 µs).
    for (const ws of this.#workers.values()) {
      if (ws.state === 'ready' && ws.sharedState() === STATE_SPINNING && --n === 0) return;
    }
    for (let word = 0; word < MASK_WORDS && n > 0; word++) {
      let bits = Atomics.load(i32, POOL_IDLE_MASK_I32 + word);
      while (bits !== 0 && n > 0) {
        const bit = bits & -bits;
        bits &= ~bit;
        // Clearing the bit claims the right to wake this worker (one waker per parked worker).
        const old = Atomics.and(i32, POOL_IDLE_MASK_I32 + word, ~bit);
        if ((old & bit) === 0) continue;
        const ws = this.#workers.bySlot(word * 32 + (31 - Math.clz32(bit)));
        if (ws && ws.live) {
          // (A worker main still sees as starting may have said ready and parked: it is woken too.)
          ws.wake();
          n--;
        }
      }
    }
  }
}
