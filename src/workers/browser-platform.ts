/**
 * The browser platform adapter (main-thread side): module Web Workers started from the
 * literal `new Worker(new URL('./workers/entry.browser.js', import.meta.url), { type: 'module' })` in
 * src/start-worker.browser.ts (bundlers find the entry from it), a MessageChannel per worker for control messages, and no blocking on the main thread.
 *
 * A Web Worker has no exit event, and `terminate()` does not stop a worker that is busy in JavaScript:
 * Chromium lets its script run until it returns to its event loop, or ends it by force about 2 s later
 * [measured, Chromium 156]. The workgroup must not reuse the worker's shared slot while it may still
 * write there, so death is detected through the Web Locks API: the worker takes a lock named for it
 * before it touches shared memory and holds it for its whole life; the lock is released only when its
 * thread is gone (terminated, closed itself, crashed). Main queues a request for the same lock: when it is
 * granted, the worker is dead. Before terminating, the adapter also sets the worker's STOP command word,
 * so a worker between jobs returns to its event loop (and dies) at once. Without Web Locks, a worker's
 * 'closed' message and a fixed delay after `terminate()` stand in. A load failure (an `error` event
 * before the worker started) is a death too.
 */
import { ControlBlock } from '../ring/control-block.js';
import { CMD_STOP } from '../ring/layout.js';
import type { ControlToMain } from '../ring/protocol.js';
import type { Platform, SpawnOptions, WorkerEvents, WorkerHandle } from '../shared/platform.js';
import type { BrowserBoot, BrowserErrorEvent, BrowserGlobals, BrowserLifecycle, BrowserWorker } from './browser-globals.js';
import { startBrowserWorker } from '../start-worker.browser.js';

/**
 * Without Web Locks: how long after `terminate()` a worker is taken for dead. Chromium ends a busy
 * worker's script by force 2 s after `terminate()`.
 */
const FORCED_TERMINATION_MS = 2500;

/** The error of `assertSupported()` on a page that is not cross-origin isolated. */
export function notIsolatedMessage(): string {
  return (
    'isolate-workgroup needs a cross-origin-isolated page: `crossOriginIsolated` is not true here, so ' +
    'SharedArrayBuffer is unavailable. Serve the page (and every script and worker it loads) with the headers ' +
    '`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` (or ' +
    '`Cross-Origin-Embedder-Policy: credentialless`), from a secure context (https:// or localhost). ' +
    'docs/browser.md shows the settings for Vite, Express and nginx.'
  );
}

const g = globalThis as unknown as BrowserGlobals;

/**
 * Can a SharedArrayBuffer be shared with another thread here? Tested, not inferred from a browser-only
 * global: posting one through a MessageChannel throws a DataCloneError where sharing is refused (a page
 * that is not cross-origin isolated), and works in an isolated page, in Deno and in Bun (which have no
 * `crossOriginIsolated` at all).
 */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  let channel: ReturnType<typeof makeChannel> | undefined;
  try {
    channel = makeChannel();
    channel.port1.postMessage(new SharedArrayBuffer(8));
    return true;
  } catch {
    return false;
  } finally {
    channel?.port1.close();
    channel?.port2.close();
  }
}

function makeChannel(): InstanceType<BrowserGlobals['MessageChannel']> {
  return new g.MessageChannel();
}

export const browserPlatform: Platform = {
  name: 'browser',
  /** Feature-detected at each use (not sniffed): without it the main thread waits on a message doorbell. */
  get hasWaitAsync(): boolean {
    return typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function';
  },
  assertSupported() {
    // Capability, not a global: SharedArrayBuffer must be shareable (Deno has no `crossOriginIsolated`).
    // Atomics.wait in the workers is checked by each worker before it starts (worker-core.ts).
    if (!canShareMemory()) throw new Error(notIsolatedMessage());
    if (typeof g.Worker !== 'function') {
      throw new Error('isolate-workgroup needs Web Workers (`Worker`), which this context does not have: create the workgroup on a page or in a dedicated worker');
    }
  },
  cores() {
    const n = g.navigator?.hardwareConcurrency;
    return typeof n === 'number' && n > 0 ? n : 4;
  },
  unrefTimer() {
    // Nothing keeps a page alive.
  },
  yieldToEventLoop,
  spawn(options: SpawnOptions, events: WorkerEvents): WorkerHandle {
    return new BrowserWorkerHandle(options, events);
  },
};

/**
 * A macrotask turn through a MessageChannel (setTimeout(0) is clamped to 4 ms once nested). A fresh
 * channel per turn, closed when its message arrives: a port left listening would keep a Deno process
 * alive (it is taken at most once per BUSY_YIELD_MS of draining, so the channel costs nothing measurable).
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    const channel = makeChannel();
    channel.port1.onmessage = () => {
      channel.port1.onmessage = null;
      channel.port1.close();
      channel.port2.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function lockName(): string {
  const id = g.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `isolate-workgroup:worker:${id}`;
}

class BrowserWorkerHandle implements WorkerHandle {
  readonly #worker: BrowserWorker;
  readonly #port;
  readonly #events: WorkerEvents;
  readonly #control: ControlBlock;
  readonly #lock: string | undefined;
  readonly #exited: Promise<void>;
  #markExited!: () => void;
  #started = false;
  #watching = false;
  #terminating = false;
  #closed = false;
  #exitedFlag = false;
  #lastError: unknown;

  constructor(options: SpawnOptions, events: WorkerEvents) {
    this.#events = events;
    this.#control = new ControlBlock(options.init.pool, options.init.slot);
    this.#lock = g.navigator?.locks ? lockName() : undefined;
    this.#exited = new Promise<void>((resolve) => {
      this.#markExited = resolve;
    });
    const channel = new g.MessageChannel();
    this.#port = channel.port1;
    this.#port.onmessage = (e) => {
      if (!this.#exitedFlag) events.message(e.data as ControlToMain);
    };
    this.#worker = startBrowserWorker();
    this.#worker.addEventListener('message', (e) => this.#onLifecycle(e.data as BrowserLifecycle));
    this.#worker.addEventListener('error', (e) => this.#onError(e));
    const boot: BrowserBoot = { init: options.init, port: channel.port2, lock: this.#lock };
    this.#worker.postMessage(boot, [channel.port2]);
  }

  post(message: Parameters<WorkerHandle['post']>[0], transfer?: ArrayBuffer[]): void {
    if (!this.#exitedFlag) this.#port.postMessage(message, transfer ?? []);
  }

  ref(): void {
    // Nothing keeps a page alive: no-op.
  }

  unref(): void {
    // No-op.
  }

  async terminate(): Promise<void> {
    if (this.#exitedFlag) return;
    if (!this.#terminating) {
      this.#terminating = true;
      // A worker between jobs sees STOP at once and returns to its event loop, where terminate() ends it.
      this.#control.request(CMD_STOP);
      this.#control.ring(true);
      this.#worker.terminate();
      this.#watchForDeath();
    }
    await this.#exited;
  }

  #onLifecycle(m: BrowserLifecycle): void {
    if (m.lifecycle === 'started') {
      this.#started = true;
      this.#watchForDeath();
    } else if (m.lifecycle === 'closed') {
      this.#closed = true;
      // Without Web Locks the message is the only sign: the loop has ended, nothing touches shared memory.
      if (!this.#lock) this.#exit();
    }
  }

  #onError(e: BrowserErrorEvent): void {
    e.preventDefault();
    const error =
      e.error ??
      new Error(
        `the worker ${e.message ? `failed: ${e.message}` : 'script could not be loaded or threw while loading'} ` +
          '(check that the library files are served with a JavaScript MIME type and the same COOP/COEP headers as the page)',
      );
    this.#lastError = error;
    if (!this.#started && !this.#terminating) {
      // It failed before it started: it never ran the workgroup loop. Make sure it is gone.
      this.#terminating = true;
      this.#worker.terminate();
      this.#watchForDeath();
    }
    // After the start, the entry reports uncaught errors itself; an event here changes nothing.
  }

  /** Queues the request for the worker's life lock: granted once its thread is gone (or never started). */
  #watchForDeath(): void {
    if (this.#watching) return;
    const locks = g.navigator?.locks;
    if (this.#lock && locks) {
      this.#watching = true;
      void locks.request(this.#lock, () => {
        this.#exit();
        // Granted before the worker took it (it never started): keep it until a terminated worker is surely
        // gone, so that it can never start late.
        return this.#started ? undefined : new Promise((resolve) => setTimeout(resolve, 2 * FORCED_TERMINATION_MS));
      });
    } else if (this.#terminating) {
      this.#watching = true;
      setTimeout(() => this.#exit(), this.#started ? FORCED_TERMINATION_MS : 0);
    }
  }

  #exit(): void {
    if (this.#exitedFlag) return;
    this.#exitedFlag = true;
    // The thread is gone: take back the STOP bit set by terminate(), so that it cannot stop the next
    // worker in this slot.
    if (this.#terminating) this.#control.withdraw(CMD_STOP);
    this.#port.onmessage = null;
    this.#port.close();
    const code = this.#terminating ? 1 : this.#closed ? 0 : undefined;
    this.#events.exit(code, this.#lastError);
    this.#markExited();
  }
}
