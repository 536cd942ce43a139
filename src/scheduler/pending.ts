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
import type { WorkerSlot } from './worker-slot.js';

export type PendingKind = 'job' | 'invoke';
export type PendingStatus = 'backlog' | 'queued' | 'lane' | 'cancelled';

export interface Pending {
  readonly id: number;
  readonly kind: PendingKind;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Call-site stack captured at dispatch/invoke (only with `captureMainStack: 'eager'`). */
  readonly site: { stack?: string } | undefined;
  readonly onProgress: ((value: unknown) => void) | undefined;
  readonly memberId: number;
  status: PendingStatus;
  /** The worker it was sent to through the lane (pinned job or invoke). */
  worker: WorkerSlot | undefined;
  /** Its position in the shared queue (status queued); −1 otherwise. */
  queuePos: number;
  /** Encoded job waiting in the backlog as a private copy (re-queued after a worker died). */
  bytes: Uint8Array | undefined;
  /** Encoded job waiting in the backlog: offset and length in the backlog slab (−1: none). */
  backlogOff: number;
  backlogLen: number;
  /** Arena block holding the encoded job (too big for a queue cell). */
  arena: ArenaHandle | undefined;
  /** Removes the abort listener and the timeout timer. */
  cleanup: (() => void) | undefined;
  /** Arena blocks holding out-of-band copies of its frame's big binary payloads: the worker frees them
   *  when it decodes the frame; main frees what is still live when the work settles. */
  blobs: ArenaHandle[] | undefined;
  /** Set while one of its records waits to be decoded: later records queue behind it (progress order). */
  chain: Promise<void> | undefined;
  /** When a cancel of work a worker may hold was sent (ms, performance.now()); 0 until then. */
  cancelSentAt: number;
}

export class PendingTable {
  readonly #entries = new Map<number, Pending>();
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

  /** A new entry and the promise it settles; not in the table until `add`. */
  create(kind: PendingKind, site: { stack?: string } | undefined, onProgress: ((value: unknown) => void) | undefined, memberId: number): { p: Pending; promise: Promise<unknown> } {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const id = this.#nextId;
    this.#nextId = id >= 0x7ffffffe ? 1 : id + 1;
    const p: Pending = {
      id, kind, resolve, reject, site, onProgress, memberId, status: 'backlog', worker: undefined, queuePos: -1, bytes: undefined,
      backlogOff: -1, backlogLen: 0, arena: undefined, cleanup: undefined, blobs: undefined, chain: undefined, cancelSentAt: 0,
    };
    return { p, promise };
  }

  add(p: Pending): void {
    const wasEmpty = this.#entries.size === 0 || this.#unsettled === 0;
    this.#entries.set(p.id, p);
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

  values(): IterableIterator<Pending> {
    return this.#entries.values();
  }

  /** Resolves `p` (false when it had settled already). */
  resolve(p: Pending, value: unknown): boolean {
    if (p.status === 'cancelled' || !this.#remove(p)) return false;
    p.resolve(value);
    this.#settled();
    return true;
  }

  /** Rejects `p` (false when it had settled already). */
  reject(p: Pending, error: unknown): boolean {
    if (p.status === 'cancelled' || !this.#remove(p)) return false;
    p.reject(error);
    this.#settled();
    return true;
  }

  /**
   * Rejects `p` now while a worker may still hold it: the entry stays (status `cancelled`) until `forget`
   * — its late answer is dropped then, and its frame's blocks are freed only once nobody can read them.
   */
  rejectHeld(p: Pending, error: unknown): boolean {
    if (p.status === 'cancelled' || !this.#entries.has(p.id)) return false;
    p.status = 'cancelled';
    p.cleanup?.();
    p.cleanup = undefined;
    this.#unsettled--;
    p.reject(error);
    if (this.#unsettled === 0) this.#onChange();
    this.#settled();
    return true;
  }

  /** Removes a cancelled entry (its late answer came, or its worker is gone). */
  forget(p: Pending): void {
    if (p.status !== 'cancelled') return;
    if (this.#entries.get(p.id) !== p) return;
    this.#entries.delete(p.id);
    this.#release(p);
    if (this.#entries.size === 0) this.#onChange();
    this.#wakeWaiters();
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
    if (this.#entries.get(p.id) !== p) return false;
    this.#entries.delete(p.id);
    this.#unsettled--;
    this.#release(p);
    if (this.#entries.size === 0 || this.#unsettled === 0) this.#onChange();
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
