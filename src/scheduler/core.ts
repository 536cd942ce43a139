/**
 * The main-thread scheduler: owns the shared regions, the workers, the work in flight and the results
 * loop. The public classes in src/api are thin wrappers around it.
 *
 * Hot path (dispatch of a job to "any worker"): encode straight into the next cell of the shared queue
 * (or the arena when it does not fit), publish with one store, and — once per tick, for the whole batch —
 * wake at most as many parked workers as jobs were published. Results: workers publish into their result
 * rings and ring one doorbell word; main waits on it with `Atomics.waitAsync` (never blocking), drains
 * every ring flagged dirty, and settles the promises in a batch.
 */
import { encodeValue } from '../codec/codec.js';
import { DecodeSuspend, UnsendableError } from '../codec/errors.js';
import { Arena, createArenaBuffer, type ArenaHandle } from '../memory/arena.js';
import { CELL_INLINE_MAX, JobQueueProducer, KIND_ARENA, KIND_INLINE } from '../ring/job-queue.js';
import {
  CB_CLAIM_INTENT,
  CMD_STOP,
  FLAG_SHUTDOWN,
  MASK_WORDS,
  POOL_DIRTY_MASK_I32,
  POOL_FLAGS_I32,
  POOL_IDLE_MASK_I32,
  POOL_MAIN_PARKED_I32,
  POOL_RESULTS_SEQ_I32,
  STATE_SPINNING,
  controlBase,
  createPoolRegion,
} from '../ring/layout.js';
import {
  ORIGIN_FLAG_INTERNAL,
  ORIGIN_INSTANCE,
  ORIGIN_JOB,
  REC_ERR,
  REC_INVOKE,
  REC_JOB,
  REC_NOTIFY,
  REC_NOTIFY_REPLY,
  REC_OK,
  REC_PROGRESS,
  REC_SPILL,
  REC_UNCAUGHT,
  type ControlToMain,
} from '../ring/protocol.js';
import { RingCorruptError } from '../ring/spsc.js';
import { waitAsyncPromise } from '../ring/wait.js';
import { readWord, writeWords } from '../workers/worker-codec.js';
import {
  InvalidWorkgroupResponseException,
  WorkgroupException,
  WorkgroupInactiveException,
  WorkgroupIsolateError,
  WorkgroupJobAbortedException,
  WorkgroupMemberDeadException,
  WorkgroupMemberNotFoundException,
  WorkgroupNotReadyException,
  WorkgroupQueueFullException,
  WorkgroupSetupException,
  WorkgroupTimeoutException,
  combineStacks,
} from '../api/errors.js';
import type { ResolvedConfig } from '../api/config.js';
import { ErrorRouter, type IsolateErrorType } from './error-router.js';
import { MainCodec } from './main-codec.js';
import { explainImportError } from '../shared/import-errors.js';
import type { Pending } from './pending.js';
import type { Platform } from './platform.js';
import { EARLY_DEATH_MS, RESPAWN_LIMIT, RespawnGuard, type DeathFacts } from './respawn.js';
import { WorkerSlot } from './worker-slot.js';
import { detachUnsent, leakOptions, pickTransferTarget, transferSet } from './payloads.js';

export type WorkgroupState = 'idle' | 'active' | 'disposed';

export interface DispatchOptions {
  readonly isolate?: number;
  readonly signal?: AbortSignal;
  readonly timeout?: number;
  readonly onProgress?: (value: unknown) => void;
  readonly transfer?: readonly ArrayBuffer[];
}

export interface MemberRecord {
  readonly id: number;
  readonly worker: WorkerSlot;
  readonly onNotify: ((command: unknown) => unknown) | undefined;
  readonly invokes: Set<number>;
  state: 'starting' | 'ready' | 'destroying' | 'dead';
  deadReason: Error | undefined;
}

interface ControlWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

const MAIN_TICK_MS = 250;
const NOT_DECODED = Symbol('not decoded');

const ORIGIN = performance.timeOrigin;

/** Epoch milliseconds, comparable across threads (queue wait times). */
function now(): number {
  return ORIGIN + performance.now();
}

export class WorkgroupCore {
  readonly config: ResolvedConfig;
  readonly platform: Platform;
  readonly errors: ErrorRouter;
  state: WorkgroupState = 'idle';
  readonly #initialCount: number;
  #pool!: SharedArrayBuffer;
  #i32!: Int32Array;
  #queue!: JobQueueProducer;
  #queueIds!: Int32Array;
  #arena!: Arena;
  #codec!: MainCodec;
  readonly #workers = new Map<number, WorkerSlot>();
  readonly #bySlot: (WorkerSlot | undefined)[] = [];
  #nextIndex = 0;
  #nextId = 1;
  #nextMemberId = 1;
  readonly #pending = new Map<number, Pending>();
  /** Jobs waiting for room in the shared queue, FIFO. Their encoded bytes sit in one growable slab. */
  readonly #backlog: Pending[] = [];
  #backlogHead = 0;
  #slab = new Uint8Array(64 * 1024);
  #slabUsed = 0;
  readonly #members = new Map<number, MemberRecord>();
  readonly #memberWaiters = new Map<number, ControlWaiter>();
  readonly #destroyWaiters = new Map<number, ControlWaiter>();
  #kickScheduled = false;
  #publishedSinceKick = 0;
  #pumping = false;
  #refd = false;
  #launched = false;
  #shuttingDown: Promise<void> | undefined;
  readonly captureMainStack: boolean;
  /** Pending while the main thread imports the work modules during launch(). */
  #modulesReady: Promise<void> | undefined;
  /**
   * addIsolate() calls (the user's and respawns) run one after another, after launch: each reserves index
   * `isolatesCount` and commits it only once its worker is ready, so a failed one gives it back exactly.
   */
  #addChain: Promise<unknown> = Promise.resolve();
  readonly #respawn = new RespawnGuard();
  /**
   * Set by the health monitor when `checkBeforeDispatching` is on: resolves when `ws` may get work (fresh, or
   * it answered a probe), rejects when it did not answer; undefined when no probe is needed.
   */
  preflight: ((ws: WorkerSlot) => Promise<void> | undefined) | undefined;

  constructor(workerCount: number, config: ResolvedConfig, platform: Platform, captureMainStack = true) {
    this.#initialCount = workerCount;
    this.config = config;
    this.platform = platform;
    this.errors = new ErrorRouter(config.logger);
    this.captureMainStack = captureMainStack;
  }

  // ------------------------------------------------------------------ getters

  get isolatesCount(): number {
    return this.#nextIndex;
  }

  get liveIsolateCount(): number {
    let n = 0;
    for (const w of this.#workers.values()) if (w.live && w.index < this.#nextIndex) n++; // not a provisional addIsolate
    return n;
  }

  get memberCount(): number {
    let n = 0;
    for (const m of this.#members.values()) if (m.state === 'starting' || m.state === 'ready') n++;
    return n;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  get launched(): boolean {
    return this.#launched;
  }

  workers(): IterableIterator<WorkerSlot> {
    return this.#workers.values();
  }

  worker(index: number): WorkerSlot | undefined {
    return this.#workers.get(index);
  }

  get pool(): SharedArrayBuffer {
    return this.#pool;
  }

  get arena(): Arena {
    return this.#arena;
  }

  get codec(): MainCodec {
    return this.#codec;
  }

  /** Jobs queued and not yet taken by a worker (shared queue + backlog). */
  get queuedCount(): number {
    return (this.#queue ? this.#queue.size : 0) + (this.#backlog.length - this.#backlogHead);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Spawns the initial workers; resolves when all are ready (or rejects with the first setup failure). */
  launch(): Promise<void> {
    const first = !this.#launched && this.state !== 'disposed';
    const run = this.#launch();
    if (first) this.#addChain = run.catch(() => undefined); // addIsolate waits for the initial indices
    return run;
  }

  async #launch(): Promise<void> {
    if (this.state === 'disposed') throw new WorkgroupInactiveException('launch() after shutdown(): create a new IsolateWorkgroup');
    if (this.#launched) throw new WorkgroupException('launch() was already called on this workgroup');
    this.#launched = true;
    this.state = 'active';
    const c = this.config;
    this.#pool = createPoolRegion(c.maxWorkers, c.queueCapacity);
    this.#i32 = new Int32Array(this.#pool);
    this.#queue = new JobQueueProducer(this.#pool);
    this.#queueIds = new Int32Array(c.queueCapacity);
    this.#arena = new Arena(createArenaBuffer({ initialBytes: c.arenaInitialBytes, maxBytes: c.arenaMaxBytes, maxOwners: c.maxWorkers + 1 }), 0, leakOptions(c));
    this.#codec = new MainCodec(this.#pool, this.#arena);
    this.#codec.outOfBand.awaitInbox = (slot) => this.#pullControl(slot);
    this.#codec.introduce = (id, buffer) => {
      for (const w of this.#workers.values()) {
        if (!w.live) continue;
        w.handle?.post({ type: 'sab', id, buffer });
        w.signalControl();
      }
    };
    // Main imports the work modules too: it must know their classes to send them. Work dispatched
    // meanwhile waits for this (in order), then goes to the queue that the workers drain once ready.
    const modulesReady = Promise.all(c.modules.map((url) => this.#codec.registry.load(url))).then(
      () => {
        this.#modulesReady = undefined;
      },
      (error: unknown) => {
        const url = c.modules.find((u) => !this.#codec.registry.isLoaded(u)) ?? c.modules[0];
        const explained = explainImportError(error);
        throw new WorkgroupSetupException(-1, `the main thread could not import work module ${url}: ${(explained as Error)?.message ?? explained}`, { cause: explained });
      },
    );
    this.#modulesReady = modulesReady;
    await modulesReady;
    const failures: WorkgroupSetupException[] = [];
    const start = async (): Promise<void> => {
      const index = this.#nextIndex++;
      try {
        await this.#startWorker(index, undefined);
      } catch (e) {
        if (!this.#workers.get(index)?.killed) failures.push(e as WorkgroupSetupException); // kill() during launch is no failure
      }
    };
    if (c.startupPolicy === 'sequential') {
      for (let i = 0; i < this.#initialCount; i++) await start();
    } else {
      await Promise.all(Array.from({ length: this.#initialCount }, start));
    }
    if (this.state !== 'active') throw new WorkgroupInactiveException('the workgroup was shut down while it launched');
    if (failures.length > 0) {
      failures.sort((a, b) => a.isolateIndex - b.isolateIndex);
      if (this.errors.has('initialization')) {
        for (const f of failures) this.errors.fire('initialization', f, { isolateIndex: f.isolateIndex });
      } else {
        throw failures[0];
      }
    }
    this.#updateRefs();
  }

  /** Spawns one worker at `index`; resolves when it is ready, rejects with WorkgroupSetupException. */
  #startWorker(index: number, label: string | undefined): Promise<WorkerSlot> {
    const c = this.config;
    const slot = this.#freeSlot();
    if (slot < 0) return Promise.reject(new WorkgroupException(`all ${c.maxWorkers} worker slots are in use: raise \`maxWorkers\``));
    const name = label ?? c.labelBuilder(index);
    const ws = new WorkerSlot(index, slot, name, this.#pool, c.directRingBytes, c.resultRingBytes);
    this.#workers.set(index, ws);
    this.#bySlot[slot] = ws;
    const cb = controlBase(slot);
    Atomics.store(this.#i32, cb + CB_CLAIM_INTENT, -1);
    const ready = new Promise<WorkerSlot>((resolve, reject) => {
      ws.readyWaiter = { resolve: () => resolve(ws), reject };
    });
    ws.handle = this.platform.spawn(
      {
        label: name,
        workerOptions: c.workerOptions,
        init: {
          type: 'init',
          pool: this.#pool,
          lane: ws.lane,
          arena: this.#arena.sab,
          slot,
          index,
          label: name,
          modules: c.modules,
          concurrency: c.concurrency,
          spinIterations: c.spinIterations,
          parkTimeoutMs: c.parkTimeoutMs,
          progress: c.progress,
          sharedBuffers: this.#codec.knownBuffers(),
        },
      },
      {
        message: (m) => this.#onControl(ws, m),
        exit: (code, error) => this.#onExit(ws, code, error),
      },
    );
    return ready;
  }

  #freeSlot(): number {
    for (let s = 0; s < this.config.maxWorkers; s++) if (this.#bySlot[s] === undefined) return s;
    return -1;
  }

  /** Rejects everything pending (or drains first), stops every worker, resolves when all threads exited. */
  shutdown(drain: boolean): Promise<void> {
    if (this.#shuttingDown) return this.#shuttingDown;
    const wasLaunched = this.#launched;
    this.#shuttingDown = (async () => {
      if (drain && wasLaunched) {
        this.state = 'disposed';
        while (this.#pending.size > 0 && this.liveIsolateCount > 0) await this.#waitForSettle();
      }
      this.state = 'disposed';
      const aborted = (what: string) => new WorkgroupJobAbortedException(`the workgroup was shut down - ${what} cancelled`);
      for (const p of [...this.#pending.values()]) this.#settleErr(p, aborted(p.kind === 'job' ? 'job' : 'request'), false);
      for (const [id, w] of [...this.#memberWaiters]) {
        this.#memberWaiters.delete(id);
        w.reject(aborted('instance creation'));
      }
      if (!wasLaunched) return;
      Atomics.or(this.#i32, POOL_FLAGS_I32, FLAG_SHUTDOWN);
      const exits: Promise<void>[] = [];
      for (const w of this.#workers.values()) {
        if (w.exited) continue;
        if (w.state === 'starting') w.readyWaiter?.reject(new WorkgroupInactiveException('the workgroup was shut down while this worker started'));
        // A busy worker is terminated at once (its work was just rejected); an idle one stops
        // cooperatively, so it can run its members' dispose().
        const busy = w.isBusy();
        w.state = 'stopping';
        w.command(CMD_STOP);
        w.handle?.ref();
        exits.push(this.#stopWorker(w, busy ? 0 : 2000));
      }
      await Promise.all(exits);
      for (const [id, w] of [...this.#destroyWaiters]) {
        this.#destroyWaiters.delete(id);
        w.resolve();
      }
    })();
    return this.#shuttingDown;
  }

  /** Waits for a cooperative stop, then terminates; resolves once the thread has exited. */
  async #stopWorker(w: WorkerSlot, graceMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const stopped = await Promise.race([w.exitedPromise.then(() => false), timedOut]);
    clearTimeout(timer);
    if (stopped || !w.exited) await w.handle?.terminate();
    await w.exitedPromise;
  }

  #settleWaiters: Array<() => void> = [];

  #waitForSettle(): Promise<void> {
    return new Promise((resolve) => this.#settleWaiters.push(resolve));
  }

  #notifySettled(): void {
    if (this.#settleWaiters.length === 0) return;
    const list = this.#settleWaiters;
    this.#settleWaiters = [];
    for (const f of list) f();
  }

  // ------------------------------------------------------------------ dispatch

  /** Checks the state for a new job or call; returns the error to reject with, if any. */
  checkAccepting(): Error | undefined {
    if (this.state === 'disposed') return new WorkgroupInactiveException('the workgroup was shut down: it accepts no new work');
    if (!this.#launched) return new WorkgroupNotReadyException('call launch() before dispatching work');
    return undefined;
  }

  captureSite(): { stack?: string } | undefined {
    if (!this.captureMainStack) return undefined;
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, this.captureSite);
    return site;
  }

  dispatch(job: unknown, options: DispatchOptions | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    const refused = this.checkAccepting();
    if (refused) return Promise.reject(refused);
    const waitFor = this.#modulesReady ?? this.#classesToLoad(job);
    if (waitFor) return waitFor.then(() => this.#dispatchNow(job, options, site, true));
    return this.#dispatchNow(job, options, site, false);
  }

  /**
   * Imports the modules that classes in `value` declare with `static module = import.meta.url` and that
   * are not loaded yet. Looks at the top-level class only (the common case, no walk); nested classes
   * are found after an encode refusal (see #dispatchNow).
   */
  #classesToLoad(value: unknown): Promise<unknown> | undefined {
    if (value === null || typeof value !== 'object') return undefined;
    const ctor = (value as object).constructor;
    if (typeof ctor !== 'function' || this.#codec.registry.idOf(ctor) !== undefined) return undefined;
    const url = this.#codec.registry.pendingModuleOf(ctor);
    return url === undefined ? undefined : this.#codec.registry.load(url);
  }

  /** Walks a value for classes whose declared module is not loaded yet; loads them all. */
  #loadNestedClasses(value: unknown): Promise<unknown> | undefined {
    const urls = new Set<string>();
    const seen = new Set<object>();
    const visit = (v: unknown, depth: number): void => {
      if (v === null || typeof v !== 'object' || seen.has(v) || depth > 64) return;
      seen.add(v);
      const ctor = (v as object).constructor;
      if (typeof ctor === 'function' && this.#codec.registry.idOf(ctor) === undefined) {
        const url = this.#codec.registry.pendingModuleOf(ctor);
        if (url) urls.add(url);
      }
      if (v instanceof Map) for (const [k, x] of v) (visit(k, depth + 1), visit(x, depth + 1));
      else if (v instanceof Set) for (const x of v) visit(x, depth + 1);
      else if (!ArrayBuffer.isView(v)) for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k], depth + 1);
    };
    visit(value, 0);
    if (urls.size === 0) return undefined;
    return Promise.all([...urls].map((u) => this.#codec.registry.load(u)));
  }

  #dispatchNow(job: unknown, options: DispatchOptions | undefined, site: { stack?: string } | undefined, retried: boolean): Promise<unknown> {
    const refused = this.checkAccepting();
    if (refused) return Promise.reject(refused);
    const isolate = options?.isolate ?? -1;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal, 'job'));
    if (typeof job !== 'object' || job === null || typeof (job as { execute?: unknown }).execute !== 'function') {
      return Promise.reject(new TypeError(`dispatch() expects a WorkgroupJob instance (an object with an execute() method), got ${describeValue(job)}`));
    }
    let target: WorkerSlot | undefined;
    const transfer = options?.transfer === undefined ? undefined : transferSet(options.transfer);
    if (transfer instanceof Error) return Promise.reject(transfer);
    if (isolate !== -1) {
      const t = this.resolveIndex(isolate);
      if (t instanceof Error) return Promise.reject(t);
      target = t;
    } else if (transfer) {
      // A transferred buffer can move to one thread only: the job is placed now, not queued for any worker.
      target = pickTransferTarget(this.#workers.values());
      if (!target) return Promise.reject(new WorkgroupMemberDeadException(-1, 'no live worker can take a job with `transfer`'));
    } else if (this.config.maxQueue !== Infinity && this.queuedCount >= this.config.maxQueue) {
      return Promise.reject(new WorkgroupQueueFullException(`the job queue is full (maxQueue ${this.config.maxQueue}): wait for jobs to finish or raise \`maxQueue\``));
    }
    const id = this.#allocId();
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const p: Pending = {
      id,
      kind: 'job',
      resolve,
      reject,
      site,
      onProgress: options?.onProgress,
      memberId: 0,
      worker: undefined,
      queuePos: -1,
      bytes: undefined,
      backlogOff: -1,
      backlogLen: 0,
      arena: undefined,
      cleanup: undefined,
      cancelled: false,
      blobs: undefined,
      chain: undefined,
    };
    const oob = this.#codec.outOfBand;
    oob.takeBlocks(); // (blocks of earlier control-message frames belong to those frames)
    try {
      if (transfer) this.#sendWithTransfer(target!, p, job, transfer);
      else if (target) this.#sendToLane(target, p, REC_JOB, [id, 0], job, 'job', true);
      else this.#enqueue(p, job);
    } catch (e) {
      oob.abandon();
      const nested = !retried && e instanceof UnsendableError ? this.#loadNestedClasses(job) : undefined;
      if (nested) return nested.then(() => this.#dispatchNow(job, options, site, true));
      return Promise.reject(this.#sendError(e));
    }
    p.blobs = oob.takeBlocks();
    this.#pending.set(id, p);
    this.#armCancellation(p, signal, options?.timeout, 'dispatch');
    this.#scheduleKick();
    return promise;
  }

  #allocId(): number {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0x7ffffffe ? 1 : this.#nextId + 1;
    return id;
  }

  #sendError(e: unknown): Error {
    if (e instanceof UnsendableError) return new WorkgroupException(e.message, { cause: e });
    if (e instanceof Error) return e;
    return new WorkgroupException(String(e));
  }

  /** Encodes a job into the next shared-queue cell (or the backlog when the queue is full). */
  #enqueue(p: Pending, job: unknown): void {
    const q = this.#queue;
    const codec = this.#codec;
    const w = codec.writer;
    const off = this.#backlogHead === this.#backlog.length ? q.reserve() : -1;
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
      this.#queueIds[p.queuePos & (q.capacity - 1)] = p.id;
      this.#publishedSinceKick++;
      return;
    }
    // Queue full: encode into the backlog slab (no allocation per job); #refill copies it into a cell.
    w.begin(this.#slab, this.#slabUsed, this.#slab.length);
    encodeValue(w, job, codec.encodeHooks, 'job');
    const len = w.length;
    if (w.spilled) {
      const body = w.bytes();
      this.#growSlab(len);
      this.#slab.set(body, this.#slabUsed);
    }
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
  #refill(): void {
    const q = this.#queue;
    const u8 = q.u8;
    const slab = this.#slab;
    const stamp = now(); // one timestamp per batch
    const mask = q.capacity - 1;
    while (this.#backlogHead < this.#backlog.length) {
      const p = this.#backlog[this.#backlogHead]!;
      if ((p.bytes === undefined && p.backlogOff < 0) || !this.#pending.has(p.id)) {
        this.#backlogHead++;
        continue;
      }
      const off = q.reserve();
      if (off < 0) break;
      const len = p.bytes ? p.bytes.length : p.backlogLen;
      if (len <= CELL_INLINE_MAX) {
        if (p.bytes) u8.set(p.bytes, off);
        else {
          // A byte loop beats TypedArray#set for the few dozen bytes of a typical job.
          const from = p.backlogOff;
          for (let i = 0; i < len; i++) u8[off + i] = slab[from + i]!;
        }
        p.queuePos = q.commit(p.id, len, KIND_INLINE, 0, 0, stamp);
      } else {
        const bytes = p.bytes ?? slab.subarray(p.backlogOff, p.backlogOff + len);
        const handle = this.#arena.alloc(len);
        this.#arena.viewOf(handle, len).set(bytes);
        p.arena = handle;
        p.queuePos = q.commit(p.id, len, KIND_ARENA, handle.offset, handle.generation, stamp);
      }
      this.#queueIds[p.queuePos & mask] = p.id;
      p.bytes = undefined;
      p.backlogOff = -1;
      this.#backlogHead++;
      this.#publishedSinceKick++;
    }
    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog.length = 0;
      this.#backlogHead = 0;
      this.#slabUsed = 0;
    } else if (this.#backlogHead > 65536 && this.#backlogHead * 2 > this.#backlog.length) {
      this.#backlog.splice(0, this.#backlogHead); // amortised: only when the consumed half dominates
      this.#backlogHead = 0;
    }
  }

  /**
   * Writes a record into a worker's direct ring: header words, an optional f64 (enqueue time, for jobs)
   * and the encoded value. A full ring keeps the record in the worker's backlog (sent when it drains).
   */
  #sendToLane(ws: WorkerSlot, p: Pending | undefined, type: number, words: number[], value: unknown, root: string, withTime: boolean): void {
    const ring = ws.direct;
    const codec = this.#codec;
    const w = codec.writer;
    const head = withTime ? 16 : words.length * 4;
    if (ws.backlog.length === 0) {
      const off = ring.reserveFlexible(head + 32);
      if (off >= 0) {
        w.begin(ring.u8, off + head, off + ring.limit);
        encodeValue(w, value, codec.encodeHooks, root);
        if (!w.spilled) {
          this.#writeHead(ring.u8, off, words, withTime);
          ring.commit(type, head + w.length);
          ring.publish();
          if (p) {
            p.worker = ws;
            ws.laneWork.add(p.id);
          }
          ws.wake();
          return;
        }
      } else {
        w.beginScratch();
        encodeValue(w, value, codec.encodeHooks, root);
      }
    } else {
      w.beginScratch();
      encodeValue(w, value, codec.encodeHooks, root);
    }
    const body = w.bytes();
    const bytes = new Uint8Array(head + body.length);
    this.#writeHead(bytes, 0, words, withTime);
    bytes.set(body, head);
    if (p) {
      p.worker = ws;
      ws.laneWork.add(p.id);
    }
    ws.backlog.push({ type, bytes });
    this.#flushLane(ws);
  }

  #writeHead(u8: Uint8Array, off: number, words: number[], withTime: boolean): void {
    writeWords(u8, off, words);
    if (withTime) new DataView(u8.buffer, u8.byteOffset + off + 8, 8).setFloat64(0, now(), true);
  }

  /** Sends a worker's backlog records while its direct ring has room (big ones through the arena). */
  #flushLane(ws: WorkerSlot): void {
    const ring = ws.direct;
    let sent = false;
    while (ws.backlog.length > 0) {
      const item = ws.backlog[0]!;
      if (item.bytes.length <= ring.maxPayload) {
        if (!ring.tryWrite(item.type, item.bytes)) break;
      } else {
        const handle = this.#arena.alloc(item.bytes.length);
        this.#arena.viewOf(handle, item.bytes.length).set(item.bytes);
        const spill = new Uint8Array(16);
        writeWords(spill, 0, [item.type, handle.offset, handle.generation, item.bytes.length]);
        if (!ring.tryWrite(REC_SPILL, spill)) {
          this.#arena.free(handle);
          break;
        }
      }
      ws.backlog.shift();
      sent = true;
    }
    if (sent) ws.wake();
  }

  /** Once per tick: wake as many parked workers as jobs were published, and make sure results are awaited. */
  #scheduleKick(): void {
    if (this.#kickScheduled) return;
    this.#kickScheduled = true;
    queueMicrotask(this.#kickTask);
  }

  readonly #kickTask = (): void => {
    this.#kickScheduled = false;
    this.#updateRefs();
    this.#kick();
    this.#pump();
  };

  #kick(): void {
    let n = this.#publishedSinceKick;
    this.#publishedSinceKick = 0;
    if (n === 0 || !this.#queue) return;
    this.#queue.mirror();
    const i32 = this.#i32;
    // Spinning workers take new jobs within microseconds: wake parked ones only for the rest (a notify
    // to a sleeping thread costs main 10-20 us).
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
        const ws = this.#bySlot[word * 32 + (31 - Math.clz32(bit))];
        if (ws && ws.state === 'ready') {
          ws.wake();
          n--;
        }
      }
    }
  }

  // ------------------------------------------------------------------ results loop

  /** Waits for results while anything is outstanding; never blocks the event loop. */
  #pump(): void {
    if (this.#pumping || this.#pending.size === 0) return;
    this.#pumping = true;
    void this.#pumpLoop();
  }

  async #pumpLoop(): Promise<void> {
    const i32 = this.#i32;
    const spinMicros = this.config.mainSpinMicros;
    try {
      while (this.#pending.size > 0 && this.#launched) {
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
        this.#supervise();
      }
    } finally {
      this.#pumping = false;
      this.#updateRefs();
    }
  }

  /** Rung by a worker's 'wake' message while main waits without `Atomics.waitAsync`. */
  #doorbell: (() => void) | undefined;

  /**
   * Waits until the results word moves from `seq` (or MAIN_TICK_MS): `Atomics.waitAsync` where the main
   * thread has it; elsewhere the message doorbell — a worker that finds no waiter to notify posts 'wake'.
   */
  #waitForResults(seq: number): Promise<unknown> {
    if (this.platform.hasWaitAsync) return waitAsyncPromise(this.#i32, POOL_RESULTS_SEQ_I32, seq, MAIN_TICK_MS);
    return new Promise<void>((resolve) => {
      const ring = (): void => {
        clearTimeout(timer);
        this.#doorbell = undefined;
        resolve();
      };
      const timer = setTimeout(ring, MAIN_TICK_MS);
      this.platform.unrefTimer(timer);
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

  /** Drains every result ring flagged dirty, settles promises, refills the queue. */
  drain(): void {
    const i32 = this.#i32;
    // Refill first: cells free up as soon as workers claim jobs, so they get more before main settles results.
    if (this.#backlogHead < this.#backlog.length) {
      this.#refill();
      this.#kick();
    }
    for (let word = 0; word < MASK_WORDS; word++) {
      let bits = Atomics.exchange(i32, POOL_DIRTY_MASK_I32 + word, 0);
      while (bits !== 0) {
        const bit = bits & -bits;
        bits &= ~bit;
        const ws = this.#bySlot[word * 32 + (31 - Math.clz32(bit))];
        if (ws) this.#drainWorker(ws);
      }
    }
    if (this.#backlogHead < this.#backlog.length) this.#refill();
    for (const ws of this.#workers.values()) if (ws.backlog.length > 0 && ws.live) this.#flushLane(ws);
    this.#kick();
    this.#updateRefs();
  }

  #drainWorker(ws: WorkerSlot): void {
    const c = ws.results;
    let any = false;
    try {
      for (let off = c.next(); off >= 0; off = c.next()) {
        this.#handleRecord(ws, c.type, c.u8, off, c.length);
        c.advance();
        any = true;
      }
    } catch (e) {
      if (e instanceof RingCorruptError) {
        this.errors.fire('communication', new InvalidWorkgroupResponseException(`worker #${ws.index} sent a corrupt frame: ${e.message}`, { cause: e }), { isolateIndex: ws.index });
        void ws.handle?.terminate();
        return;
      }
      throw e;
    } finally {
      if (any && c.release()) c.notifyProducer();
    }
  }

  #handleRecord(ws: WorkerSlot, type: number, u8: Uint8Array, off: number, len: number): void {
    switch (type) {
      case REC_OK:
      case REC_ERR:
      case REC_PROGRESS: {
        const id = readWord(u8, off);
        const p = this.#pending.get(id);
        if (!p || p.cancelled) {
          if (p && type !== REC_PROGRESS) this.#forget(p);
          this.#decodeThen(ws, u8, off + (type === REC_ERR ? 8 : 4), off + len, ignore); // frees its out-of-band payloads
          return; // a late answer to something already settled: ignored
        }
        if (type === REC_OK && p.chain === undefined) {
          // Hot path: decode in place and settle, no closure.
          let value: unknown;
          try {
            value = this.#codec.decode(u8, off + 4, off + len, ws.slot);
          } catch {
            value = NOT_DECODED;
          }
          if (value !== NOT_DECODED) {
            this.#settleOk(p, value);
            return;
          }
        }
        const start = off + (type === REC_ERR ? 8 : 4);
        const origin = type === REC_ERR ? readWord(u8, off + 4) : 0;
        this.#decodeInOrder(p, ws, u8, start, off + len, (value, failed) => {
          if (failed) {
            this.#settleErr(p, new InvalidWorkgroupResponseException(`could not decode the answer of worker #${ws.index}: ${(value as Error)?.message}`, { cause: value }), true, 'communication', ws);
          } else if (type === REC_OK) this.#settleOk(p, value);
          else if (type === REC_ERR) this.#settleFromWorker(p, value, origin, ws);
          else if (p.onProgress) {
            try {
              p.onProgress(value);
            } catch (e) {
              this.errors.fire('unknown', e, { isolateIndex: ws.index, jobId: p.id });
            }
          }
        });
        return;
      }
      case REC_NOTIFY: {
        const notifyId = readWord(u8, off);
        const memberId = readWord(u8, off + 4);
        this.#decodeThen(ws, u8, off + 8, off + len, (command, failed) => {
          if (failed) return this.#replyNotify(ws, notifyId, false, command);
          void this.#answerNotify(ws, notifyId, memberId, command);
        });
        return;
      }
      case REC_UNCAUGHT: {
        this.#decodeThen(ws, u8, off + 8, off + len, (error) => {
          this.errors.fire('unknown', error, { isolateIndex: ws.index });
        });
        return;
      }
      case REC_SPILL: {
        const inner = readWord(u8, off);
        const handle: ArenaHandle = { offset: readWord(u8, off + 4) | 0, generation: readWord(u8, off + 8) | 0 };
        const total = readWord(u8, off + 12);
        let view: Uint8Array;
        try {
          view = this.#arena.viewOf(handle, total);
        } catch (e) {
          this.errors.fire('communication', new InvalidWorkgroupResponseException(`worker #${ws.index} sent a bad arena handle`, { cause: e }), { isolateIndex: ws.index });
          return;
        }
        // Decode from a private copy: the block is freed right away.
        const copy = view.slice();
        this.#arena.free(handle);
        this.#handleRecord(ws, inner, copy, 0, total);
        return;
      }
      default:
        this.errors.fire('communication', new InvalidWorkgroupResponseException(`worker #${ws.index} sent an unknown record type ${type}`), { isolateIndex: ws.index });
    }
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

  /**
   * Inside a decode: takes a worker's waiting control messages now (Node: receiveMessageOnPort), so that a
   * transferred buffer the frame names is there. Buffer messages apply at once; the others run right after
   * (they may decode, and a decode is in progress).
   */
  #pullControl(slot: number): undefined {
    const ws = this.#bySlot[slot];
    const handle = ws?.handle;
    if (!ws || handle?.pull === undefined) return undefined;
    for (let m = handle.pull(); m !== undefined; m = handle.pull()) {
      const msg = m;
      if (msg.type === 'transfer' || msg.type === 'sab') this.#onControl(ws, msg);
      else queueMicrotask(() => this.#onControl(ws, msg));
    }
    return undefined;
  }

  /**
   * A job with `transfer`: encoded aside, its transferred buffers posted to the worker's control port (which
   * detaches them) before the frame that names them is published through the worker's lane.
   */
  #sendWithTransfer(ws: WorkerSlot, p: Pending, job: unknown, transfer: ReadonlySet<ArrayBuffer>): void {
    const codec = this.#codec;
    const w = codec.writer;
    codec.encodeHooks.transfer = transfer;
    try {
      w.beginScratch();
      encodeValue(w, job, codec.encodeHooks, 'job');
    } finally {
      codec.encodeHooks.transfer = undefined;
    }
    const body = w.bytes();
    const bytes = new Uint8Array(16 + body.length);
    this.#writeHead(bytes, 0, [p.id, 0], true);
    bytes.set(body, 16);
    const moved = codec.outOfBand.takeTransfers() ?? [];
    for (const t of moved) ws.handle?.post({ type: 'transfer', id: t.id, buffer: t.buffer }, [t.buffer]);
    detachUnsent(transfer, new Set(moved.map((t) => t.buffer)));
    p.worker = ws;
    ws.laneWork.add(p.id);
    ws.backlog.push({ type: REC_JOB, bytes });
    this.#flushLane(ws);
  }

  #forget(p: Pending): void {
    this.#pending.delete(p.id);
    this.#release(p);
    this.#notifySettled();
  }

  #release(p: Pending): void {
    p.cleanup?.();
    p.cleanup = undefined;
    if (p.blobs) {
      // Out-of-band copies of its frame that no worker decoded (cancelled while queued, worker gone).
      for (const h of p.blobs) this.#codec.outOfBand.freeIfStillLive(h);
      p.blobs = undefined;
    }
    if (p.arena) {
      try {
        this.#arena.free(p.arena);
      } catch {
        // already reclaimed
      }
      p.arena = undefined;
    }
    p.worker?.laneWork.delete(p.id);
    if (p.memberId) this.#members.get(p.memberId)?.invokes.delete(p.id);
  }

  #settleOk(p: Pending, value: unknown): void {
    if (!this.#pending.delete(p.id)) return;
    this.#release(p);
    p.resolve(value);
    this.#notifySettled();
  }

  /** Rejects `p`. With `route`, the matching error handler fires first. */
  #settleErr(p: Pending, error: unknown, route: boolean, type?: Exclude<IsolateErrorType, 'all'>, ws?: WorkerSlot): void {
    if (!this.#pending.delete(p.id)) return;
    this.#release(p);
    if (route && type) this.errors.fire(type, error, { isolateIndex: ws?.index ?? -1, jobId: p.id });
    p.reject(error);
    this.#notifySettled();
  }

  #settleFromWorker(p: Pending, raw: unknown, origin: number, ws: WorkerSlot): void {
    const internal = (origin & ORIGIN_FLAG_INTERNAL) !== 0;
    const kind = origin & 0xff;
    let error = raw;
    if (internal) {
      const msg = raw instanceof Error ? raw.message : String(raw);
      error = new WorkgroupException(`worker #${ws.index} could not ${kind === ORIGIN_INSTANCE ? 'complete the call' : 'run the job'}: ${msg}`, { cause: raw });
    } else if (!(raw instanceof Error)) {
      error = new WorkgroupIsolateError(raw, ws.index, `${p.kind === 'job' ? 'job' : 'member'} threw a non-Error value: ${describeValue(raw)}`);
    }
    combineStacks(error, p.site?.stack);
    this.#settleErr(p, error, true, internal ? 'communication' : kind === ORIGIN_INSTANCE ? 'instance' : kind === ORIGIN_JOB ? 'job' : 'unknown', ws);
  }

  // ------------------------------------------------------------------ cancellation

  #armCancellation(p: Pending, signal: AbortSignal | undefined, timeout: number | undefined, operation: string): void {
    if (signal === undefined && timeout === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => this.#cancel(p, abortError(signal!, p.kind === 'job' ? 'job' : 'request'));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      if (!(typeof timeout === 'number' && timeout >= 0 && timeout < 2 ** 31)) {
        throw new RangeError(`expected \`timeout\` to be a number of ms in 0..2^31, got ${String(timeout)}`);
      }
      timer = setTimeout(() => this.#cancel(p, new WorkgroupTimeoutException(operation, timeout, p.kind === 'job' ? 'the job did not finish in time' : 'the member did not answer in time')), timeout);
    }
    p.cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
  }

  /** Cancels a pending job or call: removed if still queued, else cooperative cancel then terminate after a grace. */
  #cancel(p: Pending, reason: Error): void {
    if (!this.#pending.has(p.id)) return;
    if (p.bytes !== undefined || p.backlogOff >= 0) {
      p.bytes = undefined; // still in the backlog: the refill skips it
      p.backlogOff = -1;
      this.#settleErr(p, reason, false);
      return;
    }
    if (p.queuePos >= 0 && p.worker === undefined && this.#queue.tryCancel(p.id, p.queuePos)) {
      this.#settleErr(p, reason, false);
      return;
    }
    // Running (or taken): tell the job through its shared cancel word, reject now, and give it a grace.
    const ws = p.worker ?? this.#findRunner(p.id);
    if (ws) {
      const r = ws.runningSlotOf(p.id);
      if (r >= 0) Atomics.store(this.#i32, controlBase(ws.slot) + 4 + r, p.id);
      ws.wake();
      this.#graceThenReplace(ws, p.id);
    }
    p.cancelled = true;
    this.#pending.delete(p.id);
    p.cleanup?.();
    p.cleanup = undefined;
    p.reject(reason);
    // keep lane bookkeeping until the late answer arrives or the worker is replaced
    this.#pending.set(p.id, p);
    this.#notifySettled();
  }

  #findRunner(id: number): WorkerSlot | undefined {
    for (const ws of this.#workers.values()) if (ws.live && ws.runningSlotOf(id) >= 0) return ws;
    return undefined;
  }

  #graceThenReplace(ws: WorkerSlot, id: number): void {
    const timer = setTimeout(() => {
      const p = this.#pending.get(id);
      if (!p || !ws.live || this.state !== 'active') return;
      if (ws.runningSlotOf(id) < 0 && !ws.laneWork.has(id)) return;
      this.config.logger.warn?.(`isolate-workgroup: worker #${ws.index} ignored a cancel for ${this.config.cancelGraceMs} ms: terminating and replacing it`);
      ws.exitReason = `a cancelled job ignored its cancel for ${this.config.cancelGraceMs} ms, so the worker was terminated and replaced`;
      ws.replaceOnExit = true;
      void ws.handle?.terminate();
    }, this.config.cancelGraceMs);
    this.platform.unrefTimer(timer);
  }

  // ------------------------------------------------------------------ members

  async addInstance(member: unknown, isolate: number | undefined, onNotify: ((c: unknown) => unknown) | undefined): Promise<MemberRecord> {
    const refused = this.checkAccepting();
    if (refused) throw refused;
    if (typeof member !== 'object' || member === null || typeof (member as { handle?: unknown }).handle !== 'function') {
      throw new TypeError(`addInstance() expects a WorkgroupMember instance (an object with a handle() method), got ${describeValue(member)}`);
    }
    if (onNotify !== undefined && typeof onNotify !== 'function') throw new TypeError(`expected \`onNotify\` to be a function, got ${describeValue(onNotify)}`);
    let ws: WorkerSlot | undefined;
    if (isolate !== undefined && isolate !== -1) {
      const t = this.resolveIndex(isolate);
      if (t instanceof Error) throw t;
      ws = t;
      await this.preflight?.(ws);
    } else {
      // With checkBeforeDispatching, a stale pick is probed first; one that does not answer is skipped.
      const skip = new Set<WorkerSlot>();
      for (;;) {
        ws = this.#placeMember(skip);
        const check = this.preflight?.(ws);
        if (!check) break;
        try {
          await check;
          break;
        } catch {
          skip.add(ws);
        }
      }
    }
    if (!ws.live) throw this.resolveIndex(ws.index); // it died while probed
    const bytes = this.encodeStandalone(member, 'member');
    const id = this.#nextMemberId++;
    const rec: MemberRecord = { id, worker: ws, onNotify, invokes: new Set(), state: 'starting', deadReason: undefined };
    this.#members.set(id, rec);
    ws.members.add(id);
    const done = new Promise<void>((resolve, reject) => this.#memberWaiters.set(id, { resolve, reject }));
    ws.handle?.post({ type: 'addMember', memberId: id, bytes });
    ws.signalControl();
    ws.setupsInFlight++; // a worker inside a member's setup() is busy, not hung (health)
    this.#updateRefs();
    try {
      await done;
    } catch (e) {
      this.#members.delete(id);
      ws.members.delete(id);
      throw e;
    } finally {
      ws.setupsInFlight--;
      this.#updateRefs();
    }
    rec.state = 'ready';
    return rec;
  }

  /** The live worker with the fewest members (ties: lowest index); ready and healthy ones first. */
  #placeMember(skip: ReadonlySet<WorkerSlot>): WorkerSlot {
    let ws: WorkerSlot | undefined;
    for (const w of this.#workers.values()) {
      if (!w.live || w.state !== 'ready' || w.confirmedDead || skip.has(w) || w.index >= this.#nextIndex) continue;
      if (!ws || w.members.size < ws.members.size) ws = w;
    }
    if (!ws) {
      for (const w of this.#workers.values()) {
        if (!w.live || w.confirmedDead || skip.has(w) || w.index >= this.#nextIndex) continue;
        if (!ws || w.members.size < ws.members.size) ws = w;
      }
    }
    if (!ws) throw new WorkgroupMemberDeadException(-1, `no live worker can take the member (live indices: ${this.#liveIndices()})`);
    return ws;
  }

  /** Encodes into a fresh non-shared array (control messages). */
  encodeStandalone(value: unknown, root: string): Uint8Array {
    const w = this.#codec.writer;
    try {
      w.beginScratch();
      encodeValue(w, value, this.#codec.encodeHooks, root);
    } catch (e) {
      throw this.#sendError(e);
    }
    return w.bytes().slice();
  }

  invoke(memberId: number, command: unknown, options: { signal?: AbortSignal; timeout?: number } | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    if (this.preflight) {
      const rec = this.#members.get(memberId);
      const check = rec && rec.state === 'ready' && this.state === 'active' ? this.preflight(rec.worker) : undefined;
      if (check) return check.then(() => this.#invokeNow(memberId, command, options, site)); // checkBeforeDispatching: probe a stale worker first
    }
    return this.#invokeNow(memberId, command, options, site);
  }

  #invokeNow(memberId: number, command: unknown, options: { signal?: AbortSignal; timeout?: number } | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    const refused = this.checkAccepting();
    if (refused) return Promise.reject(refused);
    const rec = this.#members.get(memberId);
    if (!rec || rec.state === 'destroying') return Promise.reject(new WorkgroupMemberNotFoundException(`member ${memberId} is not registered (destroyed or never added)`));
    if (rec.state === 'dead') return Promise.reject(rec.deadReason ?? new WorkgroupMemberDeadException(rec.worker.index, 'its worker is gone'));
    if (options?.signal?.aborted) return Promise.reject(abortError(options.signal, 'request'));
    const id = this.#allocId();
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const p: Pending = {
      id, kind: 'invoke', resolve, reject, site, onProgress: undefined, memberId, worker: undefined,
      queuePos: -1, bytes: undefined, backlogOff: -1, backlogLen: 0, arena: undefined, cleanup: undefined, cancelled: false,
      blobs: undefined, chain: undefined,
    };
    const oob = this.#codec.outOfBand;
    oob.takeBlocks();
    try {
      this.#sendToLane(rec.worker, p, REC_INVOKE, [id, memberId], command, 'command', false);
    } catch (e) {
      oob.abandon();
      return Promise.reject(this.#sendError(e));
    }
    p.blobs = oob.takeBlocks();
    rec.invokes.add(id);
    this.#pending.set(id, p);
    this.#armCancellation(p, options?.signal, options?.timeout, 'invoke');
    this.#scheduleKick();
    return promise;
  }

  async destroyInstance(memberId: number): Promise<void> {
    const rec = this.#members.get(memberId);
    if (!rec) throw new WorkgroupMemberNotFoundException(`member ${memberId} is not registered (destroyed or never added)`);
    if (rec.state === 'starting') {
      // Wait for its setup to finish first, so the worker never keeps a half-made member.
      await new Promise<void>((resolve) => {
        const w = this.#memberWaiters.get(memberId);
        if (!w) return resolve();
        this.#memberWaiters.set(memberId, { resolve: () => (w.resolve(), resolve()), reject: (e) => (w.reject(e), resolve()) });
      });
    }
    const aborted = new WorkgroupMemberNotFoundException(`member ${memberId} was destroyed - request cancelled`);
    for (const id of [...rec.invokes]) {
      const p = this.#pending.get(id);
      if (p) this.#settleErr(p, aborted, false);
    }
    this.#members.delete(memberId);
    rec.worker.members.delete(memberId);
    if (rec.state === 'dead' || !rec.worker.live) return;
    rec.state = 'destroying';
    const done = new Promise<void>((resolve, reject) => this.#destroyWaiters.set(memberId, { resolve, reject }));
    rec.worker.disposing.add(memberId); // settled by #onExit if the worker dies before it answers
    rec.worker.handle?.post({ type: 'destroyMember', memberId });
    rec.worker.signalControl();
    rec.worker.ref();
    try {
      await done;
    } finally {
      rec.worker.disposing.delete(memberId);
      this.#updateRefs();
    }
  }

  async #answerNotify(ws: WorkerSlot, notifyId: number, memberId: number, command: unknown): Promise<void> {
    const rec = this.#members.get(memberId);
    if (!rec?.onNotify) {
      this.#replyNotify(ws, notifyId, false, new WorkgroupException(`member ${memberId} called notifyHost(), but addInstance() was given no onNotify handler: pass { onNotify: (command) => answer }`));
      return;
    }
    try {
      const answer = await rec.onNotify(command);
      this.#replyNotify(ws, notifyId, true, answer);
    } catch (e) {
      this.#replyNotify(ws, notifyId, false, e);
    }
  }

  #replyNotify(ws: WorkerSlot, notifyId: number, ok: boolean, value: unknown): void {
    if (!ws.live) return;
    try {
      this.#sendToLane(ws, undefined, REC_NOTIFY_REPLY, [notifyId, ok ? 1 : 0], value, ok ? 'answer' : 'error', false);
    } catch (e) {
      this.#sendToLane(ws, undefined, REC_NOTIFY_REPLY, [notifyId, 0], this.#sendError(e), 'error', false);
    }
  }

  // ------------------------------------------------------------------ control plane

  #onControl(ws: WorkerSlot, m: ControlToMain): void {
    switch (m.type) {
      case 'ready':
        if (ws.state === 'starting') ws.state = 'ready';
        ws.lastKnownGood = ws.readyAt = Date.now();
        ws.readyWaiter?.resolve();
        ws.readyWaiter = undefined;
        this.#updateRefs();
        this.#kick();
        return;
      case 'setupFailed': {
        ws.state = 'failed';
        const cause = this.#decodeStandalone(m.error, ws);
        const msg = cause instanceof Error ? cause.message : String(cause);
        const err = new WorkgroupSetupException(ws.index, msg, { cause });
        ws.readyWaiter?.reject(err);
        ws.readyWaiter = undefined;
        return;
      }
      case 'memberReady': {
        const w = this.#memberWaiters.get(m.memberId);
        this.#memberWaiters.delete(m.memberId);
        w?.resolve();
        return;
      }
      case 'memberFailed': {
        const w = this.#memberWaiters.get(m.memberId);
        this.#memberWaiters.delete(m.memberId);
        const error = this.#decodeStandalone(m.error, ws);
        const rec = this.#members.get(m.memberId);
        combineStacks(error, undefined);
        if (rec) this.errors.fire('instance', error, { isolateIndex: ws.index, memberId: m.memberId });
        w?.reject(error);
        return;
      }
      case 'memberDisposed': {
        const w = this.#destroyWaiters.get(m.memberId);
        this.#destroyWaiters.delete(m.memberId);
        if (m.error) {
          const error = this.#decodeStandalone(m.error, ws);
          this.errors.fire('instance', error, { isolateIndex: ws.index, memberId: m.memberId });
          w?.reject(error);
        } else w?.resolve();
        return;
      }
      case 'wake':
        if (this.#doorbell) this.#doorbell(); // the results loop drains
        else this.drain();
        return;
      case 'sab':
        this.#codec.addWorkerBuffer(ws.slot, m.id, m.buffer);
        return;
      case 'transfer':
        this.#codec.outOfBand.receive(ws.slot, m.id, m.buffer);
        return;
    }
  }

  #decodeStandalone(bytes: Uint8Array, ws: WorkerSlot): unknown {
    try {
      return this.#codec.decode(bytes, 0, bytes.length, ws.slot);
    } catch (e) {
      return new InvalidWorkgroupResponseException(`could not decode a message of worker #${ws.index}`, { cause: e });
    }
  }

  // ------------------------------------------------------------------ failures and resizing

  /** Validates a worker index for dispatch/addInstance/kill; returns the worker or the error. */
  resolveIndex(index: number): WorkerSlot | WorkgroupException {
    if (!Number.isInteger(index) || index < 0 || index >= this.#nextIndex) {
      const range = this.#nextIndex === 0 ? 'There are no workers yet' : `Valid indices are 0...${this.#nextIndex - 1}`;
      return new WorkgroupException(`Invalid isolate index ${String(index)}. ${range}`);
    }
    const ws = this.#workers.get(index);
    if (ws?.confirmedDead) {
      return new WorkgroupMemberDeadException(index, `it failed ${ws.consecutiveFailures} health probes in a row and is replaced: use another index (live indices: ${this.#liveIndices()})`);
    }
    if (!ws || !ws.live) {
      return new WorkgroupException(`Isolate at index ${index} does not exist or has already been removed (live indices: ${this.#liveIndices()})`);
    }
    return ws;
  }

  #liveIndices(): string {
    const live: number[] = [];
    for (const w of this.#workers.values()) if (w.live && w.index < this.#nextIndex) live.push(w.index);
    return live.join(', ') || 'none';
  }

  /** Why a resize (addIsolate/kill) cannot run now, if it cannot. */
  #refuseResize(what: string): WorkgroupException | undefined {
    if (this.state === 'disposed') return new WorkgroupInactiveException(`Cannot ${what} - workgroup has been shut down`);
    if (!this.#launched) return new WorkgroupNotReadyException(`Cannot ${what} - workgroup is not active: call launch() first`);
    return undefined;
  }

  /** Starts a new worker at index `isolatesCount`; resolves with the index once its setup ran. */
  addIsolate(label: string | undefined): Promise<number> {
    const refused = this.#refuseResize('add isolate');
    if (refused) return Promise.reject(refused);
    this.#respawn.reset(); // the user adds a worker on purpose: replacing crashed ones may resume
    return this.#enqueueAdd(label);
  }

  #enqueueAdd(label: string | undefined): Promise<number> {
    const run = this.#addChain.then(() => this.#addOne(label));
    this.#addChain = run.catch(() => undefined);
    return run;
  }

  async #addOne(label: string | undefined): Promise<number> {
    const refused = this.#refuseResize('add isolate');
    if (refused) throw refused;
    // Reserved, not yet counted: no other add runs now, and isolatesCount rises only when the worker is ready.
    const index = this.#nextIndex;
    try {
      await this.#startWorker(index, label);
    } catch (e) {
      // Roll back: no thread, no state, no index consumed.
      const ws = this.#workers.get(index);
      if (ws) {
        await ws.handle?.terminate();
        await ws.exitedPromise;
        this.#workers.delete(index);
      }
      throw e;
    }
    this.#nextIndex = index + 1;
    this.#updateRefs();
    return index;
  }

  /** Removes worker `index` for good: its running work is rejected, queued jobs stay for the others. */
  async kill(index: number): Promise<void> {
    const refused = this.#refuseResize('kill isolate');
    if (refused) throw refused;
    const t = this.resolveIndex(index);
    if (t instanceof Error) throw t;
    t.killed = true;
    t.state = 'stopping';
    t.handle?.ref();
    await t.handle?.terminate();
    await t.exitedPromise;
  }

  /** Terminates a worker the workgroup gave up on (unresponsive); #onExit rejects its work with `reason` and replaces it. */
  retire(ws: WorkerSlot, reason: string): void {
    if (ws.exited) return;
    ws.exitReason = reason;
    ws.replaceOnExit = true;
    ws.state = 'stopping';
    ws.handle?.ref();
    void ws.handle?.terminate();
  }

  /**
   * A worker's thread exited (crash, process.exit, out of memory, kill, terminate from outside, shutdown).
   * Order matters: deliver what it published, give the queue cells it claimed but never started back,
   * reject what it held, then free its slot. Runs once per worker (the platform reports exit once).
   */
  #onExit(ws: WorkerSlot, code: number | undefined, error: unknown): void {
    const serving = ws.readyAt > 0 && ws.index < this.#nextIndex;
    // A crash is a death nobody asked for; kill(), shutdown, replacements and failed setups are reported elsewhere.
    const crashed = serving && !ws.killed && !ws.replaceOnExit && this.state !== 'disposed' && ws.state !== 'stopping' && ws.state !== 'failed';
    ws.state = ws.state === 'failed' ? 'failed' : 'dead';
    ws.markDeadInSharedMemory();
    const i32 = this.#i32;
    Atomics.and(i32, POOL_IDLE_MASK_I32 + (ws.slot >> 5), ~(1 << (ws.slot & 31)));
    // 1. Everything it published is still valid: deliver it.
    try {
      this.#drainWorker(ws);
    } catch {
      // a corrupt ring from a dying worker: what is left is rejected below
    }
    // 2. Work it held: what it started (running words) and what was sent to its lane.
    const index = ws.index;
    const why = ws.exitReason ?? `the worker ${describeExit(code, error)}`;
    const cause = error ? { cause: error } : undefined;
    const reason = (what: 'job' | 'request' | 'instance creation'): Error =>
      ws.killed
        ? new WorkgroupJobAbortedException(`Isolate #${index} was killed - ${what} cancelled`)
        : new WorkgroupMemberDeadException(index, `${why} - ${what} cancelled`, cause);
    const running = ws.runningIds();
    const held = new Set<number>([...running, ...ws.laneWork]);
    const facts = { readyAt: ws.readyAt, now: Date.now(), finished: ws.finishedCount(), running: running.length };
    // 3. Shared queue: cells it claimed but never started go back to the queue.
    if (this.#queue) this.#repairQueue(ws, held);
    for (const id of held) {
      const p = this.#pending.get(id);
      if (p) this.#settleErr(p, reason(p.kind === 'job' ? 'job' : 'request'), false);
    }
    // 4. Its members (and members whose dispose() it had not answered: destroyInstance resolves, they are gone).
    for (const memberId of ws.disposing) {
      const d = this.#destroyWaiters.get(memberId);
      this.#destroyWaiters.delete(memberId);
      d?.resolve();
    }
    for (const memberId of ws.members) {
      const rec = this.#members.get(memberId);
      if (!rec) continue;
      const waiter = this.#memberWaiters.get(memberId);
      if (waiter) {
        this.#memberWaiters.delete(memberId);
        waiter.reject(reason('instance creation'));
        this.#members.delete(memberId);
        continue;
      }
      if (ws.killed) this.#members.delete(memberId);
      else {
        rec.state = 'dead';
        rec.deadReason = reason('request');
      }
      const d = this.#destroyWaiters.get(memberId);
      if (d) {
        this.#destroyWaiters.delete(memberId);
        d.resolve();
      }
    }
    ws.members.clear();
    ws.backlog.length = 0;
    ws.readyWaiter?.reject(
      ws.killed
        ? new WorkgroupSetupException(index, 'it was killed before it was ready')
        : new WorkgroupSetupException(index, `${why} before it was ready`, cause),
    );
    ws.readyWaiter = undefined;
    // 5. Its arena blocks, its shared words, its slot.
    try {
      this.#arena?.reclaimOwner(ws.slot + 1);
      this.#codec?.forgetWorker(ws.slot);
    } catch (e) {
      this.config.logger.warn?.(`isolate-workgroup: could not reclaim the arena blocks of worker #${index}`, e);
    }
    if (this.#i32) ws.resetControlBlock();
    this.#bySlot[ws.slot] = undefined;
    ws.markExited();
    // 6. Report a crash once, and replace the worker.
    if (crashed) this.errors.fire('communication', new WorkgroupMemberDeadException(index, why, cause), { isolateIndex: index });
    if ((crashed || (ws.replaceOnExit && serving)) && this.config.respawn && this.state === 'active') this.#scheduleRespawn(index, facts);
    this.#updateRefs();
    this.#notifySettled();
  }

  /** Gives the queue cells a dead worker claimed but never started back to the front of the queue. */
  #repairQueue(dead: WorkerSlot, held: ReadonlySet<number>): void {
    const q = this.#queue;
    const requeue: Pending[] = [];
    // Every thread still running may hold a claim (also one being killed): read after dequeuePos (see repairStuck).
    const intents = (): Set<number> => {
      const live = new Set<number>();
      for (const w of this.#workers.values()) if (w !== dead && !w.exited) live.add(w.claimIntent());
      return live;
    };
    q.repairStuck(intents, (pos) => {
      const id = this.#queueIds[pos & (q.capacity - 1)]!;
      const p = this.#pending.get(id);
      if (!p || held.has(id)) return; // settled already, or it started: rejected by the caller
      if (p.cancelled) {
        this.#forget(p); // cancelled while the dead worker held the cell: never run it
        return;
      }
      const off = q.cellPayloadOffset(pos);
      if (!p.arena) p.bytes = q.u8.slice(off, off + Math.min(CELL_INLINE_MAX, this.#cellLength(pos)));
      else {
        p.bytes = this.#arena.viewOf(p.arena, this.#cellLength(pos)).slice();
        this.#arena.free(p.arena);
        p.arena = undefined;
      }
      p.queuePos = -1;
      requeue.push(p);
    });
    if (requeue.length > 0) {
      this.#backlog.splice(this.#backlogHead, 0, ...requeue);
      this.#refill();
      this.#scheduleKick();
    }
  }

  /** Replaces a crashed worker (new index), backing off and then stopping when replacements die at start-up. */
  #scheduleRespawn(index: number, facts: DeathFacts): void {
    const decision = this.#respawn.onDeath(facts);
    if (decision.kind === 'give-up') {
      if (decision.earlyDeaths === RESPAWN_LIMIT) {
        this.errors.fire(
          'communication',
          new WorkgroupMemberDeadException(
            index,
            `${decision.earlyDeaths} workers in a row died within ${EARLY_DEATH_MS} ms of starting, before finishing any work: ` +
              'the workgroup stops replacing crashed workers until addIsolate() is called (look for a work module whose setup() leaves something behind that kills the thread)',
          ),
          { isolateIndex: index },
        );
      }
      return;
    }
    const go = (): void => {
      if (this.state !== 'active') return;
      this.#enqueueAdd(undefined).catch((e: unknown) => {
        if (this.state === 'active') this.errors.fire('initialization', e, { isolateIndex: -1 });
      });
    };
    if (decision.delayMs === 0) go();
    else this.platform.unrefTimer(setTimeout(go, decision.delayMs));
  }

  #cellLength(pos: number): number {
    const i32off = (this.#queue.cellPayloadOffset(pos) - 32) / 4;
    return this.#i32[i32off + 2]!;
  }

  /** Health supervision tick (runs with the results loop). */
  #supervise(): void {
    this.onTick?.();
  }

  onTick: (() => void) | undefined;

  // ------------------------------------------------------------------ process lifetime

  /** Workers are ref'd while work is outstanding (a pending waitAsync alone does not keep Node alive). */
  #updateRefs(): void {
    const want = this.#pending.size > 0 || this.#memberWaiters.size > 0 || this.#destroyWaiters.size > 0 || this.#anyStarting();
    if (want === this.#refd) return;
    this.#refd = want;
    for (const w of this.#workers.values()) {
      if (w.exited) continue;
      if (want) w.handle?.ref();
      else w.handle?.unref();
    }
    if (want) this.#pump();
  }

  #anyStarting(): boolean {
    for (const w of this.#workers.values()) if (w.state === 'starting' && !w.exited) return true;
    return false;
  }
}

function ignore(): void {}

function abortError(signal: AbortSignal, what: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof WorkgroupException) return reason;
  return new WorkgroupJobAbortedException(`the ${what} was aborted by its signal${reason instanceof Error ? `: ${reason.message}` : ''}`, { cause: reason });
}

function describeExit(code: number | undefined, error: unknown): string {
  if (error instanceof Error) return `crashed (${error.name}: ${error.message})`;
  if (code !== undefined) return `exited with code ${code}`;
  return 'died';
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return `a function${v.name ? ` (${v.name})` : ''}`;
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name;
    return name && name !== 'Object' ? `an instance of ${name}` : 'a plain object';
  }
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}
