/**
 * `CallbackWorkgroup`: run one job on a dedicated worker (like Dart's `Isolate.run`) and stream its
 * `report(a)` values to a callback, in order, all before the result. Unlike the Dart package, the
 * returned promise always settles: with the result, or rejected (error, timeout, abort).
 */
import { combineStacks, WorkgroupTimeoutException } from './errors.js';
import { WorkgroupJob } from './job.js';
import type { WorkgroupConfig } from './config.js';
import type { IsolateWorkgroup } from './workgroup.js';

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

export interface CallbackRunOptions {
  /** Called with the error (and its stack) before the promise rejects. */
  readonly onError?: (error: unknown, stack: string | undefined) => void;
  /** Milliseconds before the run rejects with WorkgroupTimeoutException and its worker is stopped. */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
  /** Add the main-thread stack to the error's stack (default true). */
  readonly combineStackTraces?: boolean;
  /** Work modules for the dedicated worker (default: the job class's `static module`). */
  readonly modules?: ReadonlyArray<URL | string>;
  /** Node only: options for `new Worker`. */
  readonly workerOptions?: Readonly<Record<string, unknown>>;
}

export type WorkgroupFactory = (config: WorkgroupConfig) => IsolateWorkgroup;

export class CallbackWorkgroupBase<R, A> {
  readonly job: CallbackWorkgroupJob<R, A>;
  readonly #factory: WorkgroupFactory;

  constructor(job: CallbackWorkgroupJob<R, A>, factory: WorkgroupFactory) {
    if (!(job instanceof CallbackWorkgroupJob)) throw new TypeError('CallbackWorkgroup expects a CallbackWorkgroupJob instance');
    this.job = job;
    this.#factory = factory;
  }

  /** Runs the job on a fresh worker; `callback` receives every `report(a)`, in order, before the result. */
  async run(callback?: ((value: A) => void) | null, options: CallbackRunOptions = {}): Promise<R> {
    const site: { stack?: string } = {};
    if (options.combineStackTraces !== false) Error.captureStackTrace(site, this.run);
    const wg = this.#factory({
      modules: options.modules,
      captureMainStack: false,
      respawn: false,
      health: { enabled: false },
      cancelGraceMs: 0,
      ...(options.workerOptions ? { workerOptions: options.workerOptions } : {}),
    });
    try {
      await wg.launch();
      return (await wg.dispatch(this.job, {
        onProgress: callback ? (v) => callback(v as A) : undefined,
        timeout: options.timeout,
        signal: options.signal,
      })) as R;
    } catch (error) {
      if (error instanceof WorkgroupTimeoutException) {
        Object.defineProperty(error, 'operation', { value: 'CallbackWorkgroup.run' });
      }
      if (options.combineStackTraces !== false && !(error instanceof WorkgroupTimeoutException)) combineStacks(error, site.stack);
      options.onError?.(error, error instanceof Error ? error.stack : undefined);
      throw error;
    } finally {
      await wg.shutdown();
    }
  }
}
