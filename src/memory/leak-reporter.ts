// Optional leak reporter: tells you when a typed array that this thread got from the arena was garbage
// collected while its block was still live. It only reports — it never frees: another thread may still
// hold the same bytes (a view passed by reference is a different object there), so "collected here"
// is a hint, not proof. Costs one FinalizationRegistry entry per tracked array (and a stack trace per
// allocation with `captureStacks`).

export interface ArenaLeak {
  /** Payload byte offset and generation of the block (its handle). */
  readonly offset: number;
  readonly generation: number;
  readonly byteLength: number;
  /** Constructor name of the collected array (`Float64Array`, …). */
  readonly type: string;
  /** Owner slot of the thread that allocated it. */
  readonly owner: number;
  /** Allocation stack, when the arena was attached with `captureStacks: true`. */
  readonly stack?: string;
}

export type LeakListener = (leak: ArenaLeak) => void;

export class LeakReporter {
  readonly #registry: FinalizationRegistry<ArenaLeak>;
  readonly #captureStacks: boolean;

  /** `stillLive(offset, generation)` is asked at collection time; only live blocks are reported. */
  constructor(listener: LeakListener, stillLive: (offset: number, generation: number) => boolean, captureStacks: boolean) {
    this.#captureStacks = captureStacks;
    this.#registry = new FinalizationRegistry<ArenaLeak>((leak) => {
      if (!stillLive(leak.offset, leak.generation)) return;
      try {
        listener(leak);
      } catch {
        // A throwing listener must not break finalization of other arrays.
      }
    });
  }

  track(view: ArrayBufferView, offset: number, generation: number, owner: number): void {
    const base = { offset, generation, byteLength: view.byteLength, type: view.constructor.name, owner };
    const leak: ArenaLeak = this.#captureStacks ? { ...base, stack: new Error('allocated here').stack ?? '' } : base;
    this.#registry.register(view, leak, view);
  }

  untrack(view: ArrayBufferView): void {
    this.#registry.unregister(view);
  }
}
