// Corrupt records: a header that cannot be right (negative length, length past the published head,
// length past the physical end, lengths whose Int32 arithmetic would overflow, a head more than one ring
// ahead of or behind the tail) makes next() throw RingCorruptError. Under fuzzing (random ring bytes,
// random cursors) the consumer never hands out a payload outside the ring, never throws anything else,
// and always finishes: at most capacity / 8 records before −1 or the error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAD, RECORD_HEADER, RingCorruptError, SpscConsumer } from '../../src/ring/spsc.js';
import { CAPACITIES, DATA, canaryViolations, fcSeed, makeRing, setHeadWord, type TestRing } from './ring-harness.js';

/** A 64-byte ring at cursor `base` holding one published record of `len` bytes at offset 0. */
function ringWithOneRecord(len: number, base = 0): TestRing {
  const ring = makeRing(64, base);
  expect(ring.producer.tryWrite(3, new Uint8Array(len))).toBe(true);
  return ring;
}

function setWord(ring: TestRing, byteOffsetInRing: number, value: number): void {
  ring.i32[(DATA + byteOffsetInRing) >> 2] = value;
}

describe('SPSC corrupt headers', () => {
  for (const base of [0, (2 ** 31 - 16) | 0, -16]) {
    describe(`cursor base ${base}`, () => {
      it('negative length -> RingCorruptError', () => {
        for (const bad of [-1, -8, -9, -(2 ** 31)]) {
          const ring = ringWithOneRecord(8, base);
          const at = base & 63;
          setWord(ring, at, bad);
          expect(() => ring.consumer.next()).toThrow(RingCorruptError);
        }
      });

      it('length past the published head -> RingCorruptError', () => {
        const ring = ringWithOneRecord(8, base); // record of 16 bytes published
        setWord(ring, base & 63, 9); // would need 24 bytes
        expect(() => ring.consumer.next()).toThrow(RingCorruptError);
        // Two records published, the first claims to cover both and one byte more.
        const r2 = makeRing(64, base);
        r2.producer.tryWrite(1, new Uint8Array(8));
        r2.producer.tryWrite(2, new Uint8Array(8));
        setWord(r2, base & 63, 25);
        expect(() => r2.consumer.next()).toThrow(RingCorruptError);
      });

      it('lengths whose size arithmetic overflows Int32 -> RingCorruptError, never a negative step', () => {
        for (const bad of [2 ** 31 - 1, 2 ** 31 - 8, 2 ** 31 - 9, 2 ** 31 - 15, 2 ** 31 - 16, 2 ** 30, 1 << 20]) {
          for (const type of [3, PAD]) {
            const ring = ringWithOneRecord(8, base);
            setWord(ring, base & 63, bad);
            setWord(ring, (base & 63) + 4, type);
            expect(() => ring.consumer.next(), `length ${bad}, type ${type}`).toThrow(RingCorruptError);
          }
        }
      });
    });
  }

  it('a PAD that claims to run past the physical end -> RingCorruptError', () => {
    // 64-byte ring at cursor 48: PAD 48..64 then a 16-byte record at 0.
    const ring = makeRing(64, 48);
    expect(ring.producer.tryWrite(3, new Uint8Array(8))).toBe(true);
    setWord(ring, 48, 16); // PAD of 24 bytes from offset 48 would end at 72
    expect(() => ring.consumer.next()).toThrow(RingCorruptError);
  });

  it('a data record that claims to run past the physical end -> RingCorruptError', () => {
    const ring = makeRing(64, 48);
    expect(ring.producer.tryWrite(3, new Uint8Array(0))).toBe(true); // 48..56
    expect(ring.producer.tryWrite(3, new Uint8Array(24))).toBe(true); // PAD 56..64, record 0..32
    setWord(ring, 48, 16); // 24 bytes from 48: past the end (and into the PAD)
    setWord(ring, 52, 7);
    expect(() => ring.consumer.next()).toThrow(RingCorruptError);
  });

  it('a head more than one ring ahead, or behind the tail -> RingCorruptError', () => {
    for (const delta of [72, 128, 2 ** 30, -8, -64, -(2 ** 31)]) {
      const ring = ringWithOneRecord(8, -8);
      setHeadWord(ring, (-8 + delta) | 0);
      expect(() => ring.consumer.next(), `head − tail = ${delta}`).toThrow(RingCorruptError);
    }
  });

  it('a head that is not 8-aligned ends in RingCorruptError after the whole records', () => {
    const ring = ringWithOneRecord(8); // 16 bytes
    setHeadWord(ring, 20); // 4 bytes of a "record" after it
    const c = ring.consumer;
    expect(c.next()).toBe(DATA + RECORD_HEADER);
    c.advance();
    expect(() => c.next()).toThrow(RingCorruptError);
  });

  it('a consumer over an unaligned tail word throws RingCorruptError', () => {
    const ring = makeRing(64, 0);
    ring.i32[(128) >> 2] = 60; // tail: 4 bytes before the end, so a header read would leave the ring
    setHeadWord(ring, 64);
    expect(() => new SpscConsumer(ring.sab, 0, DATA, 64).next()).toThrow(RingCorruptError);
  });

  it('never reads outside the ring, never throws anything else, never hangs (fast-check fuzz)', () => {
    const lengthWord = fc.oneof(
      fc.integer({ min: -16, max: 4200 }),
      fc.integer(),
      fc.constantFrom(2 ** 31 - 1, 2 ** 31 - 8, 2 ** 31 - 15, -(2 ** 31), -1, 0),
    );
    const typeWord = fc.oneof(fc.constant(PAD), fc.integer());
    const scenario = fc.constantFrom(...CAPACITIES).chain((capacity) =>
      fc.record({
        capacity: fc.constant(capacity),
        tail: fc.oneof(fc.integer().map((x) => x & ~7), fc.constantFrom((2 ** 31 - 8) | 0, -8, 0)),
        delta: fc.oneof(fc.integer({ min: 0, max: capacity }), fc.integer({ min: -64, max: capacity + 64 }), fc.integer()),
        // (offset in 8-byte units, length word, type word) headers planted in otherwise random bytes.
        headers: fc.array(fc.tuple(fc.nat({ max: capacity / 8 - 1 }), lengthWord, typeWord), { maxLength: 40 }),
        noise: fc.uint8Array({ minLength: capacity, maxLength: capacity }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ capacity, tail, delta, headers, noise }) => {
        const ring = makeRing(capacity, tail);
        ring.u8.set(noise, DATA);
        for (const [slot, len, type] of headers) {
          ring.i32[(DATA + slot * 8) >> 2] = len;
          ring.i32[(DATA + slot * 8 + 4) >> 2] = type;
        }
        setHeadWord(ring, (tail + delta) | 0);
        const c = new SpscConsumer(ring.sab, 0, DATA, capacity);
        let records = 0;
        for (let call = 0; ; call++) {
          if (call > capacity / 8 + 1) throw new Error(`consumer still returning records after ${call} calls`);
          let off: number;
          try {
            off = c.next();
          } catch (err) {
            if (!(err instanceof RingCorruptError)) throw err;
            break;
          }
          if (off < 0) break;
          if (off < DATA + RECORD_HEADER || c.length < 0 || off + c.length > DATA + capacity) {
            throw new Error(`payload out of the ring: offset ${off}, length ${c.length}`);
          }
          records++;
          c.advance();
          if (call % 3 === 0) c.release();
        }
        expect(records).toBeLessThanOrEqual(capacity / 8);
        expect(canaryViolations(ring)).toEqual([]);
      }),
      { seed: fcSeed('spsc-corrupt-fuzz'), numRuns: 3000 },
    );
  });
});
