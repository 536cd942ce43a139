/**
 * The base classes users extend: `WorkgroupJob`, `WorkgroupMember`, `WorkerCommand`.
 *
 * They carry no own fields, so an instance's own fields are exactly the user's data (that is what travels
 * to the worker). What a job or member can reach inside a worker — `report`, `signal`, `isolateIndex`,
 * `allocate`, `release`, `transfer`, `notifyHost` — comes from a runtime the worker binds to the instance.
 * Reserved names (do not use them as fields): `execute`, `report`, `signal`, `isolateIndex`, `allocate`,
 * `release`, `transfer`, `setup`, `handle`, `dispose`, `notifyHost`, `executeSync`, `executeAsync`,
 * `synchronous`.
 */
import type { TypedArrayCtor } from '../memory/types.js';

/** Any typed-array constructor (`Float64Array`, `Uint8Array`, …). */
export type TypedArrayConstructor = TypedArrayCtor;

/** The typed array a constructor makes, viewing shared memory (what `allocate(ctor, n)` returns). */
export type SharedTypedArray<C extends TypedArrayConstructor> = C extends Int8ArrayConstructor
  ? Int8Array<SharedArrayBuffer>
  : C extends Uint8ClampedArrayConstructor
    ? Uint8ClampedArray<SharedArrayBuffer>
    : C extends Uint8ArrayConstructor
      ? Uint8Array<SharedArrayBuffer>
      : C extends Int16ArrayConstructor
        ? Int16Array<SharedArrayBuffer>
        : C extends Uint16ArrayConstructor
          ? Uint16Array<SharedArrayBuffer>
          : C extends Int32ArrayConstructor
            ? Int32Array<SharedArrayBuffer>
            : C extends Uint32ArrayConstructor
              ? Uint32Array<SharedArrayBuffer>
              : C extends Float32ArrayConstructor
                ? Float32Array<SharedArrayBuffer>
                : C extends Float64ArrayConstructor
                  ? Float64Array<SharedArrayBuffer>
                  : C extends BigInt64ArrayConstructor
                    ? BigInt64Array<SharedArrayBuffer>
                    : C extends BigUint64ArrayConstructor
                      ? BigUint64Array<SharedArrayBuffer>
                      : never;

/** What the worker gives a running job or member. */
export interface WorkerRuntime {
  readonly isolateIndex: number;
  readonly signal: AbortSignal;
  report(value: unknown): void;
  allocate<C extends TypedArrayConstructor>(ctor: C, length: number): SharedTypedArray<C> & Disposable;
  release(array: ArrayBufferView): void;
  transfer(buffers: readonly ArrayBuffer[]): void;
  notifyHost(command: unknown): Promise<unknown>;
  /** Internal: writes a report still waiting for room in the result ring now (waits for room), so the
   *  next job of a batch chunk cannot replace it. */
  flushReports?(): void;
  /** Internal: whether the caller cancelled the work, read without making an AbortSignal. */
  cancelled?(): boolean;
}

/**
 * The runtime sits on the instance under a symbol key: invisible to `Object.keys` (so never encoded),
 * and far cheaper per job than a WeakMap entry (measured: the WeakMap cost ~0.5 µs per job).
 */
const RUNTIME = Symbol.for('isolate-workgroup.runtime');
type WithRuntime = { [RUNTIME]?: WorkerRuntime | undefined };

/** Internal: the worker binds its runtime to a job or member before running it. */
export function bindRuntime(target: object, runtime: WorkerRuntime): void {
  (target as WithRuntime)[RUNTIME] = runtime;
}

/** Internal: the runtime bound to a job or member (undefined outside a worker). */
export function runtimeOf(target: object): WorkerRuntime | undefined {
  return (target as WithRuntime)[RUNTIME];
}

export function unbindRuntime(target: object): void {
  (target as WithRuntime)[RUNTIME] = undefined;
}

const runtimes = {
  get(target: object): WorkerRuntime | undefined {
    return (target as WithRuntime)[RUNTIME];
  },
};

const neverAborted = new AbortController().signal;

function outsideWorker(what: string): Error {
  return new Error(`${what} is only available while the job or member runs inside a workgroup worker`);
}

/**
 * What jobs and members share inside a worker: their worker's index and the shared-memory helpers.
 * (Internal base class of `WorkgroupJob` and `WorkgroupMember`; it has no fields.)
 */
export abstract class WorkerBound {
  /** Index of the worker running this job or holding this member (−1 outside a worker). */
  get isolateIndex(): number {
    return runtimes.get(this)?.isolateIndex ?? -1;
  }

  /**
   * Allocates a typed array on the workgroup's shared memory: returned as the result (or put in a report),
   * main gets the same bytes, no copy — and releases them with `wg.release(array)`. Usable with `using` for
   * scratch arrays the job does not return.
   */
  allocate<C extends TypedArrayConstructor>(ctor: C, length: number): SharedTypedArray<C> & Disposable {
    const rt = runtimes.get(this);
    if (!rt) throw outsideWorker('allocate()');
    return rt.allocate(ctor, length);
  }

  /** Gives a shared array back (one from `allocate()` on either side); sending it afterwards is refused. */
  release(array: ArrayBufferView): void {
    const rt = runtimes.get(this);
    if (!rt) throw outsideWorker('release()');
    rt.release(array);
  }

  /**
   * Moves these non-shared ArrayBuffers to the main thread, instead of copying them, when a result
   * or a report of this job or member contains them: they are detached here once sent (like postMessage's transfer list).
   */
  transfer(...buffers: ArrayBuffer[]): void {
    const rt = runtimes.get(this);
    if (!rt) throw outsideWorker('transfer()');
    rt.transfer(buffers);
  }
}

/**
 * A one-off job. Subclass it, give it data fields and override `execute()`; export the class from a work
 * module (see `modules` and `static module`). `dispatch(job)` resolves with what `execute()` returns.
 */
export abstract class WorkgroupJob<R = unknown> extends WorkerBound {
  /** Runs inside a worker. May return a value or a promise. */
  abstract execute(): R | Promise<R>;

  /** Sends a progress value to `dispatch(job, { onProgress })`; delivered in order, before the result. */
  report(value: unknown): void {
    runtimes.get(this)?.report(value);
  }

  /** Aborted when the caller's signal aborts or its timeout passes; read from shared memory. */
  get signal(): AbortSignal {
    return runtimes.get(this)?.signal ?? neverAborted;
  }

}

declare const commandResult: unique symbol;

/**
 * A command for a member. Declare its result type to type `invoke`: `class Get extends WorkerCommand<string> {}`.
 */
export abstract class WorkerCommand<R = unknown> {
  /** Type-level only: the result type of `invoke(command)`. Never set at run time. */
  declare readonly [commandResult]?: R;
}

/** The result type a command declares. */
export type CommandResult<C> = C extends WorkerCommand<infer R> ? R : unknown;

/** The commands a member accepts: the parameter type of its `handle()`. */
export type MemberCommand<M> = M extends { handle(command: infer C): unknown } ? C : unknown;

/**
 * The result type of `proxy.invoke(command)`: the type the command declares (`WorkerCommand<R>`), or
 * else what the member's `handle()` resolves to.
 */
export type InvokeResult<M, C> =
  C extends WorkerCommand<infer R> ? (unknown extends R ? HandleResult<M> : R) : HandleResult<M>;

type HandleResult<M> = M extends { handle(command: never): infer R } ? Awaited<R> : unknown;

/** The result type of a job: what its `execute()` resolves to. */
export type JobResult<J> = J extends { execute(): infer R } ? Awaited<R> : unknown;

/**
 * A stateful member living in one worker. `setup()` runs there once, `handle(command)` for every
 * `invoke`, `dispose()` on `destroyInstance`. `notifyHost(command)` calls the host's `onNotify`.
 */
export abstract class WorkgroupMember extends WorkerBound {
  /** Runs inside the worker when the member is added. Default: nothing. */
  setup(): void | Promise<void> {}

  /** Runs inside the worker for each `invoke(command)`; its value resolves the invoke. */
  abstract handle(command: WorkerCommand | unknown): unknown;

  /** Runs inside the worker on `destroyInstance`. Default: nothing. */
  dispose(): void | Promise<void> {}

  /** Calls the host's `onNotify(command)` and resolves with its answer (rejects when there is none). */
  notifyHost<R = unknown>(command: unknown): Promise<R> {
    const rt = runtimes.get(this);
    if (!rt) return Promise.reject(outsideWorker('notifyHost()'));
    return rt.notifyHost(command) as Promise<R>;
  }


}
