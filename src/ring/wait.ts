/**
 * Wait strategies (design-notes §4, R.6): bounded adaptive spinning, then parking.
 *
 * - Workers park with `Atomics.wait` (blocking, cheapest) when nothing asynchronous is pending in them,
 *   and with `Atomics.waitAsync` (back to their event loop) when it is.
 * - The main thread never blocks: it waits with `Atomics.waitAsync`, or — where that is missing — on a
 *   message "doorbell" that workers ring only when main said it is parked.
 * - Every park has a timeout: a safety net against a lost wake-up and the supervision tick.
 */

type PauseFn = () => void;
const atomicsPause: PauseFn | undefined = (Atomics as unknown as { pause?: PauseFn }).pause;

/** A spin-loop hint: `Atomics.pause()` where the engine has it (Chromium 133+, Node 24+), else nothing. */
export const spinPause: PauseFn = typeof atomicsPause === 'function' ? () => atomicsPause.call(Atomics) : () => {};

export const hasWaitAsync = typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function';

/**
 * Adaptive spin budget, in polling iterations (Disruptor's phased back-off): it grows when a spin found
 * work (a wait would have been wasted) and shrinks when spinning ended in a park anyway.
 */
export class SpinBudget {
  #current: number;
  readonly min: number;
  readonly max: number;

  constructor(initial: number, min: number, max: number) {
    this.min = Math.max(0, Math.min(min, max));
    this.max = Math.max(this.min, max);
    this.#current = Math.max(this.min, Math.min(initial, this.max));
  }

  get current(): number {
    return this.#current;
  }

  /** Spinning found work after `used` iterations. */
  hit(used: number): void {
    if (used * 2 > this.#current) this.#current = Math.min(this.max, this.#current * 2);
  }

  /**
   * Spinning ran out and the thread parks. Parks in quick succession (less than `QUICK_PARK_MS` since the
   * previous one) mean work arrives just after the spin gave up: each of those parks costs a wake-up
   * (tens of µs), so the budget grows. Otherwise spinning was wasted and it shrinks. Without the growth
   * rule a budget that once fell below the gap between jobs would never recover (hits only happen when
   * the spin outlasts the gap).
   */
  miss(now = performance.now()): void {
    const quick = now - this.#lastMiss < QUICK_PARK_MS;
    this.#lastMiss = now;
    if (this.#current === 0) return; // spinning is off
    this.#current = quick ? Math.min(this.max, this.#current * 2) : Math.max(this.min, this.#current >> 1);
  }

  #lastMiss = -Infinity;
}

/**
 * Limits how many idle workers spin at once. With more spinners than spare cores, spinning threads take the
 * CPU from the very threads they wait for — the main thread and the worker running a job. A worker that
 * may not spin parks at once; main's wake-up reaches it.
 *
 * The places are bits of a shared mask, one per worker slot (not a counter): a worker sets its own bit,
 * counts the bits, and backs off when the count is over the limit (so at any time the workers that passed
 * are at most `max`: the last to set its bit counted all the others). A worker that dies while spinning is
 * repaired by clearing its bit — idempotent, so no death at any instruction can leak a place or free one
 * twice.
 */
export class SpinGate {
  readonly #i32: Int32Array;
  readonly #base: number;
  readonly #words: number;
  readonly #word: number;
  readonly #bit: number;
  readonly #max: number;
  #inside = false;

  /** `base`: first word of the mask (`words` long); `slot`: this worker's bit; `max`: places. */
  constructor(i32: Int32Array, base: number, words: number, slot: number, max: number) {
    this.#i32 = i32;
    this.#base = base;
    this.#words = words;
    this.#word = base + (slot >> 5);
    this.#bit = 1 << (slot & 31);
    this.#max = max;
  }

  /** Takes a spinning place; false when all are taken (then do not spin). */
  enter(): boolean {
    if (this.#inside) return true;
    if (this.#max <= 0) return false;
    Atomics.or(this.#i32, this.#word, this.#bit);
    if (this.#count() > this.#max) {
      Atomics.and(this.#i32, this.#word, ~this.#bit);
      return false;
    }
    this.#inside = true;
    return true;
  }

  leave(): void {
    if (!this.#inside) return;
    this.#inside = false;
    Atomics.and(this.#i32, this.#word, ~this.#bit);
  }

  #count(): number {
    let n = 0;
    for (let w = 0; w < this.#words; w++) {
      let v = Atomics.load(this.#i32, this.#base + w);
      while (v !== 0) {
        v &= v - 1;
        n++;
      }
    }
    return n;
  }
}

/** Two parks closer than this (ms) count as "work came right back" for the adaptive spin budget. */
export const QUICK_PARK_MS = 1;

/** Result of `waitAsync` normalised to a promise (it may settle synchronously with 'not-equal'). */
export function waitAsyncPromise(i32: Int32Array, index: number, value: number, timeoutMs: number): Promise<string> {
  const r = (Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string };
  }).waitAsync(i32, index, value, timeoutMs);
  return r.async ? (r.value as Promise<string>) : Promise.resolve(r.value as string);
}

/** Longest blocking wait of `parkAsync` where `waitAsync` is missing (then the thread turns its event loop). */
const NAP_MS = 4;

/**
 * A worker's park that lets its event loop run: `Atomics.waitAsync` where the engine has it; elsewhere
 * (Firefox < 145 and Safari < 16.4 workers) a short blocking `Atomics.wait` followed by one event-loop
 * turn — the caller parks again if there is still nothing to do. Blocks, so never call it on a main thread.
 */
export function parkAsync(i32: Int32Array, index: number, value: number, timeoutMs: number, turn: () => Promise<void>): Promise<unknown> {
  if (typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function') return waitAsyncPromise(i32, index, value, timeoutMs);
  Atomics.wait(i32, index, value, Math.min(timeoutMs, NAP_MS));
  return turn();
}
