/** The base classes users extend (defined in src/shared/job.ts: the worker side binds their runtime). */
export {
  WorkerBound,
  WorkerCommand,
  WorkgroupJob,
  WorkgroupMember,
  bindRuntime,
  unbindRuntime,
  type CommandResult,
  type JobResult,
  type SharedTypedArray,
  type TypedArrayConstructor,
  type WorkerRuntime,
} from '../shared/job.js';
