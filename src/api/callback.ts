/**
 * `CallbackWorkgroup`: run one job on a dedicated worker (like Dart's `Isolate.run`) and stream its
 * `report(a)` values to a callback, in order, all before the result. Unlike the Dart package, the
 * returned promise always settles: with the result, or rejected (error, timeout, abort).
 */
import { combineStacks, WorkgroupTimeoutException } from './errors.js';
import { CallbackWorkgroupJob } from './callback-job.js';

export { CallbackWorkgroupJob };
import type { WorkgroupConfig } from './config.js';
import type { IsolateWorkgroup } from './workgroup.js';
import { checkBoolean, checkFunction, checkOptionsObject, checkSignal, checkTimeout } from './validate.js';

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

const CALLBACK_RUN_OPTIONS = ['onError', 'timeout', 'signal', 'combineStackTraces', 'modules', 'workerOptions'] as const;

export type WorkgroupFactory = (config: WorkgroupConfig) => IsolateWorkgroup;

export class CallbackWorkgroupBase<R, A> {
  readonly job: CallbackWorkgroupJob<R, A>;
  readonly #factory: WorkgroupFactory;

  constructor(job: CallbackWorkgroupJob<R, A>, factory: WorkgroupFactory) {
    if (!(job instanceof CallbackWorkgroupJob)) throw new TypeError('CallbackWorkgroup expects a CallbackWorkgroupJob instance');
    this.job = job;
    this.#factory = factory;
  }

  /**
   * Runs the job on a fresh worker; `callback` receives every `report(a)`, in order, before the result (a
   * job reporting faster than the callback keeps up is coalesced: see docs/zero-copy.md). The promise
   * always settles, and when it does the worker has exited. A callback that throws ends the run: the
   * promise rejects with that error and the worker is stopped. `onError` sees every rejection first; an
   * `onError` that throws does not change the rejection.
   */
  async run(callback?: ((value: A) => void) | null, options: CallbackRunOptions = {}): Promise<R> {
    checkOptionsObject('CallbackWorkgroup.run()', options, CALLBACK_RUN_OPTIONS);
    checkFunction('CallbackWorkgroup.run()', 'onError', options.onError);
    checkTimeout('CallbackWorkgroup.run()', options.timeout);
    checkSignal('CallbackWorkgroup.run()', options.signal);
    checkBoolean('CallbackWorkgroup.run()', 'combineStackTraces', options.combineStackTraces);
    const site: { stack?: string } = {};
    if (options.combineStackTraces !== false) Error.captureStackTrace(site, this.run);
    if (callback !== undefined && callback !== null && typeof callback !== 'function') {
      throw new TypeError(`expected the callback of run() to be a function, got ${typeof callback}`);
    }
    let wg: IsolateWorkgroup | undefined;
    let callbackError: { error: unknown } | undefined;
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    try {
      wg = this.#factory({
        modules: options.modules,
        captureMainStack: false,
        progress: 'all', // report(a) calls callback(a) for every a: the job waits for room
        respawn: false,
        health: { enabled: false },
        cancelGraceMs: 0,
        ...(options.workerOptions ? { workerOptions: options.workerOptions } : {}),
      });
      await wg.launch();
      const onProgress = callback
        ? (v: unknown) => {
            if (callbackError) return;
            try {
              callback(v as A);
            } catch (error) {
              callbackError = { error };
              stop.abort(error);
            }
          }
        : undefined;
      return (await wg.dispatch(this.job, { onProgress, timeout: options.timeout, signal })) as R;
    } catch (caught) {
      const error = callbackError ? callbackError.error : caught;
      if (error instanceof WorkgroupTimeoutException) {
        Object.defineProperty(error, 'operation', { value: 'CallbackWorkgroup.run' });
      }
      if (options.combineStackTraces !== false && !(error instanceof WorkgroupTimeoutException) && !callbackError) combineStacks(error, site.stack);
      try {
        options.onError?.(error, error instanceof Error ? error.stack : undefined);
      } catch {
        // onError must not turn one rejection into another: the run rejects with `error`
      }
      throw error;
    } finally {
      await wg?.shutdown();
    }
  }
}
