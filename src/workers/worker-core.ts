/**
 * The worker-side loop, platform-free (design-notes R.6).
 *
 * Each turn: control (stop, control messages, probe) → the lane's direct ring (member calls, pinned
 * jobs, notify replies) → the shared job queue (while fewer than `concurrency` jobs run) → publish the
 * results with one store and ring main's results doorbell once. With nothing to do it spins for an
 * adaptive budget, then parks: `Atomics.wait` on its doorbell when nothing else needs its event loop,
 * `Atomics.waitAsync` (back to the event loop) when async jobs, timers or I/O are pending.
 */
import { Arena } from '../memory/arena.js';
import { WorkgroupException } from '../api/errors.js';
import {
  CB_CANCEL,
  CB_COMMAND,
  CB_DOORBELL,
  CB_HEARTBEAT,
  CB_JOBS_DONE,
  CB_JOBS_FAILED,
  CB_PARKED,
  CB_PROBE_ACK,
  CB_PROBE_SEQ,
  CB_RUNNING,
  CB_RUNNING_COUNT,
  CB_STATE,
  MAX_CONCURRENCY,
  CMD_CONTROL,
  CMD_STOP,
  LANE_DIRECT_HEADER,
  LANE_RESULT_HEADER,
  POOL_DIRTY_MASK_I32,
  POOL_FLAGS_I32,
  POOL_IDLE_MASK_I32,
  POOL_MAIN_PARKED_I32,
  POOL_RESULTS_SEQ_I32,
  FLAG_SHUTDOWN,
  STATE_DEAD,
  STATE_PARKED,
  STATE_RUNNING,
  STATE_SPINNING,
  controlBase,
  readLaneLayout,
} from '../ring/layout.js';
import { JobQueueConsumer, KIND_ARENA } from '../ring/job-queue.js';
import {
  ORIGIN_FLAG_INTERNAL,
  ORIGIN_INITIALIZATION,
  ORIGIN_INSTANCE,
  ORIGIN_JOB,
  ORIGIN_UNKNOWN,
  REC_ERR,
  REC_INVOKE,
  REC_JOB,
  REC_NOTIFY,
  REC_NOTIFY_REPLY,
  REC_OK,
  REC_PROGRESS,
  REC_UNCAUGHT,
  type ControlToWorker,
  type WorkerInit,
} from '../ring/protocol.js';
import { SpscConsumer, SpscProducer } from '../ring/spsc.js';
import { SpinBudget, parkAsync, spinPause } from '../ring/wait.js';
import { DecodeSuspend } from '../codec/errors.js';
import type { WorkerHost } from './host.js';
import { WorkerCodec, readF64, readWord, writeWords } from './worker-codec.js';
import { disposable, releaseView } from '../shared/arena-views.js';
import { REC_SPILL } from '../ring/protocol.js';
import { bindRuntime, unbindRuntime, type SharedTypedArray, type TypedArrayConstructor, type WorkerRuntime } from '../api/job.js';
import { HistogramWriter } from './stats-writer.js';
import { enterModuleImport, leaveModuleImport } from '../shared/worker-flag.js';
import { explainImportError } from '../shared/import-errors.js';

const ORIGIN = performance.timeOrigin;

/** Epoch milliseconds, comparable across threads (for queue wait times). */
function epochNow(): number {
  return ORIGIN + performance.now();
}

/**
 * A job or member call in progress. It is also the runtime the job sees (`this.report`, `this.signal`,
 * …): one object per job, no closures.
 */
class Running implements WorkerRuntime {
  readonly id: number;
  /** Index of the shared running word (and cancel word) holding this id, or −1 (lane work beyond the 16 words: main knows it from the lane). */
  readonly runSlot: number;
  readonly started: number;
  readonly #core: WorkerCore;
  controller: AbortController | undefined = undefined;
  done = false;
  /** Buffers `transfer()` marked: moved, not copied, when a record of this job contains them. */
  transfers: Set<ArrayBuffer> | undefined = undefined;
  /** The latest report waiting for room in the result ring (encoded record), see `report`. */
  coalesced: Uint8Array | undefined = undefined;

  constructor(core: WorkerCore, id: number, runSlot: number) {
    this.#core = core;
    this.id = id;
    this.runSlot = runSlot;
    this.started = performance.now();
  }

  get isolateIndex(): number {
    return this.#core.index;
  }

  get signal(): AbortSignal {
    return this.#core.signalFor(this);
  }

  report(value: unknown): void {
    this.#core.report(this, value);
  }

  allocate<C extends TypedArrayConstructor>(ctor: C, length: number): SharedTypedArray<C> & Disposable {
    return this.#core.allocate(ctor, length);
  }

  release(array: ArrayBufferView): void {
    this.#core.release(array);
  }

  transfer(buffers: readonly ArrayBuffer[]): void {
    this.transfers = addTransfers(this.transfers, buffers);
  }

  notifyHost(command: unknown): Promise<unknown> {
    return this.#core.notifyHost(command, 0);
  }
}

/** Checks `transfer(...)` arguments (non-shared, not detached ArrayBuffers) and adds them to `set`. */
function addTransfers(set: Set<ArrayBuffer> | undefined, buffers: readonly ArrayBuffer[]): Set<ArrayBuffer> {
  const out = set ?? new Set<ArrayBuffer>();
  for (let i = 0; i < buffers.length; i++) {
    const b: unknown = buffers[i];
    if (!(b instanceof ArrayBuffer)) {
      const what = b instanceof SharedArrayBuffer ? 'a SharedArrayBuffer (shared memory is passed by reference already)' : ArrayBuffer.isView(b) ? `a ${b.constructor.name} (pass its .buffer)` : typeof b;
      throw new TypeError(`expected the arguments of transfer() to be non-shared ArrayBuffers, got ${what} at position ${i}`);
    }
    out.add(b);
  }
  return out;
}

/**
 * A report goes the coalescing way when the result ring has less than this part of its capacity free:
 * progress never takes the last quarter of the ring, which stays for results.
 */
const REPORT_HEADROOM_DIVISOR = 4;
const ID_PLACEHOLDER = new Uint8Array(4);

/**
 * Browsers (no synchronous control pull, `WorkerHost.syncControl` false): after main flags a control
 * message, each busy turn returns to the event loop for this long, so the message is received even while
 * jobs keep coming; and a busy loop returns to it at least this often (timers and messages of the worker).
 */
const CONTROL_YIELD_MS = 20;
const BUSY_YIELD_MS = 50;
/** Longest a batch of queue jobs holds its results back (see #turn). */
const BATCH_PUBLISH_MS = 2;
/** Browsers: longest blocking park; then one event-loop turn (user timers, messages) before parking again. */
const PARK_SLICE_MS = 20;

interface MemberEntry {
  readonly instance: {
    setup?(): unknown;
    handle(command: unknown): unknown;
    dispose?(): unknown;
  };
  /** Buffers the member's `transfer()` marked for its call results. */
  readonly transfers: Set<ArrayBuffer>;
}

interface NotifyWaiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class WorkerCore {
  readonly #host: WorkerHost;
  readonly #init: WorkerInit;
  readonly #i32: Int32Array;
  readonly #cb: number;
  readonly #queue: JobQueueConsumer;
  readonly #direct: SpscConsumer;
  readonly #results: SpscProducer;
  readonly #arena: Arena;
  readonly #codec: WorkerCodec;
  readonly #spin: SpinBudget;
  readonly #hist: HistogramWriter;
  readonly #members = new Map<number, MemberEntry>();
  readonly #notifies = new Map<number, NotifyWaiter>();
  /** Shared running words in use (index = word); queue jobs need one, lane work takes one when free. */
  readonly #slots: (Running | undefined)[];
  readonly #toClear: number[] = [];
  #runningCount = 0;
  #slotsUsed = 0;
  #asyncPending = 0;
  #nextNotify = 1;
  #lastProbe = 0;
  #stopping = false;
  #dirty = false;
  #wakeScheduled = false;
  /** Browsers: busy turns yield to the event loop until then (a control message is on its way). */
  #controlUntil = 0;
  /** Browsers: a busy loop yields to the event loop at the latest then. */
  #nextYield = 0;
  readonly #concurrency: number;

  constructor(host: WorkerHost, init: WorkerInit) {
    this.#host = host;
    this.#init = init;
    this.#i32 = new Int32Array(init.pool);
    this.#cb = controlBase(init.slot);
    this.#queue = new JobQueueConsumer(init.pool, init.slot);
    const lane = readLaneLayout(init.lane);
    this.#direct = new SpscConsumer(init.lane, LANE_DIRECT_HEADER, lane.directData, lane.directCapacity);
    this.#results = new SpscProducer(init.lane, LANE_RESULT_HEADER, lane.resultData, lane.resultCapacity);
    this.#arena = new Arena(init.arena, init.slot + 1);
    this.#codec = new WorkerCodec(init.pool, this.#arena, (id) => this.#awaitBuffer(id));
    for (const [id, buffer] of init.sharedBuffers) this.#codec.addBuffer(id, buffer);
    this.#codec.onNewBuffer = (id, buffer) => host.post({ type: 'sab', id, buffer });
    this.#spin = new SpinBudget(init.spinIterations, Math.min(64, init.spinIterations), Math.max(init.spinIterations * 8, 64));
    this.#hist = new HistogramWriter(this.#i32, this.#cb);
    this.#slots = new Array(MAX_CONCURRENCY).fill(undefined);
    this.#concurrency = Math.min(init.concurrency, MAX_CONCURRENCY);
    host.onControl((m) => this.#onControl(m));
    host.onUncaught((e) => this.#reportUncaught(e));
  }

  /** Imports the work modules, runs their `setup()`, then serves until stopped. */
  async start(): Promise<void> {
    Atomics.store(this.#i32, this.#cb + CB_STATE, STATE_RUNNING);
    try {
      enterModuleImport();
      try {
        for (const url of this.#init.modules) await this.#codec.registry.load(url);
      } finally {
        leaveModuleImport();
      }
      for (const url of this.#init.modules) {
        const ns = await this.#codec.registry.load(url);
        if (typeof ns['setup'] === 'function') await (ns['setup'] as () => unknown)();
      }
    } catch (error) {
      this.#host.post({ type: 'setupFailed', error: this.#encodeStandalone(explainImportError(error), 'error') });
      Atomics.store(this.#i32, this.#cb + CB_STATE, STATE_DEAD);
      this.#host.close();
      return;
    }
    this.#host.post({ type: 'ready' });
    await this.#loop();
    Atomics.store(this.#i32, this.#cb + CB_STATE, STATE_DEAD);
    this.#host.close();
  }

  // ---------------------------------------------------------------- the loop

  async #loop(): Promise<void> {
    const i32 = this.#i32;
    const cb = this.#cb;
    for (;;) {
      const did = this.#turn();
      if (this.#stopping && this.#runningCount === 0) {
        await this.#disposeAll();
        return;
      }
      if (did) {
        if (this.#asyncPending > 0 || this.#mustYield()) await this.#host.yieldToEventLoop();
        continue;
      }
      // Spin phase: poll every source for a bounded, adaptive number of iterations.
      Atomics.store(i32, cb + CB_STATE, STATE_SPINNING);
      const budget = this.#asyncPending > 0 ? 0 : this.#spin.current;
      let found = false;
      for (let n = 0; n < budget; n++) {
        if (this.#hasWork()) {
          this.#spin.hit(n);
          found = true;
          break;
        }
        spinPause();
      }
      if (found) continue;
      if (budget > 0) this.#spin.miss();
      // Park: publish "parked" and the idle bit, re-check (Dekker pair with main's publish), then wait.
      const d = Atomics.load(i32, cb + CB_DOORBELL);
      Atomics.store(i32, cb + CB_PARKED, 1);
      const bit = 1 << (this.#init.slot & 31);
      Atomics.or(i32, POOL_IDLE_MASK_I32 + (this.#init.slot >> 5), bit);
      Atomics.store(i32, cb + CB_STATE, STATE_PARKED);
      if (!this.#hasWork()) {
        // Block (the fastest wake-up) unless something needs this thread's event loop: async work, timers
        // or I/O (Node sees them), a control message on its way (browsers have no synchronous pull).
        if (this.#asyncPending > 0 || this.#host.hasForeignWork() || performance.now() < this.#controlUntil) {
          await parkAsync(i32, cb + CB_DOORBELL, d, this.#init.parkTimeoutMs, () => this.#host.yieldToEventLoop());
        } else if (this.#host.syncControl) {
          Atomics.wait(i32, cb + CB_DOORBELL, d, this.#init.parkTimeoutMs);
        } else if (Atomics.wait(i32, cb + CB_DOORBELL, d, Math.min(PARK_SLICE_MS, this.#init.parkTimeoutMs)) === 'timed-out') {
          // Browsers cannot see the worker's timers and messages: block in slices, turning the event loop
          // between them (a blocked wake-up is about twice as fast as waitAsync's task, measured in Chromium).
          await this.#host.yieldToEventLoop();
        }
      }
      Atomics.and(i32, POOL_IDLE_MASK_I32 + (this.#init.slot >> 5), ~bit);
      Atomics.store(i32, cb + CB_PARKED, 0);
      Atomics.store(i32, cb + CB_STATE, STATE_RUNNING);
      Atomics.add(i32, cb + CB_HEARTBEAT, 1);
    }
  }

  /** Browsers: true when a busy loop must return to its event loop now (see CONTROL_YIELD_MS). */
  #mustYield(): boolean {
    if (this.#host.syncControl) return false;
    const now = performance.now();
    if (now < this.#controlUntil || now >= this.#nextYield) {
      this.#nextYield = now + BUSY_YIELD_MS;
      return true;
    }
    return false;
  }

  #hasWork(): boolean {
    const i32 = this.#i32;
    if (Atomics.load(i32, this.#cb + CB_COMMAND) !== 0) return true;
    if (Atomics.load(i32, this.#cb + CB_PROBE_SEQ) !== this.#lastProbe) return true;
    if (!this.#direct.isEmpty) return true;
    if (this.#stopping) return false;
    return this.#slotsUsed < this.#concurrency && this.#queue.hasWork();
  }

  /** One pass over every source. Returns true when it did anything. */
  #turn(): boolean {
    const i32 = this.#i32;
    const cb = this.#cb;
    let did = false;
    const cmd = Atomics.load(i32, cb + CB_COMMAND);
    if (cmd !== 0) {
      Atomics.and(i32, cb + CB_COMMAND, ~cmd);
      if (cmd & CMD_CONTROL) {
        this.#pullControl();
        // Without a synchronous pull the message arrives through the event loop: yield for a while.
        if (!this.#host.syncControl) this.#controlUntil = performance.now() + CONTROL_YIELD_MS;
      }
      if (cmd & CMD_STOP) this.#stopping = true;
      did = true;
    }
    if ((Atomics.load(i32, POOL_FLAGS_I32) & FLAG_SHUTDOWN) !== 0) this.#stopping = true;
    this.#answerProbe();
    if (this.#asyncPending > 0) this.#pollCancels();
    // Direct ring first, so member calls and pinned work are never starved by the shared queue.
    for (let off = this.#direct.next(); off >= 0; off = this.#direct.next()) {
      const type = this.#direct.type;
      const len = this.#direct.length;
      this.#handleDirect(type, off, len);
      this.#direct.advance();
      did = true;
    }
    if (did) this.#direct.release();
    // Shared queue: claim while there is room for more running jobs (bounded batch per turn). A command
    // (stop, control message) ends the batch, and a batch of long jobs publishes its results every
    // BATCH_PUBLISH_MS (checked every 4 jobs), so it neither delays a kill nor holds results back.
    let published = 0;
    for (let batch = 0; batch < 256 && !this.#stopping && this.#slotsUsed < this.#concurrency; batch++) {
      if (batch > 0 && Atomics.load(i32, cb + CB_COMMAND) !== 0) break;
      if (this.#queue.tryClaim() === 0) break;
      did = true;
      if (batch === 0) published = performance.now();
      this.#takeQueued();
      if ((batch & 3) === 3 && performance.now() - published >= BATCH_PUBLISH_MS) {
        this.#flush();
        published = performance.now();
      }
    }
    this.#flush();
    return did;
  }

  #answerProbe(): void {
    const ps = Atomics.load(this.#i32, this.#cb + CB_PROBE_SEQ);
    if (ps !== this.#lastProbe) {
      this.#lastProbe = ps;
      Atomics.store(this.#i32, this.#cb + CB_PROBE_ACK, ps);
    }
  }

  /** Publishes written results and rings main's doorbell once (design-notes R.6, worker → main). */
  #flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const i32 = this.#i32;
    this.#results.publish();
    // Running slots are cleared only after their results are published: a worker that dies in between
    // leaves its job either delivered or listed as running, never neither.
    for (const r of this.#toClear) Atomics.store(i32, this.#cb + CB_RUNNING + r, 0);
    this.#toClear.length = 0;
    Atomics.store(i32, this.#cb + CB_RUNNING_COUNT, this.#runningCount);
    const slot = this.#init.slot;
    Atomics.or(i32, POOL_DIRTY_MASK_I32 + (slot >> 5), 1 << (slot & 31));
    Atomics.add(i32, POOL_RESULTS_SEQ_I32, 1);
    if (Atomics.compareExchange(i32, POOL_MAIN_PARKED_I32, 1, 0) === 1) {
      // This worker won the wake token: the only one that pays for the notify.
      if (Atomics.notify(i32, POOL_RESULTS_SEQ_I32, 1) === 0) this.#host.post({ type: 'wake' });
    }
  }

  #waitForSpace = (bytes: number): void => {
    this.#dirty = true;
    this.#flush();
    this.#results.waitForSpace(bytes, 50);
  };

  // ---------------------------------------------------------------- running work

  /** Starts tracking a job or call; takes a shared running word when one is free (always for queue jobs). */
  #begin(id: number): Running {
    let r = -1;
    if (this.#slotsUsed < MAX_CONCURRENCY) {
      // A word freed since the last publish still names a job whose result is written but not published:
      // overwriting it would leave that job neither delivered nor listed as running if the thread died now
      // (crash recovery would never settle it). Take another free word; publish first when none is left.
      const slots = this.#slots;
      for (let k = 0; k < MAX_CONCURRENCY; k++) {
        if (slots[k] === undefined && !this.#toClear.includes(k)) {
          r = k;
          break;
        }
      }
      if (r < 0) {
        this.#flush();
        r = slots.indexOf(undefined);
      }
    }
    const running = new Running(this, id, r);
    this.#runningCount++;
    if (r >= 0) {
      this.#slots[r] = running;
      this.#slotsUsed++;
      Atomics.store(this.#i32, this.#cb + CB_RUNNING + r, id);
    }
    return running;
  }

  /** @internal */
  get index(): number {
    return this.#init.index;
  }

  /** @internal */
  allocate<C extends TypedArrayConstructor>(ctor: C, length: number): SharedTypedArray<C> & Disposable {
    return disposable(this.#arena, this.#arena.allocArray(ctor, length)) as unknown as SharedTypedArray<C> & Disposable;
  }

  /** @internal */
  release(array: ArrayBufferView): void {
    releaseView(this.#arena, array);
  }

  #takeQueued(): void {
    const q = this.#queue;
    const id = q.jobId;
    if (id === 0) {
      q.release(); // cancelled by main while queued
      return;
    }
    const r = this.#begin(id); // recorded as running before the cell is released
    this.#hist.wait(epochNow() - q.enqueueTime);
    let job: unknown;
    try {
      if (q.kind === KIND_ARENA) {
        const view = this.#arena.viewOf({ offset: q.arenaOffset, generation: q.arenaGen }, q.length);
        job = this.#codec.decode(view, 0, q.length);
      } else {
        job = this.#codec.decode(q.u8, q.payloadOffset, q.payloadOffset + q.length);
      }
    } catch (e) {
      if (e instanceof DecodeSuspend) {
        const bytes = q.kind === KIND_ARENA
          ? this.#arena.viewOf({ offset: q.arenaOffset, generation: q.arenaGen }, q.length).slice()
          : q.u8.slice(q.payloadOffset, q.payloadOffset + q.length);
        q.release();
        this.#runLater(r, bytes, 'job');
        return;
      }
      q.release();
      this.#finish(r, ORIGIN_JOB | ORIGIN_FLAG_INTERNAL, e, false);
      return;
    }
    q.release();
    this.#execute(r, job, 'job');
  }

  #runLater(r: Running, bytes: Uint8Array, kind: 'job' | 'invoke', memberId = 0): void {
    this.#asyncPending++;
    this.#codec.decodeAsync(bytes).then(
      (value) => {
        this.#asyncPending--;
        if (kind === 'job') this.#execute(r, value, 'job');
        else this.#invoke(r, memberId, value);
        this.#flush();
        this.#wakeSelf();
      },
      (error) => {
        this.#asyncPending--;
        this.#finish(r, (kind === 'job' ? ORIGIN_JOB : ORIGIN_INSTANCE) | ORIGIN_FLAG_INTERNAL, error, false);
        this.#flush();
        this.#wakeSelf();
      },
    );
  }

  #execute(r: Running, job: unknown, _kind: 'job'): void {
    if (job === null || typeof job !== 'object' || typeof (job as { execute?: unknown }).execute !== 'function') {
      this.#finish(r, ORIGIN_JOB | ORIGIN_FLAG_INTERNAL, new TypeError('the dispatched object has no execute() method'), false);
      return;
    }
    bindRuntime(job, r);
    let out: unknown;
    try {
      out = (job as { execute(): unknown }).execute();
    } catch (e) {
      unbindRuntime(job);
      this.#finish(r, ORIGIN_JOB, e, false);
      return;
    }
    if (isThenable(out)) {
      this.#asyncPending++;
      out.then(
        (v) => this.#settleAsync(r, job, ORIGIN_JOB, v, true),
        (e) => this.#settleAsync(r, job, ORIGIN_JOB, e, false),
      );
      return;
    }
    unbindRuntime(job);
    this.#finish(r, ORIGIN_JOB, out, true);
  }

  #settleAsync(r: Running, target: object, origin: number, value: unknown, ok: boolean): void {
    this.#asyncPending--;
    unbindRuntime(target);
    if (r.done) return;
    this.#finish(r, origin, value, ok);
    this.#flush();
    this.#wakeSelf();
  }

  /** Writes the result (or error) of running slot `r` and frees the slot. */
  #finish(running: Running, origin: number, value: unknown, ok: boolean): void {
    if (running.done) return;
    running.done = true;
    const id = running.id;
    this.#hist.run(performance.now() - running.started);
    if (running.coalesced !== undefined) this.#writeCoalesced(running, true); // the last report, before the result
    if (ok) {
      try {
        this.#write(REC_OK, [id], value, 'result', running.transfers);
      } catch (e) {
        // The user code ran and returned something that cannot be sent: its error (routed like one it
        // threw), saying so — not an internal failure, which main would word "could not run the job".
        ok = false;
        const what = (origin & 0xff) === ORIGIN_INSTANCE ? 'the member call ran' : 'the job ran';
        value = new WorkgroupException(`${what}, but its result could not be sent: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    if (!ok) {
      try {
        this.#write(REC_ERR, [id, origin], value, 'error');
      } catch (e) {
        this.#write(REC_ERR, [id, origin | ORIGIN_FLAG_INTERNAL], plainError(e), 'error');
      }
    }
    Atomics.add(this.#i32, this.#cb + (ok ? CB_JOBS_DONE : CB_JOBS_FAILED), 1);
    this.#runningCount--;
    if (running.runSlot >= 0) {
      this.#slots[running.runSlot] = undefined;
      this.#slotsUsed--;
      this.#toClear.push(running.runSlot);
    }
  }

  #write(type: number, words: readonly number[], value: unknown, root: string, transfer?: ReadonlySet<ArrayBuffer>): void {
    const codec = this.#codec;
    if (transfer !== undefined) codec.encodeHooks.transfer = transfer;
    try {
      codec.writeRecord(this.#results, this.#arena, type, words, value, root, this.#waitForSpace);
    } catch (e) {
      codec.outOfBand.abandon();
      throw e;
    } finally {
      if (transfer !== undefined) codec.encodeHooks.transfer = undefined;
    }
    this.#sendOutOfBand(transfer);
    this.#dirty = true;
  }

  /**
   * After a record is written (not yet published): posts the buffers it transfers — before main can see
   * the record — and leaves its arena copies to the record (main frees them when it decodes it).
   */
  #sendOutOfBand(transfer: Set<ArrayBuffer> | ReadonlySet<ArrayBuffer> | undefined): void {
    const oob = this.#codec.outOfBand;
    oob.takeBlocks();
    const moved = oob.takeTransfers();
    if (moved === undefined) return;
    for (const t of moved) {
      this.#host.post({ type: 'transfer', id: t.id, buffer: t.buffer }, [t.buffer]);
      (transfer as Set<ArrayBuffer> | undefined)?.delete(t.buffer);
    }
  }

  /**
   * `this.report(value)`. In order, before the result, published at once — and never slowing the job
   * down: while the result ring is short of room (main is not keeping up) a report is encoded aside and
   * only the latest one waits (older waiting ones are dropped, "coalesced"); it goes out when room
   * appears at a later report, or at the latest just before the result. A report whose value has
   * out-of-band parts (big binary payloads) is never dropped: it waits for room instead.
   */
  report(running: Running, value: unknown): void {
    if (running.done) return; // the job already finished
    const results = this.#results;
    if (this.#init.progress === 'all') {
      // Every report, in order: when the ring is full, #write waits for main to make room.
      this.#write(REC_PROGRESS, [running.id], value, 'progress', running.transfers);
      this.#publishProgress();
      return;
    }
    if (running.coalesced !== undefined && !this.#writeCoalesced(running, false)) {
      this.#coalesce(running, value);
      return;
    }
    if (results.free < results.capacity / REPORT_HEADROOM_DIVISOR) {
      this.#coalesce(running, value);
      return;
    }
    this.#write(REC_PROGRESS, [running.id], value, 'progress', running.transfers);
    this.#publishProgress();
  }

  /**
   * Publishes a report at once (so it arrives while a long job still runs), at the cost of one store
   * while main has not drained this ring since the last one: the dirty bit still set means main will read
   * the ring after it takes the bit, so it sees this record too (the store comes before the bit's load).
   * The full `#flush` (bit, results word, wake-up) runs only when the bit is clear.
   */
  #publishProgress(): void {
    this.#results.publish();
    const slot = this.#init.slot;
    if ((Atomics.load(this.#i32, POOL_DIRTY_MASK_I32 + (slot >> 5)) & (1 << (slot & 31))) !== 0) return;
    this.#flush();
  }

  /** Encodes a report aside as the one waiting for room (replacing an older waiting one). */
  #coalesce(running: Running, value: unknown): void {
    const codec = this.#codec;
    const w = codec.writer;
    const hooks = codec.encodeHooks;
    if (running.transfers !== undefined) hooks.transfer = running.transfers;
    try {
      w.beginScratch();
      w.raw(ID_PLACEHOLDER);
      encodeValue(w, value, hooks, 'progress');
    } finally {
      hooks.transfer = undefined;
    }
    const oob = codec.outOfBand;
    const blocks = oob.takeBlocks();
    const moved = oob.takeTransfers();
    if (blocks !== undefined || moved !== undefined || w.length > this.#results.maxPayload) {
      // Out-of-band parts, or too big for one record: never dropped — written now, waiting for room.
      for (const h of blocks ?? []) oob.freeQuietly(h);
      if (running.coalesced !== undefined) this.#writeCoalesced(running, true);
      this.#write(REC_PROGRESS, [running.id], value, 'progress', running.transfers);
      this.#flush();
      return;
    }
    const record = w.bytes().slice();
    writeWords(record, 0, [running.id]);
    running.coalesced = record;
  }

  /** Writes the waiting report of `running`; with `wait`, waits for room. False when there was none. */
  #writeCoalesced(running: Running, wait: boolean): boolean {
    const record = running.coalesced!;
    const results = this.#results;
    while (!results.tryWrite(REC_PROGRESS, record)) {
      if (!wait) return false;
      this.#waitForSpace(record.length + 16);
    }
    running.coalesced = undefined;
    this.#dirty = true;
    this.#publishProgress();
    return true;
  }

  /** @internal */
  signalFor(running: Running): AbortSignal {
    if (!running.controller) {
      const controller = new AbortController();
      running.controller = controller;
      const i32 = this.#i32;
      const word = running.runSlot >= 0 ? this.#cb + CB_CANCEL + running.runSlot : -1;
      const signal = controller.signal;
      const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
      const check = (): boolean => {
        if (word >= 0 && !nativeAborted.call(signal) && Atomics.load(i32, word) === running.id) {
          controller.abort(new DOMException('The job was cancelled by the caller', 'AbortError'));
        }
        return nativeAborted.call(signal) as boolean;
      };
      // `aborted` and `throwIfAborted()` read the shared cancel word, so a synchronous job that polls
      // them sees a cancel without returning to its event loop.
      Object.defineProperty(signal, 'aborted', { get: check, configurable: true });
      Object.defineProperty(signal, 'throwIfAborted', {
        value: () => {
          if (check()) throw signal.reason;
        },
        configurable: true,
      });
    }
    return running.controller.signal;
  }

  /** Aborts the signals of running jobs whose cancel word names them (checked each loop turn while async work runs). */
  #pollCancels(): void {
    for (const running of this.#slots) {
      if (running?.controller && Atomics.load(this.#i32, this.#cb + CB_CANCEL + running.runSlot) === running.id) {
        void running.controller.signal.aborted; // the getter aborts it
      }
    }
  }

  #wakeSelf(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    queueMicrotask(() => {
      this.#wakeScheduled = false;
      Atomics.add(this.#i32, this.#cb + CB_DOORBELL, 1);
      Atomics.notify(this.#i32, this.#cb + CB_DOORBELL);
    });
  }

  // ---------------------------------------------------------------- direct ring

  #handleDirect(type: number, off: number, len: number, u8: Uint8Array = this.#direct.u8): void {
    if (type === REC_SPILL) {
      // A record too big for the ring (main's lane backlog put it in the arena): read it there, then free.
      const handle = { offset: readWord(u8, off + 4) | 0, generation: readWord(u8, off + 8) | 0 };
      const total = readWord(u8, off + 12);
      const view = this.#arena.viewOf(handle, total);
      try {
        this.#handleDirect(readWord(u8, off), 0, total, view);
      } finally {
        this.#arena.free(handle);
      }
      return;
    }
    if (type === REC_JOB) {
      const id = readWord(u8, off);
      const enqueued = readF64(u8, off + 8);
      // Pinned jobs are accepted beyond `concurrency`: they were sent to this worker on purpose.
      const r = this.#begin(id);
      this.#hist.wait(epochNow() - enqueued);
      this.#decodeThen(r, u8, off + 16, off + len, 'job', 0);
    } else if (type === REC_INVOKE) {
      const id = readWord(u8, off);
      const memberId = readWord(u8, off + 4);
      const r = this.#begin(id);
      this.#decodeThen(r, u8, off + 8, off + len, 'invoke', memberId);
    } else if (type === REC_NOTIFY_REPLY) {
      const id = readWord(u8, off);
      const ok = readWord(u8, off + 4) === 1;
      const waiter = this.#notifies.get(id);
      if (!waiter) return;
      this.#notifies.delete(id);
      let value: unknown;
      try {
        value = this.#codec.decode(u8, off + 8, off + len);
      } catch (e) {
        waiter.reject(e);
        return;
      }
      if (ok) waiter.resolve(value);
      else waiter.reject(value);
    }
  }

  #decodeThen(r: Running, u8: Uint8Array, start: number, end: number, kind: 'job' | 'invoke', memberId: number): void {
    let value: unknown;
    try {
      value = this.#codec.decode(u8, start, end);
    } catch (e) {
      if (e instanceof DecodeSuspend) {
        this.#runLater(r, u8.slice(start, end), kind, memberId);
        return;
      }
      this.#finish(r, (kind === 'job' ? ORIGIN_JOB : ORIGIN_INSTANCE) | ORIGIN_FLAG_INTERNAL, e, false);
      return;
    }
    if (kind === 'job') this.#execute(r, value, 'job');
    else this.#invoke(r, memberId, value);
  }

  #invoke(r: Running, memberId: number, command: unknown): void {
    const member = this.#members.get(memberId);
    if (!member) {
      this.#finish(r, ORIGIN_INSTANCE | ORIGIN_FLAG_INTERNAL, new Error(`member ${memberId} is not registered on this worker`), false);
      return;
    }
    r.transfers = member.transfers;
    let out: unknown;
    try {
      out = member.instance.handle(command);
    } catch (e) {
      this.#finish(r, ORIGIN_INSTANCE, e, false);
      return;
    }
    if (isThenable(out)) {
      this.#asyncPending++;
      out.then(
        (v) => this.#settleMember(r, v, true),
        (e) => this.#settleMember(r, e, false),
      );
      return;
    }
    this.#finish(r, ORIGIN_INSTANCE, out, true);
  }

  #settleMember(r: Running, value: unknown, ok: boolean): void {
    this.#asyncPending--;
    if (r.done) return;
    this.#finish(r, ORIGIN_INSTANCE, value, ok);
    this.#flush();
    this.#wakeSelf();
  }

  /** @internal */
  notifyHost(command: unknown, memberId: number): Promise<unknown> {
    const id = this.#nextNotify++;
    return new Promise((resolve, reject) => {
      try {
        this.#write(REC_NOTIFY, [id, memberId], command, 'command');
      } catch (e) {
        reject(e);
        return;
      }
      this.#notifies.set(id, { resolve, reject });
      this.#asyncPending++;
      this.#flush();
    }).finally(() => {
      this.#asyncPending--;
    });
  }

  // ---------------------------------------------------------------- control plane

  /** Control messages pulled inside a decode and not applied there (see #awaitBuffer). */
  readonly #deferredControl: ControlToWorker[] = [];

  #pullControl(): void {
    while (this.#deferredControl.length > 0) this.#onControl(this.#deferredControl.shift()!);
    for (let m = this.#host.pullControl(); m; m = this.#host.pullControl()) this.#onControl(m);
  }

  /**
   * Inside a decode, a frame names a SharedArrayBuffer or a transferred buffer not seen yet: take the
   * waiting control messages now. Buffer messages apply at once; the others (they may decode, and a
   * decode is in progress) wait for the next turn, which the CMD_CONTROL bit asks for.
   */
  #awaitBuffer(_id: number): Promise<unknown> | undefined {
    let deferred = false;
    for (let m = this.#host.pullControl(); m; m = this.#host.pullControl()) {
      if (m.type === 'sab' || m.type === 'transfer') this.#onControl(m);
      else {
        this.#deferredControl.push(m);
        deferred = true;
      }
    }
    if (deferred) Atomics.or(this.#i32, this.#cb + CB_COMMAND, CMD_CONTROL);
    if (this.#host.syncControl) return undefined;
    return this.#host.yieldToEventLoop();
  }

  #onControl(m: ControlToWorker): void {
    switch (m.type) {
      case 'sab':
        this.#codec.addBuffer(m.id, m.buffer);
        break;
      case 'addMember':
        void this.#addMember(m.memberId, m.bytes);
        break;
      case 'destroyMember':
        void this.#destroyMember(m.memberId);
        break;
      case 'stop':
        this.#stopping = true;
        this.#wakeSelf();
        break;
      case 'transfer':
        this.#codec.outOfBand.receive(0, m.id, m.buffer);
        break;
    }
  }

  async #addMember(memberId: number, bytes: Uint8Array): Promise<void> {
    this.#asyncPending++;
    try {
      const instance = (await this.#codec.decodeAsync(bytes)) as MemberEntry['instance'];
      if (instance === null || typeof instance !== 'object' || typeof instance.handle !== 'function') {
        throw new TypeError('the member has no handle() method: extend WorkgroupMember');
      }
      const core = this;
      const transfers = new Set<ArrayBuffer>();
      bindRuntime(instance, {
        isolateIndex: this.#init.index,
        signal: new AbortController().signal,
        report: () => {},
        allocate: <C extends TypedArrayConstructor>(ctor: C, length: number) => core.allocate(ctor, length),
        release: (array) => core.release(array),
        transfer: (buffers) => void addTransfers(transfers, buffers),
        notifyHost: (command) => core.notifyHost(command, memberId),
      });
      this.#members.set(memberId, { instance, transfers });
      if (typeof instance.setup === 'function') await instance.setup();
      this.#host.post({ type: 'memberReady', memberId });
    } catch (error) {
      this.#members.delete(memberId);
      this.#host.post({ type: 'memberFailed', memberId, error: this.#encodeStandalone(error, 'error') });
    } finally {
      this.#asyncPending--;
      this.#wakeSelf();
    }
  }

  async #destroyMember(memberId: number): Promise<void> {
    const entry = this.#members.get(memberId);
    this.#members.delete(memberId);
    let error: Uint8Array | undefined;
    if (entry && typeof entry.instance.dispose === 'function') {
      this.#asyncPending++;
      try {
        await entry.instance.dispose();
      } catch (e) {
        error = this.#encodeStandalone(e, 'error');
      } finally {
        this.#asyncPending--;
      }
    }
    if (entry) unbindRuntime(entry.instance);
    this.#host.post(error ? { type: 'memberDisposed', memberId, error } : { type: 'memberDisposed', memberId });
  }

  async #disposeAll(): Promise<void> {
    for (const id of [...this.#members.keys()]) await this.#destroyMember(id);
  }

  /** Encodes a value into a fresh non-shared byte array (for control messages). */
  #encodeStandalone(value: unknown, root: string): Uint8Array {
    const w = this.#codec.writer;
    try {
      w.beginScratch();
      encodeValueSafe(w, value, this.#codec, root);
    } catch {
      w.beginScratch();
      encodeValueSafe(w, plainError(value), this.#codec, root);
    }
    return w.bytes().slice();
  }

  #reportUncaught(error: unknown): void {
    try {
      this.#write(REC_UNCAUGHT, [0, ORIGIN_UNKNOWN], error, 'error');
    } catch {
      this.#write(REC_UNCAUGHT, [0, ORIGIN_UNKNOWN], plainError(error), 'error');
    }
    this.#flush();
    // Main may be idle (no results loop running): a control message makes it drain now.
    this.#host.post({ type: 'wake' });
  }

  /** Exposed for the entry: called periodically while async work is pending. */
  pollCancels(): void {
    this.#pollCancels();
  }
}

import { encodeValue } from '../codec/codec.js';
function encodeValueSafe(w: WorkerCodec['writer'], value: unknown, codec: WorkerCodec, root: string): void {
  encodeValue(w, value, codec.encodeHooks, root);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

function plainError(e: unknown): Error {
  if (e instanceof Error) {
    const copy = new Error(e.message);
    copy.name = e.name;
    copy.stack = e.stack;
    return copy;
  }
  return new Error(String(e));
}


export { ORIGIN_INITIALIZATION };
