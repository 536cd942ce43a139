/**
 * `WorkgroupKernel`, the base class of data-parallel kernels (`wg.parallelFor`, `wg.parallelReduce`).
 *
 * A kernel is like a job: its own enumerable fields are what travels (typed arrays on shared memory pass
 * by reference, parameters are copied), and its class must be exported from a work module. Unlike a job
 * it is sent once to each taking-part worker, which then calls `run(start, end)` for every index range
 * (chunk) it claims from a shared counter — no message, promise or codec per chunk.
 *
 * Reserved names (do not use them as fields): `run`, `combine`, `identity`, `isolateIndex`, `stopRequested`.
 */

/** What a running kernel can see: set by the participant that runs it, under a symbol key (never sent). */
export interface KernelContext {
  /** The worker running the kernel, or -1 on the main thread. */
  readonly isolateIndex: number;
  /** True once the call was cancelled, timed out or failed elsewhere (read from shared memory). */
  stopRequested(): boolean;
}

const CONTEXT = Symbol.for('isolate-workgroup.kernel-context');
type WithContext = { [CONTEXT]?: KernelContext | undefined };

/** Internal: the participant binds its context to the kernel before its first chunk. */
export function bindKernelContext(kernel: object, context: KernelContext | undefined): void {
  (kernel as WithContext)[CONTEXT] = context;
}

/**
 * A data-parallel kernel over the index range `0 .. length - 1`. Subclass it, give it data fields (typed
 * arrays from `wg.allocate()` or on a `SharedArrayBuffer`, and plain parameters), implement
 * `run(start, end)`, and export the class from a work module. `P` is the partial result one chunk returns
 * (`void` for `parallelFor`); `parallelReduce` also needs `combine(a, b)` (and `identity()` for length 0).
 *
 * ```ts
 * export class Sum extends WorkgroupKernel<number> {
 *   data: Float64Array;
 *   constructor(data: Float64Array) { super(); this.data = data; }
 *   run(start: number, end: number): number { let s = 0; for (let i = start; i < end; i++) s += this.data[i]!; return s; }
 *   combine(a: number, b: number): number { return a + b; }
 *   identity(): number { return 0; }
 * }
 * ```
 */
export abstract class WorkgroupKernel<P = void> {
  /**
   * Processes the indices `start` (inclusive) to `end` (exclusive), synchronously. Its return value is
   * the chunk's partial result, kept for `combine` by `parallelReduce` (ignored by `parallelFor`).
   * It may be called more than once for the same range after a worker crashed (see README, Kernels).
   */
  abstract run(start: number, end: number): P;

  /** The worker running this kernel (−1 on the main thread or outside a call). */
  get isolateIndex(): number {
    return (this as WithContext)[CONTEXT]?.isolateIndex ?? -1;
  }

  /**
   * True once the call was cancelled, timed out or failed in another chunk. Workers stop claiming chunks
   * by themselves; a long `run()` may read this to stop early (what it returned is then ignored).
   */
  get stopRequested(): boolean {
    return (this as WithContext)[CONTEXT]?.stopRequested() ?? false;
  }
}

/** The partial result type of a kernel: what its `run()` returns. */
export type KernelPartial<K> = K extends { run(start: number, end: number): infer P } ? P : never;

/** A kernel `parallelReduce` accepts: its `combine` takes and returns its partial type. */
export type ReducibleKernel<P = any> = WorkgroupKernel<P> & { combine(a: P, b: P): P; identity?(): P };
