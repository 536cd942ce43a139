/**
 * One thread's part in a `parallelFor` / `parallelReduce` call: a built-in job (known to both sides, like
 * `RunFunction`) carrying the kernel, the call's shared block (kernel-control.ts) and the chunk plan. Each
 * taking-part worker runs one; main runs the same loop (`runChunks`) when it takes part.
 *
 * The loop, per chunk: read the stop flag; claim the next chunk with one `Atomics.add` on the round's
 * counter; `run(start, end)`; publish the chunk's state (and, when progress is asked for, this
 * participant's done count). A partial result stays in this thread until the loop ends and travels back
 * as the job's result, as chunk indices and partials in two arrays, so main can combine them in chunk order.
 *
 * Because the dispatch machinery runs it, a participant gets what a job gets: an error thrown by `run()`
 * rejects it with its class and a two-sided stack (the loop raises the stop flag first, so the others stop
 * claiming), cancellation, and the failure model when its worker dies.
 */
import { bindKernelContext, type KernelContext, type WorkgroupKernel } from './kernel.js';
import { STOP, doneAt, nextAt, type ChunkPlan } from './kernel-control.js';
import { WorkgroupJob } from './job.js';

/** What a reduce participant returns: the chunks it finished and their partials, in the same order. */
export interface ParticipantPartials {
  readonly chunks: number[];
  readonly partials: unknown[];
}

/** The per-call inputs of the loop, the same on a worker and on main. */
export interface ParticipantSpec {
  readonly kernel: WorkgroupKernel<unknown>;
  readonly control: Int32Array;
  readonly plan: ChunkPlan;
  /** This participant's number in the call (its done word; p + 1 marks the chunks it finished). */
  readonly id: number;
  readonly round: number;
  /** Round > 0: the chunks left unfinished by dead workers, claimed by position; else every chunk. */
  readonly list: readonly number[] | null;
  readonly reduce: boolean;
  readonly progress: boolean;
}

/** Runs chunks until none is left or the stop flag is up. Returns the partials (reduce) or null. */
export function runChunks(spec: ParticipantSpec, isolateIndex: number): ParticipantPartials | null {
  const { kernel, control: i32, plan, id, list, reduce, progress } = spec;
  const context: KernelContext = { isolateIndex, stopRequested: () => Atomics.load(i32, STOP) !== 0 };
  bindKernelContext(kernel, context);
  const chunks: number[] = [];
  const partials: unknown[] = [];
  const next = nextAt(spec.round);
  const done = doneAt(id);
  const mark = id + 1;
  const total = list ? list.length : plan.chunks;
  const { fixed, length, boundsAt, statesAt } = plan;
  let finished = 0;
  try {
    // The stop flag only rises when the call fails (an error, a cancel): what a chunk that ended early
    // returns is then never used, so the flag is read once per claim, before it.
    while (Atomics.load(i32, STOP) === 0) {
      const pos = Atomics.add(i32, next, 1);
      if (pos >= total) break;
      const k = list ? list[pos]! : pos;
      let start: number;
      let end: number;
      if (fixed > 0) {
        start = k * fixed;
        end = Math.min(length, start + fixed);
      } else {
        start = i32[boundsAt + k]!;
        end = i32[boundsAt + k + 1]!;
      }
      const partial = kernel.run(start, end);
      if (partial !== undefined && typeof (partial as { then?: unknown } | null)?.then === 'function') throw asyncRun(kernel);
      if (reduce) {
        chunks.push(k);
        partials.push(partial);
      }
      // Publication: the chunk's writes (plain stores into the user's arrays) happen before this store.
      // A plain store, not Atomics.store: main reads the states only after the round settled — after this
      // participant's result (published with the result ring's release store) or its worker's exit — so
      // that synchronisation orders it; a sequentially consistent store per chunk measured ~60 ns more
      // when two workers claim neighbouring chunks (their state words share cache lines).
      i32[statesAt + k] = mark;
      // Publication (progress only): the done count, one writer per word; main's timer reads it, late at worst.
      if (progress) Atomics.store(i32, done, (finished += end - start));
    }
  } catch (e) {
    Atomics.store(i32, STOP, 1); // the first error stops every participant at its next claim
    throw e;
  } finally {
    bindKernelContext(kernel, undefined);
  }
  return reduce ? { chunks, partials } : null;
}

function asyncRun(kernel: object): TypeError {
  const name = kernel.constructor?.name || 'the kernel';
  return new TypeError(`${name}.run() returned a promise: a kernel's run(start, end) must be synchronous (it runs once per chunk, between two claims)`);
}

/** The built-in job that runs `runChunks` on a worker. Its fields are what travels. */
export class KernelParticipant extends WorkgroupJob<ParticipantPartials | null> {
  kernel: WorkgroupKernel<unknown>;
  control: Int32Array;
  plan: ChunkPlan;
  id: number;
  round: number;
  list: number[] | null;
  reduce: boolean;
  progress: boolean;

  constructor(spec: ParticipantSpec) {
    super();
    this.kernel = spec.kernel;
    this.control = spec.control;
    this.plan = spec.plan;
    this.id = spec.id;
    this.round = spec.round;
    this.list = spec.list ? [...spec.list] : null;
    this.reduce = spec.reduce;
    this.progress = spec.progress;
  }

  execute(): ParticipantPartials | null {
    return runChunks(this, this.isolateIndex);
  }
}
