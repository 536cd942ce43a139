// ByteWriter writes straight into the caller's region when the frame fits, and spills transparently into
// its own scratch buffer when it does not — at any point of any value — producing the same bytes.
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, decodeFromBytes, decodeValue, encodeToBytes, encodeValue, type DecodeHooks, type EncodeHooks } from '../../src/codec/codec.js';

const hooks: EncodeHooks = { classRef: () => undefined, sharedBuffer: () => 3 };
const CANARY = 0xa5;

const manyKeys = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]));
const samples: [string, unknown][] = [
  ['numbers and ASCII', { a: 1, b: -70000, c: 1.5, d: 'hello', e: [true, null, undefined] }],
  ['non-ASCII text', { name: 'héllo wörld 日本', emoji: '😀😀', lone: 'x\ud800y' }],
  ['long non-ASCII text', { text: `${'é'.repeat(400)}😀`, ascii: 'a'.repeat(500) }],
  ['text whose header shrinks once measured', { a: `é${'a'.repeat(60)}`, b: `${'a'.repeat(60)}é${'b'.repeat(100)}`, c: `${'x'.repeat(47)}\ud800` }],
  ['an object with 200 keys (the count needs two bytes)', manyKeys],
  ['binary', { f64: new Float64Array([1, 2, 3]), part: new Uint8Array(64).fill(9).subarray(5, 40), sab: new Int32Array(new SharedArrayBuffer(16)) }],
  ['bigints, dates, maps', { b: -(2n ** 100n), d: new Date(7), m: new Map([[1, new Set(['x'])]]) }],
];

describe('ByteWriter spill', () => {
  it.each(samples)('%s: every region size gives the scratch encoding, spilling exactly when it does not fit', (_name, value) => {
    const reference = encodeToBytes(value, hooks, 'job');
    const w = new ByteWriter();
    const start = 3;
    for (let room = 0; room <= reference.length + 2; room++) {
      for (const shared of [false, true]) {
        const size = start + room + 4;
        const target = new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size)).fill(CANARY);
        w.begin(target, start, start + room);
        encodeValue(w, value, hooks, 'job');
        expect(w.length).toBe(reference.length);
        expect(w.spilled).toBe(reference.length > room);
        expect(Buffer.from(w.bytes()).equals(Buffer.from(reference))).toBe(true);
        // Nothing outside [start, start + room) is touched.
        for (let i = 0; i < start; i++) expect(target[i]).toBe(CANARY);
        for (let i = start + room; i < size; i++) expect(target[i]).toBe(CANARY);
        if (!w.spilled) {
          expect(w.bytes().buffer).toBe(target.buffer);
          expect(w.bytes().byteOffset).toBe(start);
        }
      }
    }
  });

  it('beginScratch writes to scratch only; the writer is reused without allocating per frame', () => {
    const w = new ByteWriter();
    w.beginScratch();
    encodeValue(w, { a: 1 }, hooks, 'job');
    expect(w.spilled).toBe(true);
    const first = w.bytes();
    w.beginScratch();
    encodeValue(w, { a: 2 }, hooks, 'job');
    expect(w.bytes().buffer).toBe(first.buffer); // the same scratch buffer
  });

  it('a frame much larger than the region grows the scratch buffer as needed', () => {
    const w = new ByteWriter();
    const target = new Uint8Array(16);
    const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
    w.begin(target, 0, 16);
    encodeValue(w, { big, text: 'z'.repeat(50_000) }, hooks, 'job');
    expect(w.spilled).toBe(true);
    expect(Buffer.from(w.bytes()).equals(Buffer.from(encodeToBytes({ big, text: 'z'.repeat(50_000) }, hooks, 'job')))).toBe(true);
  });

  it('big binary payloads start 8-byte aligned in memory wherever the frame starts, and decode from anywhere', () => {
    const decodeHooks: DecodeHooks = { classByRef: () => Object, sharedBuffer: () => new SharedArrayBuffer(8) };
    const data = new Float64Array(100).map((_, i) => i / 3);
    const w = new ByteWriter();
    const target = new Uint8Array(new SharedArrayBuffer(4096));
    for (let start = 0; start < 16; start++) {
      w.begin(target, start, target.length);
      encodeValue(w, data, hooks, 'job');
      const frame = w.bytes();
      // The payload is the 800 bytes before the view's offset and length (one byte each).
      expect((frame.byteOffset + frame.length - 2 - 800) % 8).toBe(0);
      const r = new ByteReader();
      r.reset(target, start, start + w.length);
      expect(decodeValue(r, decodeHooks)).toEqual(data);
      const moved = new Uint8Array(frame.length + 5);
      moved.set(frame, 5);
      expect(decodeFromBytes(moved.subarray(5), decodeHooks)).toEqual(data);
    }
  });

  it('primitive writers and readers agree at any offset', () => {
    const w = new ByteWriter();
    const target = new Uint8Array(new SharedArrayBuffer(64));
    w.begin(target, 1, 64);
    w.u32(0xdeadbeef);
    w.f64(-1.25);
    w.varint(2 ** 35 - 1);
    w.u8(7);
    const r = new ByteReader();
    r.reset(target, 1, 1 + w.length);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(r.f64()).toBe(-1.25);
    expect(r.varint()).toBe(2 ** 35 - 1);
    expect(r.u8()).toBe(7);
    expect(r.remaining).toBe(0);
    expect(() => r.u8()).toThrow(/unexpected end of data \(at byte 19\)/);
  });

  it('truncate forgets bytes; begin rejects a bad region', () => {
    const w = new ByteWriter();
    w.begin(new Uint8Array(8), 2, 8);
    w.u8(1);
    w.u8(2);
    w.truncate(1);
    expect(Array.from(w.bytes())).toEqual([1]);
    expect(() => w.begin(new Uint8Array(8), 4, 2)).toThrow(RangeError);
    expect(() => w.begin(new Uint8Array(8), 0, 9)).toThrow(RangeError);
  });
});
