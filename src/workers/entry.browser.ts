/**
 * Worker entry for browsers (a module Web Worker). Spawned by the browser adapter with
 * `new Worker(new URL('./entry.browser.js', import.meta.url), { type: 'module' })`.
 *
 * The first message on the worker's own channel carries the init (the shared regions), the control port
 * and the name of the worker's life lock. The worker takes that lock (Web Locks) before it touches
 * shared memory and holds it until its thread is gone: main learns of the death when its own request for
 * the lock is granted (see browser-platform.ts). Control messages arrive on the port through the event
 * loop only — there is no synchronous pull in browsers — so the loop returns to its event loop when main
 * flags a control message, and parks in short blocking slices with an event-loop turn between them.
 */
import type { ControlToMain, ControlToWorker, WorkerInit } from '../ring/protocol.js';
import type { BrowserBoot, BrowserLifecycle, BrowserWorkerScope } from './browser-globals.js';
import type { WorkerHost } from './host.js';
import { WorkerCore } from './worker-core.js';

const scope = globalThis as unknown as BrowserWorkerScope;

/** A macrotask turn through a private MessageChannel (setTimeout(0) is clamped to 4 ms once nested). */
const turns = new scope.MessageChannel();
const waiting: Array<() => void> = [];
turns.port1.onmessage = () => {
  const ready = waiting.splice(0, waiting.length);
  for (const resolve of ready) resolve();
};

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (waiting.push(resolve) === 1) turns.port2.postMessage(null);
  });
}

function lifecycle(message: BrowserLifecycle): void {
  scope.postMessage(message);
}

const boot = await new Promise<BrowserBoot>((resolve) => {
  scope.addEventListener('message', (e) => resolve(e.data as BrowserBoot), { once: true });
});
const init = boot.init as WorkerInit;
const port = boot.port;

if (boot.lock !== undefined && scope.navigator?.locks) {
  const name = boot.lock;
  // Held until the thread is gone: the callback's promise never settles.
  await new Promise<void>((acquired) => {
    void scope.navigator!.locks!.request(name, () => {
      acquired();
      return new Promise<never>(() => {});
    });
  });
}

const host: WorkerHost = {
  platform: 'browser',
  syncControl: false,
  post(message: ControlToMain, transfer?: ArrayBuffer[]) {
    port.postMessage(message, transfer ?? []);
  },
  onControl(handler) {
    port.onmessage = (e) => handler(e.data as ControlToWorker);
  },
  pullControl() {
    return undefined; // browsers have no synchronous receive: messages arrive through the event loop
  },
  yieldToEventLoop,
  hasForeignWork() {
    // User timers and I/O are invisible here: the loop parks in short blocking slices and turns the event
    // loop between them (worker-core.ts, PARK_SLICE_MS) instead.
    return false;
  },
  onUncaught(handler) {
    scope.addEventListener('error', (e) => {
      e.preventDefault(); // handled: the worker keeps serving, and the page sees no error event
      handler(e.error ?? new Error(e.message ?? 'uncaught error in the worker'));
    });
    scope.addEventListener('unhandledrejection', (e) => {
      e.preventDefault();
      handler(e.reason);
    });
  },
  close() {
    port.onmessage = null;
    lifecycle({ lifecycle: 'closed' });
    port.close();
    scope.close();
  },
  abort() {
    // Closing the scope releases the life lock: main sees the worker die and recovers.
    port.onmessage = null;
    scope.close();
  },
};

const core = new WorkerCore(host, init);
lifecycle({ lifecycle: 'started' });
await core.start();
