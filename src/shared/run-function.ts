/**
 * `wg.run(fn, ...args)`: an exported function of a work module run as a job. It travels as a built-in
 * job (`RunFunction`, known to both sides like the library's error classes) holding the function's id
 * (`<module url>#<export name>`, the same identity as a class) and its arguments; the worker finds the
 * function among the exports of that module and calls it with `this` bound to the running job, so the
 * function has everything a job has: `this.report(v)`, `this.signal`, `this.isolateIndex`,
 * `this.allocate(...)`. Errors, progress, cancellation, timeouts and zero copy follow the rules of jobs
 * because it is one.
 */
import { ClassRegistry, splitClassId, type ModuleNamespace } from './class-registry.js';
import { BatchChunk } from './batch-chunk.js';
import { WorkgroupJob } from './job.js';
import { KernelParticipant } from './kernel-participant.js';

/** What `this` is inside a function run with `wg.run()`: the running job's helpers. */
export type RunContext = Pick<WorkgroupJob, 'report' | 'signal' | 'isolateIndex' | 'allocate' | 'release' | 'transfer'>;

/** A function `wg.run()` accepts (its `this`, when declared, is a RunContext). */
export type RunnableFunction = (this: RunContext, ...args: any[]) => unknown;

/** Functions found so far in this worker, by id (an import per id, then a map lookup). */
const found = new Map<string, Function>();
const lookup = new ClassRegistry();

function resolveNow(id: string): Function | undefined {
  return found.get(id);
}

async function resolveLater(id: string): Promise<Function> {
  const { url, name } = splitClassId(id);
  const ns: ModuleNamespace = await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
  lookup.registerModule(url, ns);
  const fn = lookup.findByName(url, name);
  if (typeof fn !== 'function') throw new TypeError(`run(): module ${url} exports no function named ${name}`);
  found.set(id, fn);
  return fn;
}

/** The built-in job behind `wg.run(fn, ...args)`. Its fields are what travels: the function id and the arguments. */
export class RunFunction extends WorkgroupJob {
  fn: string;
  args: unknown[];

  constructor(fn: string, args: unknown[]) {
    super();
    this.fn = fn;
    this.args = args;
  }

  execute(): unknown {
    const fn = resolveNow(this.fn);
    if (fn) return fn.apply(this, this.args);
    return resolveLater(this.fn).then((f) => f.apply(this, this.args));
  }
}

/** The library's own job classes, registered under one id on both sides (like its error classes). */
export const LIBRARY_JOBS_ID = 'isolate-workgroup:jobs';
export const LIBRARY_JOB_CLASSES: Readonly<Record<string, Function>> = { RunFunction, BatchChunk, KernelParticipant };
