// Full and empty: an empty ring reads −1; a ring fills to exactly its capacity and then refuses (returning
// −1, changing nothing); space comes back only when the consumer releases it; the observers agree; and a
// producer with nowhere to write parks in waitForSpace for no longer than its timeout.
import { describe, expect, it } from 'vitest';
import { CAPACITIES, canaryViolations, headWord, makeRing, tailWord, waitingWord } from './ring-harness.js';

describe('SPSC full and empty', () => {
  it('an empty ring reads −1 and reports empty on both sides', () => {
    for (const capacity of CAPACITIES) {
      const { producer: p, consumer: c } = makeRing(capacity, -8);
      expect(c.next()).toBe(-1);
      expect(c.isEmpty).toBe(true);
      expect(p.isEmpty).toBe(true);
      expect(p.free).toBe(capacity);
    }
  });

  it('fills to exactly the capacity with header-only records, then refuses until space is released', () => {
    for (const capacity of CAPACITIES) {
      for (const start of [0, (2 ** 31 - 8) | 0, -8]) {
        const ring = makeRing(capacity, start);
        const { producer: p, consumer: c } = ring;
        for (let i = 0; i < capacity / 8; i++) expect(p.tryWrite(i + 1, new Uint8Array(0))).toBe(true);
        expect(p.free).toBe(0);
        const headBefore = headWord(ring);
        expect(p.reserve(0)).toBe(-1);
        expect(p.tryWrite(1, new Uint8Array(0))).toBe(false);
        expect(headWord(ring)).toBe(headBefore);
        // Consumed but not released: still full for the producer.
        expect(c.next()).toBeGreaterThanOrEqual(0);
        expect(c.type).toBe(1);
        c.advance();
        expect(p.reserve(0)).toBe(-1);
        c.release();
        expect(p.free).toBe(8);
        expect(p.tryWrite(9999, new Uint8Array(0))).toBe(true);
        // Everything comes out in order.
        for (let i = 1; i < capacity / 8; i++) {
          expect(c.next()).toBeGreaterThanOrEqual(0);
          expect(c.type).toBe(i + 1);
          c.advance();
        }
        expect(c.next()).toBeGreaterThanOrEqual(0);
        expect(c.type).toBe(9999);
        c.advance();
        expect(c.next()).toBe(-1);
        c.release();
        expect(p.isEmpty).toBe(true);
        expect(canaryViolations(ring)).toEqual([]);
      }
    }
  });

  it('two max-size records fill the ring', () => {
    for (const capacity of CAPACITIES) {
      const { producer: p, consumer: c } = makeRing(capacity);
      const big = new Uint8Array(p.maxPayload);
      expect(p.tryWrite(1, big)).toBe(true);
      expect(p.tryWrite(2, big)).toBe(true);
      expect(p.free).toBe(0);
      expect(p.tryWrite(3, new Uint8Array(0))).toBe(false);
      expect(c.next()).toBeGreaterThanOrEqual(0);
      c.advance();
      c.release();
      expect(p.tryWrite(3, big)).toBe(true);
      expect(p.free).toBe(0);
    }
  });

  it('observers can be late only in the documented direction', () => {
    const ring = makeRing(128);
    const { producer: p, consumer: c } = ring;
    p.reserve(8);
    p.commit(1, 8);
    // Committed but not published: the consumer still sees an empty ring, the producer a non-empty one.
    expect(c.isEmpty).toBe(true);
    expect(p.isEmpty).toBe(false);
    expect(p.publishedHead).toBe(0);
    p.publish();
    expect(c.isEmpty).toBe(false);
    expect(c.next()).toBeGreaterThanOrEqual(0);
    c.advance();
    // Advanced but not released: the producer still counts the record as used (late towards "less free").
    expect(p.free).toBe(128 - 16);
    c.release();
    expect(p.free).toBe(128);
    expect(tailWord(ring)).toBe(16);
  });

  it('waitForSpace returns at once when there is room and times out (false) when there is none', () => {
    const ring = makeRing(64);
    const { producer: p, consumer: c } = ring;
    expect(p.waitForSpace(64, 1000)).toBe(true);
    expect(p.tryWrite(1, new Uint8Array(24))).toBe(true);
    expect(p.tryWrite(2, new Uint8Array(24))).toBe(true);
    const t0 = performance.now();
    expect(p.waitForSpace(8, 30)).toBe(false);
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(waitingWord(ring)).toBe(0); // the flag is cleared after the park
    // While the flag is set, release() tells the consumer to notify.
    p.setWaiting(true);
    expect(c.next()).toBeGreaterThanOrEqual(0);
    c.advance();
    expect(c.release()).toBe(true);
    p.setWaiting(false);
    expect(p.waitForSpace(32, 1000)).toBe(true);
  });
});
