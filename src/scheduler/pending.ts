/**
 * Bookkeeping of work in flight on the main thread: every dispatch and invoke has one `Pending` entry
 * until its promise settles, and every entry has a reject path (shutdown, kill, crash, abort, timeout).
 */
import type { ArenaHandle } from '../memory/arena.js';
import type { WorkerSlot } from './worker-slot.js';

export type PendingKind = 'job' | 'invoke';

export interface Pending {
  readonly id: number;
  readonly kind: PendingKind;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Call-site stack captured at dispatch/invoke (undefined when `captureMainStack` is off). */
  readonly site: { stack?: string } | undefined;
  readonly onProgress: ((value: unknown) => void) | undefined;
  readonly memberId: number;
  /** The worker it was sent to through the lane (pinned job or invoke); undefined for shared-queue jobs. */
  worker: WorkerSlot | undefined;
  /** Position in the shared queue while it may still be queued there; −1 otherwise. */
  queuePos: number;
  /** Encoded job waiting in the main-thread backlog, as a private copy (re-queued after a worker died). */
  bytes: Uint8Array | undefined;
  /** Encoded job waiting in the main-thread backlog: offset and length in the backlog slab (−1: none). */
  backlogOff: number;
  backlogLen: number;
  /** Arena block holding the encoded job (too big for a queue cell). */
  arena: ArenaHandle | undefined;
  /** Removes abort listener and timeout timer. */
  cleanup: (() => void) | undefined;
  /** Set once cancelled while running: its late result is dropped. */
  cancelled: boolean;
  /** Arena blocks holding out-of-band copies of its frame's big binary payloads (see shared/out-of-band.ts):
   *  the worker frees them when it decodes the frame; main frees what is still live when the work settles. */
  blobs: ArenaHandle[] | undefined;
  /** Set while one of its records waits to be decoded: later records queue behind it (progress order). */
  chain: Promise<void> | undefined;
}

/** A new entry and the promise it settles (one shape for every entry: dispatches and invokes). */
export function createPending(
  id: number,
  kind: PendingKind,
  site: { stack?: string } | undefined,
  onProgress: ((value: unknown) => void) | undefined,
  memberId: number,
): { p: Pending; promise: Promise<unknown> } {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const p: Pending = {
    id, kind, resolve, reject, site, onProgress, memberId, worker: undefined, queuePos: -1, bytes: undefined,
    backlogOff: -1, backlogLen: 0, arena: undefined, cleanup: undefined, cancelled: false, blobs: undefined, chain: undefined,
  };
  return { p, promise };
}
