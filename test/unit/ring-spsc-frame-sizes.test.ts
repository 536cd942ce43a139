// Frame sizes: every payload size from 0 to maxPayload goes through the ring intact (at every physical
// position the arithmetic produces), oversize or malformed sizes are refused with a RangeError and leave
// the ring untouched, and reserveFlexible reports a limit that is both safe and as large as it may be.
import { describe, expect, it } from 'vitest';
import { RECORD_HEADER, maxPayload } from '../../src/ring/spsc.js';
import {
  CAPACITIES,
  DATA,
  canaryViolations,
  fillPattern,
  headWord,
  makeRing,
  matchesPattern,
  recordSize,
  tailWord,
} from './ring-harness.js';

describe('SPSC frame sizes', () => {
  it('maxPayload is capacity / 2 − header, and a max-size record always fits an empty ring', () => {
    for (const capacity of CAPACITIES) {
      expect(maxPayload(capacity)).toBe(capacity / 2 - RECORD_HEADER);
      // Every physical start position of an empty ring (a PAD may be needed first).
      for (let start = 0; start < capacity; start += 8) {
        const ring = makeRing(capacity, start);
        expect(ring.producer.maxPayload).toBe(maxPayload(capacity));
        expect(ring.producer.reserve(maxPayload(capacity))).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('carries every payload size 0..maxPayload intact, one at a time and in full batches', () => {
    for (const capacity of CAPACITIES) {
      for (const start of [0, (2 ** 31 - 8) | 0, -capacity / 2]) {
        const ring = makeRing(capacity, start);
        const { producer: p, consumer: c, u8 } = ring;
        const maxP = p.maxPayload;
        // One at a time: the write position drifts, so every size meets PADs at different offsets.
        for (let size = 0; size <= maxP; size++) {
          const off = p.reserve(size);
          expect(off).toBeGreaterThanOrEqual(DATA);
          fillPattern(u8, off, size, size);
          p.commit(size + 1, size);
          p.publish();
          const got = c.next();
          expect(got).toBe(off);
          expect([c.type, c.length]).toEqual([size + 1, size]);
          expect(matchesPattern(u8, got, size, size)).toBe(true);
          c.advance();
          c.release();
        }
        // Batches: fill until full with sizes counting down from the max, then drain the batch.
        let size = maxP;
        while (size >= 0) {
          const batch: number[] = [];
          for (;;) {
            const off = p.reserve(size);
            if (off < 0) break;
            fillPattern(u8, off, size, ~size);
            p.commit(7, size);
            batch.push(size);
            size--;
            if (size < 0) break;
          }
          expect(batch.length).toBeGreaterThan(0);
          p.publish();
          for (const s of batch) {
            const got = c.next();
            expect(c.length).toBe(s);
            expect(matchesPattern(u8, got, s, ~s)).toBe(true);
            c.advance();
          }
          expect(c.next()).toBe(-1);
          c.release();
        }
        expect(headWord(ring)).toBe(tailWord(ring));
        expect(canaryViolations(ring)).toEqual([]);
      }
    }
  });

  it('refuses oversize and malformed payload sizes with a RangeError and leaves the ring untouched', () => {
    for (const capacity of CAPACITIES) {
      const ring = makeRing(capacity, -24);
      const { producer: p, consumer: c } = ring;
      const maxP = p.maxPayload;
      const bad = [maxP + 1, maxP + 7, maxP + 8, capacity, -1, -8, 2 ** 31 - 1, 2 ** 31 - 9, 2 ** 31, 2 ** 32, 2 ** 32 + 8, 2 ** 53, NaN, Infinity];
      for (const b of bad) {
        expect(() => p.reserve(b), `reserve(${b})`).toThrow(RangeError);
        expect(() => p.reserveFlexible(b), `reserveFlexible(${b})`).toThrow(RangeError);
        // The refusal moved nothing: the next record starts exactly where the last one ended.
        const before = headWord(ring);
        expect(p.tryWrite(1, new Uint8Array(0)), 'a valid write still works after a refusal').toBe(true);
        expect(headWord(ring)).toBe((before + 8) | 0);
        expect(c.next()).toBeGreaterThanOrEqual(0);
        expect(c.length).toBe(0);
        c.advance();
        c.release();
        expect(c.next()).toBe(-1);
      }
      expect(() => p.tryWrite(1, new Uint8Array(maxP + 1))).toThrow(RangeError);
      expect(() => p.reserve(maxP + 1)).toThrow(/exceeds the ring's maximum payload/);
      expect(canaryViolations(ring)).toEqual([]);
    }
  });

  it('reserveFlexible: limit >= the minimum, <= maxPayload, contiguous and free, and maximal on an empty ring', () => {
    for (const capacity of CAPACITIES) {
      const maxP = maxPayload(capacity);
      for (let start = 0; start < capacity; start += 8) {
        for (const min of [0, 1, 8, maxP >> 1, maxP]) {
          const p = makeRing(capacity, start).producer; // a fresh empty ring per case
          const off = p.reserveFlexible(min);
          expect(off).toBeGreaterThanOrEqual(0);
          const recPos = off - DATA - RECORD_HEADER;
          const contiguous = capacity - recPos; // empty ring: everything up to the physical end is free
          expect(p.limit).toBeGreaterThanOrEqual(min);
          expect(p.limit).toBe(Math.min(maxP, contiguous - RECORD_HEADER));
          expect(recPos + recordSize(p.limit)).toBeLessThanOrEqual(capacity);
        }
      }
    }
  });

  it('reserveFlexible: limit never covers unread bytes', () => {
    const ring = makeRing(256);
    const { producer: p, consumer: c } = ring;
    // 256-byte ring, maxPayload 120. Fill 200 bytes, consume 96 of them: free = 152, tail at 96.
    expect(p.tryWrite(1, new Uint8Array(88))).toBe(true); // 96 bytes
    expect(p.tryWrite(2, new Uint8Array(96))).toBe(true); // 104 bytes -> head 200
    expect(c.next()).toBeGreaterThanOrEqual(0);
    c.advance();
    c.release(); // tail 96
    // pos 200, 56 bytes to the end: a 40-byte minimum fits there, limit is capped by the physical end.
    const off = p.reserveFlexible(40);
    expect(off).toBe(DATA + 200 + RECORD_HEADER);
    expect(p.limit).toBe(56 - RECORD_HEADER);
    p.commit(3, p.limit);
    // pos 0 now: free = 256 - (256 - 96) = 96, contiguous up to the unread record at 96.
    const off2 = p.reserveFlexible(0);
    expect(off2).toBe(DATA + RECORD_HEADER);
    expect(p.limit).toBe(96 - RECORD_HEADER);
    p.commit(4, 0);
    // A minimum that only fits after a PAD is refused while the unread record blocks it.
    expect(p.reserveFlexible(96)).toBe(-1);
  });

  it('plain reserve reports only the reserved length in limit', () => {
    const ring = makeRing(128);
    const p = ring.producer;
    expect(p.tryWrite(1, new Uint8Array(56))).toBe(true); // 64 of 128 bytes used
    expect(p.reserve(0)).toBeGreaterThanOrEqual(0);
    expect(p.limit).toBe(0);
    expect(p.reserve(24)).toBeGreaterThanOrEqual(0);
    expect(p.limit).toBe(24);
  });
});
