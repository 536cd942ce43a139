/**
 * Scheduler layer 2: dispatch — encoding jobs into the shared queue (or its backlog) and worker lanes,
 * waking parked workers once per tick, and cancellation (abort signals, timeouts, grace then replace).
 */
import { encodeValue } from '../codec/codec.js';
import { UnsendableError } from '../codec/errors.js';
import { CELL_INLINE_MAX, KIND_ARENA, KIND_INLINE } from '../ring/job-queue.js';
import { MASK_WORDS, POOL_IDLE_MASK_I32, STATE_SPINNING, controlBase } from '../ring/layout.js';
import { REC_JOB, REC_SPILL } from '../ring/protocol.js';
import { writeWords } from '../workers/worker-codec.js';
import { WorkgroupException, WorkgroupInactiveException, WorkgroupMemberDeadException, WorkgroupNotReadyException, WorkgroupQueueFullException, WorkgroupTimeoutException, withCallerStack } from '../api/errors.js';
import { waitWithin } from '../api/deadline.js';
import { createPending, type Pending } from './pending.js';
import { WorkerSlot } from './worker-slot.js';
import { pickTransferTarget, transferSet } from './payloads.js';
import { type DispatchOptions, now, abortError, describeValue } from './core-shared.js';
import { WorkgroupCoreBase } from './core-base.js';

export abstract class WorkgroupCoreDispatch extends WorkgroupCoreBase {
  // ------------------------------------------------------------------ dispatch

  /** Jobs dispatched that wait for the import of a module before they can be encoded. */
  protected _loadingJobs = 0;

  /** Queued + running jobs + pending invokes, and jobs waiting for their module. */
  override get pendingCount(): number {
    return super.pendingCount + this._loadingJobs;
  }

  /** Checks the state for a new job or call; returns the error to reject with, if any. */
  checkAccepting(): Error | undefined {
    if (this.state === 'disposed') return new WorkgroupInactiveException('the workgroup was shut down: it accepts no new work');
    if (!this._launched) return new WorkgroupNotReadyException('call launch() before dispatching work');
    return this._noWorkers;
  }

  /** Wraps a call's promise so a worker error gets the caller's await chain as its main stack (mode 'await'). */
  withStack<T>(promise: Promise<T>): Promise<T> {
    return this.captureMainStack === 'await' ? withCallerStack(promise) : promise;
  }

  captureSite(): { stack?: string } | undefined {
    if (this.captureMainStack !== 'eager') return undefined;
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, this.captureSite);
    return site;
  }

  dispatch(job: unknown, options: DispatchOptions | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    const refused = this.checkAccepting();
    if (refused) return Promise.reject(refused);
    const waitFor = this._modulesReady ?? this._classesToLoad(job);
    // The timeout and signal hold while the job waits for a module too (counted from this call), and the
    // job counts as pending meanwhile.
    if (waitFor) {
      this._loadingJobs++;
      return waitWithin(waitFor, options, 'dispatch', 'job').then(
        (o) => {
          this._loadingJobs--;
          return this._dispatchNow(job, o, site, true);
        },
        (e: unknown) => {
          this._loadingJobs--;
          throw e;
        },
      );
    }
    return this._dispatchNow(job, options, site, false);
  }

  /**
   * Imports the modules that classes in `value` declare with `static module = import.meta.url` and that
   * are not loaded yet. Looks at the top-level class only (the common case, no walk); nested classes
   * are found after an encode refusal (see _dispatchNow).
   */
  protected _classesToLoad(value: unknown): Promise<unknown> | undefined {
    if (value === null || typeof value !== 'object') return undefined;
    const ctor = (value as object).constructor;
    if (typeof ctor !== 'function' || this._codec.registry.idOf(ctor) !== undefined) return undefined;
    const url = this._codec.registry.pendingModuleOf(ctor);
    return url === undefined ? undefined : this._codec.registry.load(url);
  }

  /** Walks a value for classes whose declared module is not loaded yet; loads them all. */
  protected _loadNestedClasses(value: unknown): Promise<unknown> | undefined {
    const urls = new Set<string>();
    const seen = new Set<object>();
    const visit = (v: unknown, depth: number): void => {
      if (v === null || typeof v !== 'object' || seen.has(v) || depth > 64) return;
      seen.add(v);
      const ctor = (v as object).constructor;
      if (typeof ctor === 'function' && this._codec.registry.idOf(ctor) === undefined) {
        const url = this._codec.registry.pendingModuleOf(ctor);
        if (url) urls.add(url);
      }
      if (v instanceof Map) for (const [k, x] of v) (visit(k, depth + 1), visit(x, depth + 1));
      else if (v instanceof Set) for (const x of v) visit(x, depth + 1);
      else if (!ArrayBuffer.isView(v)) for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k], depth + 1);
    };
    visit(value, 0);
    if (urls.size === 0) return undefined;
    return Promise.all([...urls].map((u) => this._codec.registry.load(u)));
  }

  protected _dispatchNow(job: unknown, options: DispatchOptions | undefined, site: { stack?: string } | undefined, retried: boolean): Promise<unknown> {
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
      target = pickTransferTarget(this._workers.values());
      if (!target) return Promise.reject(new WorkgroupMemberDeadException(-1, 'no live worker can take a job with `transfer`'));
    } else if (this.config.maxQueue !== Infinity && this.queuedCount >= this.config.maxQueue) {
      return Promise.reject(new WorkgroupQueueFullException(`the job queue is full (maxQueue ${this.config.maxQueue}): wait for jobs to finish or raise \`maxQueue\``));
    }
    const id = this._allocId();
    const { p, promise } = createPending(id, 'job', site, options?.onProgress, 0);
    const error = this._sendTracked(p, () => {
      if (transfer) this._sendWithTransfer(target!, p, job, transfer);
      else if (target) this._sendToLane(target, p, REC_JOB, [id, 0], job, 'job', true);
      else this._enqueue(p, job);
    });
    if (error) {
      const nested = !retried && error instanceof UnsendableError ? this._loadNestedClasses(job) : undefined;
      if (nested) return nested.then(() => this._dispatchNow(job, options, site, true));
      return Promise.reject(this._sendError(error));
    }
    this._pending.set(id, p);
    this._armCancellation(p, signal, options?.timeout, 'dispatch');
    this._scheduleKick();
    return promise;
  }

  /**
   * Runs an encode-and-send for `p`, keeping the out-of-band blocks its frame took (freed when `p`
   * settles). Returns the error when the send failed (then nothing was sent and the blocks are freed).
   */
  protected _sendTracked(p: Pending, send: () => void): unknown {
    const oob = this._codec.outOfBand;
    oob.takeBlocks(); // (blocks of earlier control-message frames belong to those frames)
    try {
      send();
    } catch (e) {
      oob.abandon();
      return e;
    }
    p.blobs = oob.takeBlocks();
    return undefined;
  }

  protected _allocId(): number {
    const id = this._nextId;
    this._nextId = this._nextId >= 0x7ffffffe ? 1 : this._nextId + 1;
    return id;
  }

  protected _sendError(e: unknown): Error {
    if (e instanceof UnsendableError) return new WorkgroupException(e.message, { cause: e });
    if (e instanceof Error) return e;
    return new WorkgroupException(String(e));
  }

  /** Encodes a job into the next shared-queue cell (or the backlog when the queue is full). */
  protected _enqueue(p: Pending, job: unknown): void {
    const q = this._queue;
    const codec = this._codec;
    const w = codec.writer;
    const off = this._backlogHead === this._backlog.length ? q.reserve() : -1;
    if (off >= 0) {
      w.begin(q.u8, off, off + CELL_INLINE_MAX);
      encodeValue(w, job, codec.encodeHooks, 'job');
      if (!w.spilled) {
        p.queuePos = q.commit(p.id, w.length, KIND_INLINE, 0, 0, now());
      } else {
        const bytes = w.bytes();
        const handle = this._arena.alloc(bytes.length);
        this._arena.viewOf(handle, bytes.length).set(bytes);
        p.arena = handle;
        p.queuePos = q.commit(p.id, bytes.length, KIND_ARENA, handle.offset, handle.generation, now());
      }
      this._queueIds[p.queuePos & (q.capacity - 1)] = p.id;
      this._publishedSinceKick++;
      return;
    }
    // Queue full: encode into the backlog slab (no allocation per job); _refill copies it into a cell.
    w.begin(this._slab, this._slabUsed, this._slab.length);
    encodeValue(w, job, codec.encodeHooks, 'job');
    const len = w.length;
    if (w.spilled) {
      const body = w.bytes();
      this._growSlab(len);
      this._slab.set(body, this._slabUsed);
    }
    p.backlogOff = this._slabUsed;
    p.backlogLen = len;
    this._slabUsed += len;
    this._backlog.push(p);
  }

  protected _growSlab(extra: number): void {
    if (this._slabUsed + extra <= this._slab.length) return;
    let size = this._slab.length * 2;
    while (size < this._slabUsed + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this._slab.subarray(0, this._slabUsed));
    this._slab = next;
  }

  /** Moves backlog jobs into the shared queue while it has room. */
  protected _refill(): void {
    const q = this._queue;
    const u8 = q.u8;
    const slab = this._slab;
    const stamp = now(); // one timestamp per batch
    const mask = q.capacity - 1;
    while (this._backlogHead < this._backlog.length) {
      const p = this._backlog[this._backlogHead]!;
      if ((p.bytes === undefined && p.backlogOff < 0) || !this._pending.has(p.id)) {
        this._backlogHead++;
        continue;
      }
      const off = q.reserve();
      if (off < 0) break;
      const len = p.bytes ? p.bytes.length : p.backlogLen;
      if (len <= CELL_INLINE_MAX) {
        if (p.bytes) u8.set(p.bytes, off);
        else {
          // A byte loop beats TypedArray_set for the few dozen bytes of a typical job.
          const from = p.backlogOff;
          for (let i = 0; i < len; i++) u8[off + i] = slab[from + i]!;
        }
        p.queuePos = q.commit(p.id, len, KIND_INLINE, 0, 0, stamp);
      } else {
        const bytes = p.bytes ?? slab.subarray(p.backlogOff, p.backlogOff + len);
        const handle = this._arena.alloc(len);
        this._arena.viewOf(handle, len).set(bytes);
        p.arena = handle;
        p.queuePos = q.commit(p.id, len, KIND_ARENA, handle.offset, handle.generation, stamp);
      }
      this._queueIds[p.queuePos & mask] = p.id;
      p.bytes = undefined;
      p.backlogOff = -1;
      this._backlogHead++;
      this._publishedSinceKick++;
    }
    if (this._backlogHead === this._backlog.length) {
      this._backlog.length = 0;
      this._backlogHead = 0;
      this._slabUsed = 0;
    } else if (this._backlogHead > 65536 && this._backlogHead * 2 > this._backlog.length) {
      this._backlog.splice(0, this._backlogHead); // amortised: only when the consumed half dominates
      this._backlogHead = 0;
    }
  }

  /**
   * Writes a record into a worker's direct ring: header words, an optional f64 (enqueue time, for jobs)
   * and the encoded value. A full ring keeps the record in the worker's backlog (sent when it drains).
   */
  protected _sendToLane(ws: WorkerSlot, p: Pending | undefined, type: number, words: number[], value: unknown, root: string, withTime: boolean): void {
    const ring = ws.direct;
    const codec = this._codec;
    const w = codec.writer;
    const head = withTime ? 16 : words.length * 4;
    if (ws.backlog.length === 0) {
      const off = ring.reserveFlexible(head + 32);
      if (off >= 0) {
        w.begin(ring.u8, off + head, off + ring.limit);
        encodeValue(w, value, codec.encodeHooks, root);
        if (!w.spilled) {
          this._writeHead(ring.u8, off, words, withTime);
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
    this._writeHead(bytes, 0, words, withTime);
    bytes.set(body, head);
    if (p) {
      p.worker = ws;
      ws.laneWork.add(p.id);
    }
    ws.backlog.push({ type, bytes });
    this._flushLane(ws);
  }

  protected _writeHead(u8: Uint8Array, off: number, words: number[], withTime: boolean): void {
    writeWords(u8, off, words);
    if (withTime) new DataView(u8.buffer, u8.byteOffset + off + 8, 8).setFloat64(0, now(), true);
  }

  /** Sends a worker's backlog records while its direct ring has room (big ones through the arena). */
  protected _flushLane(ws: WorkerSlot): void {
    const ring = ws.direct;
    let sent = false;
    while (ws.backlog.length > 0) {
      const item = ws.backlog[0]!;
      if (item.bytes.length <= ring.maxPayload) {
        if (!ring.tryWrite(item.type, item.bytes)) break;
      } else {
        const handle = this._arena.alloc(item.bytes.length);
        this._arena.viewOf(handle, item.bytes.length).set(item.bytes);
        const spill = new Uint8Array(16);
        writeWords(spill, 0, [item.type, handle.offset, handle.generation, item.bytes.length]);
        if (!ring.tryWrite(REC_SPILL, spill)) {
          this._arena.free(handle);
          break;
        }
      }
      ws.backlog.shift();
      sent = true;
    }
    if (sent) ws.wake();
  }

  /** Once per tick: wake as many parked workers as jobs were published, and make sure results are awaited. */
  protected _scheduleKick(): void {
    if (this._kickScheduled) return;
    this._kickScheduled = true;
    queueMicrotask(this._kickTask);
  }

  protected readonly _kickTask = (): void => {
    this._kickScheduled = false;
    this._updateRefs();
    this._kick();
    this._pump();
  };

  protected _kick(): void {
    let n = this._publishedSinceKick;
    this._publishedSinceKick = 0;
    if (n === 0 || !this._queue) return;
    this._queue.mirror();
    const i32 = this._i32;
    // Spinning workers take new jobs within microseconds: wake parked ones only for the rest (a notify
    // to a sleeping thread costs main 10-20 us).
    for (const ws of this._workers.values()) {
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
        const ws = this._bySlot[word * 32 + (31 - Math.clz32(bit))];
        if (ws && ws.state === 'ready') {
          ws.wake();
          n--;
        }
      }
    }
  }

  // ------------------------------------------------------------------ cancellation

  protected _armCancellation(p: Pending, signal: AbortSignal | undefined, timeout: number | undefined, operation: string): void {
    if (signal === undefined && timeout === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => this._cancel(p, abortError(signal!, p.kind === 'job' ? 'job' : 'request'));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      if (!(typeof timeout === 'number' && timeout >= 0 && timeout < 2 ** 31)) {
        throw new RangeError(`expected \`timeout\` to be a number of ms in 0..2^31, got ${String(timeout)}`);
      }
      timer = setTimeout(() => this._cancel(p, new WorkgroupTimeoutException(operation, timeout, p.kind === 'job' ? 'the job did not finish in time' : 'the member did not answer in time')), timeout);
    }
    p.cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
  }

  /** Cancels a pending job or call: removed if still queued, else cooperative cancel then terminate after a grace. */
  protected _cancel(p: Pending, reason: Error): void {
    if (!this._pending.has(p.id)) return;
    if (p.bytes !== undefined || p.backlogOff >= 0) {
      p.bytes = undefined; // still in the backlog: the refill skips it
      p.backlogOff = -1;
      this._settleErr(p, reason, false);
      return;
    }
    if (p.queuePos >= 0 && p.worker === undefined && this._queue.tryCancel(p.id, p.queuePos)) {
      this._settleErr(p, reason, false);
      return;
    }
    // Running (or taken): tell the job through its shared cancel word, reject now, and give it a grace.
    const ws = p.worker ?? this._findRunner(p.id);
    if (ws) {
      const r = ws.runningSlotOf(p.id);
      if (r >= 0) Atomics.store(this._i32, controlBase(ws.slot) + 4 + r, p.id);
      ws.wake();
      this._graceThenReplace(ws, p.id);
    }
    p.cancelled = true;
    this._pending.delete(p.id);
    p.cleanup?.();
    p.cleanup = undefined;
    p.reject(reason);
    // keep lane bookkeeping until the late answer arrives or the worker is replaced
    this._pending.set(p.id, p);
    this._notifySettled();
  }

  protected _findRunner(id: number): WorkerSlot | undefined {
    for (const ws of this._workers.values()) if (ws.live && ws.runningSlotOf(id) >= 0) return ws;
    return undefined;
  }

  protected _graceThenReplace(ws: WorkerSlot, id: number): void {
    const timer = setTimeout(() => {
      const p = this._pending.get(id);
      if (!p || !ws.live || this.state !== 'active') return;
      if (ws.runningSlotOf(id) < 0 && !ws.laneWork.has(id)) return;
      this.config.logger.warn?.(`isolate-workgroup: worker #${ws.index} ignored a cancel for ${this.config.cancelGraceMs} ms: terminating and replacing it`);
      ws.exitReason = `a cancelled job ignored its cancel for ${this.config.cancelGraceMs} ms, so the worker was terminated and replaced`;
      ws.replaceOnExit = true;
      void ws.handle?.terminate();
    }, this.config.cancelGraceMs);
    this.platform.unrefTimer(timer);
  }
}
