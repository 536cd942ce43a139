/**
 * The public side of `parallelFor` / `parallelReduce`: their options, typing and validation. The call
 * itself runs in src/scheduler/kernels.ts.
 */
import { describeValue } from '../scheduler/core.js';
import { runKernel, type KernelHost } from '../scheduler/kernels.js';
import type { WorkgroupKernel } from '../shared/kernel.js';
import { checkBoolean, checkFunction, checkOptionsObject, checkSignal, checkTimeout, describeGiven } from './validate.js';

/** Options of `parallelFor` and `parallelReduce`. */
export interface WorkgroupParallelOptions {
  /**
   * A fixed chunk size (indices per `run()` call). Default: guided — each chunk is the remaining count over
   * twice the workers, large first, smaller near the end, never below `minChunk` nor above length / (16 ·
   * workers).
   */
  readonly chunk?: number;
  /** The smallest guided chunk. Default: length / (256 · workers), at least 1. Not with `chunk`. */
  readonly minChunk?: number;
  /** Stops the call: workers claim no further chunk, and the call rejects with WorkgroupJobAbortedException. */
  readonly signal?: AbortSignal;
  /** Milliseconds before the call rejects with WorkgroupTimeoutException (workers stop claiming). */
  readonly timeout?: number;
  /**
   * Receives the fraction of indices done (0 < f <= 1), increasing, read from shared memory about every
   * 16 ms (no message per chunk); the last call is 1, before the call resolves.
   */
  readonly onProgress?: (fraction: number) => void;
  /**
   * The main thread takes part too, running chunks synchronously (its event loop is blocked meanwhile).
   * Default false: on 2 cores with 2 workers it made calls under ~1 ms faster and long ones a few per cent
   * slower (README, Performance).
   */
  readonly mainThread?: boolean;
}

const PARALLEL_OPTIONS = ['chunk', 'minChunk', 'signal', 'timeout', 'onProgress', 'mainThread'] as const;

/** The largest length: chunk bounds and counters are 32-bit words. */
const MAX_LENGTH = 2 ** 31 - 1;

function checkCount(where: string, name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_LENGTH) {
    throw new RangeError(`expected \`${name}\` of ${where} to be an integer in 1..${MAX_LENGTH}, got ${describeGiven(v)}`);
  }
}

/** Validates a call (throws TypeError/RangeError) and runs it. */
export function parallel(host: KernelHost, mode: 'for' | 'reduce', length: unknown, kernel: unknown, options: WorkgroupParallelOptions | undefined): Promise<unknown> {
  const where = mode === 'for' ? 'parallelFor()' : 'parallelReduce()';
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > MAX_LENGTH) {
    throw new RangeError(`expected \`length\` of ${where} to be an integer in 0..${MAX_LENGTH}, got ${describeGiven(length)}`);
  }
  const proto: unknown = kernel !== null && typeof kernel === 'object' ? Object.getPrototypeOf(kernel) : undefined;
  if (proto === undefined || proto === Object.prototype || proto === null || typeof (kernel as { run?: unknown }).run !== 'function') {
    throw new TypeError(`${where} expects an instance of a class that extends WorkgroupKernel and is exported from a work module, got ${describeValue(kernel)}`);
  }
  if (mode === 'reduce' && typeof (kernel as { combine?: unknown }).combine !== 'function') {
    throw new TypeError(`${where} expects a kernel with a combine(a, b) method (how two partial results merge)`);
  }
  checkOptionsObject(where, options, PARALLEL_OPTIONS);
  checkCount(where, 'chunk', options?.chunk);
  checkCount(where, 'minChunk', options?.minChunk);
  if (options?.chunk !== undefined && options.minChunk !== undefined) {
    throw new TypeError(`expected one of \`chunk\` (fixed) or \`minChunk\` (guided) in ${where}, got both`);
  }
  checkSignal(where, options?.signal);
  checkTimeout(where, options?.timeout);
  checkFunction(where, 'onProgress', options?.onProgress);
  checkBoolean(where, 'mainThread', options?.mainThread);
  return runKernel(host, length, kernel as WorkgroupKernel<unknown>, mode, options ?? {});
}
