// Every sendable value (README, "Sendable data") survives encode → decode exactly (as far as `deepEqual` below can tell:
// -0, NaN, holes, prototypes, Map/Set contents, typed-array kinds and bytes). Property-based, seeded:
// set FC_SEED to replay a failure (fast-check prints the seed and the shrunk counterexample).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, decodeFromBytes, decodeValue, encodeToBytes, encodeValue, type DecodeHooks, type EncodeHooks } from '../../src/codec/codec.js';

const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env.FC_RUNS ?? 300);

const encodeHooks: EncodeHooks = { classRef: () => undefined, sharedBuffer: () => 0 };
const decodeHooks: DecodeHooks = {
  classByRef: () => {
    throw new Error('no classes here');
  },
  sharedBuffer: () => {
    throw new Error('no shared buffers here');
  },
};

/**
 * Structural equality for decoded values: Object.is for primitives (-0, NaN), same prototype, same own
 * enumerable keys in the same order (so holes stay holes), Map/Set entries in order, typed arrays by kind
 * and bytes, invalid Dates equal each other, and cycles (a pair already under comparison is assumed
 * equal). `isDeepStrictEqual` would do most of it, but calls two invalid Dates different.
 */
function deepEqual(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return a.source === (b as RegExp).source && a.flags === (b as RegExp).flags && deepEqual(a.lastIndex, (b as RegExp).lastIndex, seen);
  if (a instanceof ArrayBuffer || ArrayBuffer.isView(a)) {
    const x = a instanceof ArrayBuffer ? new Uint8Array(a) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array((b as ArrayBufferView).buffer, (b as ArrayBufferView).byteOffset, (b as ArrayBufferView).byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof Map || a instanceof Set) {
    const x = [...(a as Map<unknown, unknown>).entries()];
    const y = [...(b as Map<unknown, unknown>).entries()];
    return x.length === y.length && x.every((e, i) => deepEqual(e[0], y[i]![0], seen) && deepEqual(e[1], y[i]![1], seen));
  }
  if (a instanceof Error) {
    const e = b as Error;
    if (a.name !== e.name || a.message !== e.message || a.stack !== e.stack || !deepEqual(a.cause, e.cause, seen)) return false;
  }
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], seen));
}

function roundTrip<T>(value: T): T {
  return decodeFromBytes(encodeToBytes(value, encodeHooks, 'job'), decodeHooks) as T;
}

const strings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }), // any code unit, lone surrogates included
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', minLength: 100, maxLength: 400 }),
  fc.string({ unit: 'binary', minLength: 250, maxLength: 600 }), // long: the TextEncoder path
);
const keys = fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'length', '0', '7', 'toString'));

const typedArray = fc.oneof(
  fc.int8Array(),
  fc.uint8Array(),
  fc.uint8ClampedArray(),
  fc.int16Array(),
  fc.uint16Array(),
  fc.int32Array(),
  fc.uint32Array(),
  fc.float32Array(),
  fc.float64Array(),
  fc.bigInt64Array(),
  fc.bigUint64Array(),
);
// Views on part of a bigger buffer, and DataViews.
const windowed = fc
  .tuple(fc.uint8Array({ minLength: 8, maxLength: 64 }), fc.nat(7), fc.nat(7), fc.constantFrom('u8', 'f64', 'dv'))
  .map(([bytes, a, b, kind]) => {
    const buffer = new ArrayBuffer(bytes.length + 16);
    new Uint8Array(buffer).set(bytes, 8);
    if (kind === 'u8') return new Uint8Array(buffer, a, bytes.length - b);
    if (kind === 'dv') return new DataView(buffer, a, bytes.length - b);
    return new Float64Array(buffer, 8, Math.floor(bytes.length / 8));
  });

const leaves = [
  fc.constantFrom(undefined, null, true, false, NaN, -0, 0, Infinity, -Infinity, -1, 2 ** 31, -(2 ** 31), 2 ** 53),
  fc.integer(),
  fc.integer({ min: -40, max: 200 }),
  fc.double(),
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  strings,
  fc.date({ noInvalidDate: false }),
  fc.tuple(fc.constantFrom('a+b', '^x$', '[a-z]\\d', '(?<n>\\d+)', ''), fc.subarray(['g', 'i', 'm', 's', 'u', 'y', 'd'])).map(([src, flags]) => {
    const re = new RegExp(src, flags.join(''));
    re.lastIndex = 3;
    return re;
  }),
  typedArray,
  windowed,
  fc.uint8Array().map((a) => a.buffer),
];

const anything = fc.anything({
  values: leaves,
  key: keys,
  maxDepth: 4,
  maxKeys: 6,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withSparseArray: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
});

describe('codec round trip', () => {
  it('every sendable value decodes deep-equal to what was encoded', () => {
    fc.assert(
      fc.property(anything, (value) => {
        expect(deepEqual(roundTrip(value), value)).toBe(true);
      }),
      { seed, numRuns },
    );
  });

  it('the deep-equal of these tests tells holes, -0, prototypes and bytes apart', () => {
    expect(deepEqual([1, , 3], [1, undefined, 3])).toBe(false); // eslint-disable-line no-sparse-arrays
    expect(deepEqual({ a: -0 }, { a: 0 })).toBe(false);
    expect(deepEqual(Object.create(null), {})).toBe(false);
    expect(deepEqual(new Uint8Array([1]), new Int8Array([1]))).toBe(false);
    expect(deepEqual(new Map([[1, 2]]), new Map([[1, 3]]))).toBe(false);
    expect(deepEqual([new Date(NaN), NaN], [new Date(NaN), NaN])).toBe(true);
  });

  it('numbers keep their exact bits: -0, NaN, ±Infinity, int32 edges, doubles', () => {
    for (const n of [0, -0, NaN, Infinity, -Infinity, -32, -33, 159, 160, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 0.1, 5e-324, Number.MAX_VALUE]) {
      expect(Object.is(roundTrip(n), n)).toBe(true);
    }
    fc.assert(fc.property(fc.double(), (n) => Object.is(roundTrip(n), n)), { seed, numRuns: 1000 });
  });

  it('small integers take one byte and int32s at most six', () => {
    expect(encodeToBytes(5, encodeHooks, 'x').length).toBe(1);
    expect(encodeToBytes(-32, encodeHooks, 'x').length).toBe(1);
    expect(encodeToBytes(-(2 ** 31), encodeHooks, 'x').length).toBeLessThanOrEqual(6);
  });

  it('bigints of any size and sign', () => {
    for (const b of [0n, -0n, 1n, -1n, 255n, 256n, 2n ** 64n - 1n, -(2n ** 64n), 7n ** 500n, -(3n ** 2000n)]) expect(roundTrip(b)).toBe(b);
    fc.assert(fc.property(fc.bigInt(), (b) => roundTrip(b) === b), { seed, numRuns });
  });

  it('strings round trip exactly, lone surrogates included, short and long, in a shared target too', () => {
    const cases = ['', 'a', 'héllo', '日本語', '😀', '\ud800', 'x\udc00y', '\ud83d', 'a\ud83d\ude00b\ud800', '\ufeffBOM', 'é'.repeat(300), `${'a'.repeat(299)}\ud800`];
    const w = new ByteWriter();
    const r = new ByteReader();
    const shared = new Uint8Array(new SharedArrayBuffer(4096));
    for (const s of cases) {
      expect(roundTrip(s)).toBe(s);
      w.begin(shared, 3, shared.length);
      encodeValue(w, s, encodeHooks, 'job');
      r.reset(shared, 3, 3 + w.length);
      expect(decodeValue(r, decodeHooks)).toBe(s);
    }
    fc.assert(fc.property(strings, (s) => roundTrip(s) === s), { seed, numRuns: 1000 });
  });

  it('sparse arrays keep holes as holes, also huge sparse arrays, without walking their length', () => {
    const a: unknown[] = [1, , 3, , , undefined]; // eslint-disable-line no-sparse-arrays
    const back = roundTrip(a);
    expect(back.length).toBe(6);
    expect(1 in back).toBe(false);
    expect(5 in back).toBe(true);
    const huge: number[] = [];
    huge[4_000_000_000] = 7;
    huge[10] = 1;
    const bytes = encodeToBytes(huge, encodeHooks, 'job');
    expect(bytes.length).toBeLessThan(32);
    const hugeBack = decodeFromBytes(bytes, decodeHooks) as number[];
    expect(hugeBack.length).toBe(4_000_000_001);
    expect(hugeBack[4_000_000_000]).toBe(7);
    expect(Object.keys(hugeBack)).toEqual(['10', '4000000000']);
  });

  it('null-prototype objects stay null-prototype, and "__proto__" stays an own key', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.a = 1;
    const back = roundTrip(o);
    expect(Object.getPrototypeOf(back)).toBe(null);
    const withProtoKey = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as object;
    const back2 = roundTrip(withProtoKey);
    expect(Object.getPrototypeOf(back2)).toBe(Object.prototype);
    expect(Object.keys(back2)).toEqual(['__proto__', 'x']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('Date (invalid too), RegExp with flags and lastIndex', () => {
    expect(Number.isNaN(roundTrip(new Date(NaN)).getTime())).toBe(true);
    expect(roundTrip(new Date(8.64e15)).getTime()).toBe(8.64e15);
    const re = /a(?<x>b)c/dgimsuy;
    re.lastIndex = 5;
    const back = roundTrip(re);
    expect(back.source).toBe(re.source);
    expect(back.flags).toBe(re.flags);
    expect(back.lastIndex).toBe(5);
  });

  it('a typed array over part of a buffer sends only its window', () => {
    const big = new Float64Array(1000).fill(1.5);
    const part = big.subarray(10, 14);
    const bytes = encodeToBytes(part, encodeHooks, 'job');
    expect(bytes.length).toBeLessThan(50);
    const back = roundTrip(part);
    expect(back).toBeInstanceOf(Float64Array);
    expect(Array.from(back)).toEqual([1.5, 1.5, 1.5, 1.5]);
    expect(back.buffer.byteLength).toBe(32);
  });

  it('Float16Array round trips where the platform has it', () => {
    const F16 = (globalThis as { Float16Array?: new (a: number[]) => ArrayBufferView }).Float16Array;
    if (F16 === undefined) return;
    const a = new F16([1, 0.5, -2]);
    expect(deepEqual(roundTrip(a), a)).toBe(true);
  });

  it('a value appended to an existing frame starts where the writer is (any byte offset)', () => {
    const w = new ByteWriter();
    const target = new Uint8Array(256);
    w.begin(target, 5, 256);
    w.u8(0xaa);
    encodeValue(w, { a: [1.5, 'x'] }, encodeHooks, 'job');
    const r = new ByteReader();
    r.reset(target, 6, 5 + w.length);
    expect(decodeValue(r, decodeHooks)).toEqual({ a: [1.5, 'x'] });
    expect(r.remaining).toBe(0);
  });
});
