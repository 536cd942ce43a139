/**
 * Per-worker latency histograms in the worker's control block (log2 buckets of microseconds), written
 * with `Atomics.add` by the worker and read by main without a round trip (`stats()`).
 */
import { CB_BUSY_HI, CB_BUSY_LO, CB_RUN_HIST, CB_WAIT_HIST, HIST_BUCKETS } from '../ring/layout.js';

const BUSY_CARRY = 1 << 30;

export function bucketOf(micros: number): number {
  if (!(micros >= 1)) return 0;
  const b = 32 - Math.clz32(Math.floor(micros));
  return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

export class HistogramWriter {
  readonly #i32: Int32Array;
  readonly #cb: number;

  constructor(i32: Int32Array, cb: number) {
    this.#i32 = i32;
    this.#cb = cb;
  }

  /** Time a job waited between dispatch and start, in ms. */
  wait(ms: number): void {
    Atomics.add(this.#i32, this.#cb + CB_WAIT_HIST + bucketOf(ms * 1000), 1);
  }

  /** Time a job ran, in ms; also adds to the busy-time counter. */
  run(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    Atomics.add(this.#i32, this.#cb + CB_RUN_HIST + bucketOf(us), 1);
    const lo = Atomics.add(this.#i32, this.#cb + CB_BUSY_LO, us) + us;
    if (lo >= BUSY_CARRY) {
      Atomics.sub(this.#i32, this.#cb + CB_BUSY_LO, BUSY_CARRY);
      Atomics.add(this.#i32, this.#cb + CB_BUSY_HI, 1);
    }
  }
}
