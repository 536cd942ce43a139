/**
 * The stop fence: one word in each worker's control block (CB_FENCE) that decides, with one
 * compare-exchange, whether a worker may still touch shared memory. Main cannot trust a thread's `exit`
 * event alone: on some runtimes (Deno) `terminate()` reports the exit while a thread busy in JavaScript
 * keeps running for a while, so a worker that is told to stop is fenced off here first.
 *
 * | value          | written by | meaning                                                                 |
 * |----------------|------------|-------------------------------------------------------------------------|
 * | FENCE_OPEN     | main/worker| serving                                                                 |
 * | FENCE_BUSY     | worker     | inside a claim or a publish (a few stores, never user code): main waits  |
 * | FENCE_STOP     | main       | stop: publish what finished, claim nothing more, then acknowledge        |
 * | FENCE_STOPPING | worker     | won the stop: publishing its last results                                |
 * | FENCE_STOPPED  | worker     | acknowledged: its results are published, it holds no claim, and it never |
 * |                |            | writes shared memory again                                               |
 * | FENCE_CLOSED   | main       | main gave up waiting (the worker is inside a long job): the worker never |
 * |                |            | writes shared memory again, whatever it finishes is dropped              |
 *
 * The word holds the state in its low 3 bits and the worker's generation above them (`fenceWord`: its
 * public index + 1, never reused), so a thread that outlives its slot (the slot was reset and given to a
 * new worker) never mistakes the new worker's word for its own: for it, a word of another generation is
 * CLOSED. A reset control block (0) belongs to no worker.
 *
 * Transitions: the worker brackets every claim on the shared queue and every publication of its result
 * ring with OPEN → BUSY → OPEN (compare-exchanges). Main moves OPEN → STOP (waiting while BUSY), then waits
 * for STOPPED, then may move STOP → CLOSED. Exactly one side wins STOP: the worker (STOP → STOPPING →
 * STOPPED, results delivered) or main (STOP → CLOSED, the worker's unpublished results are lost with the
 * job, which main rejects as killed). Once main sees STOPPED or has written CLOSED, it may settle the
 * worker's work and reuse its control block: the thread, if it still runs, changes nothing any more.
 */
export const FENCE_OPEN = 0;
export const FENCE_BUSY = 1;
export const FENCE_STOP = 2;
export const FENCE_STOPPING = 3;
export const FENCE_STOPPED = 4;
export const FENCE_CLOSED = 5;

const STATE_BITS = 3;
const STATE_MASK = (1 << STATE_BITS) - 1;

/** The fence word of the worker with public index `index` in state `state`. */
export function fenceWord(index: number, state: number): number {
  return (((index + 1) << STATE_BITS) | state) | 0;
}

/** The state part of a fence word. */
export function fenceState(word: number): number {
  return word & STATE_MASK;
}

/** The worker's side of the fence (one per worker, on its control block's CB_FENCE word). */
export class WorkerFence {
  readonly #i32: Int32Array;
  readonly #word: number;
  /** This worker's fence word in state FENCE_OPEN; the other states are this plus the state. */
  readonly #base: number;
  /** Set once the worker has stopped or was closed: nothing may be written to shared memory any more. */
  fenced = false;

  /** `word` is the i32 index of CB_FENCE in this worker's control block; `index` its public index. */
  constructor(i32: Int32Array, word: number, index: number) {
    this.#i32 = i32;
    this.#word = word;
    this.#base = fenceWord(index, FENCE_OPEN);
  }

  /** Brackets entered and not left (a claim may publish inside its bracket: brackets nest). */
  #depth = 0;

  /** Enters a claim or publish. False when main has asked the worker to stop (or closed it). */
  enter(): boolean {
    if (this.fenced) return false;
    if (this.#depth > 0) {
      this.#depth++;
      return true;
    }
    if (Atomics.compareExchange(this.#i32, this.#word, this.#base, this.#base + FENCE_BUSY) !== this.#base) return false;
    this.#depth = 1;
    return true;
  }

  /** Leaves a claim or publish (only the worker writes while BUSY: main waits for OPEN). */
  leave(): void {
    // Compare-exchange, not a store: a thread that outlived its slot must never overwrite the word of the
    // worker that took the slot next (or a CLOSED main wrote after waiting too long).
    if (--this.#depth === 0) Atomics.compareExchange(this.#i32, this.#word, this.#base + FENCE_BUSY, this.#base);
  }

  /**
   * True when main closed this worker's fence (or the slot belongs to another generation now): nothing
   * may be written any more. A stop that is only requested still lets finished work be written — the stop
   * handshake publishes it.
   */
  get closed(): boolean {
    if (this.fenced) return true;
    const v = Atomics.load(this.#i32, this.#word);
    return v !== this.#base && v !== this.#base + FENCE_BUSY && v !== this.#base + FENCE_STOP;
  }

  /** True when main has asked this worker to stop (it has not acknowledged yet), or closed it. */
  get requested(): boolean {
    if (this.fenced) return true;
    const v = Atomics.load(this.#i32, this.#word);
    return v !== this.#base && v !== this.#base + FENCE_BUSY;
  }

  /**
   * Acts on main's request: when main asked for a stop and the worker wins it, runs `publishLast` (publish
   * every result written; the caller holds no claim), then acknowledges. Either way the worker is fenced
   * afterwards. Returns true when the worker won (its results were delivered).
   */
  stop(publishLast: () => void): boolean {
    if (this.fenced) return false;
    this.fenced = true;
    const stop = this.#base + FENCE_STOP;
    if (Atomics.compareExchange(this.#i32, this.#word, stop, this.#base + FENCE_STOPPING) !== stop) return false; // closed by main
    try {
      publishLast();
    } finally {
      // (Compare-exchange: main may have closed it meanwhile, and the slot may be another worker's by then.)
      Atomics.compareExchange(this.#i32, this.#word, this.#base + FENCE_STOPPING, this.#base + FENCE_STOPPED);
      Atomics.notify(this.#i32, this.#word);
    }
    return true;
  }
}

// ---------------------------------------------------------------- main's side

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long main waits for a worker to leave a claim or publish (a few stores) before taking it for dead. */
const BUSY_WAIT_MS = 1000;
/** Longest wait for an acknowledgement while the worker keeps finishing jobs (see fenceOff). */
const PROGRESS_WAIT_MS = 5000;

/**
 * Main: fences worker `index` off (its fence word is `i32[word]`). Asks it to stop, rings it (`wake`), and
 * waits for it to publish what it finished and acknowledge — while `progress()` (its count of finished
 * jobs) moves, and up to `graceMs` after it last moved (then the worker is inside one long job, or its
 * thread is stalled); then closes the fence if the worker has not won it. Resolves once the worker can
 * no longer write shared memory, or once `gone()` says the thread has ended. Returns true when the
 * worker acknowledged (its finished results are published: drain its ring before settling its work).
 */
export async function fenceOff(
  i32: Int32Array,
  word: number,
  index: number,
  graceMs: number,
  wake: () => void,
  gone: () => boolean,
  progress: () => number = () => 0,
): Promise<boolean> {
  const base = fenceWord(index, FENCE_OPEN);
  const started = performance.now();
  // OPEN → STOP; the worker may be inside a claim or a publish (BUSY): wait for it, it takes microseconds.
  for (;;) {
    const seen = Atomics.compareExchange(i32, word, base, base + FENCE_STOP);
    if (seen !== base + FENCE_BUSY) break;
    if (gone() || performance.now() - started > BUSY_WAIT_MS) return false;
    await delay(0);
  }
  wake();
  const state = (): number => Atomics.load(i32, word) - base;
  let seen = progress();
  let movedAt = performance.now();
  while (state() !== FENCE_STOPPED && state() !== FENCE_CLOSED && !gone()) {
    const now = performance.now();
    const p = progress();
    if (p !== seen) {
      seen = p;
      movedAt = now;
    }
    if (now - movedAt >= graceMs || now - started >= Math.max(graceMs, PROGRESS_WAIT_MS)) break;
    if (state() === FENCE_STOPPING) await delay(0);
    else await delay(1);
  }
  // Close what the worker has not taken; a worker that is publishing its last results finishes first.
  Atomics.compareExchange(i32, word, base + FENCE_STOP, base + FENCE_CLOSED);
  const closedAt = performance.now();
  while (state() === FENCE_STOPPING && !gone() && performance.now() - closedAt < BUSY_WAIT_MS) await delay(0);
  return state() === FENCE_STOPPED;
}
