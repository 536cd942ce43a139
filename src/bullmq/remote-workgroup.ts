/**
 * The producer side: `RemoteWorkgroup` sends `WorkgroupJob`s through a BullMQ queue to machines running
 * `serveWorkgroup`, and settles each `dispatch` with the job's result or error, as a local workgroup does.
 *
 * How a result comes back: one `QueueEvents` reader per producer follows the queue's event stream in
 * Redis (completed, failed, progress, removed) from the stream position read at start, so no event after
 * start is missed. As a safety net (an event stream trimmed while the producer lagged, Redis restarted
 * without its data), jobs that stayed pending for `reconcileIntervalMs` are looked up in Redis directly.
 * Every promise settles: with the result, the job's error, a timeout, an abort, or `close()`.
 *
 * Job ids are chosen here (`<producer id>-<n>`, or the caller's `jobId`) before the job is added, so an
 * event can never arrive for a job the producer does not know yet. Many `dispatch` calls in one tick are
 * added with one `addBulk` (one round trip).
 */
import { randomBytes } from 'node:crypto';
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { WorkgroupException, WorkgroupInactiveException, WorkgroupJobAbortedException, WorkgroupTimeoutException } from '../api/errors.js';
import type { JobResult, WorkgroupJob } from '../api/job.js';
import type { WorkgroupLogger } from '../api/config.js';
import { UnsendableError } from '../codec/errors.js';
import { bullConnection, checkConnection, loadBullMQ, openClient, withDeadline, type BullMQModule, type RemoteConnection } from './connection.js';
import { checkJobId, checkKeep, checkLogger, checkQueueName, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_PAYLOAD_BYTES, MAX_PAYLOAD_LIMIT, optionalNumber, PRIORITY_LIMIT, type KeepJobs, type RemoteCommonOptions } from './options.js';
import { normalizeModules, PortableCodec } from './portable-codec.js';
import { markRemoteStack, parseFailure, plainFailure, WIRE_VERSION, type WireJobData } from './wire.js';

export interface RemoteWorkgroupOptions extends RemoteCommonOptions {
  /** How long completed jobs (and their results) stay in Redis. Default `{ age: 3600 }`. */
  readonly keepCompleted?: KeepJobs;
  /** How long failed jobs stay in Redis. Default `{ age: 86400 }`. */
  readonly keepFailed?: KeepJobs;
  /** A job pending this long without news is looked up in Redis directly. Default 5000 ms. */
  readonly reconcileIntervalMs?: number;
}

/** Options of `RemoteWorkgroup.dispatch(job, options)`. */
export interface RemoteDispatchOptions<P = unknown> {
  /** Receives `this.report(value)` calls in order, before the result (the latest when they come fast). */
  readonly onProgress?: (value: P) => void;
  /** Aborts the job: removed if still queued, `this.signal` inside it if running. */
  readonly signal?: AbortSignal;
  /** Milliseconds from dispatch (queued time included) before it rejects with WorkgroupTimeoutException. */
  readonly timeout?: number;
  /** BullMQ priority: 1 is the highest, up to 2^21; omitted: plain FIFO (before any prioritized job). */
  readonly priority?: number;
  /** Runs of the job before its error is final (BullMQ `attempts`). Default 1. */
  readonly attempts?: number;
  /** Milliseconds between attempts (BullMQ fixed backoff). Default 0. */
  readonly backoff?: number;
  /** Your own job id: a job with an id already in the queue is not added again (the call waits for it). */
  readonly jobId?: string;
}

/** Options of `dispatchAll`: as `dispatch`, without `jobId`; `onProgress` also gets the job's index. */
export interface RemoteDispatchAllOptions<P = unknown> extends Omit<RemoteDispatchOptions<P>, 'jobId' | 'onProgress'> {
  readonly onProgress?: (value: P, index: number) => void;
}

interface Pending {
  readonly id: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly onProgress: ((value: unknown) => void) | undefined;
  readonly since: number;
  checkedAt: number;
  cleanup: (() => void) | undefined;
  /** Set once the job is known to be in Redis (the add succeeded). */
  added: boolean;
}

interface Connected {
  readonly bull: BullMQModule;
  readonly queue: Queue;
  readonly events: QueueEvents;
  readonly client: Redis;
}

/** Errors from a machine waiting for the producer side of their stack. */
const remoteErrors = new WeakMap<object, string>();

export class RemoteWorkgroup {
  readonly #connection: RemoteConnection;
  readonly #queueName: string;
  readonly #prefix: string;
  readonly #codec: PortableCodec;
  readonly #connectTimeoutMs: number;
  readonly #maxPayloadBytes: number;
  readonly #keepCompleted: KeepJobs;
  readonly #keepFailed: KeepJobs;
  readonly #reconcileMs: number;
  readonly #logger: WorkgroupLogger | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #idPrefix = `iwg${randomBytes(6).toString('hex')}`;
  #seq = 0;
  #batch: Array<{ job: object; frame: string | undefined; timeout: number | undefined; opts: Record<string, unknown>; pending: Pending; own: boolean }> = [];
  #started: Promise<Connected> | undefined;
  #reconcileTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: RemoteWorkgroupOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('expected RemoteWorkgroup options ({ connection, queue, modules }), got ' + (options === null ? 'null' : typeof options));
    this.#connection = checkConnection(options.connection);
    this.#queueName = checkQueueName(options.queue);
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix === '')) throw new TypeError(`expected \`prefix\` to be a non-empty string, got ${String(options.prefix)}`);
    this.#prefix = options.prefix ?? 'bull';
    this.#codec = new PortableCodec(normalizeModules(options.modules));
    optionalNumber(options.connectTimeoutMs, 'connectTimeoutMs', 1, 2 ** 31 - 1, false);
    optionalNumber(options.maxPayloadBytes, 'maxPayloadBytes', 1, MAX_PAYLOAD_LIMIT, true);
    optionalNumber(options.reconcileIntervalMs, 'reconcileIntervalMs', 10, 2 ** 31 - 1, false);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#keepCompleted = checkKeep(options.keepCompleted, 'keepCompleted') ?? { age: 3600 };
    this.#keepFailed = checkKeep(options.keepFailed, 'keepFailed') ?? { age: 86400 };
    this.#reconcileMs = options.reconcileIntervalMs ?? 5000;
    this.#logger = checkLogger(options.logger);
  }

  /** Jobs dispatched (or awaited with `result`) by this producer whose promise has not settled. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The BullMQ queue (for its own API and events: counts, pause, metrics). Resolves once connected. */
  async queue(): Promise<Queue> {
    return (await this.#start()).queue;
  }

  /** Connects to Redis and loads the work modules; `dispatch` does it on first use. Rejects with
   *  RemoteUnreachableException when Redis does not answer within `connectTimeoutMs`. */
  async connect(): Promise<void> {
    await this.#start();
  }

  /** Sends one job to whichever machine takes it first; resolves with its result. */
  dispatch<J extends WorkgroupJob<any>>(job: J, options: RemoteDispatchOptions = {}): Promise<JobResult<J>> {
    try {
      if (this.#closed) throw new WorkgroupInactiveException('dispatch() after close(): this RemoteWorkgroup is closed');
      if (job === null || typeof job !== 'object' || typeof (job as { execute?: unknown }).execute !== 'function') {
        throw new TypeError(`expected dispatch() to be given a WorkgroupJob instance, got ${job === null ? 'null' : typeof job}`);
      }
      checkDispatchOptions(options);
      const jobId = checkJobId(options.jobId);
      // Encoded now when the work modules are loaded (the job as it is at dispatch), else once they are.
      const frame = this.#codec.loaded ? this.#encode(job, 'job') : undefined;
      const id = jobId ?? `${this.#idPrefix}-${++this.#seq}`;
      if (this.#pending.has(id)) throw new TypeError(`job id "${id}" is already pending on this producer`);
      const { promise, pending } = this.#track(id, options, true);
      const opts: Record<string, unknown> = {
        jobId: id,
        removeOnComplete: this.#keepCompleted,
        removeOnFail: this.#keepFailed,
      };
      if (options.priority !== undefined) opts.priority = options.priority;
      if (options.attempts !== undefined) opts.attempts = options.attempts;
      if (options.backoff !== undefined) opts.backoff = { type: 'fixed', delay: options.backoff };
      this.#batch.push({ job, frame, timeout: options.timeout, opts, pending, own: jobId === undefined });
      if (this.#batch.length === 1) queueMicrotask(() => void this.#flush());
      return this.#withProducerStack(promise) as Promise<JobResult<J>>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** `dispatch` for each job (added to Redis in one round trip); resolves with the results in order. */
  dispatchAll<const J extends readonly WorkgroupJob<any>[]>(jobs: J, options: RemoteDispatchAllOptions = {}): Promise<{ -readonly [K in keyof J]: JobResult<J[K]> }> {
    if (!Array.isArray(jobs)) return Promise.reject(new TypeError(`expected dispatchAll() to be given an array of jobs, got ${typeof jobs}`));
    const { onProgress, ...rest } = options ?? {};
    if (onProgress !== undefined && typeof onProgress !== 'function') return Promise.reject(new TypeError('expected `onProgress` to be a function'));
    return Promise.all(
      jobs.map((job, i) => this.dispatch(job, onProgress ? { ...rest, onProgress: (v: unknown) => onProgress(v, i) } : rest)),
    ) as Promise<{ -readonly [K in keyof J]: JobResult<J[K]> }>;
  }

  /**
   * Waits for the job with this id, dispatched by this or another producer (one that was restarted, for
   * example): resolves with its result, or rejects with its error. Rejects with a WorkgroupException
   * when no such job is in Redis. Its `signal` and `timeout` stop the waiting only: the job is not cancelled.
   */
  result<R = unknown>(jobId: string, options: Pick<RemoteDispatchOptions, 'onProgress' | 'signal' | 'timeout'> = {}): Promise<R> {
    try {
      if (this.#closed) throw new WorkgroupInactiveException('result() after close(): this RemoteWorkgroup is closed');
      if (typeof jobId !== 'string' || jobId === '') throw new TypeError(`expected result() to be given a job id string, got ${typeof jobId}`);
      checkDispatchOptions(options);
      if (this.#pending.has(jobId)) throw new TypeError(`job id "${jobId}" is already pending on this producer`);
      const { promise, pending } = this.#track(jobId, options, false);
      pending.added = true;
      void this.#start().then(
        () => this.#check([pending]),
        (e: unknown) => this.#settle(pending, e, true),
      );
      return this.#withProducerStack(promise) as Promise<R>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Stops waiting: every pending promise rejects with WorkgroupJobAbortedException (the jobs themselves
   * stay queued and still run; a new producer can collect them with `result(jobId)`), then the Redis
   * connections close. Resolves when they are closed; the process can then exit.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reconcileTimer);
    for (const p of [...this.#pending.values()]) {
      this.#settle(p, new WorkgroupJobAbortedException(`the RemoteWorkgroup was closed while job ${p.id} was pending (it stays in the queue: collect it with result("${p.id}"))`), true);
    }
    const started = this.#started;
    if (started === undefined) return;
    let c: Connected;
    try {
      c = await started;
    } catch {
      return;
    }
    await Promise.allSettled([c.events.close(), c.queue.close()]);
    c.client.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #encode(value: unknown, root: string): string {
    let text: string;
    try {
      text = this.#codec.encode(value, root);
    } catch (e) {
      if (e instanceof UnsendableError) throw new WorkgroupException(e.message, { cause: e });
      throw e;
    }
    if (text.length > this.#maxPayloadBytes) {
      throw new WorkgroupException(`${root} is ${text.length} bytes once encoded, over \`maxPayloadBytes\` (${this.#maxPayloadBytes}): raise the limit, or keep big data outside the queue (object storage) and send its address`);
    }
    return text;
  }

  /** Registers a pending call. `cancels`: its abort or timeout also cancels the job in Redis (dispatch),
   *  or only stops waiting (result). */
  #track(id: string, options: RemoteDispatchOptions, cancels: boolean): { promise: Promise<unknown>; pending: Pending } {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const now = Date.now();
    const pending: Pending = { id, resolve, reject, onProgress: options.onProgress as ((v: unknown) => void) | undefined, since: now, checkedAt: now, cleanup: undefined, added: false };
    this.#pending.set(id, pending);
    const { signal, timeout } = options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      this.#settle(pending, new WorkgroupJobAbortedException(`job ${id} was aborted`, { cause: signal?.reason }), true);
      if (cancels) this.#cancelRemote(pending);
    };
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        this.#settle(pending, new WorkgroupTimeoutException(cancels ? 'dispatch' : 'result', timeout, `job ${id} had no result yet (queued or running)`), true);
        if (cancels) this.#cancelRemote(pending);
      }, timeout);
    }
    pending.cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    return { promise, pending };
  }

  #settle(p: Pending, outcome: unknown, failed: boolean): void {
    if (this.#pending.get(p.id) !== p) return;
    this.#pending.delete(p.id);
    p.cleanup?.();
    if (failed) p.reject(outcome);
    else p.resolve(outcome);
  }

  /** Rejection handler: an error from a machine gets the producer's side of its stack. */
  #withProducerStack(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(undefined, function addProducerStack(error: unknown): never {
      if (error !== null && typeof error === 'object') {
        const machine = remoteErrors.get(error);
        if (machine !== undefined) {
          remoteErrors.delete(error);
          const site: { stack?: string } = {};
          Error.captureStackTrace(site, addProducerStack);
          markRemoteStack(error, machine, site.stack);
        }
      }
      throw error;
    });
  }

  #start(): Promise<Connected> {
    // A failed start is forgotten: the next call tries again (Redis may be up by then).
    this.#started ??= this.#connect().catch((e: unknown) => {
      this.#started = undefined;
      throw e;
    });
    return this.#started;
  }

  async #connect(): Promise<Connected> {
    const [bull] = await Promise.all([loadBullMQ(), this.#codec.load()]);
    const client = await openClient(this.#connection, this.#connectTimeoutMs);
    client.on('error', (e: unknown) => this.#log('warn', 'Redis connection error (producer)', e));
    try {
      // Events after this position are read: none can be missed between here and the first read.
      const last = await withDeadline(client.xrevrange(`${this.#prefix}:${this.#queueName}:events`, '+', '-', 'COUNT', 1), this.#connection, this.#connectTimeoutMs, 'reading the event stream position');
      const lastEventId = last[0]?.[0] ?? '0-0';
      const connection = bullConnection(this.#connection) as never;
      const queue = new bull.Queue(this.#queueName, { connection, prefix: this.#prefix });
      queue.on('error', (e: unknown) => this.#log('warn', 'BullMQ queue error', e));
      const events = new bull.QueueEvents(this.#queueName, { connection, prefix: this.#prefix, lastEventId });
      events.on('error', (e: unknown) => this.#log('warn', 'BullMQ queue events error', e));
      events.on('completed', ({ jobId, returnvalue }) => this.#onCompleted(jobId, returnvalue));
      events.on('failed', ({ jobId, failedReason }) => this.#onFailed(jobId, failedReason));
      events.on('progress', ({ jobId, data }) => this.#onProgress(jobId, data));
      events.on('removed', ({ jobId }) => {
        const p = this.#pending.get(jobId);
        if (p) this.#settle(p, new WorkgroupJobAbortedException(`job ${jobId} was removed from the queue before it finished`), true);
      });
      await withDeadline(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), this.#connection, this.#connectTimeoutMs, 'connecting BullMQ');
      this.#reconcileTimer = setInterval(() => void this.#reconcile(), Math.max(50, this.#reconcileMs / 2));
      this.#reconcileTimer.unref();
      const connected = { bull, queue, events, client };
      if (this.#closed) {
        await Promise.allSettled([events.close(), queue.close()]);
        client.disconnect();
      }
      return connected;
    } catch (e) {
      client.disconnect();
      throw e;
    }
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    let c: Connected;
    try {
      c = await this.#start();
    } catch (e) {
      for (const b of batch) this.#settle(b.pending, e, true);
      return;
    }
    const live: Array<{ name: string; data: WireJobData; opts: Record<string, unknown>; b: (typeof batch)[number] }> = [];
    for (const b of batch) {
      if (this.#pending.get(b.pending.id) !== b.pending) continue;
      let frame: string;
      try {
        frame = b.frame ?? this.#encode(b.job, 'job');
      } catch (e) {
        this.#settle(b.pending, e, true);
        continue;
      }
      const data: WireJobData = b.timeout === undefined ? { v: WIRE_VERSION, f: frame } : { v: WIRE_VERSION, f: frame, t: b.timeout };
      live.push({ name: this.#codec.idOf(b.job.constructor) ?? 'job', data, opts: b.opts, b });
    }
    if (live.length === 0) return;
    try {
      await withDeadline(c.queue.addBulk(live.map(({ name, data, opts }) => ({ name, data, opts }))), this.#connection, this.#connectTimeoutMs, `adding ${live.length} job(s) (they may or may not be queued)`);
    } catch (e) {
      for (const { b } of live) this.#settle(b.pending, e, true);
      return;
    }
    for (const { b } of live) b.pending.added = true;
    // A job id of the caller's may name a job that finished long ago: no event will come for it.
    const theirs = live.filter(({ b }) => !b.own).map(({ b }) => b.pending);
    if (theirs.length) await this.#check(theirs);
  }

  #onCompleted(jobId: string, returnvalue: unknown): void {
    const p = this.#pending.get(jobId);
    if (!p) return;
    try {
      this.#settle(p, this.#codec.decode(returnvalue), false);
    } catch (e) {
      this.#settle(p, new WorkgroupException(`job ${jobId} completed, but its result could not be read: ${(e as Error).message}`, { cause: e }), true);
    }
  }

  #onFailed(jobId: string, failedReason: string): void {
    const p = this.#pending.get(jobId);
    if (p) this.#settle(p, this.#failure(jobId, failedReason), true);
  }

  #onProgress(jobId: string, data: unknown): void {
    const p = this.#pending.get(jobId);
    if (!p?.onProgress) return;
    let value: unknown;
    try {
      value = this.#codec.decode(data);
    } catch (e) {
      this.#log('warn', `progress of job ${jobId} could not be read`, e);
      return;
    }
    try {
      p.onProgress(value);
    } catch (e) {
      this.#log('error', `onProgress of job ${jobId} threw`, e);
    }
  }

  #failure(jobId: string, failedReason: string): unknown {
    const parsed = parseFailure(String(failedReason));
    if (!parsed) return plainFailure(jobId, String(failedReason));
    let error: unknown;
    try {
      error = this.#codec.decode(parsed.frame);
    } catch (e) {
      return new WorkgroupException(`job ${jobId} failed on machine ${parsed.machine} (${parsed.head}), and its error could not be read: ${(e as Error).message}`, { cause: e });
    }
    if (error !== null && typeof error === 'object') remoteErrors.set(error, parsed.machine);
    return error;
  }

  /** Looks jobs up in Redis and settles those that finished (or are gone). */
  async #check(list: readonly Pending[]): Promise<void> {
    const c = await this.#start().catch(() => undefined);
    if (!c) return;
    await Promise.all(
      list.map(async (p) => {
        p.checkedAt = Date.now();
        let job: Job | undefined;
        let state: string;
        try {
          // State first: a job read after it is seen finished holds its return value or failure.
          state = await withDeadline(c.queue.getJobState(p.id), this.#connection, this.#connectTimeoutMs, 'looking up a job');
          job = state === 'unknown' ? undefined : await withDeadline(c.bull.Job.fromId(c.queue, p.id), this.#connection, this.#connectTimeoutMs, 'looking up a job');
        } catch (e) {
          this.#log('warn', `could not look up job ${p.id}`, e);
          return;
        }
        if (this.#pending.get(p.id) !== p) return;
        if (!job || state === 'unknown') {
          this.#settle(p, new WorkgroupException(`job ${p.id} is not in Redis: it never was, or it finished and was removed (keepCompleted/keepFailed), or Redis lost its data`), true);
        } else if (state === 'completed') {
          this.#onCompleted(p.id, job.returnvalue);
        } else if (state === 'failed') {
          this.#onFailed(p.id, job.failedReason);
        }
      }),
    );
  }

  async #reconcile(): Promise<void> {
    const due = Date.now() - this.#reconcileMs;
    const stale = [...this.#pending.values()].filter((p) => p.added && p.checkedAt <= due).slice(0, 200);
    if (stale.length) await this.#check(stale);
  }

  #cancelRemote(p: Pending): void {
    if (!this.#started) return;
    void this.#started
      .then(async (c) => {
        const removed = await c.queue.remove(p.id).catch(() => 0);
        // Not removable: it is running on a machine (locked). Machines listen for cancellations.
        if (removed !== 1) await c.client.publish(`${this.#prefix}:${this.#queueName}:iwg-cancel`, p.id);
      })
      .catch((e: unknown) => this.#log('warn', `could not cancel job ${p.id} in Redis`, e));
  }

  #log(level: 'warn' | 'error', message: string, error: unknown): void {
    this.#logger?.[level]?.(`isolate-workgroup/bullmq: ${message}`, error);
  }
}

function checkDispatchOptions(options: RemoteDispatchOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`expected dispatch options to be an object, got ${options === null ? 'null' : typeof options}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('expected `onProgress` to be a function');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError('expected `signal` to be an AbortSignal');
  optionalNumber(options.timeout, 'timeout', 1, 2 ** 31 - 1, false);
  optionalNumber(options.priority, 'priority', 1, PRIORITY_LIMIT, true);
  optionalNumber(options.attempts, 'attempts', 1, 1_000_000, true);
  optionalNumber(options.backoff, 'backoff', 0, 2 ** 31 - 1, true);
}
