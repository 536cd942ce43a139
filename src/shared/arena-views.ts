/**
 * Typed arrays on the workgroup's shared memory (the arena), as users see them on both sides: released
 * explicitly (`release()`, or `using`), checked for use after release when they are sent.
 *
 * What is checked: an array this thread allocated, released or has sent before is known with its
 * handle (offset + generation); sending it after its block was released fails, also when the memory was
 * reused meanwhile (the generation differs). An array this thread never saw (it arrived by reference) is
 * checked against the block it starts at. A view into the middle of a block is not checked (it names no
 * block of its own).
 */
import { Refusal } from '../codec/codec.js';
import type { Arena } from '../memory/arena.js';

/**
 * Throws the codec's refusal (the encoder adds the path: `job.data is a Float64Array whose …`) when `view`
 * is on the arena and its block was released. Cheap for everything else (one comparison).
 */
export function refuseReleased(arena: Arena, view: ArrayBufferView): void {
  if (view.buffer !== arena.sab) return;
  const handle = arena.handleOf(view);
  if (handle === undefined || arena.isLive(handle)) return; // (undefined: not at a block start, or never known here and not live: unchecked)
  throw new Refusal(
    `is a ${view.constructor.name} whose shared memory was already released (use after release): allocate a new ` +
      'array, and release an array only once every job that uses it has settled',
  );
}

/** True while the block behind an arena array is live under the handle this thread knows. */
export function isLive(arena: Arena, view: ArrayBufferView): boolean {
  const handle = arena.handleOf(view);
  return handle !== undefined && arena.isLive(handle);
}

/**
 * Releases an arena array from any thread, also one that arrived by reference. The handle is remembered
 * first, so a later send of the same array is caught as a use after release.
 */
export function releaseView(arena: Arena, view: ArrayBufferView): void {
  arena.handleOf(view);
  arena.release(view);
}

/**
 * Makes an arena array usable with `using`: `[Symbol.dispose]()` releases it unless it was released
 * already (so `using` plus an explicit `release()` is fine). The property is non-enumerable and keyed by a
 * symbol: it never travels with the array.
 */
export function disposable<A extends ArrayBufferView>(arena: Arena, array: A): A & Disposable {
  Object.defineProperty(array, Symbol.dispose, {
    value: () => {
      if (isLive(arena, array)) arena.release(array);
    },
    configurable: true,
    writable: true,
  });
  return array as A & Disposable;
}
