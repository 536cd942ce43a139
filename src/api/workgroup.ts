/**
 * `IsolateWorkgroup`, the public class: validation, the promise contract (async methods never throw
 * synchronously) and typing. The work happens in `WorkgroupCore` (src/scheduler).
 */
import { WorkgroupCore, describeValue, type DispatchOptions, type MemberRecord, type WorkgroupState } from '../scheduler/core.js';
import type { IsolateErrorHandler, IsolateErrorType } from '../scheduler/error-router.js';
import { markUnsendable } from '../scheduler/main-codec.js';
import type { Platform } from '../shared/platform.js';
import { isImportingWorkModules } from '../shared/worker-flag.js';
import { resolveConfig, validateWorkerCount, type WorkgroupConfig } from './config.js';
import { WorkgroupException, WorkgroupInactiveException, WorkgroupMemberNotFoundException } from './errors.js';
import type { CommandResult, JobResult, SharedTypedArray, TypedArrayConstructor, WorkgroupJob, WorkgroupMember, WorkerCommand } from './job.js';
import { HealthMonitor, type WorkgroupHealthInfo } from './health.js';
import { readStats, type WorkgroupStats } from './stats.js';
import { disposable, releaseView } from '../shared/arena-views.js';

export type { WorkgroupState };

/** Options of `dispatch(job, options)`. */
export interface WorkgroupDispatchOptions<P = unknown> {
  /** Worker index to run on; −1 or omitted: whichever worker is free. */
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
  readonly workerIndex: number;
  readonly #core: WorkgroupCore;
  /** Type-level only. */
  declare readonly __member?: M;

  /** @internal */
  constructor(core: WorkgroupCore, record: MemberRecord) {
    this.#core = core;
    this.memberId = record.id;
    this.workerIndex = record.worker.index;
    markUnsendable(this, 'a MemberProxy (send its memberId instead)');
  }

  /** Calls `member.handle(command)` in the worker; resolves with its result. */
  invoke<C extends WorkerCommand<any>>(command: C, options?: InvokeOptions): Promise<CommandResult<C>>;
  invoke<R = unknown>(command: unknown, options?: InvokeOptions): Promise<R>;
  invoke(command: unknown, options?: InvokeOptions): Promise<unknown> {
    try {
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

  /** @internal — use the platform entry's `IsolateWorkgroup` (Node or browser), which passes its platform. */
  constructor(workerCount: number, config: WorkgroupConfig | undefined, platform: Platform) {
    if (isImportingWorkModules()) {
      throw new WorkgroupException(
        'a work module started an IsolateWorkgroup while a worker imported it: workers import work modules to find ' +
          'job classes, so this would start workers recursively. Move the code that creates the workgroup out of the work ' +
          'module (or guard it with `if (isMainThread)` from node:worker_threads).',
      );
    }
    platform.assertSupported();
    const count = validateWorkerCount(workerCount);
    const cfg = resolveConfig(config, defaultSpin(count, platform.cores()), platform.cores());
    if (count > cfg.maxWorkers) {
      throw new RangeError(`expected \`maxWorkers\` to be at least the worker count ${count}, got ${cfg.maxWorkers}`);
    }
    this.#core = new WorkgroupCore(count, cfg, platform, cfg.captureMainStack);
    this.#health = new HealthMonitor(this.#core);
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
        this.#health.start();
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
    this.#health.stop();
    try {
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
      if (typeof isolateOrOptions === 'string' || typeof isolateOrOptions === 'bigint') return Promise.reject(this.#badIndexType(isolateOrOptions));
      const options: DispatchOptions | undefined =
        typeof isolateOrOptions === 'number' ? { isolate: isolateOrOptions } : (isolateOrOptions as DispatchOptions | undefined);
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        return Promise.reject(new TypeError(`expected the second argument of dispatch() to be a worker index or an options object, got ${describeValue(options)}`));
      }
      const isolate = options?.isolate;
      if (isolate !== undefined && typeof isolate !== 'number') return Promise.reject(this.#badIndexType(isolate));
      if (isolate !== undefined && isolate !== -1 && this.#health.shouldProbeBeforeDispatch(isolate)) {
        const site = this.#core.captureSite();
        return this.#core.withStack(this.#health.probeThen(isolate, () => this.#core.dispatch(job, options, site))) as Promise<JobResult<J>>;
      }
      return this.#core.withStack(this.#core.dispatch(job, options, this.#core.captureSite())) as Promise<JobResult<J>>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Places a stateful member on a worker; resolves with its proxy after the member's `setup()` ran. */
  async addInstance<M extends WorkgroupMember>(member: M, options?: AddInstanceOptions): Promise<MemberProxy<M>> {
    const notMember = notAClassInstance('addInstance', 'WorkgroupMember', member);
    if (notMember) throw notMember;
    if (options?.isolate !== undefined && typeof options.isolate !== 'number') throw this.#badIndexType(options.isolate);
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
    if (options?.label !== undefined && typeof options.label !== 'string') {
      throw new TypeError(`expected \`label\` to be a string, got ${describeValue(options.label)}`);
    }
    return this.#core.addIsolate(options?.label);
  }

  /** Removes worker `index` for good: its running work is rejected, its queued jobs go to the others. */
  async kill(index: number): Promise<void> {
    if (typeof index !== 'number') throw this.#badIndexType(index);
    await this.#core.kill(index);
  }

  /** Health probe through shared memory: true when the worker answers or is alive and busy in a job. */
  async probe(index: number): Promise<boolean> {
    return this.#health.probe(index);
  }

  /** A worker index of the wrong type (`'0'`, `1n`): said with its type, which the range check would hide. */
  #badIndexType(value: unknown): WorkgroupException {
    const n = this.#core.isolatesCount;
    const range = n === 0 ? 'There are no workers yet' : `Valid indices are 0...${n - 1}`;
    return new WorkgroupException(`Invalid isolate index: expected a worker index (an integer), got ${describeValue(value)}. ${range}`);
  }

  isIsolateHealthy(index: number): boolean {
    return this.#health.isHealthy(index);
  }

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

  /** Queued + running jobs + pending invokes. */
  get pendingCount(): number {
    return this.#core.pendingCount;
  }

  /** Per-worker counters read from shared memory (no round trip). */
  stats(): WorkgroupStats {
    return readStats(this.#core);
  }
}

function defaultSpin(workers: number, cores: number): number {
  // Spinning steals CPU from the threads it waits for when workers outnumber spare cores (design-notes §4.1).
  return workers >= cores ? 500 : 2000;
}
