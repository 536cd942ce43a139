/**
 * The pending table: every dispatch and invoke has one entry from the call until its promise settles (and,
 * for work cancelled after a worker took it, until the worker's late answer arrives or the worker is gone).
 * This file is the only code that adds and removes entries; every entry has a reject path (shutdown, kill,
 * crash, abort, timeout) and settles exactly once.
 *
 * Where an entry is (`status`):
 *
 * | status    | where the work is                                         | fields that say where      |
 * |-----------|-----------------------------------------------------------|----------------------------|
 * | backlog   | encoded in main's backlog, waiting for a shared-queue cell | bytes, or backlogOff/Len   |
 * | queued    | in a shared-queue cell, or claimed/running on some worker  | queuePos (arena if spilled)|
 * | lane      | sent to one worker's lane (pinned job, member call)        | worker                     |
 * | cancelled | already rejected; a worker may still hold it: its answer is dropped when it comes | worker / queuePos |
 */
import type { ArenaHandle } from '../memory/arena.js';
import type { Batch } from './batch.js';
import { IdTable } from './id-table.js';
import type { WorkerSlot } from './worker-slot.js';

export type PendingKind = 'job' | 'invoke';
export type PendingStatus = 'backlog' | 'queued' | 'lane' | 'cancelled';

const none = (): void => undefined;

/** What few entries need (a pinned job, a member call, a signal or timeout, big payloads, a cancel): kept
 *  apart so the common entry stays small — every in-flight call's entry survives young-generation
 *  collections, and its size is what they copy. */
class PendingExtra {
  site: { stack?: string } | undefined = undefined;
  onProgress: ((value: unknown) => void) | undefined = undefined;
  memberId = 0;
  worker: WorkerSlot | undefined = undefined;
  bytes: Uint8Array | undefined = undefined;
  arena: ArenaHandle | undefined = undefined;
  cleanup: (() => void) | undefined = undefined;
  blobs: ArenaHandle[] | undefined = undefined;
  chain: Promise<void> | undefined = undefined;
  cancelSentAt = 0;
  gone: (() => void) | undefined = undefined;
}

/** One call in the table (a class: every entry has the same shape, which keeps the hot path monomorphic). */
export class Pending {
  readonly id: number;
  readonly kind: PendingKind;
  /** Settles the call's promise (`none` for a batch's chunk: it settles into its batch). */
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** The promise the caller got (undefined for a batch's chunk). */
  readonly promise: Promise<unknown> | undefined;
  status: PendingStatus = 'backlog';
  /** Its position in the shared queue (status queued); −1 otherwise. */
  queuePos = -1;
  /** Encoded job waiting in the backlog: offset and length in the backlog slab (−1: none). */
  backlogOff = -1;
  backlogLen = 0;
  /** The batch it belongs to (`dispatchAll`): it settles into the batch at job `index`, not into a promise. */
  readonly batch: Batch | undefined;
  readonly index: number;
  #x: PendingExtra | undefined = undefined;

  constructor(
    id: number,
    kind: PendingKind,
    site: { stack?: string } | undefined,
    onProgress: ((value: unknown) => void) | undefined,
    memberId: number,
    batch: Batch | undefined,
    index: number,
  ) {
    this.id = id;
    this.kind = kind;
    this.batch = batch;
    this.index = index;
    if (site !== undefined || onProgress !== undefined || memberId !== 0) {
      const x = this.#extra();
      x.site = site;
      x.onProgress = onProgress;
      x.memberId = memberId;
    }
    if (batch === undefined) {
      let resolve!: (v: unknown) => void;
      let reject!: (e: unknown) => void;
      this.promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.resolve = resolve;
      this.reject = reject;
    } else {
      this.promise = undefined;
      this.resolve = none;
      this.reject = none;
    }
  }

  #extra(): PendingExtra {
    return (this.#x ??= new PendingExtra());
  }

  /** Call-site stack captured at dispatch/invoke (only with `captureMainStack: 'eager'`). */
  get site(): { stack?: string } | undefined {
    return this.#x?.site;
  }
  get onProgress(): ((value: unknown) => void) | undefined {
    return this.#x?.onProgress;
  }
  get memberId(): number {
    return this.#x?.memberId ?? 0;
  }
  /** The worker it was sent to through the lane (pinned job or invoke). */
  get worker(): WorkerSlot | undefined {
    return this.#x?.worker;
  }
  set worker(v: WorkerSlot | undefined) {
    if (v !== undefined || this.#x !== undefined) this.#extra().worker = v;
  }
  /** Encoded job waiting in the backlog as a private copy (re-queued after a worker died). */
  get bytes(): Uint8Array | undefined {
    return this.#x?.bytes;
  }
  set bytes(v: Uint8Array | undefined) {
    if (v !== undefined || this.#x !== undefined) this.#extra().bytes = v;
  }
  /** Arena block holding the encoded job (too big for a queue cell). */
  get arena(): ArenaHandle | undefined {
    return this.#x?.arena;
  }
  set arena(v: ArenaHandle | undefined) {
    if (v !== undefined || this.#x !== undefined) this.#extra().arena = v;
  }
  /** Removes the abort listener and the timeout timer. */
  get cleanup(): (() => void) | undefined {
    return this.#x?.cleanup;
  }
  set cleanup(v: (() => void) | undefined) {
    if (v !== undefined || this.#x !== undefined) this.#extra().cleanup = v;
  }
  /** Arena blocks holding out-of-band copies of its frame's big binary payloads: the worker frees them
   *  when it decodes the frame; main frees what is still live when the work settles. */
  get blobs(): ArenaHandle[] | undefined {
    return this.#x?.blobs;
  }
  set blobs(v: ArenaHandle[] | undefined) {
    if (v !== undefined || this.#x !== undefined) this.#extra().blobs = v;
  }
  /** Set while one of its records waits to be decoded: later records queue behind it (progress order). */
  get chain(): Promise<void> | undefined {
    return this.#x?.chain;
  }
  set chain(v: Promise<void> | undefined) {
    if (v !== undefined || this.#x !== undefined) this.#extra().chain = v;
  }
  /** Called once the entry has left the table: settled, or — cancelled while a worker held it — forgotten
   *  after its late answer came or its worker was gone (no thread touches its work any more). */
  get gone(): (() => void) | undefined {
    return this.#x?.gone;
  }
  set gone(v: (() => void) | undefined) {
    if (v !== undefined || this.#x !== undefined) this.#extra().gone = v;
  }
  /** When a cancel of work a worker may hold was sent (ms, performance.now()); 0 until then. */
  get cancelSentAt(): number {
    return this.#x?.cancelSentAt ?? 0;
  }
  set cancelSentAt(v: number) {
    if (v !== 0 || this.#x !== undefined) this.#extra().cancelSentAt = v;
  }
}

export class PendingTable {
  readonly #entries = new IdTable<Pending>();
  /** Entries whose promise has not settled yet (everything but `cancelled`). */
  #unsettled = 0;
  #nextId = 1;
  #settleWaiters: Array<() => void> = [];
  readonly #release: (p: Pending) => void;
  readonly #onChange: () => void;

  /**
   * `release` gives back what an entry holds (arena blocks, lane bookkeeping) when it leaves the table;
   * `onChange` runs when the table, or its unsettled part, becomes empty or non-empty (keep-alive and the
   * results loop follow it).
   */
  constructor(release: (p: Pending) => void, onChange: () => void) {
    this.#release = release;
    this.#onChange = onChange;
  }

  /** A new entry (its promise is `p.promise`); not in the table until `add`. */
  create(kind: PendingKind, site: { stack?: string } | undefined, onProgress: ((value: unknown) => void) | undefined, memberId: number): Pending {
    return new Pending(this.#newId(), kind, site, onProgress, memberId, undefined, 0);
  }

  /** A new job entry of `batch` (no promise of its own: it settles into the batch at `index`). */
  createInBatch(batch: Batch, index: number, site: { stack?: string } | undefined, onProgress: ((value: unknown) => void) | undefined): Pending {
    return new Pending(this.#newId(), 'job', site, onProgress, 0, batch, index);
  }

  #newId(): number {
    let id = this.#nextId;
    // After 2^31 - 1 ids the counter comes round: an id still held by a call that lived that long is skipped.
    while (this.#entries.get(id) !== undefined) id = id >= 0x7ffffffe ? 1 : id + 1;
    this.#nextId = id >= 0x7ffffffe ? 1 : id + 1;
    return id;
  }

  add(p: Pending): void {
    const wasEmpty = this.#entries.size === 0 || this.#unsettled === 0;
    this.#entries.add(p);
    this.#unsettled++;
    if (wasEmpty) this.#onChange();
  }

  get(id: number): Pending | undefined {
    return this.#entries.get(id);
  }

  /** Calls not settled yet (`pendingCount`). */
  get size(): number {
    return this.#unsettled;
  }

  /** Entries in the table, including cancelled ones a worker may still answer. */
  get tracked(): number {
    return this.#entries.size;
  }

  /** Every entry, oldest first (a snapshot). */
  values(): Pending[] {
    return this.#entries.values();
  }

  /** Resolves `p` (false when it had settled already). */
  resolve(p: Pending, value: unknown): boolean {
    if (p.status === 'cancelled' || !this.#remove(p)) return false;
    if (p.batch) p.batch.settle(p.index, true, value);
    else p.resolve(value);
    this.#settled();
    return true;
  }

  /** Rejects `p` (false when it had settled already). */
  reject(p: Pending, error: unknown): boolean {
    if (p.status === 'cancelled' || !this.#remove(p)) return false;
    if (p.batch) p.batch.settle(p.index, false, error);
    else p.reject(error);
    this.#settled();
    return true;
  }

  /**
   * Rejects `p` now while a worker may still hold it: the entry stays (status `cancelled`) until `forget`
   * — its late answer is dropped then, and its frame's blocks are freed only once nobody can read them.
   */
  rejectHeld(p: Pending, error: unknown): boolean {
    if (p.status === 'cancelled' || this.#entries.get(p.id) !== p) return false;
    p.status = 'cancelled';
    p.cleanup?.();
    p.cleanup = undefined;
    this.#unsettled--;
    if (p.batch) p.batch.settle(p.index, false, error);
    else p.reject(error);
    if (this.#unsettled === 0) this.#onChange();
    this.#settled();
    return true;
  }

  /** Removes a cancelled entry (its late answer came, or its worker is gone). */
  forget(p: Pending): void {
    if (p.status !== 'cancelled') return;
    if (!this.#entries.delete(p)) return;
    this.#release(p);
    if (this.#entries.size === 0) this.#onChange();
    this.#wakeWaiters();
    p.gone?.();
  }

  /** Wakes `nextSettle` waiters without a settle (a worker left: a drain looks again). */
  poke(): void {
    this.#wakeWaiters();
  }

  /** Resolves at the next settle or forget (for `shutdown({ drain: true })`). */
  nextSettle(): Promise<void> {
    return new Promise((resolve) => this.#settleWaiters.push(resolve));
  }

  #remove(p: Pending): boolean {
    if (!this.#entries.delete(p)) return false;
    this.#unsettled--;
    this.#release(p);
    if (this.#entries.size === 0 || this.#unsettled === 0) this.#onChange();
    p.gone?.();
    return true;
  }

  #settled(): void {
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    if (this.#settleWaiters.length === 0) return;
    const list = this.#settleWaiters;
    this.#settleWaiters = [];
    for (const f of list) f();
  }
}
