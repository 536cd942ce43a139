/** Types, constants and small helpers shared by the layers of the main-thread scheduler (core*.ts). */
import { WorkgroupException, WorkgroupJobAbortedException } from '../shared/errors.js';
import { WorkerSlot } from './worker-slot.js';

export type WorkgroupState = 'idle' | 'active' | 'disposed';

export interface DispatchOptions {
  readonly isolate?: number;
  readonly signal?: AbortSignal;
  readonly timeout?: number;
  readonly onProgress?: (value: unknown) => void;
  readonly transfer?: readonly ArrayBuffer[];
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
