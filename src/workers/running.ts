/**
 * The one runtime shape every job and member sees (`this.report`, `this.signal`, `this.allocate`, …): a
 * `Running` per job or member call in progress, and one per member for its lifetime (id 0: its reports go
 * nowhere, its signal never aborts, its `notifyHost()` names the member). No closures. What it does is done
 * by the parts behind `RunServices` (the result writer, the running words, the members).
 */
import { disposable, releaseView } from '../shared/arena-views.js';
import type { Arena } from '../memory/arena.js';
import type { SharedTypedArray, TypedArrayConstructor, WorkerRuntime } from '../shared/job.js';

/** What a running job reaches through its runtime. */
export interface RunServices {
  readonly isolateIndex: number;
  /** The job's AbortSignal, made on first use (see RunSlots.signalFor). */
  signalFor(running: Running): AbortSignal;
  /** `this.report(value)` (see ResultWriter.report). */
  report(running: Running, value: unknown): void;
  /** Writes the report of `running` waiting for room, waiting for room (see ResultWriter.writeCoalesced). */
  flushReport(running: Running): void;
  /** Whether main wrote the id of `running` into its cancel word (see RunSlots.isCancelled). */
  isCancelled(running: Running): boolean;
  allocate<C extends TypedArrayConstructor>(ctor: C, length: number): SharedTypedArray<C> & Disposable;
  release(array: ArrayBufferView): void;
  /** `this.notifyHost(command)`; member id 0 for a job. */
  notifyHost(command: unknown, memberId: number): Promise<unknown>;
}

export class Running implements WorkerRuntime {
  readonly id: number;
  /** Index of the shared running word (and cancel word) holding this id, or −1 (lane work beyond the 16 words: main knows it from the lane). */
  readonly runSlot: number;
  readonly started: number;
  readonly #services: RunServices;
  controller: AbortController | undefined = undefined;
  done = false;
  /** Buffers `transfer()` marked: moved, not copied, when a record of this job contains them. */
  transfers: Set<ArrayBuffer> | undefined = undefined;
  /** The latest report waiting for room in the result ring (encoded record), see ResultWriter.report. */
  coalesced: Uint8Array | undefined = undefined;

  /** The member this runtime belongs to (0: a job or call). */
  readonly memberId: number;

  constructor(services: RunServices, id: number, runSlot: number, memberId = 0) {
    this.#services = services;
    this.id = id;
    this.runSlot = runSlot;
    this.memberId = memberId;
    this.started = performance.now();
  }

  get isolateIndex(): number {
    return this.#services.isolateIndex;
  }

  get signal(): AbortSignal {
    return this.#services.signalFor(this);
  }

  report(value: unknown): void {
    if (this.id !== 0) this.#services.report(this, value); // a member's own runtime reports to nobody
  }

  cancelled(): boolean {
    return this.controller !== undefined ? this.controller.signal.aborted : this.#services.isCancelled(this);
  }

  flushReports(): void {
    if (this.coalesced !== undefined && !this.done) this.#services.flushReport(this);
  }

  allocate<C extends TypedArrayConstructor>(ctor: C, length: number): SharedTypedArray<C> & Disposable {
    return this.#services.allocate(ctor, length);
  }

  release(array: ArrayBufferView): void {
    this.#services.release(array);
  }

  transfer(buffers: readonly ArrayBuffer[]): void {
    this.transfers = addTransfers(this.transfers, buffers);
  }

  notifyHost(command: unknown): Promise<unknown> {
    return this.#services.notifyHost(command, this.memberId);
  }
}

/** `this.allocate(ctor, length)` in a job or member: a `using`-friendly typed array on the arena. */
export function allocateOn<C extends TypedArrayConstructor>(arena: Arena, ctor: C, length: number): SharedTypedArray<C> & Disposable {
  return disposable(arena, arena.allocArray(ctor, length)) as unknown as SharedTypedArray<C> & Disposable;
}

/** `this.release(array)` in a job or member. */
export function releaseOn(arena: Arena, array: ArrayBufferView): void {
  releaseView(arena, array);
}

/** Checks `transfer(...)` arguments (non-shared, not detached ArrayBuffers) and adds them to `set`. */
export function addTransfers(set: Set<ArrayBuffer> | undefined, buffers: readonly ArrayBuffer[]): Set<ArrayBuffer> {
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
