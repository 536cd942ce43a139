// Decoding corrupt bytes — random data, every truncation of valid frames, bit flips, absurd lengths, deep
// nesting — throws CodecError (or returns some value) and never reads out of bounds, overflows the stack,
// allocates from a corrupt length, or hangs. Seeded: FC_SEED replays a failure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, CodecError, decodeFromBytes, decodeValue, encodeToBytes, type DecodeHooks, type EncodeHooks } from '../../src/codec/codec.js';
import { Tag } from '../../src/codec/tags.js';

const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

class Thing {
  x = 1;
}
class HookRefused extends Error {}

const sab = new SharedArrayBuffer(64);
const encodeHooks: EncodeHooks = { classRef: (c) => (c === Thing ? 0 : undefined), sharedBuffer: () => 1, bigBinary: () => 2, bigBinaryThreshold: 64 };
// Lenient hooks: any class ref is Thing, any id is `sab`, any handle a fresh buffer (if not absurd).
const decodeHooks: DecodeHooks = {
  classByRef: () => Thing,
  sharedBuffer: () => sab,
  bigBinary: (_handle, n) => {
    if (n > 1 << 20) throw new HookRefused('absurd big binary');
    return new ArrayBuffer(n);
  },
};

const samples: unknown[] = (() => {
  const cyclic: Record<string, unknown> = { s: 'héllo 😀', n: [1, , 3] }; // eslint-disable-line no-sparse-arrays
  cyclic.self = cyclic;
  const err = new AggregateError([new TypeError('t')], 'agg', { cause: 5n });
  return [
    cyclic,
    { t: new Thing(), d: new Date(3), r: /x+/giy, m: new Map<unknown, unknown>([[1, 'a'], ['k', new Set([2.5, -0])]]) },
    [new Float32Array([1, 2]), new DataView(new ArrayBuffer(8), 2, 4), new Int16Array(sab, 2, 3), new Uint8Array(100)],
    err,
    ['x\ud800', 'a'.repeat(300), 2n ** 200n, -(2 ** 40), Object.create(null) as object],
  ];
})();
const frames = samples.map((v) => encodeToBytes(v, encodeHooks, 'job'));

/** Decodes `u8[start..end)` from a larger buffer with junk after `end`; returns the error, if any. */
function tryDecode(u8: Uint8Array, start = 0, end = u8.length): unknown {
  const r = new ByteReader();
  r.reset(u8, start, end);
  try {
    decodeValue(r, decodeHooks);
    expect(r.offset).toBeLessThanOrEqual(end);
    return undefined;
  } catch (e) {
    return e;
  }
}

function expectSafeFailure(e: unknown): void {
  if (e === undefined || e instanceof CodecError || e instanceof HookRefused) return;
  throw new Error(`decoding corrupt input threw ${String(e)} instead of a CodecError`, { cause: e });
}

describe('codec corrupt input', () => {
  it('every strict prefix of a valid frame is a CodecError, never an out-of-bounds read', () => {
    for (const frame of frames) {
      const padded = new Uint8Array(frame.length + 64).fill(0x41); // junk past `end` must not be read
      padded.set(frame);
      for (let end = 0; end < frame.length; end++) {
        const e = tryDecode(padded, 0, end);
        expect(e).toBeInstanceOf(CodecError);
      }
      expect(tryDecode(padded, 0, frame.length)).toBeUndefined();
    }
  });

  it('random bytes decode to a value or a CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => expectSafeFailure(tryDecode(bytes))),
      { seed, numRuns: 5000 },
    );
  });

  it('random bytes after a valid tag decode to a value or a CodecError', () => {
    const tags = Object.values(Tag);
    fc.assert(
      fc.property(fc.constantFrom(...tags), fc.uint8Array({ maxLength: 64 }), (tag, rest) => expectSafeFailure(tryDecode(Uint8Array.of(tag, ...rest)))),
      { seed, numRuns: 5000 },
    );
  });

  it('bit flips and byte overwrites of valid frames decode to a value or a CodecError', () => {
    fc.assert(
      fc.property(fc.nat(frames.length - 1), fc.nat(), fc.nat(255), fc.boolean(), (which, at, byte, flip) => {
        const frame = frames[which]!.slice();
        const i = at % frame.length;
        frame[i] = flip ? frame[i]! ^ (1 << (byte & 7)) : byte;
        expectSafeFailure(tryDecode(frame));
      }),
      { seed, numRuns: 5000 },
    );
  });

  it('absurd lengths and counts fail before allocating', () => {
    const huge = [0xff, 0xff, 0xff, 0xff, 0x0f]; // 2^35 - 1
    const cases = [
      [Tag.STR_ASCII, ...huge],
      [Tag.STR_UTF8, ...huge],
      [Tag.STR_UTF16, ...huge],
      [Tag.ARRAYBUFFER, ...huge],
      [Tag.MAP, ...huge],
      [Tag.SET, ...huge],
      [Tag.OBJECT, ...huge],
      [Tag.CLASS_NUM, 0, ...huge],
      [Tag.BIGINT_POS, ...huge],
      [Tag.ARRAY, ...huge], // longer than 2^32 - 1
      [Tag.ARRAY, 5, Tag.HOLE, 6], // a hole run past the length
      [Tag.ARRAY, 5, Tag.HOLE, 0, 1, 1, 1, 1, 1],
      [Tag.ARRAY, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // a varint longer than 5 bytes
      [Tag.VIEW, 8, Tag.ARRAYBUFFER, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], // 2 doubles in 8 bytes
      [Tag.VIEW, 8, Tag.ARRAYBUFFER, 16, ...new Array<number>(16).fill(0), 4, 1], // misaligned
      [Tag.VIEW, 99, Tag.ARRAYBUFFER, 0, 0, 0],
      [Tag.VIEW, 1, Tag.REF, 0, 0, 0], // a view whose buffer is itself
      [Tag.REF, 0],
      [Tag.ERROR, 77, 0, 0],
      [Tag.ERROR, 0, 0xff, 0],
      [Tag.REGEXP, Tag.STR_ASCII, 1, 0x28, Tag.STR_ASCII, 0, 0x40], // /(/ is not a RegExp
      [Tag.OBJECT, 1, 0x45, 0x45], // a key that is not a string
      [Tag.STR_ASCII, 2, 0x41, 0xc3],
      [Tag.STR_UTF8, 2, 0xc3, 0x28], // invalid UTF-8
      [Tag.STR_UTF8, 3, 0xed, 0xa0, 0x80], // an encoded surrogate
      [Tag.HOLE, 1],
      [0x1c],
    ];
    for (const c of cases) {
      const e = tryDecode(Uint8Array.from(c));
      if (!(e instanceof CodecError)) throw new Error(`[${c.join(', ')}] gave ${String(e)}`);
      expect(e.message).toMatch(/\(at byte \d+\)$/);
    }
  });

  it('bytes after the value are a CodecError in decodeFromBytes', () => {
    expect(() => decodeFromBytes(Uint8Array.of(0x41, 0x41), decodeHooks)).toThrow(CodecError);
  });

  it('nesting deeper than 1000 levels is a CodecError, not a stack overflow', () => {
    const deep = new Uint8Array(100_000).fill(Tag.ARRAY);
    for (let i = 1; i < deep.length; i += 2) deep[i] = 1; // [ [ [ …
    expect(tryDecode(deep)).toBeInstanceOf(CodecError);
    const objects = new Uint8Array(60_000);
    for (let i = 0; i + 5 < objects.length; i += 5) objects.set([Tag.OBJECT, 1, Tag.STR_ASCII, 1, 0x61], i);
    expect(tryDecode(objects)).toBeInstanceOf(CodecError);
  });

  it('a huge sparse array decodes quickly from a few bytes', () => {
    const e = tryDecode(Uint8Array.of(Tag.ARRAY, 0xfe, 0xff, 0xff, 0xff, 0x0f, Tag.HOLE, 0xfe, 0xff, 0xff, 0xff, 0x0f));
    expect(e).toBeUndefined();
  });
});
