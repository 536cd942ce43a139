/**
 * What the platform gives the worker-side loop: a small adapter per platform (entry.node.ts,
 * entry.browser.ts); the loop itself (worker-core.ts) is platform-free.
 */
import type { ControlToMain, ControlToWorker } from '../ring/protocol.js';

export interface WorkerHost {
  readonly platform: 'node' | 'browser';
  /** Posts a control message to the main thread. */
  post(message: ControlToMain, transfer?: ArrayBuffer[]): void;
  /** Registers the handler of control messages delivered by the event loop. */
  onControl(handler: (message: ControlToWorker) => void): void;
  /** Takes one waiting control message synchronously (Node's `receiveMessageOnPort`); undefined when none or unsupported. */
  pullControl(): ControlToWorker | undefined;
  /**
   * True when `pullControl()` can take control messages synchronously (Node). False in browsers: the loop
   * must return to its event loop to receive them, so it yields whenever main flags a waiting control
   * message, and it parks in short blocking slices with an event-loop turn between them.
   */
  readonly syncControl: boolean;
  /** Lets timers, I/O and microtasks run, then resumes (a macrotask turn). */
  yieldToEventLoop(): Promise<void>;
  /**
   * True when something besides the workgroup's own port may need this thread's event loop (a timer or
   * I/O started by user code): the worker then parks with `Atomics.waitAsync` instead of blocking.
   */
  hasForeignWork(): boolean;
  /** Installs handlers for uncaught exceptions and unhandled rejections (the worker keeps serving). */
  onUncaught(handler: (error: unknown) => void): void;
  /** Ends the thread once the loop has stopped. */
  close(): void;
  /**
   * Ends the thread now, whatever else it runs (timers, I/O): the loop broke outside user code, and main's
   * crash recovery must take over (deliver what was published, reject what it held, respawn).
   */
  abort(): void;
}
