/**
 * Starts one Node worker thread on the library's worker entry.
 *
 * This file sits at the root of src/ on purpose: the URL below is relative to it, and the same relative
 * path then holds both in the one-to-one build (dist/start-worker.node.js) and in the bundled entry
 * (dist/index.js, where this code lands). The expression stays the literal
 * `new Worker(new URL('./workers/entry.node.js', import.meta.url), …)` so that bundlers that know the
 * pattern (webpack 5, Vite) find the worker entry and emit it.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startNodeWorker(options: WorkerOptions): Worker {
  return new Worker(new URL('./workers/entry.node.js', import.meta.url), options);
}
