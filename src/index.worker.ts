/**
 * isolate-workgroup — the public entry as a workgroup's own Node worker threads see it.
 *
 * A work module imports the library (`import { WorkgroupJob } from 'isolate-workgroup'`) in main and in
 * every worker. In main that is the full entry (src/index.ts). The library starts its Node workers with
 * the resolution condition `isolate-workgroup-worker`, and the package's `exports` map that condition to
 * this file: the same names, the same classes (they live in one module shared by every entry, so a job
 * class defined against this file is the job class the worker runs), but without the main-thread code —
 * the scheduler, the workgroup itself — that a worker would otherwise compile for nothing (about 180 KB,
 * measured at ~15 ms of a pool's start-up on 2 cores; see docs/performance.md).
 *
 * What a worker cannot have here: `IsolateWorkgroup`, `CallbackWorkgroup` and `MemberProxy` are stand-ins
 * whose constructors throw a WorkgroupException naming the fix (`import … from 'isolate-workgroup/full'`,
 * the full entry under any condition, for the rare job that starts a workgroup of its own).
 */
import { WorkgroupException } from './api/errors.js';
import { isImportingWorkModules, RECURSIVE_START_MESSAGE } from './shared/worker-flag.js';

export { WorkgroupJob, WorkgroupMember, WorkerCommand } from './api/job.js';
export { CallbackWorkgroupJob } from './api/callback-job.js';
export { WorkgroupKernel } from './shared/kernel.js';
export { WorkgroupHealthConfig } from './api/health-config.js';
export { IsolateErrorType } from './api/error-types.js';
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
export { ArenaDoubleFreeError, ArenaExhaustedError, ArenaInvalidHandleError, ArenaUseAfterReleaseError } from './memory/errors.js';

function mainOnly(name: string): never {
  // A work module that starts a workgroup at top level: the same error as with the full entry.
  if (isImportingWorkModules()) throw new WorkgroupException(RECURSIVE_START_MESSAGE);
  throw new WorkgroupException(
    `${name} is not in the worker build of isolate-workgroup: inside a workgroup's worker, 'isolate-workgroup' ` +
      'resolves to jobs, members and errors only, so that each worker starts without compiling the main-thread code. ' +
      `To use ${name} inside a worker (a job that starts a workgroup of its own), import it from 'isolate-workgroup/full'.`,
  );
}

/** Not available inside a workgroup's worker: its constructor throws a WorkgroupException naming the fix. */
export class IsolateWorkgroup {
  constructor() {
    mainOnly('IsolateWorkgroup');
  }
}

/** Not available inside a workgroup's worker: its constructor throws a WorkgroupException naming the fix. */
export class CallbackWorkgroup {
  constructor() {
    mainOnly('CallbackWorkgroup');
  }
}

/** Not available inside a workgroup's worker: its constructor throws a WorkgroupException naming the fix. */
export class MemberProxy {
  constructor() {
    mainOnly('MemberProxy');
  }
}
