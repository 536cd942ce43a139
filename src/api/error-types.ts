/** `IsolateErrorType.job` etc.: the error categories of `setErrorHandler` (a value and a type of the same name). */
import type { IsolateErrorType as ErrorTypeName } from '../scheduler/error-router.js';

export const IsolateErrorType = Object.freeze({
  all: 'all',
  initialization: 'initialization',
  job: 'job',
  instance: 'instance',
  communication: 'communication',
  unknown: 'unknown',
} as const satisfies Record<ErrorTypeName, ErrorTypeName>);

export type IsolateErrorType = ErrorTypeName;
