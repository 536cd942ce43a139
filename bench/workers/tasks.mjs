// The work every library runs in the benchmarks: the same plain functions, wrapped by each library's
// worker file (workgroup.mjs, piscina.mjs, ...) in that library's own form. Each result is checkable
// by the main thread, so a benchmark never times a wrong answer.
import { threadId } from 'node:worker_threads';

/** Tiny job: x -> x + 1. */
export function inc(x) {
  return x + 1;
}

/** Busy-waits `us` microseconds of wall time (a CPU-bound job of known size), returns `id`. */
export function spin(us, id) {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
  return id;
}

/**
 * Start-up check: each of `parties` jobs bumps a shared counter and waits until all have arrived, so
 * the pool proves it has `parties` workers up and running at once. Returns the thread id.
 */
export function barrier(sab, parties) {
  const i32 = new Int32Array(sab);
  Atomics.add(i32, 0, 1);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const seen = Atomics.load(i32, 0);
    if (seen >= parties) break;
    if (Date.now() > deadline) throw new Error(`barrier: only ${seen} of ${parties} workers arrived within 10 s`);
    Atomics.wait(i32, 0, seen, 5);
  }
  return threadId;
}

/**
 * Stateful "member" work for pools without members: a counter kept in the worker's module state.
 * Returns `threadId * 2^21 + count`, so the caller can check each thread's counter goes up by one.
 */
let counter = 0;
export function increment() {
  counter += 1;
  return threadId * 2 ** 21 + counter;
}
