/**
 * A chunk of a `dispatchAll` batch: up to `chunkSize` consecutive jobs of the batch travelling as one
 * built-in job. One queue cell, one claim, one result record and one pending entry carry the whole chunk,
 * which is what makes a batch of tiny jobs cheap (the per-job cost of the ordinary path is mostly the
 * per-record work around a job that does almost nothing).
 *
 * In the worker the chunk runs its jobs one after the other, each with a runtime of its own that reports
 * progress as `[index in the chunk, value]` (main hands it to `onProgress(value, index in the batch)`),
 * shares the chunk's `signal`, and lends the chunk's shared-memory helpers. Before each job it checks the
 * signal: once the batch is cancelled (its signal, its timeout, or a failure in another chunk) no further
 * job of the chunk starts. A job returning a promise is awaited before the next one starts.
 *
 * - `settled` false (`dispatchAll`): resolves with the results in order; the first job that throws ends
 *   the chunk with that error (the rest of the chunk never starts).
 * - `settled` true (`dispatchAllSettled`): every job runs; resolves with `[results, failures]`, where
 *   `failures` lists `[index, error]` pairs (undefined when none failed).
 */
import { WorkgroupException } from './errors.js';
import { WorkgroupJob, bindRuntime, runtimeOf, unbindRuntime, type SharedTypedArray, type TypedArrayConstructor, type WorkerRuntime } from './job.js';

/** `[index, error]` pairs of the jobs of a settled chunk that failed, flattened. */
export type ChunkFailures = unknown[] | undefined;

export class BatchChunk extends WorkgroupJob {
  jobs: WorkgroupJob[];
  settled: boolean;

  constructor(jobs: WorkgroupJob[], settled: boolean) {
    super();
    this.jobs = jobs;
    this.settled = settled;
  }

  execute(): unknown {
    const outer = runtimeOf(this);
    if (outer === undefined) throw new Error('a batch chunk runs only inside a workgroup worker');
    return new ChunkRun(this.jobs, this.settled, outer).run(0);
  }
}

/** The runtime each job of a chunk sees: the chunk's, with progress tagged by the job's index. */
class InnerRuntime implements WorkerRuntime {
  readonly #outer: WorkerRuntime;
  readonly #index: number;
  constructor(outer: WorkerRuntime, index: number) {
    this.#outer = outer;
    this.#index = index;
  }
  get isolateIndex(): number {
    return this.#outer.isolateIndex;
  }
  get signal(): AbortSignal {
    return this.#outer.signal;
  }
  report(value: unknown): void {
    this.#outer.report([this.#index, value]);
  }
  allocate<C extends TypedArrayConstructor>(ctor: C, length: number): SharedTypedArray<C> & Disposable {
    return this.#outer.allocate(ctor, length);
  }
  release(array: ArrayBufferView): void {
    this.#outer.release(array);
  }
  transfer(buffers: readonly ArrayBuffer[]): void {
    this.#outer.transfer(buffers);
  }
  notifyHost(command: unknown): Promise<unknown> {
    return this.#outer.notifyHost(command);
  }
}

/** The answers of settled chunks (so the worker can tell one apart when it cannot be sent). */
const settledAnswers = new WeakSet<object>();

/**
 * A settled chunk's answer that could not be sent: `unsendable(value)` says which results cannot (the
 * reason, or undefined); those become failures of their own jobs — the job ran, its result is lost — and
 * the rest is kept. Undefined when `answer` is not a settled chunk's answer.
 */
export function withoutUnsendableResults(answer: unknown, unsendable: (value: unknown) => unknown): unknown {
  if (answer === null || typeof answer !== 'object' || !settledAnswers.has(answer)) return undefined;
  const [results, failures] = answer as [unknown[], ChunkFailures];
  const kept: unknown[] = failures ?? [];
  for (let i = 0; i < results.length; i++) {
    const reason = unsendable(results[i]);
    if (reason === undefined) continue;
    results[i] = undefined;
    kept.push(i, new WorkgroupException(`the job ran, but its result could not be sent: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: reason }));
  }
  return [results, kept.length > 0 ? kept : undefined];
}

class ChunkRun {
  readonly #jobs: WorkgroupJob[];
  readonly #settled: boolean;
  readonly #outer: WorkerRuntime;
  readonly #results: unknown[];
  #failures: ChunkFailures;

  constructor(jobs: WorkgroupJob[], settled: boolean, outer: WorkerRuntime) {
    this.#jobs = jobs;
    this.#settled = settled;
    this.#outer = outer;
    this.#results = new Array<unknown>(jobs.length);
  }

  /** Runs jobs from `from` on: synchronously while they return values, then after each awaited promise. */
  run(from: number): unknown {
    const jobs = this.#jobs;
    const outer = this.#outer;
    for (let i = from; i < jobs.length; i++) {
      if (outer.cancelled?.() ?? outer.signal.aborted) {
        const signal = outer.signal;
        if (signal.aborted) throw signal.reason; // (reading `aborted` aborts it from the cancel word)
        throw new Error('the batch was cancelled');
      }
      const job = jobs[i]!;
      if (job === null || typeof job !== 'object' || typeof job.execute !== 'function') {
        this.#fail(i, new TypeError('the dispatched object has no execute() method'));
        continue;
      }
      bindRuntime(job, new InnerRuntime(outer, i));
      let out: unknown;
      try {
        out = job.execute();
      } catch (e) {
        this.#done(job);
        this.#fail(i, e);
        continue;
      }
      if (out !== null && (typeof out === 'object' || typeof out === 'function') && typeof (out as { then?: unknown }).then === 'function') {
        return Promise.resolve(out).then(
          (v) => {
            this.#done(job);
            this.#results[i] = v;
            return this.run(i + 1);
          },
          (e: unknown) => {
            this.#done(job);
            this.#fail(i, e);
            return this.run(i + 1);
          },
        );
      }
      this.#done(job);
      this.#results[i] = out;
    }
    if (!this.#settled) return this.#results;
    const answer = [this.#results, this.#failures];
    settledAnswers.add(answer);
    return answer;
  }

  /** A job ended: later reports of it go nowhere, and its last report is written before the next job
   *  can report (one report waits for room per chunk). */
  #done(job: WorkgroupJob): void {
    unbindRuntime(job);
    this.#outer.flushReports?.();
  }

  #fail(i: number, error: unknown): void {
    if (!this.#settled) throw error;
    (this.#failures ??= []).push(i, error);
  }
}
