/**
 * Starts one Node worker thread on the library's worker entry.
 *
 * This file sits at the root of src/ on purpose: the URL below is relative to it, and the same relative
 * path then holds both in the one-to-one build (dist/start-worker.node.js) and in the bundled entry
 * (dist/index.js, where this code lands). The expression stays the literal
 * `new Worker(new URL('./workers/entry.node.js', import.meta.url), …)` so that bundlers that know the
 * pattern (webpack 5, Vite) find the worker entry and emit it.
 *
 * `Worker` is imported from 'worker_threads', not 'node:worker_threads': webpack 5 recognises
 * `new Worker(…)` of Node as "Worker from worker_threads", with that exact specifier. Imported from
 * 'node:worker_threads', webpack 5.112 takes the imported `Worker` for the global one and rewrites the
 * constructor twice over (a Node build then calls an undefined `….Worker__webpack_require__.wc`).
 */
import { Worker, type WorkerOptions } from 'worker_threads';

export function startNodeWorker(options: WorkerOptions): Worker {
  return new Worker(new URL('./workers/entry.node.js', import.meta.url), options);
}
