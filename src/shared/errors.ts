/**
 * Every error the workgroup raises comes from this file. Each class has a stable `name` and `code`.
 * Errors thrown by user code are not wrapped: they reject with their original class (see README).
 * The one exception is shared memory: its errors live with the arena (src/memory/errors.ts, exported
 * from the package by name), because `ArenaExhaustedError` must stay a `RangeError`.
 */

import { ArenaDoubleFreeError, ArenaExhaustedError, ArenaInvalidHandleError, ArenaUseAfterReleaseError } from '../memory/errors.js';
import { LIBRARY_CLASS, LIBRARY_CLASSES_ID } from './class-registry.js';

export type WorkgroupErrorCode =
  | 'ERR_WORKGROUP'
  | 'ERR_WORKGROUP_INACTIVE'
  | 'ERR_WORKGROUP_NOT_READY'
  | 'ERR_WORKGROUP_JOB_ABORTED'
  | 'ERR_WORKGROUP_MEMBER_NOT_FOUND'
  | 'ERR_WORKGROUP_MEMBER_DEAD'
  | 'ERR_WORKGROUP_SETUP'
  | 'ERR_WORKGROUP_TIMEOUT'
  | 'ERR_WORKGROUP_ISOLATE_ERROR'
  | 'ERR_WORKGROUP_QUEUE_FULL'
  | 'ERR_WORKGROUP_INVALID_RESPONSE'
  /** isolate-workgroup/bullmq: Redis could not be reached. */
  | 'ERR_WORKGROUP_REMOTE_UNREACHABLE';

export interface WorkgroupErrorOptions {
  cause?: unknown;
}

export class WorkgroupException extends Error {
  override name = 'WorkgroupException';
  readonly code: WorkgroupErrorCode = 'ERR_WORKGROUP';

  constructor(message: string, options?: WorkgroupErrorOptions) {
    super(message, options);
  }
}

/** The workgroup was shut down: no new work is accepted. */
export class WorkgroupInactiveException extends WorkgroupException {
  override name = 'WorkgroupInactiveException';
  override readonly code = 'ERR_WORKGROUP_INACTIVE';
}

/** `launch()` was not called yet. */
export class WorkgroupNotReadyException extends WorkgroupException {
  override name = 'WorkgroupNotReadyException';
  override readonly code = 'ERR_WORKGROUP_NOT_READY';
}

/** The job or call was cancelled: aborted by its signal, by `shutdown()` or by `kill()`. */
export class WorkgroupJobAbortedException extends WorkgroupException {
  override name = 'WorkgroupJobAbortedException';
  override readonly code = 'ERR_WORKGROUP_JOB_ABORTED';
}

/** The member is not (or no longer) registered. */
export class WorkgroupMemberNotFoundException extends WorkgroupException {
  override name = 'WorkgroupMemberNotFoundException';
  override readonly code = 'ERR_WORKGROUP_MEMBER_NOT_FOUND';
}

/** The worker died (crashed, exited, ran out of memory) while it held this work. */
export class WorkgroupMemberDeadException extends WorkgroupException {
  override name = 'WorkgroupMemberDeadException';
  override readonly code = 'ERR_WORKGROUP_MEMBER_DEAD';
  readonly isolateIndex: number;

  constructor(isolateIndex: number, message: string, options?: WorkgroupErrorOptions) {
    super(`Isolate #${isolateIndex} is dead or unresponsive: ${message}`, options);
    this.isolateIndex = isolateIndex;
  }
}

/** A worker failed to start: importing a work module or its `setup()` threw. */
export class WorkgroupSetupException extends WorkgroupException {
  override name = 'WorkgroupSetupException';
  override readonly code = 'ERR_WORKGROUP_SETUP';
  readonly isolateIndex: number;

  constructor(isolateIndex: number, message: string, options?: WorkgroupErrorOptions) {
    super(isolateIndex < 0 ? `Failed to initialize the workgroup: ${message}` : `Failed to initialize isolate #${isolateIndex}: ${message}`, options);
    this.isolateIndex = isolateIndex;
  }
}

/** An operation did not finish within its timeout. */
export class WorkgroupTimeoutException extends WorkgroupException {
  override name = 'WorkgroupTimeoutException';
  override readonly code = 'ERR_WORKGROUP_TIMEOUT';
  readonly operation: string;
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number, message: string, options?: WorkgroupErrorOptions) {
    super(`${operation} timed out after ${timeoutMs} ms: ${message}`, options);
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/** A worker reported a value thrown by user code that is not an Error (e.g. `throw 42`). */
export class WorkgroupIsolateError extends WorkgroupException {
  override name = 'WorkgroupIsolateError';
  override readonly code = 'ERR_WORKGROUP_ISOLATE_ERROR';
  readonly originalError: unknown;
  readonly isolateIndex: number;

  constructor(originalError: unknown, isolateIndex: number, message: string, options?: WorkgroupErrorOptions) {
    super(`Error in isolate #${isolateIndex}: ${message}`, options);
    this.originalError = originalError;
    this.isolateIndex = isolateIndex;
  }
}

/** `dispatch` found the queue at its `maxQueue` bound. */
export class WorkgroupQueueFullException extends WorkgroupException {
  override name = 'WorkgroupQueueFullException';
  override readonly code = 'ERR_WORKGROUP_QUEUE_FULL';
}

/** A worker sent something the main thread could not decode or did not expect. */
export class InvalidWorkgroupResponseException extends WorkgroupException {
  override name = 'InvalidWorkgroupResponseException';
  override readonly code = 'ERR_WORKGROUP_INVALID_RESPONSE';
}

/**
 * The library's own error classes by export name: the classes above and the shared-memory errors users can
 * meet (`wg.allocate`/`release`, `this.allocate`/`release`). Both threads register them in their class
 * registries under one id (`LIBRARY_CLASSES_ID`), so such an error crossing threads arrives as itself:
 * `notifyHost()` without `onNotify` rejects in the worker with a real `WorkgroupException`, and an
 * `ArenaExhaustedError` escaping a job rejects in main as an `ArenaExhaustedError` (still a RangeError).
 */
export { LIBRARY_CLASSES_ID };

export const LIBRARY_ERROR_CLASSES: Readonly<Record<string, Function>> = {
  WorkgroupException,
  WorkgroupInactiveException,
  WorkgroupNotReadyException,
  WorkgroupJobAbortedException,
  WorkgroupMemberNotFoundException,
  WorkgroupMemberDeadException,
  WorkgroupSetupException,
  WorkgroupTimeoutException,
  WorkgroupIsolateError,
  WorkgroupQueueFullException,
  InvalidWorkgroupResponseException,
  ArenaExhaustedError,
  ArenaUseAfterReleaseError,
  ArenaDoubleFreeError,
  ArenaInvalidHandleError,
};

// Each class also carries its export name under a registry-wide symbol: a bundled app can hold two copies
// of the library in one thread (a bundler that builds the worker entry apart from the work modules), and
// the copy the worker's codec does not know still crosses as the library class it is (see class-registry.ts).
for (const [name, ctor] of Object.entries(LIBRARY_ERROR_CLASSES)) Object.defineProperty(ctor, LIBRARY_CLASS, { value: name });

/** Errors from workers still waiting for their main-side section (see `withCallerStack`). */
const awaitingMainStack = new WeakSet<object>();

/** Marks an error from a worker: `withCallerStack` adds the main-side section when it reaches the caller. */
export function markAwaitingMainStack(error: unknown): void {
  if (error !== null && typeof error === 'object') awaitingMainStack.add(error);
}

function addCallerStack(error: unknown): never {
  if (error !== null && typeof error === 'object' && awaitingMainStack.delete(error)) {
    combineStacks(error, callerStack(addCallerStack));
  }
  throw error;
}

/**
 * The caller's side of the stack, taken inside a promise reaction (`reaction`, omitted with the frames
 * above it): V8's async stack traces then list the functions awaiting the call (`at async main
 * (file:///app/main.js:8:20)`) — the caller's side, at no cost per call.
 */
function callerStack(reaction: Function): string | undefined {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, reaction);
  if (!site.stack) {
    // SpiderMonkey (Firefox) returns nothing when the omitted function is the top frame of a promise
    // reaction; without it, its stack lists the awaiting callers (`promise callback*main@…`).
    Error.captureStackTrace(site);
    const own = [`${reaction.name}@`, `${callerStack.name}@`];
    site.stack = (site.stack ?? '').split('\n').filter((l) => !own.some((p) => l.startsWith(p))).join('\n');
  }
  return site.stack;
}

/**
 * The default way (`captureMainStack: true`) to give a worker's error the main-thread side of its stack:
 * nothing is captured per call; when a call fails, the stack is taken in the rejection handler, where
 * V8's zero-cost async stack traces hold the chain of `await`s leading to the call. (Capturing a stack at
 * every dispatch cost 2–4 µs per job, measured: a 4× lower tiny-job throughput.)
 */
export function withCallerStack<T>(promise: Promise<T>): Promise<T> {
  return promise.then(undefined, addCallerStack);
}

/**
 * `withCallerStack` for `Promise.allSettled`-shaped results (`dispatchAllSettled`): the rejected outcomes'
 * errors get the caller's side too, taken once in the fulfilment reaction.
 */
export function withCallerStackSettled<T extends readonly unknown[]>(promise: Promise<T>): Promise<T> {
  return promise.then(addCallerStackToOutcomes, addCallerStack);
}

function addCallerStackToOutcomes<T extends readonly unknown[]>(outcomes: T): T {
  let site: string | undefined;
  let taken = false;
  for (const o of outcomes) {
    const reason = (o as { status?: string; reason?: unknown }).status === 'rejected' ? (o as { reason: unknown }).reason : undefined;
    if (reason === null || typeof reason !== 'object' || !awaitingMainStack.delete(reason)) continue;
    if (!taken) {
      site = callerStack(addCallerStackToOutcomes); // once for the whole batch
      taken = true;
    }
    combineStacks(reason, site);
  }
  return outcomes;
}

/**
 * Rewrites the stack of an error that came from a worker so it holds both sides:
 *
 *     TypeError: bad input
 *     === Stack trace in worker (where the error was thrown) ===
 *         at Parse.execute (file:///app/work.js:12:11)
 *     === Stack trace in main (where the call was made) ===
 *         at main (file:///app/main.js:8:20)
 */
/**
 * One frame of a stack trace: V8 and Bun (`    at …`), SpiderMonkey and Safari (`fn@url:line:col`, async
 * callers as `async*fn@…` or `promise callback*fn@…`).
 */
const STACK_FRAME = /^\s+at |^(?!\s)[^@]*@\S+:\d+:\d+$/;

export function combineStacks(error: unknown, mainStack: string | undefined): void {
  if (!(error instanceof Error)) return;
  const own = typeof error.stack === 'string' ? error.stack : `${error.name}: ${error.message}`;
  if (own.includes('=== Stack trace in worker')) return;
  const lines = own.split('\n');
  // SpiderMonkey (Firefox) and Safari's JavaScriptCore list frames as `fn@url:line:col`, V8 and Bun as
  // `    at fn (url:line:col)`. Firefox's `stack` has no message line: every line is a frame.
  let firstFrame = lines.findIndex((l) => STACK_FRAME.test(l));
  if (firstFrame < 0) firstFrame = lines.length;
  const head = firstFrame === 0 ? `${error.name}: ${error.message}` : lines.slice(0, firstFrame).join('\n');
  const workerFrames = lines.slice(firstFrame).filter((l) => l.trim() !== '').join('\n');
  const mainFrames = (mainStack ?? '').split('\n').filter((l) => STACK_FRAME.test(l)).join('\n');
  try {
    Object.defineProperty(error, 'stack', {
      value:
        `${head}\n=== Stack trace in worker (where the error was thrown) ===\n${workerFrames}` +
        `\n=== Stack trace in main (where the call was made) ===\n${mainFrames}`,
      configurable: true,
      writable: true,
    });
  } catch {
    // a frozen error keeps its own stack
  }
}
