/**
 * Scheduler layer 3: the results loop — poll briefly, then `Atomics.waitAsync`; drain the result rings
 * flagged dirty; decode and settle promises in a batch; progress in order.
 */
import { encodeValue } from '../codec/codec.js';
import { DecodeSuspend } from '../codec/errors.js';
import { type ArenaHandle } from '../memory/arena.js';
import { MASK_WORDS, POOL_DIRTY_MASK_I32, POOL_MAIN_PARKED_I32, POOL_RESULTS_SEQ_I32 } from '../ring/layout.js';
import { ORIGIN_FLAG_INTERNAL, ORIGIN_INSTANCE, ORIGIN_JOB, REC_ERR, REC_JOB, REC_NOTIFY, REC_OK, REC_PROGRESS, REC_SPILL, REC_UNCAUGHT } from '../ring/protocol.js';
import { RingCorruptError } from '../ring/spsc.js';
import { waitAsyncPromise } from '../ring/wait.js';
import { readWord } from '../ring/records.js';
import { InvalidWorkgroupResponseException, WorkgroupException, WorkgroupIsolateError, combineStacks, markAwaitingMainStack } from '../shared/errors.js';
import { type IsolateErrorType } from './error-router.js';
import type { Pending } from './pending.js';
import { WorkerSlot } from './worker-slot.js';
import { detachUnsent } from './payloads.js';
import { MAIN_TICK_MS, NOT_DECODED, now, ignore, describeValue } from './core-shared.js';
import { WorkgroupCoreDispatch } from './core-dispatch.js';

export abstract class WorkgroupCoreResults extends WorkgroupCoreDispatch {
  // ------------------------------------------------------------------ results loop

  /** Waits for results while anything is outstanding; never blocks the event loop. */
  protected _pump(): void {
    if (this._pumping || this._pending.size === 0) return;
    this._pumping = true;
    void this._pumpLoop();
  }

  protected async _pumpLoop(): Promise<void> {
    const i32 = this._i32;
    const spinMicros = this.config.mainSpinMicros;
    try {
      while (this._pending.size > 0 && this._launched) {
        // Jobs published since the last wake-up (the user's continuation runs before this loop resumes):
        // wake parked workers now, not after spinning for answers to jobs nobody was told about.
        if (this._publishedSinceKick > 0) this._kick();
        // Bounded spin: a tiny job's answer usually arrives within microseconds, far sooner than a
        // waitAsync wake-up (a cross-thread task post, 10–50 µs). Blocks the event loop at most `mainSpinMicros`.
        if (spinMicros > 0 && this._spinForResults(spinMicros)) {
          this.drain();
          await null;
          continue;
        }
        const seq = Atomics.load(i32, POOL_RESULTS_SEQ_I32);
        Atomics.store(i32, POOL_MAIN_PARKED_I32, 1);
        if (this._anyDirty()) {
          Atomics.store(i32, POOL_MAIN_PARKED_I32, 0);
          this.drain();
          await null;
          continue;
        }
        await this._waitForResults(seq);
        Atomics.store(i32, POOL_MAIN_PARKED_I32, 0);
        this.drain();
        this._supervise();
      }
    } finally {
      this._pumping = false;
      this._updateRefs();
    }
  }

  /** Rung by a worker's 'wake' message while main waits without `Atomics.waitAsync`. */
  protected _doorbell: (() => void) | undefined;

  /**
   * Waits until the results word moves from `seq` (or MAIN_TICK_MS): `Atomics.waitAsync` where the main
   * thread has it; elsewhere the message doorbell — a worker that finds no waiter to notify posts 'wake'.
   */
  protected _waitForResults(seq: number): Promise<unknown> {
    if (this.platform.hasWaitAsync) return waitAsyncPromise(this._i32, POOL_RESULTS_SEQ_I32, seq, MAIN_TICK_MS);
    return new Promise<void>((resolve) => {
      const ring = (): void => {
        clearTimeout(timer);
        this._doorbell = undefined;
        resolve();
      };
      const timer = setTimeout(ring, MAIN_TICK_MS);
      this.platform.unrefTimer(timer);
      this._doorbell = ring;
    });
  }

  protected _spinForResults(micros: number): boolean {
    const end = performance.now() + micros / 1000;
    for (let n = 0; ; n++) {
      if (this._anyDirty()) return true;
      if ((n & 63) === 63 && performance.now() >= end) return false;
    }
  }

  protected _anyDirty(): boolean {
    for (let w = 0; w < MASK_WORDS; w++) if (Atomics.load(this._i32, POOL_DIRTY_MASK_I32 + w) !== 0) return true;
    return false;
  }

  /** Drains every result ring flagged dirty, settles promises, refills the queue. */
  drain(): void {
    const i32 = this._i32;
    // Refill first: cells free up as soon as workers claim jobs, so they get more before main settles results.
    if (this._backlogHead < this._backlog.length) {
      this._refill();
      this._kick();
    }
    for (let word = 0; word < MASK_WORDS; word++) {
      let bits = Atomics.exchange(i32, POOL_DIRTY_MASK_I32 + word, 0);
      while (bits !== 0) {
        const bit = bits & -bits;
        bits &= ~bit;
        const ws = this._bySlot[word * 32 + (31 - Math.clz32(bit))];
        if (ws) this._drainWorker(ws);
      }
    }
    if (this._backlogHead < this._backlog.length) this._refill();
    for (const ws of this._workers.values()) if (ws.backlog.length > 0 && ws.live) this._flushLane(ws);
    this._kick();
    this._updateRefs();
  }

  protected _drainWorker(ws: WorkerSlot): void {
    const c = ws.results;
    let any = false;
    try {
      for (let off = c.next(); off >= 0; off = c.next()) {
        this._handleRecord(ws, c.type, c.u8, off, c.length);
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

  protected _handleRecord(ws: WorkerSlot, type: number, u8: Uint8Array, off: number, len: number): void {
    switch (type) {
      case REC_OK:
      case REC_ERR:
      case REC_PROGRESS: {
        const id = readWord(u8, off);
        const p = this._pending.get(id);
        if (!p || p.cancelled) {
          if (p && type !== REC_PROGRESS) this._forget(p);
          this._decodeThen(ws, u8, off + (type === REC_ERR ? 8 : 4), off + len, ignore); // frees its out-of-band payloads
          return; // a late answer to something already settled: ignored
        }
        if (type === REC_OK && p.chain === undefined) {
          // Hot path: decode in place and settle, no closure.
          let value: unknown;
          try {
            value = this._codec.decode(u8, off + 4, off + len, ws.slot);
          } catch {
            value = NOT_DECODED;
          }
          if (value !== NOT_DECODED) {
            this._settleOk(p, value);
            return;
          }
        }
        const start = off + (type === REC_ERR ? 8 : 4);
        const origin = type === REC_ERR ? readWord(u8, off + 4) : 0;
        this._decodeInOrder(p, ws, u8, start, off + len, (value, failed) => {
          if (failed) {
            this._settleErr(p, new InvalidWorkgroupResponseException(`could not decode the answer of worker #${ws.index}: ${(value as Error)?.message}`, { cause: value }), true, 'communication', ws);
          } else if (type === REC_OK) this._settleOk(p, value);
          else if (type === REC_ERR) this._settleFromWorker(p, value, origin, ws);
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
        this._decodeThen(ws, u8, off + 8, off + len, (command, failed) => {
          if (failed) return this._replyNotify(ws, notifyId, false, command);
          void this._answerNotify(ws, notifyId, memberId, command);
        });
        return;
      }
      case REC_UNCAUGHT: {
        this._decodeThen(ws, u8, off + 8, off + len, (error) => {
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
          view = this._arena.viewOf(handle, total);
        } catch (e) {
          this.errors.fire('communication', new InvalidWorkgroupResponseException(`worker #${ws.index} sent a bad arena handle`, { cause: e }), { isolateIndex: ws.index });
          return;
        }
        // Decode from a private copy: the block is freed right away.
        const copy = view.slice();
        this._arena.free(handle);
        this._handleRecord(ws, inner, copy, 0, total);
        return;
      }
      default:
        this.errors.fire('communication', new InvalidWorkgroupResponseException(`worker #${ws.index} sent an unknown record type ${type}`), { isolateIndex: ws.index });
    }
  }

  /** Decodes in place, or — when a module or buffer must arrive first — from a copy, later. */
  protected _decodeThen(ws: WorkerSlot, u8: Uint8Array, start: number, end: number, then: (value: unknown, failed: boolean) => void): void {
    let value: unknown;
    try {
      value = this._codec.decode(u8, start, end, ws.slot);
    } catch (e) {
      if (e instanceof DecodeSuspend) {
        this._codec.decodeAsync(u8.slice(start, end), ws.slot).then(
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
  protected _decodeInOrder(p: Pending, ws: WorkerSlot, u8: Uint8Array, start: number, end: number, then: (value: unknown, failed: boolean) => void): void {
    const codec = this._codec;
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
  protected _pullControl(slot: number): undefined {
    const ws = this._bySlot[slot];
    const handle = ws?.handle;
    if (!ws || handle?.pull === undefined) return undefined;
    for (let m = handle.pull(); m !== undefined; m = handle.pull()) {
      const msg = m;
      if (msg.type === 'transfer' || msg.type === 'sab') this._onControl(ws, msg);
      else queueMicrotask(() => this._onControl(ws, msg));
    }
    return undefined;
  }

  /**
   * A job with `transfer`: encoded aside, its transferred buffers posted to the worker's control port (which
   * detaches them) before the frame that names them is published through the worker's lane.
   */
  protected _sendWithTransfer(ws: WorkerSlot, p: Pending, job: unknown, transfer: ReadonlySet<ArrayBuffer>): void {
    const codec = this._codec;
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
    this._writeHead(bytes, 0, [p.id, 0], true);
    bytes.set(body, 16);
    const moved = codec.outOfBand.takeTransfers() ?? [];
    for (const t of moved) ws.handle?.post({ type: 'transfer', id: t.id, buffer: t.buffer }, [t.buffer]);
    detachUnsent(transfer, new Set(moved.map((t) => t.buffer)));
    p.worker = ws;
    ws.laneWork.add(p.id);
    ws.backlog.push({ type: REC_JOB, bytes });
    this._flushLane(ws);
  }

  protected _forget(p: Pending): void {
    this._pending.delete(p.id);
    this._release(p);
    this._notifySettled();
  }

  protected _release(p: Pending): void {
    p.cleanup?.();
    p.cleanup = undefined;
    if (p.blobs) {
      // Out-of-band copies of its frame that no worker decoded (cancelled while queued, worker gone).
      for (const h of p.blobs) this._codec.outOfBand.freeIfStillLive(h);
      p.blobs = undefined;
    }
    if (p.arena) {
      try {
        this._arena.free(p.arena);
      } catch {
        // already reclaimed
      }
      p.arena = undefined;
    }
    p.worker?.laneWork.delete(p.id);
    if (p.memberId) this._members.get(p.memberId)?.invokes.delete(p.id);
  }

  protected _settleOk(p: Pending, value: unknown): void {
    if (!this._pending.delete(p.id)) return;
    this._release(p);
    p.resolve(value);
    this._notifySettled();
  }

  /** Rejects `p`. With `route`, the matching error handler fires first. */
  protected _settleErr(p: Pending, error: unknown, route: boolean, type?: Exclude<IsolateErrorType, 'all'>, ws?: WorkerSlot): void {
    if (!this._pending.delete(p.id)) return;
    this._release(p);
    if (route && type) this.errors.fire(type, error, { isolateIndex: ws?.index ?? -1, jobId: p.id });
    p.reject(error);
    this._notifySettled();
  }

  protected _settleFromWorker(p: Pending, raw: unknown, origin: number, ws: WorkerSlot): void {
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
    else if (this.captureMainStack === 'await') markAwaitingMainStack(error); // the api's withCallerStack adds it
    this._settleErr(p, error, true, internal ? 'communication' : kind === ORIGIN_INSTANCE ? 'instance' : kind === ORIGIN_JOB ? 'job' : 'unknown', ws);
  }
}
