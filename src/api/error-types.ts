/** `IsolateErrorType.job` etc.: the error categories of `setErrorHandler` (a value and a type of the same name). */
import type { IsolateErrorType as ErrorTypeName } from '../scheduler/error-router.js';

export const IsolateErrorType = Object.freeze({
  /** The fallback: receives an error only when no handler is set for the error's own type. */
  all: 'all',
  /** A worker failed to start: importing the work modules or their `setup()` (also replacements). */
  initialization: 'initialization',
  /** A dispatched job threw (the promise rejects too). */
  job: 'job',
  /** A member's `setup()`, `handle()` or `dispose()` threw (the promise rejects too). */
  instance: 'instance',
  /** A worker died or sent something unreadable. */
  communication: 'communication',
  /** An error nobody awaited inside a worker (a throwing timer); the worker keeps serving. */
  unknown: 'unknown',
} as const satisfies Record<ErrorTypeName, ErrorTypeName>);

export type IsolateErrorType = ErrorTypeName;
