/**
 * Main-thread helpers for binary payloads: the `transfer` dispatch option (checked like postMessage's
 * transfer list, and placed on one worker, since a buffer can move to one thread only) and leak reporting
 * of the workgroup's shared arrays.
 */
import type { ArenaAttachOptions } from '../memory/arena.js';
import type { ResolvedConfig } from '../shared/config-types.js';
import type { OutOfBand } from '../shared/out-of-band.js';
import type { Pending } from './pending.js';
import type { WorkerSlot } from './worker-slot.js';

/**
 * The `transfer` list as a set, or the TypeError for a bad one. Like postMessage: each entry must be a
 * non-shared ArrayBuffer, not detached, listed once. An empty list means no transfer.
 */
export function transferSet(list: unknown): ReadonlySet<ArrayBuffer> | TypeError | undefined {
  if (!Array.isArray(list)) return new TypeError(`expected \`transfer\` to be an array of ArrayBuffers, got ${typeof list}`);
  if (list.length === 0) return undefined;
  const set = new Set<ArrayBuffer>();
  for (let i = 0; i < list.length; i++) {
    const b: unknown = list[i];
    if (b instanceof SharedArrayBuffer) {
      return new TypeError(`expected \`transfer[${i}]\` to be a non-shared ArrayBuffer, got a SharedArrayBuffer: shared memory is passed by reference already, leave it out of \`transfer\``);
    }
    if (!(b instanceof ArrayBuffer)) {
      const what = ArrayBuffer.isView(b) ? `a ${b.constructor.name} (list its .buffer instead)` : b === null ? 'null' : typeof b;
      return new TypeError(`expected \`transfer[${i}]\` to be an ArrayBuffer, got ${what}`);
    }
    if (isDetached(b)) return new TypeError(`\`transfer[${i}]\` is a detached ArrayBuffer (it was transferred before)`);
    if (set.has(b)) return new TypeError(`\`transfer[${i}]\` lists the same ArrayBuffer twice`);
    set.add(b);
  }
  return set;
}

function isDetached(b: ArrayBuffer): boolean {
  const detached = (b as { detached?: boolean }).detached;
  if (typeof detached === 'boolean') return detached;
  if (b.byteLength !== 0) return false;
  try {
    new Uint8Array(b); // a detached buffer throws here
    return false;
  } catch {
    return true;
  }
}

/** The ready worker with the least work in hand (running + sent through its lane); ties: lowest index. */
export function pickTransferTarget(workers: Iterable<WorkerSlot>): WorkerSlot | undefined {
  let best: WorkerSlot | undefined;
  let bestLoad = Infinity;
  for (const ws of workers) {
    if (ws.state !== 'ready' || ws.confirmedDead) continue;
    const load = ws.runningIds().length + ws.laneWork.size;
    if (load < bestLoad) {
      best = ws;
      bestLoad = load;
    }
  }
  if (best) return best;
  for (const ws of workers) if (ws.live) return ws; // still starting: the job waits in its lane
  return undefined;
}

/**
 * Buffers listed in `transfer` that the job does not contain are detached too (as postMessage does), by
 * moving them into a clone that is dropped.
 */
export function detachUnsent(listed: ReadonlySet<ArrayBuffer>, sent: ReadonlySet<ArrayBuffer>): void {
  const rest = [...listed].filter((b) => !sent.has(b));
  if (rest.length > 0) structuredClone(rest, { transfer: rest });
}

/**
 * Leak reporting for arrays from `wg.allocate()`: with a `logger.warn`, an array garbage-collected while
 * its block is still live is reported there (a hint, not proof: a worker may still use the same bytes).
 */
export function leakOptions(config: ResolvedConfig): ArenaAttachOptions {
  const warn = config.logger.warn;
  if (typeof warn !== 'function') return {};
  return {
    onLeak: (leak) =>
      warn.call(
        config.logger,
        `isolate-workgroup: a shared ${leak.type} of ${leak.byteLength} bytes (from allocate()) was garbage-collected ` +
          'without release(): its shared memory stays in use until the workgroup shuts down. Call wg.release(array) ' +
          'or declare it with `using` once every job that uses it has settled.',
        leak,
      ),
  };
}

/**
 * Runs an encode-and-send for `p` — `send(p, arg)` — keeping the out-of-band blocks its frame took (freed
 * when `p` leaves the pending table). Returns the error when the send failed (then nothing was sent and
 * the blocks are freed). `arg` lets a hot caller pass one function made once instead of a closure per call.
 */
export function sendTracked<A>(oob: OutOfBand, p: Pending, send: (p: Pending, arg: A) => void, arg: A): unknown {
  oob.takeBlocks(); // (blocks of earlier control-message frames belong to those frames)
  try {
    send(p, arg);
  } catch (e) {
    oob.abandon();
    return e;
  }
  p.blobs = oob.takeBlocks();
  return undefined;
}
