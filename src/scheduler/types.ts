/** Types, constants and small helpers the parts of the main-thread scheduler share. */
import { UnsendableError } from '../codec/errors.js';
import { WorkgroupException, WorkgroupJobAbortedException } from '../shared/errors.js';
import type { WorkerSlot } from './worker-slot.js';

export type WorkgroupState = 'idle' | 'active' | 'disposed';

export interface DispatchOptions {
  readonly isolate?: number;
  readonly signal?: AbortSignal;
  readonly timeout?: number;
  readonly onProgress?: (value: unknown) => void;
  readonly transfer?: readonly ArrayBuffer[];
}

export interface BatchOptions {
  readonly signal?: AbortSignal;
  readonly timeout?: number;
  readonly onProgress?: (value: unknown, index: number) => void;
  readonly chunkSize?: number;
}

export interface InvokeOptions {
  readonly signal?: AbortSignal;
  readonly timeout?: number;
}

export interface MemberRecord {
  readonly id: number;
  readonly worker: WorkerSlot;
  readonly onNotify: ((command: unknown) => unknown) | undefined;
  readonly invokes: Set<number>;
  state: 'starting' | 'ready' | 'destroying' | 'dead';
  deadReason: Error | undefined;
}

export interface ControlWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** Longest the results loop waits for the results word before it looks again (supervision tick). */
export const MAIN_TICK_MS = 250;
export const NOT_DECODED = Symbol('not decoded');

const ORIGIN = performance.timeOrigin;

/** Epoch milliseconds, comparable across threads (queue wait times). */
export function now(): number {
  return ORIGIN + performance.now();
}

export function ignore(): void {}

export function abortError(signal: AbortSignal, what: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof WorkgroupException) return reason;
  return new WorkgroupJobAbortedException(`the ${what} was aborted by its signal${reason instanceof Error ? `: ${reason.message}` : ''}`, { cause: reason });
}

export function describeExit(code: number | undefined, error: unknown): string {
  if (error instanceof Error) return `crashed (${error.name}: ${error.message})`;
  if (code !== undefined) return `exited with code ${code}`;
  return 'died';
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return `a function${v.name ? ` (${v.name})` : ''}`;
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name;
    return name && name !== 'Object' ? `an instance of ${name}` : 'a plain object';
  }
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Normalises what an encode threw into the error a caller is rejected with. */
export function sendError(e: unknown): Error {
  if (e instanceof UnsendableError) return new WorkgroupException(e.message, { cause: e });
  if (e instanceof Error) return e;
  return new WorkgroupException(String(e));
}
