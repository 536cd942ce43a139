/**
 * `parallelFor` / `parallelReduce` on the main thread: plans the chunks, dispatches one participant job
 * (kernel-participant.ts) per taking-part worker through the ordinary dispatch path, reads progress from
 * shared memory, and settles the call exactly once.
 *
 * One call goes through rounds. Round 0 runs every chunk. When a participant's worker died (crashed,
 * killed) its claimed-but-unfinished chunk — and, for a reduction, every chunk whose partial died with it —
 * is run again in the next round by the workers still alive, up to `MAX_ROUNDS` rounds (a chunk that keeps
 * killing its worker then rejects the call with the last worker's death). A chunk may therefore run twice
 * after a crash: `run()` finished but the worker died before publishing it.
 *
 * Settling: the first error (a chunk threw, a participant could not be sent, a cancel or a timeout) rejects
 * the call at once and raises the stop flag, so every participant stops at its next claim. The call's
 * shared block is released only after every participant settled, so no worker touches it afterwards.
 */
import { WorkgroupException, WorkgroupJobAbortedException, WorkgroupMemberDeadException, WorkgroupTimeoutException } from '../shared/errors.js';
import type { WorkgroupJob } from '../shared/job.js';
import type { WorkgroupKernel } from '../shared/kernel.js';
import { MAX_ROUNDS, doneTotal, planChunks, requestStop, unfinishedChunks, writeBounds, type ChunkPlan } from '../shared/kernel-control.js';
import { KernelParticipant, runChunks, type ParticipantPartials, type ParticipantSpec } from '../shared/kernel-participant.js';
import { abortError } from './types.js';

/** How often main reads the done words for `onProgress` (ms). */
const PROGRESS_POLL_MS = 16;

/** What a kernel call needs from the workgroup (wired by the public class). */
export interface KernelHost {
  /** The ordinary dispatch (validation, two-sided stacks); `gone` resolves once no thread touches the job
   *  any more (also after a cancel: when its worker finished it or is gone). */
  dispatch(job: WorkgroupJob<unknown>, options: { signal: AbortSignal } | undefined): { result: Promise<unknown>; gone: Promise<void> };
  allocate(words: number): Int32Array;
  release(view: Int32Array): void;
  liveWorkers(): number;
  /** False once the workgroup shuts down: a participant rejected then is not run again. */
  active(): boolean;
  /** True while a crashed worker's replacement is on its way (`respawn`): a re-run round then waits for it. */
  respawns(): boolean;
}

/** Validated options of one call. */
export interface KernelCallOptions {
  readonly chunk?: number | undefined;
  readonly minChunk?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly timeout?: number | undefined;
  readonly onProgress?: ((fraction: number) => void) | undefined;
  readonly mainThread?: boolean | undefined;
}

type Mode = 'for' | 'reduce';

/** One call in flight: its block, its participants and how it settles. */
class KernelCall {
  readonly #host: KernelHost;
  readonly #kernel: WorkgroupKernel<unknown>;
  readonly #mode: Mode;
  readonly #options: KernelCallOptions;
  readonly #operation: string;
  /** Aborts the participants' signals on cancel or timeout; made only when the call can be cancelled (it costs ~5 µs a job). */
  #cancel: AbortController | undefined;
  readonly #partials: unknown[] = [];
  /** One per participant dispatched: the call's shared block is freed only when all have resolved. */
  readonly #gone: Promise<void>[] = [];
  #have = new Uint8Array(0);
  #plan!: ChunkPlan;
  #control!: Int32Array;
  #nextId = 0;
  #failed = false;
  /** Main ran every chunk left: participants still queued were taken back, their rejections mean nothing. */
  #dismissed = false;
  #settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
  #lastDeath: Error | undefined;
  #progress = 0;

  constructor(host: KernelHost, kernel: WorkgroupKernel<unknown>, mode: Mode, options: KernelCallOptions) {
    this.#host = host;
    this.#kernel = kernel;
    this.#mode = mode;
    this.#options = options;
    this.#operation = mode === 'for' ? 'parallelFor' : 'parallelReduce';
  }

  start(length: number): Promise<unknown> {
    const result = new Promise<unknown>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    const { signal, timeout, chunk, minChunk, mainThread } = this.#options;
    if (signal?.aborted) {
      this.#fail(abortError(signal, 'kernel'));
      return result;
    }
    const workers = Math.max(1, this.#host.liveWorkers());
    const perRound = workers + 1;
    const { plan, bounds } = planChunks(length, workers + (mainThread ? 1 : 0), MAX_ROUNDS * perRound, chunk, minChunk);
    this.#plan = plan;
    if (this.#mode === 'reduce') this.#have = new Uint8Array(plan.chunks);
    try {
      this.#control = this.#host.allocate(plan.words);
    } catch (e) {
      // Most likely a fixed `chunk` far too small for the length: say so, with the numbers.
      const what = `${this.#operation}(): its ${plan.chunks.toLocaleString('en-US')} chunks need ${(plan.words * 4).toLocaleString('en-US')} bytes of shared memory for their state`;
      const hint = chunk !== undefined ? `: use a bigger \`chunk\` (${chunk} now) or leave it out for guided chunks` : '';
      this.#fail(new WorkgroupException(`${what}, which could not be allocated${hint} (${e instanceof Error ? e.message : String(e)})`, { cause: e }));
      return result;
    }
    writeBounds(this.#control, plan, bounds);

    // (Main taking part may finish every chunk while participants still wait in the queue: they are then
    // taken back through this signal.)
    if (signal !== undefined || timeout !== undefined || mainThread === true) this.#cancel = new AbortController();
    const onAbort = (): void => this.#stop(abortError(signal!, 'kernel'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeout === undefined ? undefined : setTimeout(() => this.#stop(new WorkgroupTimeoutException(this.#operation, timeout, 'the kernel did not finish in time')), timeout);
    const poll = this.#options.onProgress ? setInterval(() => this.#report(false), PROGRESS_POLL_MS) : undefined;
    unref(timer);
    unref(poll);
    void this.#rounds(workers, perRound)
      .catch((e: unknown) => this.#fail(e)) // never leave the call pending, whatever went wrong
      .finally(() => {
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
        if (poll !== undefined) clearInterval(poll);
        // A cancelled call settles at once, but a participant a worker is still running keeps writing
        // into the block until it sees the stop flag: the block is freed once every one has left.
        void Promise.all(this.#gone).then(() => {
          try {
            this.#host.release(this.#control);
          } catch {
            // the workgroup shut down meanwhile: its shared memory went with it
          }
        });
      });
    return result;
  }

  /** Runs the rounds; resolves when every participant of every round has settled. */
  async #rounds(workers: number, perRound: number): Promise<void> {
    let list: number[] | null = null;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      this.#nextId = round * perRound;
      const deaths = await this.#round(round, list, workers, round === 0 && this.#options.mainThread === true);
      if (this.#failed) return;
      const left = this.#unfinished(list);
      if (left.length === 0) {
        this.#succeed();
        return;
      }
      if (deaths === 0) {
        // Cannot happen without a death (a stop only comes with a failure); never leave the call pending.
        this.#fail(new WorkgroupException(`${this.#operation}(): ${left.length} chunks were left unfinished`));
        return;
      }
      list = left;
      const alive = this.#host.liveWorkers();
      // No worker left to run them again: when a replacement is on its way (respawn), it takes the
      // round's participant from the queue; otherwise (respawn off, kill(), respawn given up) the call
      // rejects with the death.
      if (alive === 0 && !this.#host.respawns()) break;
      workers = Math.max(1, Math.min(perRound - 1, alive));
    }
    this.#fail(this.#lastDeath ?? new WorkgroupException(`${this.#operation}(): chunks still unfinished after ${MAX_ROUNDS} rounds`));
  }

  /** One round: `workers` participants (fewer when there are fewer chunks), and main when it takes part. Returns the deaths. */
  async #round(round: number, list: number[] | null, workers: number, withMain: boolean): Promise<number> {
    const chunks = list ? list.length : this.#plan.chunks;
    const count = Math.min(workers, chunks);
    let deaths = 0;
    const running: Promise<void>[] = [];
    for (let j = 0; j < count; j++) {
      const participant = new KernelParticipant(this.#spec(round, list));
      let sent: Promise<unknown>;
      try {
        const d = this.#host.dispatch(participant, this.#cancel ? { signal: this.#cancel.signal } : undefined);
        sent = d.result;
        this.#gone.push(d.gone);
      } catch (e) {
        sent = Promise.reject(e);
      }
      running.push(
        sent.then(
          (r) => this.#keep(r as ParticipantPartials | null),
          (e: unknown) => {
            if (this.#failed || this.#dismissed) return; // the call settled already, or this participant was not needed
            if (this.#recoverable(e)) {
              deaths++;
              this.#lastDeath = e as Error;
              return;
            }
            this.#stop(kernelPath(e, this.#operation), false);
          },
        ),
      );
    }
    if (withMain && !this.#failed) {
      // The dispatcher wakes parked workers in a microtask queued by the dispatches above: let it run
      // first, or the workers would sleep while main runs its chunks.
      await undefined;
      try {
        this.#keep(runChunks(this.#spec(round, list), -1));
      } catch (e) {
        this.#stop(e, false);
      }
      // Nothing left to claim and nothing owed (no partial still with a participant): do not wait for
      // participants queued behind other work — take them back. (A running one finds no chunk and ends.)
      if (!this.#failed && this.#unfinished(list).length === 0) {
        this.#dismissed = true;
        this.#cancel?.abort(new WorkgroupJobAbortedException(`${this.#operation}(): main ran every chunk - participant not needed`));
      }
    }
    await Promise.all(running);
    return deaths;
  }

  #spec(round: number, list: number[] | null): ParticipantSpec {
    return {
      kernel: this.#kernel,
      control: this.#control,
      plan: this.#plan,
      id: this.#nextId++,
      round,
      list,
      reduce: this.#mode === 'reduce',
      progress: this.#options.onProgress !== undefined,
    };
  }

  #keep(r: ParticipantPartials | null): void {
    if (!r) return;
    for (let i = 0; i < r.chunks.length; i++) {
      const k = r.chunks[i]!;
      this.#partials[k] = r.partials[i];
      this.#have[k] = 1;
    }
  }

  /** A participant lost with its worker (crashed, exited, killed) while the workgroup still runs. */
  #recoverable(e: unknown): boolean {
    if (!this.#host.active()) return false;
    return e instanceof WorkgroupMemberDeadException || (e instanceof WorkgroupJobAbortedException && /^Isolate #\d+ was killed/.test(e.message));
  }

  /** Chunks of this round still to run: unfinished ones, and for a reduction those whose partial was lost. */
  #unfinished(list: number[] | null): number[] {
    if (this.#mode === 'for') return unfinishedChunks(this.#control, this.#plan, list ?? undefined);
    const left: number[] = [];
    if (list) {
      for (const k of list) if (this.#have[k] !== 1) left.push(k);
    } else {
      for (let k = 0; k < this.#plan.chunks; k++) if (this.#have[k] !== 1) left.push(k);
    }
    return left;
  }

  #succeed(): void {
    let value: unknown;
    if (this.#mode === 'reduce') {
      try {
        // Fixed order: chunk 0, 1, 2, … whatever thread ran each, so a float reduction is reproducible.
        value = this.#partials[0];
        for (let k = 1; k < this.#plan.chunks; k++) value = (this.#kernel as unknown as Combining).combine(value, this.#partials[k]);
      } catch (e) {
        this.#fail(e);
        return;
      }
    }
    this.#report(true);
    this.#settle.resolve(value);
  }

  /** Cancel, timeout or a failure: raise the stop flag, reject; `abort` also cancels running participants. */
  #stop(reason: unknown, abort = true): void {
    if (this.#failed) return;
    requestStop(this.#control);
    if (abort) this.#cancel?.abort(reason);
    this.#fail(reason);
  }

  #fail(reason: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#settle.reject(reason);
  }

  #report(final: boolean): void {
    const onProgress = this.#options.onProgress;
    if (!onProgress || this.#failed) return;
    const fraction = final ? 1 : Math.min(1, doneTotal(this.#control, this.#nextId) / this.#plan.length);
    // 1 only when the call resolves: after a death, chunks run again are counted twice (a reduction's
    // lost partials), so the shared counts can reach the length while a re-run round still goes on.
    if (fraction <= this.#progress || (fraction >= 1 && !final)) return;
    this.#progress = fraction;
    try {
      onProgress(fraction);
    } catch {
      // a throwing progress callback does not fail the call (as for jobs' onProgress)
    }
  }
}

/** A refusal at dispatch names the participant's field (`job.kernel.data is …`): name the kernel instead. */
function kernelPath(e: unknown, operation: string): unknown {
  if (e instanceof WorkgroupException && e.message.startsWith('job.kernel')) {
    const message = `${operation}(): the kernel${e.message.slice('job.kernel'.length)}`;
    if (typeof e.stack === 'string') e.stack = e.stack.replace(e.message, message);
    e.message = message;
  }
  return e;
}

type Combining = { combine(a: unknown, b: unknown): unknown };

function unref(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}

/**
 * Runs a kernel over `0 .. length - 1` (validated by the caller). `reduce`: resolves with the partials
 * combined in chunk order (`identity()` for length 0); else with undefined.
 */
export function runKernel(host: KernelHost, length: number, kernel: WorkgroupKernel<unknown>, mode: Mode, options: KernelCallOptions): Promise<unknown> {
  if (length === 0) {
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal, 'kernel'));
    let value: unknown;
    if (mode === 'reduce') {
      const identity = (kernel as { identity?: () => unknown }).identity;
      if (typeof identity !== 'function') {
        return Promise.reject(new RangeError('parallelReduce() over length 0 needs the kernel to define identity() (the result of an empty range)'));
      }
      try {
        value = identity.call(kernel);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    try {
      options.onProgress?.(1);
    } catch {
      // as below: a throwing progress callback does not fail the call
    }
    return Promise.resolve(value);
  }
  return new KernelCall(host, kernel, mode, options).start(length);
}
