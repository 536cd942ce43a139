/**
 * `CallbackWorkgroupJob`, the job class of `CallbackWorkgroup`. A module of its own because it is one of
 * the library's public classes, which the build keeps in one module per thread (dist/classes.js).
 */
import { WorkgroupJob } from './job.js';

/**
 * A job for `CallbackWorkgroup`. The constructor takes `synchronous`: true runs `executeSync()`, false runs
 * `executeAsync()`. `report(a)` sends a value to the run's callback.
 */
export abstract class CallbackWorkgroupJob<R = unknown, A = unknown> extends WorkgroupJob<R> {
  readonly synchronous: boolean;

  constructor(synchronous: boolean) {
    super();
    if (typeof synchronous !== 'boolean') throw new TypeError(`expected \`synchronous\` to be a boolean, got ${String(synchronous)}`);
    this.synchronous = synchronous;
  }

  /** Runs when `synchronous` is true. */
  executeSync(): R {
    throw new Error(`${this.constructor.name} was created with synchronous = true but does not override executeSync()`);
  }

  /** Runs when `synchronous` is false. */
  executeAsync(): Promise<R> {
    return Promise.reject(new Error(`${this.constructor.name} was created with synchronous = false but does not override executeAsync()`));
  }

  execute(): R | Promise<R> {
    return this.synchronous ? this.executeSync() : this.executeAsync();
  }

  override report(value: A): void {
    super.report(value);
  }
}
