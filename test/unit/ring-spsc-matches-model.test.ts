// The SPSC byte ring against a simple array model: random interleavings of reserve / reserveFlexible /
// commit / publish / next / advance / release (single thread) with random payload sizes and contents,
// capacities 64..4096, and initial cursors near 2^31 and 2^32 so the Int32 counters overflow mid-run.
// The model keeps the byte cursors of the documented format (8-byte header, 8-byte alignment, PAD record
// at the physical end) and the queue of records; after every step the ring must agree with it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RECORD_HEADER, maxPayload } from '../../src/ring/spsc.js';
import {
  CAPACITIES,
  DATA,
  canaryViolations,
  fcSeed,
  fillPattern,
  headWord,
  makeRing,
  matchesPattern,
  recordSize,
  tailWord,
} from './ring-harness.js';

type Op =
  | { k: 'write'; size: number; type: number; tag: number; flexible: boolean; extra: number }
  | { k: 'publish' }
  | { k: 'read'; advance: boolean }
  | { k: 'release' }
  | { k: 'observe' }
  | { k: 'oversize'; which: number };

interface ModelRecord {
  readonly cursor: number; // cursor of the record header (after any PAD)
  readonly size: number;
  readonly type: number;
  readonly length: number;
  readonly tag: number;
}

/** Payload-size selector: mostly small, sometimes anything, sometimes the exact maximum. */
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 24 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 4096 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, -2) }, // -1: maxPayload, -2: maxPayload - 1
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('write' as const),
      size: sizeArb,
      type: fc.oneof(fc.integer({ min: 1, max: 0x7fffffff }), fc.integer({ min: -0x80000000, max: -1 })),
      tag: fc.integer(),
      flexible: fc.boolean(),
      extra: fc.nat(),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ k: 'publish' as const }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('read' as const), advance: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ k: 'release' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'observe' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('oversize' as const), which: fc.nat({ max: 9 }) }) },
);

function badSize(which: number, maxP: number, capacity: number): number {
  return [maxP + 1, maxP + 8, capacity, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 8, Number.NaN, Number.POSITIVE_INFINITY][which]!;
}

/** Cheap assertions for the hot loop (vitest's expect costs microseconds per call). */
function eq(actual: unknown, expected: unknown, what: string): void {
  if (!Object.is(actual, expected)) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}
function le(a: number, b: number, what: string): void {
  if (!(a <= b)) throw new Error(`${what}: ${a} > ${b}`);
}

function runScenario(capacity: number, cursor: number, ops: readonly Op[]): void {
  const ring = makeRing(capacity, cursor);
  const { producer: p, consumer: c, u8 } = ring;
  const maxP = maxPayload(capacity);
  const mask = capacity - 1;
  let hLocal = cursor | 0;
  let hPub = cursor | 0;
  let tLocal = cursor | 0;
  let tPub = cursor | 0;
  let committed: ModelRecord[] = [];
  const published: ModelRecord[] = [];

  const step = (op: Op): void => {
    switch (op.k) {
      case 'write': {
        const len = op.size === -1 ? maxP : op.size === -2 ? maxP - 1 : Math.min(op.size, maxP);
        const pos = hLocal & mask;
        const toEnd = capacity - pos;
        const size = recordSize(len);
        const need = size <= toEnd ? size : toEnd + size;
        const fits = capacity - ((hLocal - tPub) | 0) >= need;
        const off = op.flexible ? p.reserveFlexible(len) : p.reserve(len);
        eq(off >= 0, fits, `reserve fits: reserve(${len}) at pos ${pos}, used ${(hLocal - tPub) | 0}`);
        if (!fits) return;
        if (size > toEnd) hLocal = (hLocal + toEnd) | 0; // PAD to the physical end
        const recPos = hLocal & mask;
        eq(off, DATA + recPos + RECORD_HEADER, 'off');
        // Whatever `limit` says may be written must really be free and contiguous.
        const free = capacity - ((hLocal - tPub) | 0);
        le(len, p.limit, 'len <= p.limit');
        le(p.limit, maxP, 'p.limit <= maxP');
        le(recordSize(p.limit), Math.min(capacity - recPos, free), 'limit fits in the contiguous free bytes');
        const length = op.flexible ? len + (op.extra % (p.limit - len + 1)) : len;
        fillPattern(u8, off, length, op.tag);
        p.commit(op.type, length);
        const rec: ModelRecord = { cursor: hLocal, size: recordSize(length), type: op.type, length, tag: op.tag };
        hLocal = (hLocal + rec.size) | 0;
        committed.push(rec);
        return;
      }
      case 'publish':
        p.publish();
        hPub = hLocal;
        published.push(...committed);
        committed = [];
        eq(headWord(ring), hPub, 'headWord(ring)');
        return;
      case 'read': {
        const off = c.next();
        const rec = published[0];
        if (rec === undefined) {
          eq(off, -1, 'off');
          return;
        }
        eq(off, DATA + (rec.cursor & mask) + RECORD_HEADER, 'off');
        eq(c.type, rec.type, 'c.type');
        eq(c.length, rec.length, 'c.length');
        le(off + c.length, DATA + capacity, 'off + c.length <= DATA + capacity');
        eq(matchesPattern(u8, off, c.length, rec.tag), true, 'matchesPattern(u8, off, c.length, rec.tag)');
        tLocal = rec.cursor; // next() has stepped over any PAD in front of the record
        if (op.advance) {
          c.advance();
          published.shift();
          tLocal = (rec.cursor + rec.size) | 0;
        }
        return;
      }
      case 'release':
        eq(c.release(), false, 'c.release()'); // nobody waits in a single thread
        tPub = tLocal;
        eq(tailWord(ring), tPub, 'tailWord(ring)');
        return;
      case 'observe':
        eq(p.free, capacity - ((hLocal - tPub) | 0), 'p.free');
        eq(p.isEmpty, hLocal === tPub, 'p.isEmpty');
        eq(p.publishedHead, hPub, 'p.publishedHead');
        eq(c.isEmpty, published.length === 0, 'c.isEmpty');
        return;
      case 'oversize': {
        const bad = badSize(op.which, maxP, capacity);
        expect(() => p.reserve(bad)).toThrow(RangeError);
        expect(() => p.reserveFlexible(bad)).toThrow(RangeError);
        return;
      }
    }
  };

  for (const op of ops) step(op);
  // Drain: everything committed comes out exactly once, in order, and the ring ends empty.
  step({ k: 'publish' });
  while (published.length > 0) step({ k: 'read', advance: true });
  step({ k: 'read', advance: true });
  step({ k: 'release' });
  step({ k: 'observe' });
  eq(p.free, capacity, 'p.free');
  expect(canaryViolations(ring)).toEqual([]);
}

describe('SPSC ring matches an array model', () => {
  it('agrees with the model for random operation sequences (fast-check)', () => {
    const cursorArb = (capacity: number): fc.Arbitrary<number> =>
      fc.oneof(
        fc.constant(0),
        fc.integer({ min: 0, max: capacity / 4 }).map((k) => (2 ** 31 - 8 * k) | 0), // overflows to -2^31
        fc.integer({ min: 0, max: capacity / 4 }).map((k) => (2 ** 32 - 8 * k) | 0), // wraps to 0
        fc.integer().map((x) => x & ~7),
      );
    const scenario = fc
      .constantFrom(...CAPACITIES)
      .chain((capacity) => fc.tuple(fc.constant(capacity), cursorArb(capacity), fc.array(opArb, { maxLength: 400, size: 'max' })));
    fc.assert(
      fc.property(scenario, ([capacity, cursor, ops]) => runScenario(capacity, cursor, ops)),
      { seed: fcSeed('spsc-model'), numRuns: 400 },
    );
  });

  it('crosses the Int32 overflow many times in a long run of one small ring', () => {
    // 64-byte ring starting just below 2^31: thousands of laps, each crossing checked by the model.
    const ops: Op[] = [];
    for (let i = 0; i < 3000; i++) {
      ops.push({ k: 'write', size: i % 25, type: i + 1, tag: i, flexible: i % 3 === 0, extra: i });
      ops.push({ k: 'publish' }, { k: 'read', advance: true }, { k: 'release' });
      if (i % 97 === 0) ops.push({ k: 'observe' });
    }
    runScenario(64, (2 ** 31 - 16) | 0, ops);
    runScenario(64, -16, ops);
  });
});
