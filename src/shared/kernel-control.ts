/**
 * The shared words of one `parallelFor` / `parallelReduce` call, and its chunk plan.
 *
 * Contract: one block per call, an `Int32Array` on the workgroup's arena, allocated and written by main
 * before the participants are dispatched (the dispatch publishes it: a worker reads the job after the
 * queue's release store, so it sees the plan), released by main once every participant has settled.
 * Participants (workers, and main when it takes part) claim chunks with one `Atomics.add` on the round's
 * counter — many producers of claims, lock-free (no participant waits for another), wait-free per claim.
 * Nothing is allocated per chunk.
 *
 * | offset (i32 words)           | width          | field        | writer                        | reader                    | op          |
 * |------------------------------|----------------|--------------|-------------------------------|---------------------------|-------------|
 * | `STOP` = 0                   | 1              | stop flag    | main (cancel), a participant  | participants, each claim  | store/load  |
 * |                              |                |              | whose chunk threw             |                           |             |
 * | `nextAt(r)` = LINE·(1 + r)   | 1 per round    | next claim   | participants of round r       | the same                  | add         |
 * | `doneAt(p)`                  | 1 per          | indices done | participant p only            | main (progress)           | store/load  |
 * | = LINE·(1 + MAX_ROUNDS + p)  | participant    | by p         |                               |                           |             |
 * | `plan.boundsAt`              | chunks + 1     | chunk starts | main, before dispatch         | participants              | plain       |
 * |                              | (guided only)  |              |                               |                           |             |
 * | `plan.statesAt`              | chunks         | chunk state: | the participant that finished | main, after a round       | store/load  |
 * |                              |                | 0 or p + 1   | the chunk                     | settled                   |             |
 *
 * The stop flag, each round's counter and each participant's done word sit on their own 128-byte line
 * (`LINE` words apart), so a participant's per-chunk stores never invalidate another's line; the chunk
 * states are packed (each is written once, by one thread). A state is written after `run()` returned: a
 * chunk whose state is still 0 after its round was claimed by a participant that died, or by nobody.
 *
 * How stale a reader can be: main's progress reads of the done words can be late (lower than the truth),
 * never ahead; a participant may claim one chunk after the stop flag was raised (it read it just before),
 * never more.
 */

/** 128 bytes in 32-bit words: the distance between two hot words. */
export const LINE = 32;
/** Index of the stop flag. */
export const STOP = 0;
/** Rounds of one call: the first, then re-runs of the chunks a dead worker held (a bound against poison chunks). */
export const MAX_ROUNDS = 4;

/** Word of round `r`'s claim counter. */
export function nextAt(r: number): number {
  return LINE * (1 + r);
}

/** Word where participant `p` publishes how many indices it has finished. */
export function doneAt(p: number): number {
  return LINE * (1 + MAX_ROUNDS + p);
}

/** How a call's index range is cut into chunks; travels with each participant (a plain object). */
export interface ChunkPlan {
  readonly length: number;
  readonly chunks: number;
  /** > 0: every chunk has this size (the last one may be shorter); 0: guided, starts in the bounds words. */
  readonly fixed: number;
  readonly boundsAt: number;
  readonly statesAt: number;
  /** Words of the whole block. */
  readonly words: number;
}

/**
 * The chunk plan: a fixed size when `chunk` is given; else guided, as OpenMP's `schedule(guided)`: each
 * chunk is the remaining count over twice the participants (large first, smaller near the end), never below
 * `minChunk` (default: length / (256 · participants), at least 1) and never above length / (16 ·
 * participants). The cap is for uneven work: without it the first chunks hold a quarter and more of the
 * range, and when the costly indices sit there (the middle rows of a Mandelbrot frame) one participant
 * ends up with most of the work. The same inputs give the same chunks, so a reduction combined in chunk
 * order is reproducible for a given length, participant count and options.
 */
export function planChunks(length: number, participants: number, maxParticipants: number, chunk?: number, minChunk?: number): { plan: ChunkPlan; bounds: number[] | undefined } {
  const base = doneAt(maxParticipants);
  if (chunk !== undefined) {
    const chunks = Math.ceil(length / chunk);
    return { plan: { length, chunks, fixed: chunk, boundsAt: base, statesAt: base, words: base + chunks }, bounds: undefined };
  }
  const min = Math.max(1, minChunk ?? Math.floor(length / (256 * participants)));
  const max = Math.max(min, Math.ceil(length / (16 * participants)));
  const bounds = [0];
  let at = 0;
  while (at < length) {
    const size = Math.max(min, Math.min(max, Math.ceil((length - at) / (2 * participants))));
    at = Math.min(length, at + size);
    bounds.push(at);
  }
  const chunks = bounds.length - 1;
  return { plan: { length, chunks, fixed: 0, boundsAt: base, statesAt: base + chunks + 1, words: base + 2 * chunks + 1 }, bounds };
}

/** Writes the plan's bounds into a fresh block (main, before the first dispatch). */
export function writeBounds(i32: Int32Array, plan: ChunkPlan, bounds: readonly number[] | undefined): void {
  if (!bounds) return;
  for (let k = 0; k < bounds.length; k++) i32[plan.boundsAt + k] = bounds[k]!;
}

/** Main: indices finished so far by participants `0 .. participants - 1` (can be late, never ahead). */
export function doneTotal(i32: Int32Array, participants: number): number {
  let sum = 0;
  for (let p = 0; p < participants; p++) sum += Atomics.load(i32, doneAt(p));
  return sum;
}

/** Raises the stop flag: participants claim no chunk after the one they may be reading it for. */
export function requestStop(i32: Int32Array): void {
  Atomics.store(i32, STOP, 1);
}

/** Main, after a round settled: the chunks (of `among`, or all) whose state is still 0. */
export function unfinishedChunks(i32: Int32Array, plan: ChunkPlan, among: readonly number[] | undefined): number[] {
  const out: number[] = [];
  if (among) {
    for (const k of among) if (Atomics.load(i32, plan.statesAt + k) === 0) out.push(k);
  } else {
    for (let k = 0; k < plan.chunks; k++) if (Atomics.load(i32, plan.statesAt + k) === 0) out.push(k);
  }
  return out;
}
