/**
 * Job calls: turning `dispatch` and `dispatchAll` into entries of the pending table — checks, waiting for a
 * class's module, choosing where the job goes (the shared queue, one worker's lane, a worker that takes
 * transferred buffers), encoding, and arming cancellation.
 */
import { UnsendableError } from '../codec/errors.js';
import { REC_JOB } from '../ring/protocol.js';
import type { ResolvedConfig } from '../shared/config-types.js';
import { waitWithin } from '../shared/deadline.js';
import { BatchChunk } from '../shared/batch-chunk.js';
import type { WorkgroupJob } from '../shared/job.js';
import { WorkgroupJobAbortedException, WorkgroupMemberDeadException, WorkgroupQueueFullException, WorkgroupTimeoutException } from '../shared/errors.js';
import { Batch, type BatchMode } from './batch.js';
import { checkTimeout, type Cancellation } from './cancellation.js';
import { classesToLoad, loadNestedClasses } from './class-loading.js';
import type { Dispatcher } from './dispatcher.js';
import type { MainCodec } from './main-codec.js';
import { pickTransferTarget, sendTracked, transferSet } from './payloads.js';
import type { Pending, PendingTable } from './pending.js';
import { abortError, describeValue, sendError, type BatchOptions, type DispatchOptions } from './types.js';
import type { WorkerSet } from './worker-set.js';
import type { WorkerSlot } from './worker-slot.js';

/** What job calls need from the core. */
export interface JobCallsHost {
  /** The error new work is refused with (shut down, not launched, no worker), if any. */
  refusal(): Error | undefined;
  /** Pending while main imports the work modules during launch(). */
  modulesReady(): Promise<void> | undefined;
  resolveIndex(index: number): WorkerSlot | Error;
}

/** A batch chunk's encoded size the default chunk size aims at (judged by the batch's first job). */
const CHUNK_TARGET_BYTES = 8 * 1024;

/** Follows one dispatch's pending entry (see JobCalls.dispatch). */
export interface EntryTracker {
  attached: boolean;
  readonly gone: () => void;
}

/** What sending a batch's chunks needs (see JobCalls.#sendChunks). */
interface BatchSending {
  readonly jobs: readonly unknown[];
  readonly batch: Batch;
  readonly site: { stack?: string } | undefined;
  readonly onProgress: ((value: unknown, index: number) => void) | undefined;
  readonly entries: Pending[];
  readonly cancelRest: (reason: Error) => void;
}

/** Default jobs per chunk of a batch: about 16 chunks per worker (room to balance uneven jobs), at most 256. */
export function autoChunkSize(jobs: number, workers: number): number {
  return Math.max(1, Math.min(256, Math.floor(jobs / (Math.max(1, workers) * 16))));
}

export class JobCalls {
  readonly #pending: PendingTable;
  readonly #dispatcher: Dispatcher;
  readonly #cancellation: Cancellation;
  readonly #workers: WorkerSet;
  readonly #codec: MainCodec;
  readonly #config: ResolvedConfig;
  readonly #host: JobCallsHost;
  /** Jobs dispatched that wait for the import of a module before they can be encoded (they count as pending). */
  #loading = 0;

  constructor(
    parts: { pending: PendingTable; dispatcher: Dispatcher; cancellation: Cancellation; workers: WorkerSet; codec: MainCodec; config: ResolvedConfig },
    host: JobCallsHost,
  ) {
    this.#pending = parts.pending;
    this.#dispatcher = parts.dispatcher;
    this.#cancellation = parts.cancellation;
    this.#workers = parts.workers;
    this.#codec = parts.codec;
    this.#config = parts.config;
    this.#host = host;
  }

  /** Jobs waiting for their class's module. */
  get loading(): number {
    return this.#loading;
  }

  /** `tracker`: told when the job's entry joins the pending table (its `gone` runs when the entry leaves it). */
  dispatch(job: unknown, options: DispatchOptions | undefined, site: { stack?: string } | undefined, tracker?: EntryTracker): Promise<unknown> {
    const refused = this.#host.refusal();
    if (refused) return Promise.reject(refused);
    const waitFor = this.#host.modulesReady() ?? classesToLoad(this.#codec, job);
    if (!waitFor) return this.#dispatchNow(job, options, site, false, tracker);
    // The timeout and signal hold while the job waits for a module too (counted from this call), and the
    // job counts as pending meanwhile.
    this.#loading++;
    return waitWithin(waitFor, options, 'dispatch', 'job').then(
      (o) => {
        this.#loading--;
        return this.#dispatchNow(job, o, site, true, tracker);
      },
      (e: unknown) => {
        this.#loading--;
        throw e;
      },
    );
  }

  #dispatchNow(job: unknown, options: DispatchOptions | undefined, site: { stack?: string } | undefined, retried: boolean, tracker?: EntryTracker): Promise<unknown> {
    const refused = this.#host.refusal();
    if (refused) return Promise.reject(refused);
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal, 'job'));
    if (typeof job !== 'object' || job === null || typeof (job as { execute?: unknown }).execute !== 'function') {
      return Promise.reject(new TypeError(`dispatch() expects a WorkgroupJob instance (an object with an execute() method), got ${describeValue(job)}`));
    }
    const badTimeout = checkTimeout(options?.timeout);
    if (badTimeout) return Promise.reject(badTimeout);
    const transfer = options?.transfer === undefined ? undefined : transferSet(options.transfer);
    if (transfer instanceof Error) return Promise.reject(transfer);
    let target: WorkerSlot | undefined;
    if (options?.isolate !== undefined && options.isolate !== -1) {
      const t = this.#host.resolveIndex(options.isolate);
      if (t instanceof Error) return Promise.reject(t);
      target = t;
    } else if (transfer) {
      // A transferred buffer can move to one thread only: the job is placed now, not queued for any worker.
      target = pickTransferTarget(this.#workers.values());
      if (!target) return Promise.reject(new WorkgroupMemberDeadException(-1, 'no live worker can take a job with `transfer`'));
    } else if (this.#config.maxQueue !== Infinity && this.#dispatcher.queuedCount >= this.#config.maxQueue) {
      return Promise.reject(new WorkgroupQueueFullException(`the job queue is full (maxQueue ${this.#config.maxQueue}): wait for jobs to finish or raise \`maxQueue\``));
    }
    const p = this.#pending.create('job', site, options?.onProgress, 0);
    const error = target === undefined ? this.#enqueue(p, job) : sendTracked(this.#codec.outOfBand, p, () => {
      if (transfer) target.writer!.sendWithTransfer(p, job, transfer);
      else target.writer!.send(p, REC_JOB, [p.id, 0], job, 'job', true);
    }, undefined);
    if (error) {
      const nested = !retried && error instanceof UnsendableError ? loadNestedClasses(this.#codec, job) : undefined;
      if (nested) return nested.then(() => this.#dispatchNow(job, options, site, true, tracker));
      return Promise.reject(sendError(error));
    }
    this.#pending.add(p);
    if (tracker !== undefined) {
      tracker.attached = true;
      p.gone = tracker.gone;
    }
    this.#cancellation.arm(p, signal, options?.timeout, 'dispatch');
    this.#dispatcher.scheduleKick();
    return p.promise!;
  }

  /** A job into the shared queue (the hot path: one function for every call, no closure per job). */
  #enqueue(p: Pending, job: unknown): unknown {
    return sendTracked(this.#codec.outOfBand, p, this.#toQueue, job);
  }

  readonly #toQueue = (p: Pending, job: unknown): void => this.#dispatcher.enqueue(p, job);


  /**
   * A batch of jobs for any worker, encoded in one pass and settled with one promise (see batch.ts). The
   * signal and timeout cancel the whole batch; `onProgress` hears every job's reports with its index.
   */
  dispatchAll(jobs: readonly unknown[], options: BatchOptions | undefined, site: { stack?: string } | undefined, mode: BatchMode): Promise<unknown[]> {
    const refused = this.#host.refusal();
    if (refused) return Promise.reject(refused);
    const waitFor = this.#host.modulesReady() ?? classesToLoad(this.#codec, jobs[0]);
    if (waitFor) return waitFor.then(() => this.#dispatchAllNow(jobs, options, site, mode));
    return this.#dispatchAllNow(jobs, options, site, mode);
  }

  #dispatchAllNow(jobs: readonly unknown[], options: BatchOptions | undefined, site: { stack?: string } | undefined, mode: BatchMode): Promise<unknown[]> {
    const refused = this.#host.refusal();
    if (refused) return Promise.reject(refused);
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal, 'batch'));
    const badTimeout = checkTimeout(options?.timeout);
    if (badTimeout) return Promise.reject(badTimeout);
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i];
      if (typeof job !== 'object' || job === null || typeof (job as { execute?: unknown }).execute !== 'function') {
        return Promise.reject(new TypeError(`dispatchAll() expects WorkgroupJob instances (objects with an execute() method), got ${describeValue(job)} at index ${i}`));
      }
    }
    const n = jobs.length;
    const chunk = options?.chunkSize ?? this.#chunkSizeFor(jobs);
    const chunks = Math.ceil(n / chunk);
    const max = this.#config.maxQueue;
    if (max !== Infinity && this.#dispatcher.queuedCount + chunks > max) {
      return Promise.reject(new WorkgroupQueueFullException(`a batch of ${n} jobs in ${chunks} chunks does not fit the job queue (maxQueue ${max}, ${this.#dispatcher.queuedCount} queued): wait for jobs to finish, send a smaller batch, raise \`chunkSize\` or \`maxQueue\``));
    }
    let resolve!: (v: unknown[]) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const batch = new Batch(mode, n, chunk, resolve, reject);
    const entries: Pending[] = [];
    const onProgress = options?.onProgress;
    const cancelRest = (reason: Error): void => {
      for (const p of entries) if (this.#pending.get(p.id) === p && p.status !== 'cancelled') this.#cancellation.cancel(p, reason);
    };
    batch.onFirstFailure = () => cancelRest(new WorkgroupJobAbortedException('another job of its batch failed - job cancelled'));
    if (signal !== undefined || options?.timeout !== undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        const reason = abortError(signal!, 'batch');
        batch.fail(reason);
        cancelRest(reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const timeout = options?.timeout;
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          const reason = new WorkgroupTimeoutException('dispatchAll', timeout, 'the batch did not finish in time');
          batch.fail(reason);
          cancelRest(reason);
        }, timeout);
      }
      batch.cleanup = () => {
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
      };
    }
    this.#sendChunks({ jobs, batch, site, onProgress, entries, cancelRest }, 0, -1);
    return promise;
  }

  /**
   * Sends the chunks of a batch from the one starting at job `from` on. A chunk that names a class whose
   * module main has not imported yet waits for that import (once per chunk), then the sending goes on
   * from that chunk — the chunks sent before it keep running. Any other chunk that cannot be sent fails
   * the batch with that reason, like a job that throws: the chunks not started are cancelled.
   */
  #sendChunks(b: BatchSending, from: number, retriedAt: number): void {
    const { jobs, batch, entries } = b;
    const chunk = batch.chunk;
    const settled = batch.mode === 'settled';
    if (retriedAt >= 0) {
      const refused = this.#host.refusal();
      if (refused) {
        batch.fail(refused);
        b.cancelRest(refused);
        return;
      }
    }
    for (let start = from; start < jobs.length && !batch.done; start += chunk) {
      const end = Math.min(jobs.length, start + chunk);
      const body = new BatchChunk(jobs.slice(start, end) as WorkgroupJob[], settled);
      const onProgress = b.onProgress;
      // Reports come as [index in the chunk, value].
      const report = onProgress === undefined ? undefined : (pair: unknown) => onProgress((pair as [number, unknown])[1], start + (pair as [number, unknown])[0]);
      const p = this.#pending.createInBatch(batch, start, b.site, report);
      const error = this.#enqueue(p, body);
      if (error) {
        const nested = retriedAt !== start && error instanceof UnsendableError ? loadNestedClasses(this.#codec, body) : undefined;
        if (nested) {
          nested.then(
            () => this.#sendChunks(b, start, start),
            (e: unknown) => {
              batch.fail(e);
              b.cancelRest(new WorkgroupJobAbortedException('another job of its batch could not be sent - job cancelled'));
            },
          );
        } else {
          batch.fail(sendError(error));
          b.cancelRest(new WorkgroupJobAbortedException('another job of its batch could not be sent - job cancelled'));
        }
        break;
      }
      entries.push(p);
      this.#pending.add(p);
      // A big batch takes a while to encode: wake the workers for the first chunks now, so they run while
      // main encodes the rest (the once-per-tick wake-up would leave them idle until the batch is sent).
      if ((entries.length & 15) === 1) this.#dispatcher.kick();
    }
    this.#dispatcher.scheduleKick();
  }

  /**
   * The default jobs per chunk: about 16 chunks per worker, at most 256 jobs, and — judged by the size of
   * the first job encoded — at most about CHUNK_TARGET_BYTES a chunk, so big jobs travel one or a few at
   * a time (a chunk's frame, and its answer, must fit the shared arena with the others in flight).
   */
  #chunkSizeFor(jobs: readonly unknown[]): number {
    const byCount = autoChunkSize(jobs.length, this.#workers.liveCount);
    if (byCount === 1) return 1;
    const bytes = this.#codec.encodedSize(jobs[0]);
    return bytes === undefined ? byCount : Math.max(1, Math.min(byCount, Math.floor(CHUNK_TARGET_BYTES / Math.max(1, bytes))));
  }
}
