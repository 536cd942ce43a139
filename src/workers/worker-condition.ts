/**
 * The resolution condition a workgroup's Node workers run with: the package's `exports` map it to the
 * worker build of the public entry (dist/index.worker.js), so a work module's `import 'isolate-workgroup'`
 * in a worker does not compile the main-thread code. Without it everything still works, only slower to start.
 */
export const WORKER_CONDITION = 'isolate-workgroup-worker';

/** The `execArgv` element that sets it. */
export const WORKER_CONDITION_ARG = `--conditions=${WORKER_CONDITION}`;
