// Wrap-around: a record that does not fit before the physical end is preceded by a PAD record covering
// the rest of the ring and starts at offset 0; a record that fits exactly needs no PAD; the consumer
// skips PADs and frees their bytes; all of this also holds when the Int32 cursors overflow.
import { describe, expect, it } from 'vitest';
import { PAD, RECORD_HEADER } from '../../src/ring/spsc.js';
import { DATA, canaryViolations, fillPattern, headWord, makeRing, matchesPattern, tailWord } from './ring-harness.js';

function wordAt(i32: Int32Array, byteOffset: number): number {
  return i32[byteOffset >> 2]!;
}

describe('SPSC wrap-around', () => {
  for (const [label, base] of [
    ['from 0', 0],
    ['across 2^31 (Int32 overflow)', (2 ** 31 - 64) | 0],
    ['across 2^32 (back to 0)', -64],
  ] as const) {
    it(`writes a PAD to the physical end and restarts at offset 0 (${label})`, () => {
      // 64-byte ring, cursors at base + 40: 24 bytes to the end; a 20-byte payload needs 32.
      const ring = makeRing(64, (base + 40) | 0);
      const { producer: p, consumer: c, u8, i32 } = ring;
      const off = p.reserve(20);
      expect(off).toBe(DATA + RECORD_HEADER); // the record starts at physical offset 0
      fillPattern(u8, off, 20, 99);
      p.commit(5, 20);
      p.publish();
      // PAD record at offset 40: length 24 − 8, type PAD.
      expect(wordAt(i32, DATA + 40)).toBe(24 - RECORD_HEADER);
      expect(wordAt(i32, DATA + 44)).toBe(PAD);
      // The real record at offset 0.
      expect(wordAt(i32, DATA)).toBe(20);
      expect(wordAt(i32, DATA + 4)).toBe(5);
      expect(headWord(ring)).toBe((base + 40 + 24 + 32) | 0);
      // The consumer skips the PAD and returns the record.
      expect(c.next()).toBe(off);
      expect([c.type, c.length]).toEqual([5, 20]);
      expect(matchesPattern(u8, off, 20, 99)).toBe(true);
      c.advance();
      expect(c.next()).toBe(-1);
      c.release();
      expect(tailWord(ring)).toBe(headWord(ring));
      expect(p.free).toBe(64);
      expect(canaryViolations(ring)).toEqual([]);
    });

    it(`needs no PAD when a record ends exactly at the physical end (${label})`, () => {
      const ring = makeRing(64, (base + 32) | 0);
      const { producer: p, consumer: c, i32 } = ring;
      expect(p.reserve(24)).toBe(DATA + 32 + RECORD_HEADER); // 32 bytes: exactly to the end
      p.commit(6, 24);
      p.publish();
      expect(headWord(ring)).toBe((base + 64) | 0);
      expect(wordAt(i32, DATA + 32)).toBe(24);
      expect(c.next()).toBe(DATA + 32 + RECORD_HEADER);
      c.advance();
      c.release();
      // The next record starts at offset 0 without a PAD.
      expect(p.reserve(0)).toBe(DATA + RECORD_HEADER);
    });

    it(`writes a zero-length PAD when only a header's worth is left (${label})`, () => {
      const ring = makeRing(64, (base + 56) | 0);
      const { producer: p, consumer: c, i32 } = ring;
      expect(p.reserve(1)).toBe(DATA + RECORD_HEADER); // 16 bytes do not fit in the last 8
      p.commit(7, 1);
      p.publish();
      expect(wordAt(i32, DATA + 56)).toBe(0);
      expect(wordAt(i32, DATA + 60)).toBe(PAD);
      expect(c.next()).toBe(DATA + RECORD_HEADER);
      expect(c.length).toBe(1);
      c.advance();
      c.release();
      expect(tailWord(ring)).toBe((base + 56 + 8 + 16) | 0);
    });
  }

  it('refuses a record whose PAD and body do not both fit, without writing the PAD', () => {
    // 64-byte ring; unread record of 16 bytes at offset 0..16 (cursor 48 -> pad 16 + record 16 = 32).
    const ring = makeRing(64, 0);
    const { producer: p, consumer: c, i32 } = ring;
    expect(p.tryWrite(1, new Uint8Array(8))).toBe(true); // 0..16
    expect(p.tryWrite(2, new Uint8Array(24))).toBe(true); // 16..48
    expect(c.next()).toBeGreaterThanOrEqual(0);
    c.advance();
    c.release(); // tail 16: free = 32, but 16 to the end
    const padWordBefore = wordAt(i32, DATA + 48);
    expect(p.reserve(24)).toBe(-1); // needs 16 (pad) + 32
    expect(wordAt(i32, DATA + 48)).toBe(padWordBefore); // no PAD was written
    expect(p.reserve(8)).toBe(DATA + 48 + RECORD_HEADER); // 16 bytes fit before the end
  });

  it('a published PAD without a record (reserve, no commit, publish) is skipped and freed', () => {
    const ring = makeRing(64, 48);
    const { producer: p, consumer: c } = ring;
    expect(p.reserve(16)).toBe(DATA + RECORD_HEADER); // PAD 48..64, record abandoned
    p.publish();
    expect(c.next()).toBe(-1);
    c.release();
    expect(tailWord(ring)).toBe(64);
    expect(p.free).toBe(64);
  });

  it('survives many laps of a 64-byte ring across both overflow points', () => {
    // 40,000 records (~12,000 laps); the first ring's cursors cross 2^31 early, the second's cross 2^32.
    for (const ring of [makeRing(64, (2 ** 31 - 512) | 0), makeRing(64, -512)]) {
      const { producer: p, consumer: c, u8 } = ring;
      for (let i = 0; i < 40_000; i++) {
        const len = (i * 7) % 25;
        const off = p.reserve(len);
        if (off < 0) throw new Error(`full at record ${i}`);
        fillPattern(u8, off, len, i);
        p.commit(1 + (i & 0xffff), len);
        p.publish();
        const got = c.next();
        if (got !== off || c.length !== len || !matchesPattern(u8, got, len, i)) throw new Error(`record ${i} corrupt`);
        c.advance();
        c.release();
      }
      expect(c.next()).toBe(-1);
      expect(canaryViolations(ring)).toEqual([]);
    }
  });
});
