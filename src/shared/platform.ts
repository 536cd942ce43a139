/**
 * The main thread's view of a platform (design-notes R.10). One implementation per platform:
 * `src/workers/node-platform.ts` (worker_threads) and `src/workers/browser-platform.ts` (Web Workers).
 */
import type { ControlToMain, ControlToWorker, WorkerInit } from '../ring/protocol.js';

export interface SpawnOptions {
  readonly init: WorkerInit;
  readonly label: string;
  /** Node only: resourceLimits, execArgv, env, ... (passed to `new Worker`). */
  readonly workerOptions: Readonly<Record<string, unknown>> | undefined;
}

export interface WorkerHandle {
  post(message: ControlToWorker, transfer?: ArrayBuffer[]): void;
  /** Keeps the process alive while this worker holds outstanding work (no-op in browsers). */
  ref(): void;
  unref(): void;
  /** Takes one waiting control message synchronously, bypassing the event loop (Node's
   *  `receiveMessageOnPort`); absent where the platform cannot. */
  pull?(): ControlToMain | undefined;
  /** Stops the thread; resolves once it has exited. */
  terminate(): Promise<void>;
}

export interface WorkerEvents {
  message(message: ControlToMain): void;
  /** The thread died or exited (exit code when known). Called at most once. */
  exit(code: number | undefined, error: unknown): void;
}

export interface Platform {
  readonly name: 'node' | 'browser';
  /** Throws a clear error when the platform cannot run a workgroup (e.g. a page without cross-origin isolation). */
  assertSupported(): void;
  spawn(options: SpawnOptions, events: WorkerEvents): WorkerHandle;
  /** Number of logical cores (for defaults). */
  cores(): number;
  /** True when the main thread can use `Atomics.waitAsync` (else workers ring a message doorbell). */
  readonly hasWaitAsync: boolean;
  /** Marks a timer so that it does not keep the process alive (Node) — no-op in browsers. */
  unrefTimer(timer: unknown): void;
}
