/**
 * Starts one module Web Worker on the library's browser worker entry.
 *
 * This file sits at the root of src/ on purpose: the URL below is relative to it, and the same relative
 * path then holds both in the one-to-one build (dist/start-worker.browser.js) and in the bundled entry
 * (dist/index.browser.js, where this code lands). The expression stays the literal
 * `new Worker(new URL('./workers/entry.browser.js', import.meta.url), { type: 'module' })`, the pattern
 * bundlers (Vite, webpack 5) recognise to emit the worker entry as a worker chunk.
 */
import type { BrowserWorker } from './workers/browser-globals.js';

/** The Worker constructor of the page (declared here: the project compiles without the DOM lib). */
declare const Worker: new (url: URL, options: { type: 'module' }) => BrowserWorker;

export function startBrowserWorker(): BrowserWorker {
  return new Worker(new URL('./workers/entry.browser.js', import.meta.url), { type: 'module' });
}
