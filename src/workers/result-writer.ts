/**
 * The worker → main half of the lane: results, errors, progress, notifies and uncaught errors, written as
 * records into the result ring (SPSC, this worker the only producer) and published in batches.
 *
 * Publication (worker → main; docs/architecture.md, "Wake protocol"), in `flush`:
 * 1. `publish()` the ring's write index (one `Atomics.store`: releases every record written since);
 * 2. clear the running words of the jobs those records settle (RunSlots.afterPublish);
 * 3. set this worker's bit in the pool's dirty mask and bump the results word (`Atomics.or`/`add`);
 *    main takes the bit, then reads the ring (it acquires the records through the index);
 * 4. if main is parked, the one worker that wins its wake token (compare-exchange) notifies it, or posts
 *    a 'wake' message where main has no `Atomics.waitAsync`.
 *
 * Progress never slows a job down and never arrives after its result: see `report`.
 *
 * Every publication happens inside the stop fence (ring/fence.ts): when main has asked the worker to stop,
 * the publication becomes the worker's last one (`stopFenced`), and once the worker is fenced nothing is
 * written or published any more.
 */
import { encodeValue } from '../codec/codec.js';
import { POOL_DIRTY_MASK_I32, POOL_MAIN_PARKED_I32, POOL_RESULTS_SEQ_I32 } from '../ring/layout.js';
import { REC_PROGRESS } from '../ring/protocol.js';
import type { SpscProducer } from '../ring/spsc.js';
import type { Running } from './running.js';
import type { WorkerContext } from './worker-context.js';
import { writeWords } from '../ring/records.js';

/**
 * A report goes the coalescing way when the result ring has less than this part of its capacity free:
 * progress never takes the last quarter of the ring, which stays for results.
 */
const REPORT_HEADROOM_DIVISOR = 4;
const ID_PLACEHOLDER = new Uint8Array(4);

export class ResultWriter {
  readonly #ctx: WorkerContext;
  readonly #results: SpscProducer;
  readonly #afterPublish: () => void;
  /** Records written since the last publish. */
  #dirty = false;

  /** `afterPublish` runs right after each publish of the ring (step 2 above). */
  constructor(ctx: WorkerContext, results: SpscProducer, afterPublish: () => void) {
    this.#ctx = ctx;
    this.#results = results;
    this.#afterPublish = afterPublish;
  }

  /**
   * Writes record `type` with header `words` and the encoded `value` (not yet published). Throws when the
   * value cannot be sent (UnsendableError; nothing written, its out-of-band parts given back).
   */
  write(type: number, words: readonly number[], value: unknown, root: string, transfer?: ReadonlySet<ArrayBuffer>): void {
    if (this.#ctx.fence.closed) return; // main settles this work itself
    const codec = this.#ctx.codec;
    if (transfer !== undefined) codec.encodeHooks.transfer = transfer;
    try {
      codec.writeRecord(this.#results, this.#ctx.arena, type, words, value, root, this.#waitForSpace);
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
  #sendOutOfBand(transfer: ReadonlySet<ArrayBuffer> | undefined): void {
    const oob = this.#ctx.codec.outOfBand;
    oob.takeBlocks();
    const moved = oob.takeTransfers();
    if (moved === undefined) return;
    for (const t of moved) {
      this.#ctx.host.post({ type: 'transfer', id: t.id, buffer: t.buffer }, [t.buffer]);
      (transfer as Set<ArrayBuffer> | undefined)?.delete(t.buffer);
    }
  }

  /** Publishes written records and rings main's doorbell once (see the header). */
  flush(): void {
    if (!this.#dirty) return;
    const fence = this.#ctx.fence;
    if (!fence.enter()) {
      this.stopFenced();
      return;
    }
    try {
      this.#publishNow();
    } finally {
      fence.leave();
    }
  }

  /**
   * Main asked this worker to stop (or closed it): publish what is written as the last publication when
   * the worker wins the stop, then nothing more (see ring/fence.ts). Sets `stopping`: the loop ends.
   */
  stopFenced(): void {
    this.#ctx.stopping = true;
    this.#ctx.fence.stop(() => {
      if (this.#dirty) this.#publishNow();
    });
  }

  #publishNow(): void {
    this.#dirty = false;
    const i32 = this.#ctx.i32;
    this.#results.publish();
    this.#afterPublish();
    const slot = this.#ctx.init.slot;
    Atomics.or(i32, POOL_DIRTY_MASK_I32 + (slot >> 5), 1 << (slot & 31));
    Atomics.add(i32, POOL_RESULTS_SEQ_I32, 1);
    if (Atomics.compareExchange(i32, POOL_MAIN_PARKED_I32, 1, 0) === 1) {
      // This worker won the wake token: the only one that pays for the notify.
      if (Atomics.notify(i32, POOL_RESULTS_SEQ_I32, 1) === 0) this.#ctx.host.post({ type: 'wake' });
    }
  }

  /** The ring is full: publish what is written (so main can drain it), then wait for room. */
  #waitForSpace = (bytes: number): void => {
    this.#dirty = true;
    this.flush();
    // Fenced: main reads this ring no more, so room never comes (and nothing may be published).
    if (this.#ctx.fence.fenced) throw new Error('the worker was stopped while its result ring was full');
    // Main may not be waiting for results at all (nothing outstanding there, e.g. a member's timer that
    // notifies): a control message makes it drain.
    this.#ctx.host.post({ type: 'wake' });
    this.#results.waitForSpace(bytes, 50);
  };

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
    if (this.#ctx.init.progress === 'all') {
      // Every report, in order: when the ring is full, write() waits for main to make room.
      this.write(REC_PROGRESS, [running.id], value, 'progress', running.transfers);
      this.#publishProgress();
      return;
    }
    if (running.coalesced !== undefined && !this.writeCoalesced(running, false)) {
      this.#coalesce(running, value);
      return;
    }
    if (results.free < results.capacity / REPORT_HEADROOM_DIVISOR) {
      this.#coalesce(running, value);
      return;
    }
    this.write(REC_PROGRESS, [running.id], value, 'progress', running.transfers);
    this.#publishProgress();
  }

  /**
   * Publishes a report at once (so it arrives while a long job still runs), at the cost of one store
   * while main has not drained this ring since the last one: the dirty bit still set means main will read
   * the ring after it takes the bit, so it sees this record too (the store comes before the bit's load).
   * The full `flush` (bit, results word, wake-up) runs only when the bit is clear.
   */
  #publishProgress(): void {
    const fence = this.#ctx.fence;
    if (!fence.enter()) {
      this.#dirty = true;
      this.stopFenced();
      return;
    }
    try {
      this.#results.publish();
    } finally {
      fence.leave();
    }
    const slot = this.#ctx.init.slot;
    if ((Atomics.load(this.#ctx.i32, POOL_DIRTY_MASK_I32 + (slot >> 5)) & (1 << (slot & 31))) !== 0) return;
    this.flush();
  }

  /** Encodes a report aside as the one waiting for room (replacing an older waiting one). */
  #coalesce(running: Running, value: unknown): void {
    const codec = this.#ctx.codec;
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
      if (running.coalesced !== undefined) this.writeCoalesced(running, true);
      this.write(REC_PROGRESS, [running.id], value, 'progress', running.transfers);
      this.flush();
      return;
    }
    const record = w.bytes().slice();
    writeWords(record, 0, [running.id]);
    running.coalesced = record;
  }

  /** Writes the waiting report of `running`; with `wait`, waits for room. False when there was none. */
  writeCoalesced(running: Running, wait: boolean): boolean {
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
}
