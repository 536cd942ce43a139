/**
 * `IsolateWorkgroup`, the public class: validation, the promise contract (async methods never throw
 * synchronously) and typing. The work happens in `WorkgroupCore` (src/scheduler).
 */
import { WorkgroupCore, describeValue, type BatchOptions, type DispatchOptions, type MemberRecord, type WorkgroupState } from '../scheduler/core.js';
import type { IsolateErrorHandler, IsolateErrorType } from '../scheduler/error-router.js';
import { markUnsendable } from '../scheduler/main-codec.js';
import type { Platform } from '../shared/platform.js';
import { isImportingWorkModules, RECURSIVE_START_MESSAGE } from '../shared/worker-flag.js';
import { resolveConfig, validateWorkerCount, type WorkgroupConfig } from './config.js';
import { WorkgroupException, WorkgroupInactiveException, WorkgroupMemberNotFoundException } from './errors.js';
import type { InvokeResult, JobResult, MemberCommand, SharedTypedArray, TypedArrayConstructor, WorkgroupJob, WorkgroupMember } from './job.js';
import { HealthMonitor, type WorkgroupHealthInfo } from './health.js';
import { readStats, type WorkgroupStats } from './stats.js';
import { Autoscaler, resolveAutoscale } from './autoscale.js';
import { waitWithin } from '../shared/deadline.js';
import { RunFunction, type RunnableFunction } from '../shared/run-function.js';
import { disposable, releaseView } from '../shared/arena-views.js';
import { parallel, type WorkgroupParallelOptions } from './parallel.js';
import type { KernelHost } from '../scheduler/kernels.js';
import type { KernelPartial, ReducibleKernel, WorkgroupKernel } from '../shared/kernel.js';
import { ADD_INSTANCE_OPTIONS, ADD_ISOLATE_OPTIONS, SHUTDOWN_OPTIONS, badIndex, checkBoolean, checkDispatchOptions, checkFunction, checkInvokeOptions, checkOptionsObject, checkSignal, checkTimeout, describeGiven } from './validate.js';

export type { WorkgroupState };

/** Options of `dispatch(job, options)`. */
export interface WorkgroupDispatchOptions<P = unknown> {
  /** Worker index to run on (an integer >= 0); omitted: whichever worker is free. -1 is refused. */
  readonly isolate?: number;
  /** Aborts the job: removed if queued, `this.signal` inside it if running. */
  readonly signal?: AbortSignal;
  /** Milliseconds before the job rejects with WorkgroupTimeoutException. */
  readonly timeout?: number;
  /** Receives `this.report(value)` calls in order, all before the result. */
  readonly onProgress?: (value: P) => void;
  /**
   * Non-shared ArrayBuffers to move instead of copy, as with postMessage: detached here, no copy made. A job
   * with `transfer` is placed on a worker when dispatched (a buffer can move to one thread only).
   */
  readonly transfer?: readonly ArrayBuffer[];
}

/** Options of `dispatchAll` and `dispatchAllSettled`: they apply to the whole batch. */
export interface WorkgroupBatchOptions<P = unknown> {
  /** Aborts the batch: its jobs not started are removed, running ones see `this.signal` abort. */
  readonly signal?: AbortSignal;
  /** Milliseconds before the batch rejects with WorkgroupTimeoutException (its jobs are cancelled). */
  readonly timeout?: number;
  /** Receives every job's `this.report(value)` calls, in order per job, with the job's index in the batch. */
  readonly onProgress?: (value: P, index: number) => void;
  /**
   * How many consecutive jobs travel and run together as one chunk (an integer >= 1). A chunk costs one
   * queue cell, one claim and one result record, so bigger chunks make tiny jobs cheaper; its jobs run
   * one after the other on one worker, so smaller chunks spread uneven jobs better. Default: the batch
   * split into about 16 chunks per worker, at most 256 jobs and about 8 KiB a chunk. A worker that dies
   * mid-chunk fails every job of the chunk with it: use 1 when each job must fail alone.
   */
  readonly chunkSize?: number;
}

const BATCH_OPTIONS = ['signal', 'timeout', 'onProgress', 'chunkSize'] as const;

/** The results of a batch, in the order of its jobs (typed per job for a tuple, per element for an array). */
export type BatchResults<J extends readonly unknown[]> = { -readonly [K in keyof J]: JobResult<J[K]> };
/** Every outcome of a batch, in the order of its jobs, as `Promise.allSettled` gives them. */
export type BatchSettledResults<J extends readonly unknown[]> = { -readonly [K in keyof J]: PromiseSettledResult<JobResult<J[K]>> };

export interface AddInstanceOptions {
  /** Worker index to place the member on; default: the live worker with the fewest members. */
  readonly isolate?: number;
  /** Answers `member.notifyHost(command)` (sync or async). */
  readonly onNotify?: (command: any) => unknown;
}

export interface InvokeOptions {
  readonly signal?: AbortSignal;
  readonly timeout?: number;
}

export interface ShutdownOptions {
  /** Finish the queued and running work first (no new work is accepted meanwhile). Default false. */
  readonly drain?: boolean;
}

/** A handle on a member living in a worker. */
export class MemberProxy<M extends WorkgroupMember = WorkgroupMember> {
  readonly memberId: number;
  /** Index of the worker holding the member (members never move). */
  readonly isolateIndex: number;
  readonly #core: WorkgroupCore;
  /** Type-level only. */
  declare readonly __member?: M;

  /** @internal */
  constructor(core: WorkgroupCore, record: MemberRecord) {
    this.#core = core;
    this.memberId = record.id;
    this.isolateIndex = record.worker.index;
    markUnsendable(this, 'a MemberProxy (send its memberId instead)');
  }

  /** @deprecated The same as `isolateIndex` (the name used everywhere else); kept as an alias. */
  get workerIndex(): number {
    return this.isolateIndex;
  }

  /**
   * Calls `member.handle(command)` in the worker; resolves with its result. The command must be of the
   * type the member's `handle()` accepts; the result is the type the command declares
   * (`class Get extends WorkerCommand<string>`), or else what `handle()` returns.
   */
  invoke<C extends MemberCommand<M>>(command: C, options?: InvokeOptions): Promise<InvokeResult<M, C>>;
  invoke(command: unknown, options?: InvokeOptions): Promise<unknown> {
    try {
      checkInvokeOptions('invoke()', options);
      return this.#core.withStack(this.#core.invoke(this.memberId, command, options, this.#core.captureSite()));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

const proxies = new WeakMap<MemberProxy<any>, WorkgroupCore>();

/**
 * A plain object (`{ execute() {} }`) in place of a job or member: the worker could not rebuild it (its
 * methods are functions, which cannot be sent), so say what is needed instead of the codec's path message.
 */
function notAClassInstance(method: string, base: string, value: unknown): TypeError | undefined {
  if (value === null || typeof value !== 'object') return undefined; // the core's checks word these
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  return new TypeError(
    `${method}() expects an instance of a class that extends ${base} and is exported from a work module; got a plain object`,
  );
}

export class IsolateWorkgroup {
  readonly #core: WorkgroupCore;
  readonly #health: HealthMonitor;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (e: unknown) => void;
  #launching: Promise<void> | undefined;
  #launched = false;
  readonly #autoscaler: Autoscaler | undefined;

  /**
   * @internal — use the platform entry's `IsolateWorkgroup` (Node or browser), which passes its platform.
   * `workerCount` undefined: the default size (see defaultWorkerCount).
   */
  constructor(workerCount: number | undefined, config: WorkgroupConfig | undefined, platform: Platform) {
    if (isImportingWorkModules()) {
      throw new WorkgroupException(RECURSIVE_START_MESSAGE);
    }
    platform.assertSupported();
    const cores = platform.cores();
    const autoscale = config !== null && typeof config === 'object' ? config.autoscale : undefined;
    const count = workerCount === undefined ? defaultWorkerCount(cores, autoscale) : validateWorkerCount(workerCount);
    const cfg = resolveConfig(config, defaultSpin(count, cores), cores, platform.entryModuleUrl?.());
    if (count > cfg.maxWorkers) {
      throw new RangeError(`expected \`maxWorkers\` to be at least the worker count ${count}, got ${cfg.maxWorkers}`);
    }
    const policy = resolveAutoscale(autoscale, count, cores, cfg.maxWorkers);
    this.#core = new WorkgroupCore(count, cfg, platform, cfg.captureMainStack);
    this.#health = new HealthMonitor(this.#core);
    this.#autoscaler = policy && new Autoscaler(this.#core, policy, () => this.addIsolate());
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => {}); // observed through launch(); `ready` users still see the rejection
    markUnsendable(this, 'an IsolateWorkgroup');
  }

  // ------------------------------------------------------------------ lifecycle

  /** Spawns the workers; resolves when every worker imported the work modules and ran their `setup()`. */
  launch(): Promise<void> {
    if (this.#launching) return Promise.reject(new WorkgroupException('launch() was already called on this workgroup'));
    const p = this.#core.launch().then(
      () => {
        this.#launched = true;
        this.#health.start();
        this.#autoscaler?.start();
        this.#resolveReady();
      },
      (e: unknown) => {
        this.#rejectReady(e);
        throw e;
      },
    );
    this.#launching = p;
    return p;
  }

  /** Settles like `launch()`. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Rejects pending work with WorkgroupJobAbortedException (or drains first) and stops every worker. */
  shutdown(options?: ShutdownOptions): Promise<void> {
    try {
      checkOptionsObject('shutdown()', options, SHUTDOWN_OPTIONS);
      checkBoolean('shutdown()', 'drain', options?.drain);
      this.#health.stop();
      this.#autoscaler?.stop();
      return this.#core.shutdown(options?.drain === true);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  // ------------------------------------------------------------------ work

  /** Runs a one-off job on a worker and resolves with what its `execute()` returns. */
  dispatch<J extends WorkgroupJob<any>>(job: J, isolateOrOptions?: number | WorkgroupDispatchOptions): Promise<JobResult<J>> {
    try {
      const notJob = notAClassInstance('dispatch', 'WorkgroupJob', job);
      if (notJob) return Promise.reject(notJob);
      const options = this.#dispatchOptions('dispatch()', isolateOrOptions);
      const isolate = options?.isolate;
      if (isolate !== undefined && this.#health.shouldProbeBeforeDispatch(isolate)) {
        const site = this.#core.captureSite();
        // The timeout and signal hold during the probe too.
        const probed = this.#health.probeThen(isolate, () => Promise.resolve());
        const sent = waitWithin(probed, options, 'dispatch', 'job').then((o) => this.#core.dispatch(job, o, site));
        return this.#core.withStack(sent) as Promise<JobResult<J>>;
      }
      return this.#core.withStack(this.#core.dispatch(job, options, this.#core.captureSite())) as Promise<JobResult<J>>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Runs many jobs on whichever workers are free, like `Promise.all(jobs.map((j) => wg.dispatch(j)))` but
   * cheaper: the batch is encoded in one pass and settled with one promise. Resolves with the results in
   * the order of `jobs`; the first failure rejects it (with that job's error) and cancels the batch's jobs
   * that have not started.
   */
  dispatchAll<const J extends readonly WorkgroupJob<any>[]>(jobs: J, options?: WorkgroupBatchOptions): Promise<BatchResults<J>> {
    return this.#batch(jobs, options, 'all') as Promise<BatchResults<J>>;
  }

  /** Like `dispatchAll`, but waits for every job and resolves with every outcome, as `Promise.allSettled`. */
  dispatchAllSettled<const J extends readonly WorkgroupJob<any>[]>(jobs: J, options?: WorkgroupBatchOptions): Promise<BatchSettledResults<J>> {
    return this.#batch(jobs, options, 'settled') as Promise<BatchSettledResults<J>>;
  }

  #batch(jobs: readonly unknown[], options: WorkgroupBatchOptions | undefined, mode: 'all' | 'settled'): Promise<unknown[]> {
    const method = mode === 'all' ? 'dispatchAll' : 'dispatchAllSettled';
    if (!Array.isArray(jobs)) return Promise.reject(new TypeError(`${method}() expects an array of jobs, got ${describeValue(jobs)}`));
    try {
      checkOptionsObject(`${method}()`, options, BATCH_OPTIONS);
      checkSignal(`${method}()`, options?.signal);
      checkTimeout(`${method}()`, options?.timeout);
      checkFunction(`${method}()`, 'onProgress', options?.onProgress);
      const chunk = options?.chunkSize;
      if (chunk !== undefined && (typeof chunk !== 'number' || !Number.isInteger(chunk) || chunk < 1)) {
        throw new TypeError(`expected \`chunkSize\` of ${method}() to be an integer >= 1, got ${describeValue(chunk)}`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    for (let i = 0; i < jobs.length; i++) {
      const notJob = notAClassInstance(method, 'WorkgroupJob', jobs[i]);
      if (notJob) return Promise.reject(new TypeError(`${notJob.message} (at index ${i})`));
    }
    const sent = this.#core.dispatchAll(jobs, options as BatchOptions | undefined, this.#core.captureSite(), mode);
    return mode === 'all' ? this.#core.withStack(sent) : this.#core.withStackSettled(sent);
  }

  /**
   * Runs an exported function of a work module on a worker and resolves with what it returns (typed from
   * its signature: `await wg.run(add, 1, 2)` is a number). Inside the function `this` is the running
   * job (`this.report(v)`, `this.signal`, `this.allocate(...)`). The function is found like a class: its
   * module is listed in `modules` (or is the program's own entry module). Options: `runWith`.
   */
  run<F extends RunnableFunction>(fn: F, ...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> {
    return this.runWith(fn, args);
  }

  /** `run()` with the options of `dispatch()`: `wg.runWith(sum, [data], { onProgress, timeout, signal })`. */
  runWith<F extends RunnableFunction>(fn: F, args: Parameters<F>, options?: number | WorkgroupDispatchOptions): Promise<Awaited<ReturnType<F>>> {
    try {
      if (typeof fn !== 'function') {
        throw new TypeError(`expected the first argument of run() to be a function exported from a work module, got ${describeGiven(fn)}`);
      }
      if (!Array.isArray(args)) throw new TypeError(`expected the arguments of runWith() to be an array, got ${describeGiven(args)}`);
      this.#dispatchOptions('runWith()', options, 'third');
      const refused = this.#core.checkAccepting();
      if (refused) return Promise.reject(refused);
      const id = this.#core.codec.registry.idOf(fn);
      if (id === undefined) {
        // Main imports the work modules while launch() runs: wait for it, then look again.
        if (!this.#launched && this.#launching) return this.#launching.then(() => this.runWith(fn, args, options));
        const name = fn.name || 'an anonymous function';
        return Promise.reject(
          new WorkgroupException(
            `run(): ${name} is not known to the workgroup: export it from a work module and list that module in \`modules\` ` +
              `(new IsolateWorkgroup({ modules: [new URL('./work.js', import.meta.url)] }))`,
          ),
        );
      }
      return this.dispatch(new RunFunction(id, args), options) as Promise<Awaited<ReturnType<F>>>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // ------------------------------------------------------------------ data-parallel kernels (src/api/parallel.ts)

  /**
   * Runs `kernel.run(start, end)` over the indices `0 .. length - 1`, cut into chunks that the workers
   * claim from a shared counter (the kernel is sent once to each worker). Resolves when every index was
   * processed. Options: `chunk`, `minChunk`, `signal`, `timeout`, `onProgress(fraction)`, `mainThread`.
   */
  parallelFor(length: number, kernel: WorkgroupKernel<any>, options?: WorkgroupParallelOptions): Promise<void> {
    return this.#parallel('for', length, kernel, options) as Promise<void>;
  }

  /**
   * Like `parallelFor`, and combines the chunks' partial results (what `run()` returns) with
   * `kernel.combine(a, b)` in chunk order: reproducible for a given chunking. Length 0: `kernel.identity()`.
   */
  parallelReduce<K extends ReducibleKernel>(length: number, kernel: K, options?: WorkgroupParallelOptions): Promise<KernelPartial<K>> {
    return this.#parallel('reduce', length, kernel, options) as Promise<KernelPartial<K>>;
  }

  #parallel(mode: 'for' | 'reduce', length: number, kernel: unknown, options: WorkgroupParallelOptions | undefined): Promise<unknown> {
    try {
      const refused = this.#core.checkAccepting();
      if (refused) return Promise.reject(refused);
      const core = this.#core;
      const host: KernelHost = {
        dispatch: (job, o) => core.dispatchTracked(job, o, core.captureSite()), // the caller's stack is added once, below
        allocate: (words) => core.arena.allocArray(Int32Array, words),
        release: (view) => releaseView(core.arena, view),
        liveWorkers: () => core.liveIsolateCount,
        active: () => core.state === 'active',
        respawns: () => core.respawning,
      };
      return this.#core.withStack(parallel(host, mode, length, kernel, options));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The options of a job call (`dispatch`, `run`): a worker index or an options object, checked before
   * anything is sent. Throws the error to reject with.
   */
  #dispatchOptions(where: string, isolateOrOptions: unknown, position = 'second'): DispatchOptions | undefined {
    if (isolateOrOptions === undefined) return undefined;
    let options: DispatchOptions;
    if (typeof isolateOrOptions === 'number' || typeof isolateOrOptions === 'string' || typeof isolateOrOptions === 'bigint') {
      options = { isolate: isolateOrOptions as number };
    } else if (typeof isolateOrOptions !== 'object' || isolateOrOptions === null || Array.isArray(isolateOrOptions)) {
      throw new TypeError(`expected the ${position} argument of ${where} to be a worker index or an options object, got ${describeGiven(isolateOrOptions)}`);
    } else {
      checkDispatchOptions(where, isolateOrOptions as Record<string, unknown>);
      options = isolateOrOptions as DispatchOptions;
    }
    if (options.isolate !== undefined) {
      const bad = badIndex(options.isolate, this.#core.isolatesCount);
      if (bad) throw bad;
    }
    return options;
  }

  /** Places a stateful member on a worker; resolves with its proxy after the member's `setup()` ran. */
  async addInstance<M extends WorkgroupMember>(member: M, options?: AddInstanceOptions): Promise<MemberProxy<M>> {
    const notMember = notAClassInstance('addInstance', 'WorkgroupMember', member);
    if (notMember) throw notMember;
    checkOptionsObject('addInstance()', options, ADD_INSTANCE_OPTIONS);
    checkFunction('addInstance()', 'onNotify', options?.onNotify);
    if (options?.isolate !== undefined) {
      const bad = badIndex(options.isolate, this.#core.isolatesCount);
      if (bad) throw bad;
    }
    const rec = await this.#core.addInstance(member, options?.isolate, options?.onNotify);
    const proxy = new MemberProxy<M>(this.#core, rec);
    proxies.set(proxy, this.#core);
    return proxy;
  }

  /** Runs the member's `dispose()` in its worker and rejects its pending invokes. */
  async destroyInstance(proxy: MemberProxy<any>): Promise<void> {
    if (!(proxy instanceof MemberProxy) || proxies.get(proxy) !== this.#core) {
      throw new WorkgroupMemberNotFoundException(`destroyInstance() expects a MemberProxy returned by this workgroup's addInstance(), got ${describeValue(proxy)}`);
    }
    await this.#core.destroyInstance(proxy.memberId);
  }

  /** Starts a new worker; resolves with its index (= the previous `isolatesCount`). */
  async addIsolate(options?: { label?: string }): Promise<number> {
    checkOptionsObject('addIsolate()', options, ADD_ISOLATE_OPTIONS);
    if (options?.label !== undefined && typeof options.label !== 'string') {
      throw new TypeError(`expected \`label\` to be a string, got ${describeValue(options.label)}`);
    }
    return this.#core.addIsolate(options?.label);
  }

  /** Removes worker `index` for good: its running work is rejected, its queued jobs go to the others. */
  async kill(index: number): Promise<void> {
    const bad = badIndex(index, this.#core.isolatesCount);
    if (bad) throw bad;
    await this.#core.kill(index);
  }

  /** Health probe through shared memory: true when the worker answers or is alive and busy in a job. */
  async probe(index: number): Promise<boolean> {
    return this.#health.probe(index);
  }

  isIsolateHealthy(index: number): boolean {
    return this.#health.isHealthy(index);
  }

  /**
   * Health per worker, keyed by worker index: a `ReadonlyMap` (a snapshot), so `Object.keys()` on it gives
   * `[]`. Iterate it (`for (const [i, h] of wg.healthStatus)`), or take a plain object with
   * `Object.fromEntries(wg.healthStatus)` (e.g. for JSON).
   */
  get healthStatus(): ReadonlyMap<number, WorkgroupHealthInfo> {
    return this.#health.status();
  }

  // ------------------------------------------------------------------ shared memory

  /**
   * A typed array on the workgroup's shared memory: put it in a job (or a command), the worker reads and
   * writes the same bytes, no copy. Give it back with `release(array)`, or declare it with `using`
   * (`using data = wg.allocate(Float64Array, n)`). Throws RangeError (`ArenaExhaustedError`) when the
   * shared memory (`arenaMaxBytes`) is full. Lifetime rules: docs/zero-copy.md.
   */
  allocate<C extends TypedArrayConstructor>(ctor: C, length: number): SharedTypedArray<C> & Disposable {
    if (!this.#core.launched) throw new WorkgroupException('allocate() needs the shared memory that launch() creates: call launch() first');
    if (this.#core.state === 'disposed') throw new WorkgroupInactiveException('allocate() after shutdown(): the workgroup accepts no new work');
    if (typeof ctor !== 'function' || !('BYTES_PER_ELEMENT' in ctor)) {
      throw new TypeError(`expected \`ctor\` to be a typed-array constructor (Float64Array, Uint8Array, …), got ${typeof ctor === 'function' ? (ctor as Function).name || 'a function' : describeValue(ctor)}`);
    }
    const arena = this.#core.arena;
    return disposable(arena, arena.allocArray(ctor, length)) as unknown as SharedTypedArray<C> & Disposable;
  }

  /**
   * Gives a shared array back: one from `allocate()`, or one a job allocated and returned. Release it
   * once, after every job that uses it has settled; sending it afterwards is refused.
   */
  release(array: ArrayBufferView): void {
    if (!this.#core.launched) throw new WorkgroupException('release() before launch(): nothing was allocated');
    releaseView(this.#core.arena, array);
  }

  // ------------------------------------------------------------------ errors

  /**
   * Routes errors by origin (`initialization`, `job`, `instance`, `communication`, `unknown`). Each error
   * goes to one handler: the handler of its own type when one is set, else the `all` handler (`all` is a
   * fallback, not an extra listener). A handler runs in addition to the promise rejecting; one that throws
   * does not break the workgroup.
   */
  setErrorHandler(type: IsolateErrorType, handler: IsolateErrorHandler): void {
    this.#core.errors.set(type, handler);
  }

  removeErrorHandler(type: IsolateErrorType): void {
    this.#core.errors.remove(type);
  }

  clearErrorHandlers(): void {
    this.#core.errors.clear();
  }

  // ------------------------------------------------------------------ getters

  get state(): WorkgroupState {
    return this.#core.state;
  }

  get isolatesCount(): number {
    return this.#core.isolatesCount;
  }

  get liveIsolateCount(): number {
    return this.#core.liveIsolateCount;
  }

  get memberCount(): number {
    return this.#core.memberCount;
  }

  /** Queued + running jobs + pending invokes, and jobs still waiting for the import of their class's module. */
  get pendingCount(): number {
    return this.#core.pendingCount;
  }

  /** Per-worker counters read from shared memory (no round trip). */
  stats(): WorkgroupStats {
    return readStats(this.#core);
  }
}

/** `new IsolateWorkgroup(config)` or `(count, config)`: the two forms, told apart. */
export function countAndConfig(countOrConfig: unknown, config: WorkgroupConfig | undefined): [number | undefined, WorkgroupConfig | undefined] {
  if (countOrConfig !== null && typeof countOrConfig === 'object' && !Array.isArray(countOrConfig)) {
    if (config !== undefined) throw new TypeError('expected `new IsolateWorkgroup(config)` or `new IsolateWorkgroup(workerCount, config)`, got two configs');
    return [undefined, countOrConfig as WorkgroupConfig];
  }
  return [countOrConfig as number | undefined, config];
}

/**
 * The worker count when none is given: the machine's available parallelism (Node's
 * `os.availableParallelism()`, a browser's `navigator.hardwareConcurrency`), because CPU-bound jobs speed
 * up until every core runs one and only lose to thread switching beyond that, while the main thread
 * mostly sleeps in `Atomics.waitAsync` and needs no core of its own. With `autoscale`, the workgroup
 * starts at `autoscale.minWorkers` (default 1) and grows from there.
 */
export function defaultWorkerCount(cores: number, autoscale: unknown): number {
  if (autoscale !== undefined && autoscale !== false) {
    const min = typeof autoscale === 'object' && autoscale !== null ? (autoscale as { minWorkers?: unknown }).minWorkers : undefined;
    return typeof min === 'number' && Number.isInteger(min) && min >= 0 && min <= 256 ? min : 1;
  }
  return Math.max(1, Math.min(256, cores));
}

function defaultSpin(workers: number, cores: number): number {
  // Spinning steals CPU from the threads it waits for when workers outnumber spare cores.
  return workers >= cores ? 500 : 2000;
}
