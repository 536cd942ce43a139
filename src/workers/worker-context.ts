/**
 * What every part of the worker-side loop shares: the platform host, the init message, the control block
 * of this worker slot, the arena, the codec and the stats histograms, plus the two pieces of loop state
 * the parts change (async work through `track`, `stopping`) and the self-wake-up.
 *
 * | part         | file             | does                                                        |
 * |--------------|------------------|-------------------------------------------------------------|
 * | WorkerCore   | worker-core.ts   | the loop: turns, spinning, parking; the direct ring         |
 * | RunSlots     | run-slots.ts     | the shared running and cancel words; `this.signal`          |
 * | Running      | running.ts       | one job or call in progress: the runtime the job sees       |
 * | Executor     | executor.ts      | runs jobs and member calls, writes their outcome            |
 * | ResultWriter | result-writer.ts | the result ring: records, publication, progress coalescing  |
 * | MemberHost   | member-host.ts   | members (add, destroy, dispose) and `notifyHost`            |
 * | ControlPlane | control-plane.ts | control messages (postMessage), pulled or delivered         |
 *
 * All of it runs on the worker's one thread: no field here is shared with another thread except through
 * the Int32Array of the pool region (`i32`), whose words are listed in ring/layout.ts.
 */
import { Arena } from '../memory/arena.js';
import { ControlBlock } from '../ring/control-block.js';
import { controlBase } from '../ring/layout.js';
import type { WorkerInit } from '../ring/protocol.js';
import type { WorkerHost } from './host.js';
import { HistogramWriter } from './stats-writer.js';
import { WorkerCodec } from './worker-codec.js';

const ORIGIN = performance.timeOrigin;

/** Epoch milliseconds, comparable across threads (for queue wait times). */
export function epochNow(): number {
  return ORIGIN + performance.now();
}

export class WorkerContext {
  readonly host: WorkerHost;
  readonly init: WorkerInit;
  /** The pool region as 32-bit words. */
  readonly i32: Int32Array;
  /** Index (in `i32`) of this worker slot's control block. */
  readonly cb: number;
  /** This worker slot's control block (the words main reads and writes too). */
  readonly control: ControlBlock;
  readonly arena: Arena;
  readonly codec: WorkerCodec;
  readonly hist: HistogramWriter;
  /**
   * User promises, decodes waiting for a module or buffer, and member operations in flight (see `track`).
   * While it is above zero the loop must not block in `Atomics.wait` (their callbacks need the event loop).
   */
  #asyncPending = 0;
  /** Set by a stop command, a stop message or the shutdown flag: take no new queue work, then end. */
  stopping = false;
  #wakeScheduled = false;

  /** `awaitBuffer` is the codec's way to wait for a SharedArrayBuffer not introduced yet (ControlPlane). */
  constructor(host: WorkerHost, init: WorkerInit, awaitBuffer: (id: number) => Promise<unknown> | undefined) {
    this.host = host;
    this.init = init;
    this.i32 = new Int32Array(init.pool);
    this.cb = controlBase(init.slot);
    this.control = new ControlBlock(this.i32, init.slot);
    this.arena = new Arena(init.arena, init.slot + 1);
    this.codec = new WorkerCodec(init.pool, this.arena, awaitBuffer);
    for (const [id, buffer] of init.sharedBuffers) this.codec.addBuffer(id, buffer);
    this.codec.onNewBuffer = (id, buffer) => host.post({ type: 'sab', id, buffer });
    this.hist = new HistogramWriter(this.i32, this.cb);
  }

  get asyncPending(): number {
    return this.#asyncPending;
  }

  /**
   * The one way to tell the loop about async work: counted until `work` settles (either way), then the
   * loop takes another turn. Returns `work` as a promise.
   */
  track<T>(work: PromiseLike<T> | T): Promise<T> {
    this.#asyncPending++;
    const p = Promise.resolve(work);
    const done = (): void => {
      this.#asyncPending--;
      this.wakeSelf();
    };
    p.then(done, done);
    return p;
  }

  /** Rings this worker's own doorbell once (in a microtask): a parked loop wakes and takes another turn. */
  wakeSelf(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    queueMicrotask(() => {
      this.#wakeScheduled = false;
      this.control.ring(true);
    });
  }
}
