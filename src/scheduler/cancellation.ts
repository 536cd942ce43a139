/**
 * Cancellation of calls (an abort signal or a timeout). What happens depends on where the work is:
 *
 * | where                                   | what cancel does                                                       |
 * |-----------------------------------------|------------------------------------------------------------------------|
 * | backlog, or a queue cell nobody claimed | taken back; rejected; it never runs                                    |
 * | a lane's backlog (never sent)           | taken back; rejected; it never runs                                    |
 * | a lane's ring, not started              | rejected now; the worker is asked to skip it (its skip words)          |
 * | running job                             | rejected now; its `signal` aborts (its cancel word); if it still runs |
 * |                                         | `cancelGraceMs` after being told, its worker is terminated and replaced |
 * | running member call                     | rejected now; it runs to its end (a member call has no signal) and its |
 * |                                         | answer is dropped — its worker, and the other members on it, stay     |
 *
 * Work rejected while a worker may hold it stays in the pending table as `cancelled` until its late answer
 * arrives (dropped) or its worker is gone. Only work that was told and still runs after the grace costs a
 * worker: work that had not started never does, and work that starts later is told when it starts.
 */
import { WorkgroupTimeoutException } from '../shared/errors.js';
import type { Dispatcher } from './dispatcher.js';
import type { Pending, PendingTable } from './pending.js';
import { abortError } from './types.js';
import type { WorkerSet } from './worker-set.js';
import type { WorkerSlot } from './worker-slot.js';

/** How often a cancelled call that has not started yet is looked for among the running ones (ms). */
const CANCEL_POLL_MS = 20;

/** The `timeout` option checked before anything is sent; returns the error, if any. */
export function checkTimeout(timeout: unknown): RangeError | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout === 'number' && timeout >= 0 && timeout < 2 ** 31) return undefined;
  return new RangeError(`expected \`timeout\` to be a number of ms in 0..2^31, got ${String(timeout)}`);
}

export interface CancellationHost {
  /** Terminates and replaces a worker whose job ignored its cancel. */
  replace(ws: WorkerSlot, reason: string): void;
  /** False once the workgroup shuts down (shutdown ends busy workers itself). */
  readonly active: boolean;
  readonly cancelGraceMs: number;
  unrefTimer(timer: unknown): void;
  warn(message: string): void;
}

export class Cancellation {
  readonly #pending: PendingTable;
  readonly #dispatcher: Dispatcher;
  readonly #workers: WorkerSet;
  readonly #host: CancellationHost;

  constructor(pending: PendingTable, dispatcher: Dispatcher, workers: WorkerSet, host: CancellationHost) {
    this.#pending = pending;
    this.#dispatcher = dispatcher;
    this.#workers = workers;
    this.#host = host;
  }

  /** Listens to `signal` and starts the `timeout` (validated by the caller with `checkTimeout`). */
  arm(p: Pending, signal: AbortSignal | undefined, timeout: number | undefined, operation: string): void {
    if (signal === undefined && timeout === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const what = p.kind === 'job' ? 'job' : 'request';
    const onAbort = (): void => this.cancel(p, abortError(signal!, what));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      const late = p.kind === 'job' ? 'the job did not finish in time' : 'the member did not answer in time';
      timer = setTimeout(() => this.cancel(p, new WorkgroupTimeoutException(operation, timeout, late)), timeout);
    }
    p.cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
  }

  /** Cancels `p` wherever it is (see the table above). */
  cancel(p: Pending, reason: Error): void {
    if (this.#pending.get(p.id) !== p || p.status === 'cancelled') return;
    if (this.#dispatcher.takeBack(p)) {
      this.#pending.reject(p, reason);
      return;
    }
    const lane = p.status === 'lane' ? p.worker : undefined;
    if (lane?.writer?.unsend(p.id)) {
      this.#pending.reject(p, reason);
      return;
    }
    // A worker holds it (in its ring, claimed, or running): reject now, tell the worker, watch the grace.
    const worker = p.worker;
    this.#pending.rejectHeld(p, reason);
    const told = this.#tellRunner(p);
    if (!told) worker?.skipLaneWork(p.id);
    this.#watch(p, told ? this.#host.cancelGraceMs : Math.min(CANCEL_POLL_MS, this.#host.cancelGraceMs));
  }

  /** Sets the cancel word of `p` where it runs; true when it runs somewhere. */
  #tellRunner(p: Pending): boolean {
    const ws = this.#runner(p);
    if (!ws || !ws.signalCancel(p.id)) return false;
    p.cancelSentAt = performance.now();
    return true;
  }

  #runner(p: Pending): WorkerSlot | undefined {
    if (p.worker) return p.worker.live && p.worker.runningSlotOf(p.id) >= 0 ? p.worker : undefined;
    for (const ws of this.#workers.values()) if (ws.live && ws.runningSlotOf(p.id) >= 0) return ws;
    return undefined;
  }

  /**
   * Looks again after `ms`: once the work runs it is told (its signal aborts), and a worker whose job still
   * runs `cancelGraceMs` after being told is replaced. Ends when the entry leaves the table (its answer
   * came, or its worker is gone).
   */
  #watch(p: Pending, ms: number): void {
    const host = this.#host;
    const timer = setTimeout(() => {
      if (this.#pending.get(p.id) !== p || !host.active) return;
      const ws = this.#runner(p);
      if (!ws) return this.#watch(p, Math.min(CANCEL_POLL_MS, host.cancelGraceMs));
      if (p.kind === 'invoke') return; // started: it runs to its end, its answer is dropped
      if (p.cancelSentAt === 0) {
        this.#tellRunner(p);
        return this.#watch(p, host.cancelGraceMs);
      }
      const waited = performance.now() - p.cancelSentAt;
      if (waited + 1 < host.cancelGraceMs) return this.#watch(p, host.cancelGraceMs - waited);
      host.warn(`isolate-workgroup: worker #${ws.index} ignored a cancel for ${host.cancelGraceMs} ms: terminating and replacing it`);
      host.replace(ws, `a cancelled job ignored its cancel for ${host.cancelGraceMs} ms, so the worker was terminated and replaced`);
    }, Math.max(1, ms));
    host.unrefTimer(timer);
  }
}
