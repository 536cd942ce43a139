// The global pool of segments: claim and release runs of segments, and grow the buffer to cover them.
//
// Contract: any number of threads claim and release concurrently. Lock-free: a claim CASes table
// entries FREE→CLAIM one by one; when a CAS loses to another claimer it undoes its own partial claim
// (those entries are CLAIM|self, nobody else writes them) and scans on, so some thread always makes
// progress and no thread ever waits on another. A thread that dies mid-claim leaves CLAIM|dead
// entries, which `reclaimOwner` returns to the pool. Nothing here allocates on the JS heap.
//
// Growth: the claimer of a run that ends past the committed size calls `sab.grow(end)` itself. `grow`
// is atomic; a RangeError from it means either "someone already grew past `end`" (fine: re-check
// byteLength) or "out of memory" (undo the claim, report exhaustion). Then COMMITTED is raised with a
// CAS-max loop. COMMITTED can lag `sab.byteLength` (a grower died between grow and publish) but never
// exceeds it, and it covers every published segment: publication (the ENTRY store) happens after.
//
// Scans start at segment 0, so low segments are reused first and the growable buffer stays small.

import { type ArenaLayout, H_COMMITTED_16, SEG_CARVED, SEG_ENTRY, SEG_ROW_BYTES } from './layout.js';
import { KIND_CLAIM, entry } from './block.js';

const ROW_WORDS = SEG_ROW_BYTES / 4;

export class SegmentTable {
  readonly #i32: Int32Array;
  readonly #sab: SharedArrayBuffer;
  readonly #layout: ArenaLayout;
  readonly #tableWord: number;

  /** `meta` views the metadata (header, owner rows, table): everything this class touches. */
  constructor(sab: SharedArrayBuffer, meta: Int32Array, layout: ArenaLayout) {
    this.#sab = sab;
    this.#i32 = meta;
    this.#layout = layout;
    this.#tableWord = layout.tableWord;
  }

  /** Int32 index of segment `index`'s ENTRY word. */
  entryWord(index: number): number {
    return this.#tableWord + index * ROW_WORDS + SEG_ENTRY;
  }

  entry(index: number): number {
    return Atomics.load(this.#i32, this.entryWord(index));
  }

  /** Publication of a claimed run, release of an owned one. The store releases the segment's header writes. */
  setEntry(index: number, value: number): void {
    Atomics.store(this.#i32, this.entryWord(index), value);
  }

  casEntry(index: number, expected: number, value: number): boolean {
    return Atomics.compareExchange(this.#i32, this.entryWord(index), expected, value) === expected;
  }

  carved(index: number): number {
    return Atomics.load(this.#i32, this.#tableWord + index * ROW_WORDS + SEG_CARVED);
  }

  /** Published after the carved block's header is written, so a reclaim walk sees whole headers. */
  setCarved(index: number, n: number): void {
    Atomics.store(this.#i32, this.#tableWord + index * ROW_WORDS + SEG_CARVED, n);
  }

  base(index: number): number {
    return this.#layout.dataStart + index * this.#layout.segmentBytes;
  }

  /** Segment index holding byte `offset` (caller checked the data range). */
  indexOf(offset: number): number {
    return Math.floor((offset - this.#layout.dataStart) / this.#layout.segmentBytes);
  }

  committedBytes(): number {
    return Atomics.load(this.#i32, H_COMMITTED_16) * 16;
  }

  /**
   * Claims `count` consecutive free segments for `owner` (entries become CLAIM|owner) and makes sure
   * the buffer covers them. Returns the first index, or -1 when no such run exists or the buffer
   * cannot grow; on -1 nothing is claimed.
   */
  claimRun(count: number, owner: number): number {
    const max = this.#layout.maxSegments;
    const claimed = entry(KIND_CLAIM, 0, owner);
    let i = 0;
    while (i + count <= max) {
      if (this.entry(i) !== 0) {
        i++;
        continue;
      }
      let j = 1;
      while (j < count && this.entry(i + j) === 0) j++;
      if (j < count) {
        i += j + 1;
        continue;
      }
      let c = 0;
      while (c < count && this.casEntry(i + c, 0, claimed)) c++;
      if (c === count) {
        if (this.ensureCommitted(this.base(i + count))) return i;
        this.undoClaim(i, count);
        return -1;
      }
      this.undoClaim(i, c); // lost a race on entry i + c
      i += c + 1;
    }
    return -1;
  }

  /** Returns the first `count` entries of a run this thread claimed (CLAIM|self) to the pool. */
  undoClaim(first: number, count: number): void {
    for (let k = count - 1; k >= 0; k--) this.setEntry(first + k, 0);
  }

  /** Ensures `sab.byteLength >= end` and COMMITTED >= end. False when the buffer cannot grow that far. */
  ensureCommitted(end: number): boolean {
    const i32 = this.#i32;
    let committed16 = Atomics.load(i32, H_COMMITTED_16);
    if (committed16 * 16 >= end) return true;
    if (end > this.#layout.totalBytes || !this.#layout.growable) return false;
    if (this.#sab.byteLength < end) {
      try {
        this.#sab.grow(end);
      } catch {
        // Either a concurrent grow went past `end` (grow never shrinks) or the OS refused the memory.
        if (this.#sab.byteLength < end) return false;
      }
    }
    // Publish: raise COMMITTED to at least `end` (CAS-max; other growers may race us upwards).
    const end16 = end / 16;
    while (committed16 < end16) {
      const seen = Atomics.compareExchange(i32, H_COMMITTED_16, committed16, end16);
      if (seen === committed16) break;
      committed16 = seen;
    }
    return true;
  }

  /** Number of claimed segments (any kind). A racy snapshot: late by the claims and releases in flight. */
  segmentsInUse(): number {
    let n = 0;
    for (let i = 0; i < this.#layout.maxSegments; i++) if (this.entry(i) !== 0) n++;
    return n;
  }
}
