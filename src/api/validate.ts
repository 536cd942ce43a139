/**
 * Validation of the per-call options (`dispatch`, `run`, `addInstance`, `invoke`, `CallbackWorkgroup.run`)
 * and of worker indices, with the same template as the constructor's config: "expected `option` of
 * call() to be …, got …", and a did-you-mean for an unknown key. Every check runs before anything is
 * encoded or enqueued, so a bad call changes nothing.
 *
 * Worker indices are checked the same way everywhere (`dispatch(job, i)`, `{ isolate: i }`,
 * `addInstance(m, { isolate: i })`, `kill(i)`): an integer >= 0. `-1` is refused, not read as "any
 * worker": an `indexOf` miss must not route work anywhere silently; omit the index for any worker.
 */
import { describeValue } from '../scheduler/types.js';
import { WorkgroupException } from './errors.js';

/** What a value is, for messages: `"0"` (a string), `1n`, `null`, `an object`, `a function`. */
export function describeGiven(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') {
    const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name && name !== 'Object' ? `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}` : 'an object';
  }
  return String(v);
}

/** Edit distance (insert, delete, substitute, swap of neighbours), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name closest to `key` when it is close enough to be a typo, else undefined. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = key.toLowerCase();
  for (const k of known) {
    const dd = distance(lower, k.toLowerCase());
    if (dd < bestD) {
      best = k;
      bestD = dd;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** The error for a key of an options object that the call does not know. */
export function unknownOption(where: string, key: string, known: readonly string[]): TypeError {
  const guess = didYouMean(key, known);
  return new TypeError(
    `unknown option \`${key}\` of ${where}${guess ? `: did you mean \`${guess}\`?` : ''} (expected one of ${known.join(', ')})`,
  );
}

/** Throws when `options` is not undefined or a plain options object with only `known` keys. */
export function checkOptionsObject(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`expected the options of ${where} to be an object, got ${describeGiven(options)}`);
  }
  for (const key of Object.keys(options)) if (!known.includes(key)) throw unknownOption(where, key, known);
}

/** `signal`: an AbortSignal (checked by shape too, so a signal of another realm passes). */
export function checkSignal(where: string, v: unknown): void {
  if (v === undefined) return;
  const ok =
    (typeof AbortSignal !== 'undefined' && v instanceof AbortSignal) ||
    (typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean' && typeof (v as AbortSignal).addEventListener === 'function');
  if (!ok) throw new TypeError(`expected \`signal\` of ${where} to be an AbortSignal (e.g. AbortSignal.timeout(ms) or new AbortController().signal), got ${describeGiven(v)}`);
}

/** `timeout`: milliseconds, a finite number in 0..2^31 - 1 (what setTimeout can hold). */
export function checkTimeout(where: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !(v >= 0) || v >= 2 ** 31) {
    throw new RangeError(`expected \`timeout\` of ${where} to be a number of milliseconds in 0..2147483647, got ${describeGiven(v)}`);
  }
}

/** A callback option (`onProgress`, `onNotify`, `onError`). */
export function checkFunction(where: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'function') throw new TypeError(`expected \`${name}\` of ${where} to be a function, got ${describeGiven(v)}`);
}

export function checkBoolean(where: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`expected \`${name}\` of ${where} to be a boolean, got ${describeGiven(v)}`);
}

/** `transfer`: an array (of non-shared ArrayBuffers). */
export function checkTransfer(where: string, v: unknown): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) throw new TypeError(`expected \`transfer\` of ${where} to be an array of ArrayBuffers, got ${describeGiven(v)}`);
  // (Its elements are checked where the buffers are collected: shared, views, detached, listed twice.)
}

/**
 * The form of a worker index: an integer >= 0. Returns the error (a `WorkgroupException` naming the valid
 * range) or undefined. The range and liveness are checked by the core when the call runs (a pinned
 * dispatch made while launch() is still starting the workers waits for them).
 */
export function badIndex(value: unknown, isolatesCount: number): WorkgroupException | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return undefined;
  const range = isolatesCount === 0 ? 'There are no workers yet' : `Valid indices are 0...${isolatesCount - 1}`;
  if (value === -1) {
    return new WorkgroupException(
      `Invalid isolate index -1. ${range} (leave the index out to run on whichever worker is free: -1 is refused so that a failed indexOf() never routes work anywhere)`,
    );
  }
  if (typeof value !== 'number') return new WorkgroupException(`Invalid isolate index: expected a worker index (an integer), got ${describeValue(value)}. ${range}`);
  return new WorkgroupException(`Invalid isolate index ${String(value)}. ${range}`);
}

export const DISPATCH_OPTIONS = ['isolate', 'signal', 'timeout', 'onProgress', 'transfer'] as const;
export const INVOKE_OPTIONS = ['signal', 'timeout'] as const;
export const ADD_INSTANCE_OPTIONS = ['isolate', 'onNotify'] as const;
export const ADD_ISOLATE_OPTIONS = ['label'] as const;
export const SHUTDOWN_OPTIONS = ['drain'] as const;

/** Checks `dispatch()` / `run()` options (not the index's range: see badIndex). */
export function checkDispatchOptions(where: string, o: Record<string, unknown> | undefined): void {
  checkOptionsObject(where, o, DISPATCH_OPTIONS);
  if (o === undefined) return;
  checkSignal(where, o['signal']);
  checkTimeout(where, o['timeout']);
  checkFunction(where, 'onProgress', o['onProgress']);
  checkTransfer(where, o['transfer']);
}

export function checkInvokeOptions(where: string, o: unknown): void {
  checkOptionsObject(where, o, INVOKE_OPTIONS);
  if (o === undefined) return;
  const r = o as Record<string, unknown>;
  checkSignal(where, r['signal']);
  checkTimeout(where, r['timeout']);
}
