/**
 * isolate-workgroup — browser entry (package.json `exports` condition `browser`): the same exports as
 * src/index.ts, bound to module Web Workers. Imports nothing from `node:*`.
 */
export { IsolateWorkgroup } from './api/browser-workgroup.js';
export { MemberProxy } from './api/workgroup.js';
export type { AddInstanceOptions, BatchResults, BatchSettledResults, InvokeOptions, ShutdownOptions, WorkgroupBatchOptions, WorkgroupDispatchOptions, WorkgroupState } from './api/workgroup.js';
export { WorkgroupJob, WorkgroupMember, WorkerCommand } from './api/job.js';
export { CallbackWorkgroup } from './api/browser-callback.js';
export { CallbackWorkgroupJob } from './api/callback.js';
export { WorkgroupKernel } from './shared/kernel.js';
export type { KernelPartial, ReducibleKernel } from './shared/kernel.js';
export type { WorkgroupParallelOptions } from './api/parallel.js';
export type { CallbackRunOptions } from './api/callback.js';
export type { CommandResult, InvokeResult, JobResult, MemberCommand, SharedTypedArray, TypedArrayConstructor } from './api/job.js';
export { WorkgroupHealthConfig } from './api/config.js';
export type { StartupPolicy, WorkgroupConfig, WorkgroupHealthConfigInit, WorkgroupLogger } from './api/config.js';
export type { WorkgroupAutoscaleConfig } from './api/autoscale.js';
export type { RunContext, RunnableFunction } from './shared/run-function.js';
export type { WorkgroupHealthInfo } from './api/health.js';
export type { LatencySummary, SharedMemoryStats, WorkerStats, WorkgroupStats } from './api/stats.js';
export { IsolateErrorType } from './api/error-types.js';
export type { IsolateErrorHandler, IsolateErrorInfo } from './scheduler/error-router.js';
export {
  InvalidWorkgroupResponseException,
  WorkgroupException,
  WorkgroupInactiveException,
  WorkgroupIsolateError,
  WorkgroupJobAbortedException,
  WorkgroupMemberDeadException,
  WorkgroupMemberNotFoundException,
  WorkgroupNotReadyException,
  WorkgroupQueueFullException,
  WorkgroupSetupException,
  WorkgroupTimeoutException,
} from './api/errors.js';
export type { WorkgroupErrorCode } from './api/errors.js';
export { ArenaDoubleFreeError, ArenaExhaustedError, ArenaInvalidHandleError, ArenaUseAfterReleaseError } from './memory/errors.js';
export type { ArenaErrorCode } from './memory/errors.js';
