/**
 * A batch of jobs dispatched together (`dispatchAll`, `dispatchAllSettled`): one promise for the whole
 * batch, results kept in dispatch order. Its jobs are ordinary entries of the pending table (each is
 * queued, cancelled, recovered after a crash like any job) that settle into the batch instead of a promise
 * of their own — no promise, no closure per job.
 *
 * `all`: the first failure rejects the batch and cancels its jobs not started yet (the others run to their
 * end; their results are dropped). `settled`: every outcome is kept, as `Promise.allSettled` does.
 */
export type BatchMode = 'all' | 'settled';

export class Batch {
  readonly mode: BatchMode;
  readonly results: unknown[];
  #remaining: number;
  #done = false;
  readonly #resolve: (results: unknown[]) => void;
  readonly #reject: (error: unknown) => void;
  /** Called once, at the first failure in `all` mode: cancels the batch's jobs not settled yet. */
  onFirstFailure: (error: unknown) => void = () => undefined;
  /** Called once the batch settled (its signal listener and timer go). */
  cleanup: (() => void) | undefined;

  constructor(mode: BatchMode, size: number, resolve: (results: unknown[]) => void, reject: (error: unknown) => void) {
    this.mode = mode;
    this.results = new Array<unknown>(size);
    this.#remaining = size;
    this.#resolve = resolve;
    this.#reject = reject;
    if (size === 0) this.#finish();
  }

  get done(): boolean {
    return this.#done;
  }

  /** Job `index` of the batch settled. */
  settle(index: number, ok: boolean, value: unknown): void {
    if (this.#done) return;
    if (this.mode === 'settled') {
      this.results[index] = ok ? { status: 'fulfilled', value } : { status: 'rejected', reason: value };
    } else if (ok) {
      this.results[index] = value;
    } else {
      this.#done = true;
      this.cleanup?.();
      this.#reject(value);
      this.onFirstFailure(value);
      return;
    }
    if (--this.#remaining === 0) this.#finish();
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
