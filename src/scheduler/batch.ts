/**
 * A batch of jobs dispatched together (`dispatchAll`, `dispatchAllSettled`): one promise for the whole
 * batch, results kept in dispatch order. The batch travels as chunks of `chunk` consecutive jobs (see
 * shared/batch-chunk.ts); each chunk is an ordinary entry of the pending table (queued, cancelled,
 * recovered after a crash like any job) that settles into the batch at its first job's index instead of
 * into a promise of its own — no promise, no closure, no pending entry per job.
 *
 * `all`: the first failure rejects the batch and cancels its jobs not started yet (the others run to their
 * end; their results are dropped). `settled`: every outcome is kept, as `Promise.allSettled` does.
 */
export type BatchMode = 'all' | 'settled';

export class Batch {
  readonly mode: BatchMode;
  readonly results: unknown[];
  /** Jobs per chunk (the last chunk may be shorter). */
  readonly chunk: number;
  #remaining: number;
  #done = false;
  readonly #resolve: (results: unknown[]) => void;
  readonly #reject: (error: unknown) => void;
  /** Called once, at the first failure in `all` mode: cancels the batch's jobs not settled yet. */
  onFirstFailure: (error: unknown) => void = () => undefined;
  /** Called once the batch settled (its signal listener and timer go). */
  cleanup: (() => void) | undefined;

  constructor(mode: BatchMode, size: number, chunk: number, resolve: (results: unknown[]) => void, reject: (error: unknown) => void) {
    this.mode = mode;
    this.chunk = chunk;
    this.results = new Array<unknown>(size);
    this.#remaining = size;
    this.#resolve = resolve;
    this.#reject = reject;
    if (size === 0) this.#finish();
  }

  get done(): boolean {
    return this.#done;
  }

  /**
   * The chunk starting at job `start` settled: with its results (`all`), with `[results, failures]`
   * (`settled`, failures as flattened `[index in chunk, error]` pairs), or failed as a whole with `value`
   * (its worker died, it was cancelled, or — `all` — one of its jobs threw).
   */
  settle(start: number, ok: boolean, value: unknown): void {
    if (this.#done) return;
    const results = this.results;
    const count = Math.min(this.chunk, results.length - start);
    if (!ok) {
      if (this.mode === 'all') {
        this.#done = true;
        this.cleanup?.();
        this.#reject(value);
        this.onFirstFailure(value);
        return;
      }
      for (let i = 0; i < count; i++) results[start + i] = { status: 'rejected', reason: value };
    } else if (this.mode === 'all') {
      const values = value as unknown[];
      for (let i = 0; i < count; i++) results[start + i] = values[i];
    } else {
      const [values, failures] = value as [unknown[], unknown[] | undefined];
      for (let i = 0; i < count; i++) results[start + i] = { status: 'fulfilled', value: values[i] };
      if (failures) for (let k = 0; k < failures.length; k += 2) results[start + (failures[k] as number)] = { status: 'rejected', reason: failures[k + 1] };
    }
    this.#remaining -= count;
    if (this.#remaining === 0) this.#finish();
  }

  /** The whole batch failed before its jobs were all sent (bad input, shut down): nothing more settles it. */
  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.cleanup?.();
    this.#reject(error);
  }

  /** Ends the batch without settling its promise (the caller answers the call another way). */
  abandon(): void {
    this.#done = true;
    this.cleanup?.();
  }

  #finish(): void {
    this.#done = true;
    this.cleanup?.();
    this.#resolve(this.results);
  }
}
