/**
 * The results loop: while anything is outstanding it waits for the results word (a bounded spin, then
 * `Atomics.waitAsync`, or the message doorbell where the main thread has no waitAsync), drains every
 * result ring flagged dirty, decodes records in order and settles the calls in a batch. It never blocks
 * the event loop and never throws: a bad record is reported as a `communication` error.
 */
import { DecodeSuspend } from '../codec/errors.js';
import type { Arena, ArenaHandle } from '../memory/arena.js';
import { MASK_WORDS, POOL_DIRTY_MASK_I32, POOL_MAIN_PARKED_I32, POOL_RESULTS_SEQ_I32 } from '../ring/layout.js';
import { ORIGIN_FLAG_INTERNAL, ORIGIN_INSTANCE, ORIGIN_JOB, REC_ERR, REC_NOTIFY, REC_OK, REC_PROGRESS, REC_SPILL, REC_UNCAUGHT } from '../ring/protocol.js';
import { BODY_ONE_WORD, BODY_TWO_WORDS, R_ID, R_SECOND, R_SPILL_GENERATION, R_SPILL_LENGTH, readWord } from '../ring/records.js';
import { RingCorruptError } from '../ring/spsc.js';
import { waitAsyncPromise } from '../ring/wait.js';
import { InvalidWorkgroupResponseException, WorkgroupException, WorkgroupIsolateError, combineStacks, markAwaitingMainStack } from '../shared/errors.js';
import type { Platform } from '../shared/platform.js';
import type { ErrorRouter, IsolateErrorType } from './error-router.js';
import type { MainCodec } from './main-codec.js';
import type { Pending, PendingTable } from './pending.js';
import { MAIN_TICK_MS, NOT_DECODED, describeValue, ignore } from './types.js';
import type { WorkerSet } from './worker-set.js';
import type { WorkerSlot } from './worker-slot.js';

/** What the results loop needs from the rest of the core. */
export interface ResultsHost {
  /** True while the loop must keep waiting (calls or operations outstanding). */
  readonly outstanding: boolean;
  /** Before waiting and after each drain: refill the queue, wake workers for new jobs, flush lanes. */
  beforeWait(): void;
  afterDrain(): void;
  /** A member's `notifyHost()` arrived. */
  notify(ws: WorkerSlot, notifyId: number, memberId: number, command: unknown, failed: boolean): void;
  /** Supervision tick (health monitor). */
  tick(): void;
}

/** Browsers: the results loop returns to the event loop (a macrotask) at least this often. */
const BUSY_YIELD_MS = 16;

export class ResultsLoop {
  readonly #i32: Int32Array;
  readonly #pending: PendingTable;
  readonly #workers: WorkerSet;
  readonly #codec: MainCodec;
  readonly #arena: Arena;
  readonly #errors: ErrorRouter;
  readonly #platform: Platform;
  readonly #spinMicros: number;
  readonly #stackMode: 'await' | 'eager' | 'off';
  readonly #host: ResultsHost;
  #running = false;
  #stopped = false;
  /** Rung by a worker's 'wake' message while main waits without `Atomics.waitAsync`. */
  #doorbell: (() => void) | undefined;

  constructor(
    pool: SharedArrayBuffer,
    parts: { pending: PendingTable; workers: WorkerSet; codec: MainCodec; arena: Arena; errors: ErrorRouter; platform: Platform },
    options: { mainSpinMicros: number; captureMainStack: 'await' | 'eager' | 'off' },
    host: ResultsHost,
  ) {
    this.#i32 = new Int32Array(pool);
    this.#pending = parts.pending;
    this.#workers = parts.workers;
    this.#codec = parts.codec;
    this.#arena = parts.arena;
    this.#errors = parts.errors;
    this.#platform = parts.platform;
    this.#spinMicros = options.mainSpinMicros;
    this.#stackMode = options.captureMainStack;
    this.#host = host;
  }

  #startScheduled = false;

  /**
   * Starts the loop in a microtask: never inside the call that made something outstanding (the loop may
   * spin for `mainSpinMicros` and settle calls; a dispatch must return first, and a batch of dispatches in
   * one tick must all be sent before the loop waits for their answers).
   */
  startSoon(): void {
    if (this.#running || this.#startScheduled) return;
    this.#startScheduled = true;
    queueMicrotask(() => {
      this.#startScheduled = false;
      this.start();
    });
  }

  /** Starts the loop if it is not running and something is outstanding. */
  start(): void {
    if (this.#running || this.#stopped || !this.#host.outstanding) return;
    this.#running = true;
    void this.#run();
  }

  /** After shutdown: the loop ends at its next turn. */
  stop(): void {
    this.#stopped = true;
    this.#doorbell?.();
  }

  /** A worker posted 'wake' (it wrote results while main was not waiting on the results word). */
  ring(): void {
    if (this.#doorbell) this.#doorbell();
    else {
      try {
        this.drain();
      } catch (error) {
        this.#errors.fire('unknown', error, { isolateIndex: -1 });
      }
    }
    this.start();
  }

  async #run(): Promise<void> {
    const i32 = this.#i32;
    const spinMicros = this.#spinMicros;
    const turn = this.#platform.yieldToEventLoop;
    let busySince = performance.now();
    try {
      while (this.#host.outstanding && !this.#stopped) {
        if (turn !== undefined && performance.now() - busySince >= BUSY_YIELD_MS) {
          await turn();
          busySince = performance.now();
        }
        // Jobs published since the last pass (the user's continuation runs before this loop resumes):
        // wake parked workers now, not after spinning for answers to jobs nobody was told about.
        this.#host.beforeWait();
        // Bounded spin: a tiny job's answer usually arrives within microseconds, far sooner than a
        // waitAsync wake-up (a cross-thread task post, 10–50 µs). Blocks the event loop at most `mainSpinMicros`.
        if (spinMicros > 0 && this.#spinForResults(spinMicros)) {
          this.drain();
          await null;
          continue;
        }
        const seq = Atomics.load(i32, POOL_RESULTS_SEQ_I32);
        Atomics.store(i32, POOL_MAIN_PARKED_I32, 1);
        if (this.#anyDirty()) {
          Atomics.store(i32, POOL_MAIN_PARKED_I32, 0);
          this.drain();
          await null;
          continue;
        }
        await this.#waitForResults(seq);
        Atomics.store(i32, POOL_MAIN_PARKED_I32, 0);
        this.drain();
        this.#host.tick();
      }
    } catch (error) {
      // Never an unhandled rejection from the loop: report it and let the next start() try again.
      this.#errors.fire('unknown', error, { isolateIndex: -1 });
    } finally {
      this.#running = false;
    }
    // Something became outstanding while the loop was ending (e.g. in a settle callback): go on.
    if (this.#host.outstanding && !this.#stopped) this.startSoon();
  }

  #waitForResults(seq: number): Promise<unknown> {
    if (this.#platform.hasWaitAsync) return waitAsyncPromise(this.#i32, POOL_RESULTS_SEQ_I32, seq, MAIN_TICK_MS);
    return new Promise<void>((resolve) => {
      const ring = (): void => {
        clearTimeout(timer);
        this.#doorbell = undefined;
        resolve();
      };
      const timer = setTimeout(ring, MAIN_TICK_MS);
      this.#platform.unrefTimer(timer);
      this.#doorbell = ring;
    });
  }

  #spinForResults(micros: number): boolean {
    const end = performance.now() + micros / 1000;
    for (let n = 0; ; n++) {
      if (this.#anyDirty()) return true;
      if ((n & 63) === 63 && performance.now() >= end) return false;
    }
  }

  #anyDirty(): boolean {
    for (let w = 0; w < MASK_WORDS; w++) if (Atomics.load(this.#i32, POOL_DIRTY_MASK_I32 + w) !== 0) return true;
    return false;
  }

  /** Drains every result ring flagged dirty and settles what it finds. */
  drain(): void {
    const i32 = this.#i32;
    this.#host.beforeWait();
    for (let word = 0; word < MASK_WORDS; word++) {
      let bits = Atomics.exchange(i32, POOL_DIRTY_MASK_I32 + word, 0);
      while (bits !== 0) {
        const bit = bits & -bits;
        bits &= ~bit;
        const ws = this.#workers.bySlot(word * 32 + (31 - Math.clz32(bit)));
        if (ws) this.drainWorker(ws);
      }
    }
    this.#host.afterDrain();
  }

  /** Reads everything worker `ws` published (also after it died: what it published is valid). */
  drainWorker(ws: WorkerSlot): void {
    const c = ws.results;
    let any = false;
    try {
      for (let off = c.next(); off >= 0; off = c.next()) {
        this.#record(ws, c.type, c.u8, off, c.length);
        c.advance();
        any = true;
      }
    } catch (e) {
      if (!(e instanceof RingCorruptError)) throw e;
      this.#errors.fire('communication', new InvalidWorkgroupResponseException(`worker #${ws.index} sent a corrupt frame: ${e.message}`, { cause: e }), { isolateIndex: ws.index });
      void ws.fenceOff(0).then(() => ws.handle?.terminate());
    } finally {
      if (any && c.release()) c.notifyProducer();
    }
  }

  #record(ws: WorkerSlot, type: number, u8: Uint8Array, off: number, len: number): void {
    switch (type) {
      case REC_OK:
      case REC_ERR:
      case REC_PROGRESS: {
        const id = readWord(u8, off + R_ID);
        const p = this.#pending.get(id);
        if (!p || p.status === 'cancelled') {
          if (p && type !== REC_PROGRESS) this.#pending.forget(p);
          this.#decodeThen(ws, u8, off + (type === REC_ERR ? BODY_TWO_WORDS : BODY_ONE_WORD), off + len, ignore); // frees its out-of-band payloads
          return; // a late answer to something already settled: dropped
        }
        if (type === REC_OK && p.chain === undefined) {
          // Hot path: decode in place and settle, no closure.
          let value: unknown;
          try {
            value = this.#codec.decode(u8, off + BODY_ONE_WORD, off + len, ws.slot);
          } catch {
            value = NOT_DECODED;
          }
          if (value !== NOT_DECODED) {
            if (p.batch === undefined) this.#pending.resolve(p, value);
            else this.#settleChunk(p, value, ws);
            return;
          }
        }
        const start = off + (type === REC_ERR ? BODY_TWO_WORDS : BODY_ONE_WORD);
        const origin = type === REC_ERR ? readWord(u8, off + R_SECOND) : 0;
        this.#decodeInOrder(p, ws, u8, start, off + len, (value, failed) => {
          if (failed) {
            const error = new InvalidWorkgroupResponseException(`could not decode the answer of worker #${ws.index}: ${(value as Error)?.message}`, { cause: value });
            this.#reject(p, error, 'communication', ws);
          } else if (type === REC_OK) {
            if (p.batch === undefined) this.#pending.resolve(p, value);
            else this.#settleChunk(p, value, ws);
          }
          else if (type === REC_ERR) this.#fromWorker(p, value, origin, ws);
          else if (p.onProgress && p.status !== 'cancelled' && this.#pending.get(p.id) === p) {
            try {
              p.onProgress(value);
            } catch (e) {
              this.#errors.fire('unknown', e, { isolateIndex: ws.index, jobId: p.id });
            }
          }
        });
        return;
      }
      case REC_NOTIFY: {
        const notifyId = readWord(u8, off + R_ID);
        const memberId = readWord(u8, off + R_SECOND);
        this.#decodeThen(ws, u8, off + BODY_TWO_WORDS, off + len, (command, failed) => this.#host.notify(ws, notifyId, memberId, command, failed));
        return;
      }
      case REC_UNCAUGHT: {
        this.#decodeThen(ws, u8, off + BODY_TWO_WORDS, off + len, (error) => {
          this.#errors.fire('unknown', error, { isolateIndex: ws.index });
        });
        return;
      }
      case REC_SPILL: {
        const inner = readWord(u8, off + R_ID);
        const handle: ArenaHandle = { offset: readWord(u8, off + R_SECOND) | 0, generation: readWord(u8, off + R_SPILL_GENERATION) | 0 };
        const total = readWord(u8, off + R_SPILL_LENGTH);
        let view: Uint8Array;
        try {
          view = this.#arena.viewOf(handle, total);
        } catch (e) {
          this.#errors.fire('communication', new InvalidWorkgroupResponseException(`worker #${ws.index} sent a bad arena handle`, { cause: e }), { isolateIndex: ws.index });
          return;
        }
        // Decode from a private copy: the block is freed right away.
        const copy = view.slice();
        this.#arena.free(handle);
        this.#record(ws, inner, copy, 0, total);
        return;
      }
      default:
        this.#errors.fire('communication', new InvalidWorkgroupResponseException(`worker #${ws.index} sent an unknown record type ${type}`), { isolateIndex: ws.index });
    }
  }

  /**
   * A batch chunk's answer: its results in order (`dispatchAll`), or `[results, failures]`
   * (`dispatchAllSettled`), whose failures get what a failed job's error gets (both stacks, the job error
   * handler) before they reach the caller.
   */
  #settleChunk(p: Pending, value: unknown, ws: WorkerSlot): void {
    if (this.#pending.get(p.id) !== p || p.status === 'cancelled') return; // settled meanwhile (a decode that waited)
    const batch = p.batch!;
    const count = Math.min(batch.chunk, batch.results.length - p.index);
    const settled = batch.mode === 'settled';
    const results = settled && Array.isArray(value) ? (value[0] as unknown) : value;
    const failures = settled && Array.isArray(value) ? (value[1] as unknown) : undefined;
    if (!Array.isArray(results) || results.length !== count || (failures !== undefined && !validFailures(failures, count))) {
      const error = new InvalidWorkgroupResponseException(`worker #${ws.index} answered a batch chunk of ${count} jobs with ${describeValue(value)}`);
      this.#reject(p, error, 'communication', ws);
      return;
    }
    if (failures !== undefined) {
      for (let k = 1; k < failures.length; k += 2) failures[k] = this.#jobError(p, failures[k], ORIGIN_JOB, ws);
    }
    this.#pending.resolve(p, value);
  }

  /** Rejects `p`, firing the handler of `type` first. */
  #reject(p: Pending, error: unknown, type: Exclude<IsolateErrorType, 'all'>, ws: WorkerSlot): void {
    if (this.#pending.get(p.id) !== p || p.status === 'cancelled') return;
    this.#errors.fire(type, error, { isolateIndex: ws.index, jobId: p.id });
    this.#pending.reject(p, error);
  }

  /** Decodes in place, or — when a module or buffer must arrive first — from a copy, later. */
  #decodeThen(ws: WorkerSlot, u8: Uint8Array, start: number, end: number, then: (value: unknown, failed: boolean) => void): void {
    let value: unknown;
    try {
      value = this.#codec.decode(u8, start, end, ws.slot);
    } catch (e) {
      if (e instanceof DecodeSuspend) {
        this.#codec.decodeAsync(u8.slice(start, end), ws.slot).then(
          (v) => then(v, false),
          (err) => then(err, true),
        );
        return;
      }
      then(e, true);
      return;
    }
    then(value, false);
  }

  /**
   * Decodes a record of `p` in arrival order: once one of its records had to wait (a module import, a
   * transferred buffer still on its way), the later ones — progress, then the result — queue behind it.
   */
  #decodeInOrder(p: Pending, ws: WorkerSlot, u8: Uint8Array, start: number, end: number, then: (value: unknown, failed: boolean) => void): void {
    const codec = this.#codec;
    let chain: Promise<void>;
    if (p.chain === undefined) {
      let value: unknown;
      try {
        value = codec.decode(u8, start, end, ws.slot);
      } catch (e) {
        if (!(e instanceof DecodeSuspend)) return then(e, true);
        chain = codec.decodeAsync(u8.slice(start, end), ws.slot).then(
          (v) => then(v, false),
          (err) => then(err, true),
        );
        p.chain = chain;
        void chain.then(() => {
          if (p.chain === chain) p.chain = undefined;
        });
        return;
      }
      return then(value, false);
    }
    const copy = u8.slice(start, end);
    chain = p.chain.then(() =>
      codec.decodeAsync(copy, ws.slot).then(
        (v) => then(v, false),
        (err) => then(err, true),
      ),
    );
    p.chain = chain;
    void chain.then(() => {
      if (p.chain === chain) p.chain = undefined;
    });
  }

  /** A job or call that failed in the worker: its error, with both stacks, routed by origin. */
  #fromWorker(p: Pending, raw: unknown, origin: number, ws: WorkerSlot): void {
    const internal = (origin & ORIGIN_FLAG_INTERNAL) !== 0;
    const kind = origin & 0xff;
    this.#reject(p, this.#jobError(p, raw, origin, ws, false), internal ? 'communication' : kind === ORIGIN_INSTANCE ? 'instance' : kind === ORIGIN_JOB ? 'job' : 'unknown', ws);
  }

  /**
   * The error a caller gets for what a worker threw: wrapped when it is not an Error (or the failure was
   * internal), with both stacks. `fire`: report it to the job error handlers now (a failure inside a
   * settled batch chunk, which no rejection reports).
   */
  #jobError(p: Pending, raw: unknown, origin: number, ws: WorkerSlot, fire = true): unknown {
    const internal = (origin & ORIGIN_FLAG_INTERNAL) !== 0;
    const kind = origin & 0xff;
    let error = raw;
    if (internal) {
      const msg = raw instanceof Error ? raw.message : String(raw);
      error = new WorkgroupException(`worker #${ws.index} could not ${kind === ORIGIN_INSTANCE ? 'complete the call' : 'run the job'}: ${msg}`, { cause: raw });
    } else if (!(raw instanceof Error)) {
      error = new WorkgroupIsolateError(raw, ws.index, `${p.kind === 'job' ? 'job' : 'member'} threw a non-Error value: ${describeValue(raw)}`);
    }
    if (p.site) combineStacks(error, p.site.stack);
    else if (this.#stackMode === 'await') markAwaitingMainStack(error); // the api's withCallerStack adds it
    if (fire) this.#errors.fire('job', error, { isolateIndex: ws.index, jobId: p.id });
    return error;
  }
}

/** A settled chunk's failures: `[index, error]` pairs, each index one of the chunk's jobs. */
function validFailures(failures: unknown, count: number): failures is unknown[] {
  if (!Array.isArray(failures) || failures.length % 2 !== 0) return false;
  for (let k = 0; k < failures.length; k += 2) {
    const i = failures[k];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= count) return false;
  }
  return true;
}
