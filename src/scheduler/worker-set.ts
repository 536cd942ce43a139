/**
 * The workers as the other parts look them up: by public index (stable, never reused) and by shared-memory
 * slot (reused once a worker is gone). Only the worker registry adds and removes entries.
 */
import type { WorkerSlot } from './worker-slot.js';

export class WorkerSet {
  readonly #byIndex = new Map<number, WorkerSlot>();
  readonly #bySlot: (WorkerSlot | undefined)[] = [];
  readonly #maxSlots: number;
  /** The next public index (`isolatesCount`): raised only when an added worker is ready. */
  nextIndex = 0;

  constructor(maxSlots: number) {
    this.#maxSlots = maxSlots;
  }

  get(index: number): WorkerSlot | undefined {
    return this.#byIndex.get(index);
  }

  bySlot(slot: number): WorkerSlot | undefined {
    return this.#bySlot[slot];
  }

  values(): IterableIterator<WorkerSlot> {
    return this.#byIndex.values();
  }

  /** A free shared-memory slot, or −1. */
  freeSlot(): number {
    for (let s = 0; s < this.#maxSlots; s++) if (this.#bySlot[s] === undefined) return s;
    return -1;
  }

  add(ws: WorkerSlot): void {
    this.#byIndex.set(ws.index, ws);
    this.#bySlot[ws.slot] = ws;
  }

  /** Frees the slot (the thread is gone); the index entry stays for look-ups of dead workers. */
  freeSlotOf(ws: WorkerSlot): void {
    if (this.#bySlot[ws.slot] === ws) this.#bySlot[ws.slot] = undefined;
  }

  /** Forgets a worker that never got its index (a failed addIsolate). */
  remove(ws: WorkerSlot): void {
    if (this.#byIndex.get(ws.index) === ws) this.#byIndex.delete(ws.index);
    this.freeSlotOf(ws);
  }

  /** Workers that serve (live, with a committed index). */
  get liveCount(): number {
    let n = 0;
    for (const w of this.#byIndex.values()) if (w.live && w.index < this.nextIndex) n++;
    return n;
  }

  liveIndices(): string {
    const live: number[] = [];
    for (const w of this.#byIndex.values()) if (w.live && w.index < this.nextIndex) live.push(w.index);
    return live.join(', ') || 'none';
  }
}
