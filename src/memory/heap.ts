// The owner-local side of the small-block allocator: per size class, the segments this thread owns and
// their free lists, kept in this thread's JS heap (no atomics, no sharing).
//
// Contract: one instance per Arena, used only by its thread. A segment holds blocks of one size class
// (mimalloc "pages"): blocks are carved in order (CARVED published after each header), recycled through
// the segment's own free list, and the whole segment goes back to the global pool as soon as all of its
// blocks are free again — except the class's current segment, kept as a one-segment cache (`trim()`
// drops those too). Allocates: the segment record and free-list array growth when segments are claimed.
//
// `live` counts blocks that are not in this free list: LIVE ones and REMOTE ones still on their way
// back through the remote-free stack. A segment is released only when live === 0, so a block pending
// on a stack always finds its segment still owned when the owner drains it.

import type { ArenaLayout } from './layout.js';
import { classBytes } from './layout.js';
import type { SegmentTable } from './segments.js';
import type { WordView } from './words.js';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_UNIT,
  HDR_SIZE,
  HDR_STAMP,
  KIND_CLAIM,
  KIND_LARGE,
  KIND_SMALL,
  STATE_FREE,
  entry,
  entryClass,
  entryKind,
  entryOwner,
  nextGeneration,
  stamp,
  stampGeneration,
  stampState,
} from './block.js';

export interface SmallSegment {
  readonly index: number;
  readonly base: number;
  readonly cls: number;
  readonly blockBytes: number;
  readonly capacity: number;
  carved: number;
  readonly free: number[];
  live: number;
  /** On its class's `partial` list. */
  listed: boolean;
  released: boolean;
}

export interface AdoptReport {
  segmentsAdopted: number;
  freeBlocksRecovered: number;
  liveBlocksAdopted: number;
  abandonedClaims: number;
  liveLargeBlocks: number;
}

interface SizeClass {
  current: SmallSegment | null;
  readonly partial: SmallSegment[];
}

export class OwnerHeap {
  readonly #words: WordView;
  readonly #table: SegmentTable;
  readonly #owner: number;
  readonly #segmentBytes: number;
  readonly #maxSegments: number;
  readonly #classes: SizeClass[] = [];
  readonly #segments = new Map<number, SmallSegment>();

  constructor(words: WordView, table: SegmentTable, layout: ArenaLayout, owner: number) {
    this.#words = words;
    this.#table = table;
    this.#owner = owner;
    this.#segmentBytes = layout.segmentBytes;
    this.#maxSegments = layout.maxSegments;
    for (let c = 0; c < layout.smallClasses; c++) this.#classes.push({ current: null, partial: [] });
  }

  /** The segment record if this thread owns segment `index` as a small segment. */
  segment(index: number): SmallSegment | undefined {
    return this.#segments.get(index);
  }

  get segmentCount(): number {
    return this.#segments.size;
  }

  /**
   * A FREE block of class `cls` (its header word SIZE and STAMP valid, state FREE), or -1 when no
   * segment could be claimed. The caller turns it LIVE.
   */
  allocSmall(cls: number): number {
    const sc = this.#classes[cls];
    if (sc === undefined) throw new RangeError(`internal: size class ${cls} out of range`);
    let seg = sc.current;
    if (seg === null || (seg.free.length === 0 && seg.carved === seg.capacity)) {
      seg = this.#nextSegment(sc, cls);
      if (seg === null) return -1;
    }
    seg.live++;
    const reused = seg.free.pop();
    if (reused !== undefined) return reused;
    return this.#carve(seg);
  }

  /** Takes back a block of a segment this thread owns; its STAMP is already FREE. */
  freeLocal(seg: SmallSegment, blockStart: number): void {
    seg.free.push(blockStart);
    seg.live--;
    const sc = this.#classes[seg.cls];
    if (sc === undefined || seg === sc.current) return;
    if (seg.live === 0) {
      this.#release(seg);
    } else if (!seg.listed) {
      seg.listed = true;
      sc.partial.push(seg);
    }
  }

  /**
   * reclaimOwner's walk over the table: segments `dead` had claimed but not published go back to the
   * pool; its small segments become ours (CAS of the entry), with free lists rebuilt from the carved
   * block headers (FREE → ours; LIVE, and REMOTE still travelling through a stack, stay counted as
   * live). Large blocks need no owner — any thread's free returns them to the pool — so they stay.
   */
  adoptDeadOwner(dead: number): AdoptReport {
    const table = this.#table;
    const report: AdoptReport = { segmentsAdopted: 0, freeBlocksRecovered: 0, liveBlocksAdopted: 0, abandonedClaims: 0, liveLargeBlocks: 0 };
    for (let index = 0; index < this.#maxSegments; index++) {
      const e = table.entry(index);
      if (e === 0 || entryOwner(e) !== dead) continue;
      const kind = entryKind(e);
      if (kind === KIND_CLAIM) {
        if (table.casEntry(index, e, 0)) report.abandonedClaims++;
      } else if (kind === KIND_LARGE) {
        report.liveLargeBlocks++;
      } else if (kind === KIND_SMALL) {
        const cls = entryClass(e);
        if (!table.casEntry(index, e, entry(KIND_SMALL, cls, this.#owner))) continue;
        // From here remote freers push this segment's blocks to our stack (stale pushes to the dead
        // slot's stack are drained by the caller). CARVED was published after each header it covers.
        const bytes = classBytes(cls);
        const base = table.base(index);
        const carved = Math.min(table.carved(index), Math.floor(this.#segmentBytes / bytes));
        const i32 = this.#words.covering(base + this.#segmentBytes);
        const free: number[] = [];
        let live = 0;
        for (let b = 0; b < carved; b++) {
          const blockStart = base + b * bytes;
          if (stampState(Atomics.load(i32, blockStart / 4 + HDR_STAMP)) === STATE_FREE) free.push(blockStart);
          else live++;
        }
        this.#adopt(index, cls, carved, free, live);
        report.segmentsAdopted++;
        report.freeBlocksRecovered += free.length;
        report.liveBlocksAdopted += live;
      }
      // KIND_CONT: part of a large block, handled with its head.
    }
    return report;
  }

  #adopt(index: number, cls: number, carved: number, free: number[], live: number): void {
    const seg = this.#record(index, cls, carved, free, live);
    if (live === 0) {
      this.#release(seg);
      return;
    }
    this.#segments.set(index, seg);
    const sc = this.#classes[cls];
    if (sc !== undefined && (free.length > 0 || carved < seg.capacity)) {
      seg.listed = true;
      sc.partial.push(seg);
    }
  }

  /** Returns every fully free segment, cached current ones included, to the global pool. */
  trim(): number {
    let released = 0;
    for (const sc of this.#classes) {
      const cur = sc.current;
      if (cur !== null && cur.live === 0) {
        sc.current = null;
        this.#release(cur);
        released++;
      }
    }
    return released;
  }

  #nextSegment(sc: SizeClass, cls: number): SmallSegment | null {
    let seg = sc.partial.pop();
    while (seg !== undefined) {
      seg.listed = false;
      if (!seg.released && (seg.free.length > 0 || seg.carved < seg.capacity)) {
        sc.current = seg;
        return seg;
      }
      seg = sc.partial.pop();
    }
    const index = this.#table.claimRun(1, this.#owner);
    if (index < 0) return null;
    // Format: CARVED = 0, then publish the entry (SMALL|cls|owner) — the store releases CARVED.
    this.#table.setCarved(index, 0);
    const fresh = this.#record(index, cls, 0, [], 0);
    this.#table.setEntry(index, entry(KIND_SMALL, cls, this.#owner));
    this.#segments.set(index, fresh);
    // The previous current segment is full; it is listed again when one of its blocks comes back.
    sc.current = fresh;
    return fresh;
  }

  #carve(seg: SmallSegment): number {
    const blockStart = seg.base + seg.carved * seg.blockBytes;
    const hw = blockStart / 4;
    const i32 = this.#words.covering(blockStart + BLOCK_HEADER_BYTES); // claimRun grew the buffer first
    // The generation continues from whatever stamp was last at this address, so handles into an
    // earlier incarnation of this memory do not match the new block.
    const old = Atomics.load(i32, hw + HDR_STAMP);
    i32[hw + HDR_SIZE] = seg.blockBytes / BLOCK_UNIT;
    Atomics.store(i32, hw + HDR_STAMP, stamp(nextGeneration(stampGeneration(old)), STATE_FREE));
    seg.carved++;
    this.#table.setCarved(seg.index, seg.carved); // publishes the header to a reclaim walk
    return blockStart;
  }

  #record(index: number, cls: number, carved: number, free: number[], live: number): SmallSegment {
    const blockBytes = classBytes(cls);
    return {
      index,
      base: this.#table.base(index),
      cls,
      blockBytes,
      capacity: Math.floor(this.#segmentBytes / blockBytes),
      carved,
      free,
      live,
      listed: false,
      released: false,
    };
  }

  #release(seg: SmallSegment): void {
    seg.released = true;
    this.#segments.delete(seg.index);
    // Only this owner writes a SMALL|cls|owner entry, so the CAS cannot fail unless memory is corrupt.
    this.#table.casEntry(seg.index, entry(KIND_SMALL, seg.cls, this.#owner), 0);
  }
}
